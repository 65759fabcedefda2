package mcpserver

import (
	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

// Options are the server's dependencies.
type Options struct {
	Name    string
	Version string
	Graph   *graph.Client
	Tools   tools.Options
}

// Tools are the server's tools, in the order tools/list shows them. Add
// yours here.
func Tools(g *graph.Client) []tools.Def {
	return []tools.Def{
		whoami(g),
		authInfo(),
		recentMail(g),
	}
}

// New returns the MCP server with every tool registered, and the registry
// that says which scopes each tool needs. It fails, naming every problem,
// when a tool is ill-defined or needs a scope TOOL_SCOPES does not define.
func New(o Options) (*server.MCPServer, *tools.Registry, error) {
	s := server.NewMCPServer(o.Name, o.Version,
		server.WithToolCapabilities(false),
		server.WithRecovery(), // a panicking tool becomes a tool error, not a dead instance
		// Arguments are checked against each tool's input schema before
		// the tool runs; a mismatch is a tool execution error the model can
		// correct (MCP 2025-11-25, server/tools: error handling).
		server.WithInputSchemaValidation(),
		server.WithInstructions("Tools act for the signed-in Microsoft Entra ID user. "+
			"whoami reads the user's Microsoft Graph profile; recent_mail lists their newest mail; "+
			"auth_info shows what the access token grants."),
	)
	reg, err := tools.Register(s, o.Tools, Tools(o.Graph)...)
	if err != nil {
		return nil, nil, err
	}
	return s, reg, nil
}
