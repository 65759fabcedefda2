package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// WhoamiResult is whoami's structured content.
type WhoamiResult struct {
	DisplayName    string `json:"displayName"`
	Mail           string `json:"mail,omitempty"`
	UPN            string `json:"userPrincipalName"`
	ID             string `json:"id"`
	JobTitle       string `json:"jobTitle,omitempty"`
	Department     string `json:"department,omitempty"`
	OfficeLocation string `json:"officeLocation,omitempty"`
}

// ConsentResult is whoami's structured content when Entra needs consent.
type ConsentResult struct {
	ConsentRequired bool   `json:"consentRequired"`
	ConsentURL      string `json:"consentUrl"`
	Message         string `json:"message"`
}

func whoamiTool() mcp.Tool {
	return mcp.NewTool("whoami",
		mcp.WithDescription("Returns the signed-in user's Microsoft Graph profile (name, mail, job title, department, office), read on their behalf."),
		mcp.WithTitleAnnotation("Who am I"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(true),
		mcp.WithOutputSchema[WhoamiResult](),
	)
}

func whoami(profiles Profiles, logger *slog.Logger) server.ToolHandlerFunc {
	return func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		caller, ok := resource.TokenInfoFrom(ctx)
		if !ok {
			return mcp.NewToolResultError("not authenticated"), nil
		}
		p, err := profiles.Me(ctx, caller)
		var consent *entra.ErrConsentRequired
		switch {
		case errors.As(err, &consent):
			msg := "Microsoft Entra ID needs consent before this server may read your profile on your behalf. " +
				"Open this URL (an administrator may have to do it for the tenant), then try again: " + consent.URL
			res := mcp.NewToolResultStructured(ConsentResult{ConsentRequired: true, ConsentURL: consent.URL, Message: msg}, msg)
			res.IsError = true
			return res, nil
		case err != nil:
			logger.WarnContext(ctx, "whoami failed", "err", err)
			return mcp.NewToolResultError("Could not read your profile from Microsoft Graph right now; please try again. " + userMessage(err)), nil
		}
		out := WhoamiResult{
			DisplayName: p.DisplayName, Mail: p.Mail, UPN: p.UserPrincipalName, ID: p.ID,
			JobTitle: p.JobTitle, Department: p.Department, OfficeLocation: p.OfficeLocation,
		}
		return mcp.NewToolResultStructured(out, summary(out)), nil
	}
}

func summary(p WhoamiResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "You are %s", p.DisplayName)
	if addr := firstNonEmpty(p.Mail, p.UPN); addr != "" {
		fmt.Fprintf(&b, " <%s>", addr)
	}
	b.WriteString(".")
	if p.JobTitle != "" || p.Department != "" {
		fmt.Fprintf(&b, " %s", strings.TrimSpace(strings.Join(nonEmpty(p.JobTitle, p.Department), ", ")))
		b.WriteString(".")
	}
	if p.OfficeLocation != "" {
		fmt.Fprintf(&b, " Office: %s.", p.OfficeLocation)
	}
	fmt.Fprintf(&b, " Entra object id: %s.", p.ID)
	return b.String()
}

// userMessage says what kind of failure happened without leaking upstream
// detail (tokens, correlation bodies) into the model's context.
func userMessage(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return fmt.Sprintf("(Graph answered %d %s.)", ge.Status, ge.Code)
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
