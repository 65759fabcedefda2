package mcpserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// AuthInfoResult is auth_info's structured content: what the verified
// token says, without any upstream call.
type AuthInfoResult struct {
	Subject   string    `json:"subject"`
	Name      string    `json:"name,omitempty"`
	Username  string    `json:"username,omitempty"`
	TenantID  string    `json:"tenantId,omitempty"`
	ClientID  string    `json:"clientId,omitempty"`
	Scopes    []string  `json:"scopes"`
	Issuer    string    `json:"issuer"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func authInfoTool() mcp.Tool {
	return mcp.NewTool("auth_info",
		mcp.WithDescription("Shows who the caller is and which scopes their access token grants. Makes no call to Microsoft Graph."),
		mcp.WithTitleAnnotation("Authentication info"),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithIdempotentHintAnnotation(true),
		mcp.WithOpenWorldHintAnnotation(false),
		mcp.WithOutputSchema[AuthInfoResult](),
	)
}

func authInfo(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	c, ok := resource.TokenInfoFrom(ctx)
	if !ok {
		return mcp.NewToolResultError("not authenticated"), nil
	}
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	out := AuthInfoResult{
		Subject: c.Subject, Name: c.Name, Username: c.Username, TenantID: c.TenantID,
		ClientID: c.ClientID, Scopes: scopes, Issuer: c.Issuer, ExpiresAt: c.Expiry.UTC(),
	}
	who := firstNonEmpty(c.Name, c.Username, c.Subject)
	text := fmt.Sprintf("Signed in as %s (object id %s) through client %s. Scopes: %s. Token issued by %s, expires %s.",
		who, c.Subject, firstNonEmpty(c.ClientID, "unknown"), strings.Join(scopes, " "), c.Issuer, out.ExpiresAt.Format(time.RFC3339))
	return mcp.NewToolResultStructured(out, text), nil
}
