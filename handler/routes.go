package main

import (
	"net/http"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/cors"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
)

// router is what addRoutes needs of a ServeMux. newMux passes a muxTable,
// which also answers what no route matches; the route tests pass a
// recorder to list the routes.
type router interface {
	Handle(pattern string, h http.Handler)
}

// endpoints are the handlers the routes lead to. as is the authorization
// server, nil in mode entra: its paths then answer 404.
type endpoints struct {
	prm     http.Handler // internal/resource/metadata.go
	mcp     http.Handler // mcpHandler in server.go: bearer check, then mcp-go
	mcpCORS cors.Listed  // the browser origins /mcp allows (ALLOWED_ORIGINS)
	healthz http.Handler // healthz in server.go
	as      *oauth.Handler
}

// addRoutes mounts the whole public URL surface, one line per method and
// path (Go 1.22 ServeMux patterns; paths are relative to PUBLIC_BASE_URL,
// docs/architecture.md §5.1). The comment above each group names the file
// that serves it. Routes a browser-based client calls with fetch() are
// wrapped in cors.Allow and answer their preflight with cors.Preflight
// (docs/architecture.md §5.4); the browser pages /authorize, /consent,
// /callback and /account are not. A known path with another method answers 405 with
// Allow, any other path 404 (muxTable).
//
// Tests hold functions/*/function.json (functions_test.go) and
// infra/apim-operations.json (handler/infra, through testdata/routes.json)
// to these lines in both directions.
func addRoutes(mux router, e endpoints) {
	// Protected Resource Metadata, at the root and the path-inserted URL
	// (RFC 9728 §3.1): internal/resource/metadata.go.
	mux.Handle("GET /.well-known/oauth-protected-resource", cors.Allow(e.prm))
	mux.Handle("HEAD /.well-known/oauth-protected-resource", cors.Allow(e.prm))
	mux.Handle("OPTIONS /.well-known/oauth-protected-resource", cors.Preflight("GET", "HEAD"))
	mux.Handle("GET /.well-known/oauth-protected-resource/mcp", cors.Allow(e.prm))
	mux.Handle("HEAD /.well-known/oauth-protected-resource/mcp", cors.Allow(e.prm))
	mux.Handle("OPTIONS /.well-known/oauth-protected-resource/mcp", cors.Preflight("GET", "HEAD"))

	// MCP streamable HTTP: mcpHandler in server.go. Only listed browser
	// origins may call it; another Origin gets 403 (cors.Listed).
	mux.Handle("GET /mcp", e.mcpCORS.Allow(e.mcp))
	mux.Handle("POST /mcp", e.mcpCORS.Allow(e.mcp))
	mux.Handle("DELETE /mcp", e.mcpCORS.Allow(e.mcp))
	mux.Handle("OPTIONS /mcp", e.mcpCORS.Preflight("GET", "POST", "DELETE"))

	// Liveness for operators: healthz in server.go.
	mux.Handle("GET /healthz", e.healthz)
	mux.Handle("HEAD /healthz", e.healthz)

	as := e.as
	if as == nil {
		return // mode entra: Entra is the authorization server
	}
	// Authorization server metadata (RFC 8414), its OpenID Connect
	// Discovery alias and the JWK Set: internal/oauth/metadata.go.
	mux.Handle("GET /.well-known/oauth-authorization-server", cors.Allow(http.HandlerFunc(as.AuthorizationServerMetadata)))
	mux.Handle("HEAD /.well-known/oauth-authorization-server", cors.Allow(http.HandlerFunc(as.AuthorizationServerMetadata)))
	mux.Handle("OPTIONS /.well-known/oauth-authorization-server", cors.Preflight("GET", "HEAD"))
	mux.Handle("GET /.well-known/openid-configuration", cors.Allow(http.HandlerFunc(as.OpenIDConfiguration)))
	mux.Handle("HEAD /.well-known/openid-configuration", cors.Allow(http.HandlerFunc(as.OpenIDConfiguration)))
	mux.Handle("OPTIONS /.well-known/openid-configuration", cors.Preflight("GET", "HEAD"))
	mux.Handle("GET /.well-known/jwks.json", cors.Allow(http.HandlerFunc(as.JWKS)))
	mux.Handle("HEAD /.well-known/jwks.json", cors.Allow(http.HandlerFunc(as.JWKS)))
	mux.Handle("OPTIONS /.well-known/jwks.json", cors.Preflight("GET", "HEAD"))

	// Dynamic client registration (RFC 7591): internal/oauth/register.go.
	mux.Handle("POST /register", cors.Allow(http.HandlerFunc(as.Register)))
	mux.Handle("OPTIONS /register", cors.Preflight("POST"))

	// The browser's part of the sign-in: internal/oauth/authorize.go,
	// consent.go and callback.go.
	mux.Handle("GET /authorize", http.HandlerFunc(as.Authorize))
	mux.Handle("GET /consent", http.HandlerFunc(as.Consent))
	mux.Handle("POST /consent", http.HandlerFunc(as.ConsentDecision))
	mux.Handle("GET /callback", http.HandlerFunc(as.Callback))

	// The user's connected apps: internal/oauth/account*.go.
	mux.Handle("GET /account", http.HandlerFunc(as.Account))
	mux.Handle("POST /account/revoke", http.HandlerFunc(as.AccountRevoke))

	// Token endpoint: internal/oauth/token.go (refresh.go for rotation).
	mux.Handle("POST /token", cors.Allow(http.HandlerFunc(as.Token)))
	mux.Handle("OPTIONS /token", cors.Preflight("POST"))

	// Revocation (RFC 7009): internal/oauth/revoke.go.
	mux.Handle("POST /revoke", cors.Allow(http.HandlerFunc(as.Revoke)))
	mux.Handle("OPTIONS /revoke", cors.Preflight("POST"))
}
