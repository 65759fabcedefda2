package mcpserver

import (
	"context"
	"log/slog"

	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// Profiles returns the caller's Graph profile. In both modes it resolves the
// caller to an Entra user assertion and exchanges it On-Behalf-Of.
type Profiles interface {
	Me(ctx context.Context, caller *resource.TokenInfo) (graph.Profile, error)
}

// Options are the server's dependencies.
type Options struct {
	Name     string
	Version  string
	Profiles Profiles
	Logger   *slog.Logger
}

// New returns the MCP server with every tool registered.
func New(o Options) *server.MCPServer {
	s := server.NewMCPServer(o.Name, o.Version,
		server.WithToolCapabilities(false),
		server.WithRecovery(), // a panicking tool becomes a tool error, not a dead instance
		server.WithInstructions("Tools act for the signed-in Microsoft Entra ID user. "+
			"whoami reads the user's Microsoft Graph profile; auth_info shows what the access token grants."),
	)
	s.AddTool(whoamiTool(), whoami(o.Profiles, o.Logger))
	s.AddTool(authInfoTool(), authInfo)
	return s
}
