package mcpserver

import (
	"context"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
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

// whoami reads the caller's Graph profile with the permission the base
// scope maps to (User.Read by default).
func whoami(g *graph.Client) tools.Def {
	return tools.New(tools.Tool[struct{}, WhoamiResult]{
		Name:        "whoami",
		Title:       "Who am I",
		Description: "Returns the signed-in user's Microsoft Graph profile (name, mail, job title, department, office), read on their behalf.",
		Hints:       tools.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
		Run: func(ctx context.Context, c *tools.Call, _ struct{}) (WhoamiResult, error) {
			token, err := c.OnBehalfOf(ctx)
			if err != nil {
				return WhoamiResult{}, err
			}
			p, err := g.Me(ctx, token)
			if err != nil {
				return WhoamiResult{}, err
			}
			return WhoamiResult{
				DisplayName: p.DisplayName, Mail: p.Mail, UPN: p.UserPrincipalName, ID: p.ID,
				JobTitle: p.JobTitle, Department: p.Department, OfficeLocation: p.OfficeLocation,
			}, nil
		},
	})
}
