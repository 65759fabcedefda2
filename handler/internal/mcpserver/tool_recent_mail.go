package mcpserver

import (
	"context"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

// RecentMailInput is recent_mail's arguments.
type RecentMailInput struct {
	Count int `json:"count,omitempty"`
}

// RecentMailResult is recent_mail's structured content.
type RecentMailResult struct {
	Messages []MailSummary `json:"messages"`
}

// MailSummary is one message: who sent it, when, about what. No body: the
// tool shows what a mail list shows.
type MailSummary struct {
	Subject     string    `json:"subject"`
	From        string    `json:"from"`
	FromAddress string    `json:"fromAddress"`
	Received    time.Time `json:"receivedDateTime"`
}

const (
	defaultMailCount = 10
	maxMailCount     = 25
)

// recentMail lists the caller's newest messages with the permission the
// mail.read scope maps to (Mail.Read by default). Entra asks the user to
// consent to it separately from signing in.
func recentMail(g *graph.Client) tools.Def {
	return tools.New(tools.Tool[RecentMailInput, RecentMailResult]{
		Name:        "recent_mail",
		Title:       "Recent mail",
		Description: "Lists the signed-in user's newest email messages (subject, sender, received time), newest first, read on their behalf from Microsoft Graph.",
		Hints:       tools.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
		Scopes:      []string{"mail.read"},
		InputSchema: `{
			"type": "object",
			"properties": {
				"count": {"type": "integer", "minimum": 1, "maximum": 25, "default": 10,
					"description": "How many of the newest messages to list, 1 to 25 (default 10)."}
			},
			"additionalProperties": false
		}`,
		Run: func(ctx context.Context, c *tools.Call, in RecentMailInput) (RecentMailResult, error) {
			n := in.Count
			if n == 0 {
				n = defaultMailCount
			}
			if n < 1 || n > maxMailCount { // the schema says so too; never trust one check
				return RecentMailResult{}, tools.Errorf("count must be between 1 and %d.", maxMailCount)
			}
			token, err := c.OnBehalfOf(ctx)
			if err != nil {
				return RecentMailResult{}, err
			}
			msgs, err := g.RecentMessages(ctx, token, n)
			if err != nil {
				return RecentMailResult{}, err
			}
			out := RecentMailResult{Messages: make([]MailSummary, 0, len(msgs))}
			for _, m := range msgs {
				out.Messages = append(out.Messages, MailSummary{
					Subject: m.Subject, From: m.From.EmailAddress.Name, FromAddress: m.From.EmailAddress.Address,
					Received: m.ReceivedDateTime.UTC(),
				})
			}
			return out, nil
		},
	})
}
