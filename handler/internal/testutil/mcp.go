package testutil

import (
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// ToolText is the text content of a tool result, joined: what a client
// without structured output shows the user.
func ToolText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
