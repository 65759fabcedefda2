// Command mcp-noauth is a baseline of scripts/bench.sh: the handler's MCP
// server (the same mcp-go streamable HTTP transport, stateless, with the same
// tools) with no authentication at all. Every request runs as one fixed
// caller, so tools/call auth_info answers about the same bytes as the
// handler does for a signed-in user. What the handler costs beyond this is
// what authentication (and our middleware) costs. Test tooling only; never
// deployed.
package main

import (
	"flag"
	"log"
	"log/slog"
	"net/http"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/mcpserver"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:17198", "listen address (loopback)")
	flag.Parse()

	caller := &resource.TokenInfo{
		Subject: "a0a0a0a0-0000-4000-8000-000000000001", Name: "Adele Vance", Username: "AdeleV@contoso.example",
		TenantID: "11111111-1111-4111-8111-111111111111", ClientID: "bench-client-0000000000000000000000000",
		Scopes: []string{"mcp:tools", "offline_access"}, Expiry: time.Now().Add(time.Hour),
		GrantID: "bench-grant", Issuer: "http://" + *addr,
	}
	logger := slog.New(slog.NewJSONHandler(log.Writer(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	core, _, err := mcpserver.New(mcpserver.Options{Name: "entra-mcp-functions", Version: "bench", Tools: tools.Options{
		BaseScope: "mcp:tools", Scopes: []config.ToolScope{{Name: "mcp:tools"}, {Name: "mail.read"}}, Logger: logger,
	}})
	if err != nil {
		log.Fatal(err)
	}
	mcp := mcpgo.NewStreamableHTTPServer(core,
		mcpgo.WithStateLess(true),
		// As the handler runs behind the Functions host (and in the
		// benchmark): the DNS-rebinding guard is off.
		mcpgo.WithDisableLocalhostProtection(true),
		mcpgo.WithStreamableHTTPLogger(logger),
	)
	mux := http.NewServeMux()
	mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mcp.ServeHTTP(w, r.WithContext(resource.WithTokenInfo(r.Context(), caller)))
	}))
	log.Fatal(http.ListenAndServe(*addr, mux))
}
