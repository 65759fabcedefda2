package mcpserver

import (
	"context"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
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

func authInfo() tools.Def {
	return tools.New(tools.Tool[struct{}, AuthInfoResult]{
		Name:        "auth_info",
		Title:       "Authentication info",
		Description: "Shows who the caller is and which scopes their access token grants. Makes no call to Microsoft Graph.",
		Hints:       tools.Hints{ReadOnly: true, Idempotent: true, OpenWorld: false},
		Run: func(_ context.Context, c *tools.Call, _ struct{}) (AuthInfoResult, error) {
			who := c.Caller
			scopes := who.Scopes
			if scopes == nil {
				scopes = []string{} // the schema says array, never null
			}
			return AuthInfoResult{
				Subject: who.Subject, Name: who.Name, Username: who.Username, TenantID: who.TenantID,
				ClientID: who.ClientID, Scopes: scopes, Issuer: who.Issuer, ExpiresAt: who.Expiry.UTC(),
			}, nil
		},
	})
}
