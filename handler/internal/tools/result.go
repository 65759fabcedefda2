package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// ConsentRequiredError is OnBehalfOf's error when Microsoft Entra ID will not
// issue the downstream token until the user acts: consent to Permissions
// is missing (AADSTS65001), or, with SignInAgain, Entra wants a fresh
// interactive sign-in (interaction_required, e.g. multi-factor
// authentication). Returned from Run, it becomes a tool result that tells
// the user what to do.
type ConsentRequiredError struct {
	Permissions     []string
	AdminConsentURL string // where an administrator can consent for everyone
	SignInAgain     bool
	Detail          string // Entra's AADSTS code, for the log
}

func (e *ConsentRequiredError) Error() string {
	if e.SignInAgain {
		return "Entra ID requires the user to sign in again (" + e.Detail + ")"
	}
	return "no consent for " + strings.Join(e.Permissions, " ")
}

// Errorf makes an error whose text the tool result shows as it is: for
// problems the model or the user can act on ("no message with that id").
func Errorf(format string, args ...any) error {
	return &userError{fmt.Sprintf(format, args...)}
}

type userError struct{ msg string }

func (e *userError) Error() string       { return e.msg }
func (e *userError) UserMessage() string { return e.msg }

// result turns Run's outcome into the tools/call result: structured
// content and its JSON as text, or an error result with text only.
func (r *registered) result(ctx context.Context, log *slog.Logger, out json.RawMessage, err error) *mcp.CallToolResult {
	if err == nil {
		return &mcp.CallToolResult{
			Content:           []mcp.Content{mcp.NewTextContent(string(out))},
			StructuredContent: out,
		}
	}
	return mcp.NewToolResultError(r.errorText(ctx, log, err))
}

// errorText says what went wrong in words for the user and the model, and
// logs it at the level it deserves. Upstream detail (Entra's and Graph's
// messages, tokens) stays in the log.
func (r *registered) errorText(ctx context.Context, log *slog.Logger, err error) string {
	title := r.def.tool.Title
	var consent *ConsentRequiredError
	var mine *userError
	var um interface{ UserMessage() string }
	switch {
	case errors.As(err, &consent) && consent.SignInAgain:
		oboRefused(ctx, log, "interaction_required", consent)
		return "Microsoft Entra ID wants you to sign in again (for example with multi-factor authentication) before " +
			title + " can act for you (" + consent.Detail + "). Sign out of this server in your MCP client and sign in again, then retry."
	case errors.As(err, &consent):
		oboRefused(ctx, log, "consent_required", consent)
		return title + " needs your consent to " + strings.Join(consent.Permissions, ", ") +
			", which Microsoft Entra ID does not have yet (AADSTS65001). Sign in to this server again from your MCP client to be asked for it. " +
			"If your organization lets only administrators consent, an administrator can grant it for everyone at: " + consent.AdminConsentURL
	case errors.Is(err, resource.ErrInvalidToken):
		log.InfoContext(ctx, "tool: the sign-in behind the token has ended", "err", err)
		return "Your sign-in has ended: Microsoft Entra ID no longer renews it. Sign in to this server again."
	case errors.Is(err, errMisuse):
		log.ErrorContext(ctx, "tool misused OnBehalfOf", "err", err)
		return title + " is misconfigured on the server (it asked Microsoft Entra ID for a permission its scopes do not grant); the administrator has the details in the log."
	case errors.As(err, &mine):
		log.DebugContext(ctx, "tool refused", "err", err)
		return mine.msg
	case errors.As(err, &um):
		log.WarnContext(ctx, "tool: downstream call failed", "err", err)
		return title + " could not finish: " + um.UserMessage()
	case errors.Is(err, context.DeadlineExceeded):
		log.WarnContext(ctx, "tool timed out", "err", err)
		return title + " timed out waiting for a downstream service; try again."
	default:
		log.ErrorContext(ctx, "tool failed", "err", err)
		return title + " failed on the server; try again later."
	}
}

// oboRefused records Entra's refusal of On-Behalf-Of as an audit event.
func oboRefused(ctx context.Context, log *slog.Logger, code string, e *ConsentRequiredError) {
	aadsts := e.Detail
	if aadsts == "" && code == "consent_required" {
		aadsts = "AADSTS65001"
	}
	clientID := ""
	if ti, ok := resource.TokenInfoFrom(ctx); ok {
		clientID = ti.ClientID
	}
	audit.Log(ctx, log, audit.UpstreamError, slog.String("stage", "obo"), slog.String("client_id", clientID),
		slog.String("error", code), slog.String("aadsts", aadsts), slog.Any("permissions", e.Permissions))
}
