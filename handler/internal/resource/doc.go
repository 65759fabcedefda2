// Package resource is the OAuth 2.0 resource-server side of the MCP
// endpoint: Protected Resource Metadata (RFC 9728), the bearer-token
// middleware with its WWW-Authenticate challenges (RFC 6750 §3, RFC 9728
// §5.1, MCP authorization 2025-06-18 and later). The routes in
// handler/routes.go add CORS (package cors), so browser clients can read
// the document and the challenges.
//
// Token verification itself is a Verifier function supplied by the caller:
// Entra v2 tokens in mode entra (package entra), our own RS256 tokens in
// mode proxy (package tokens).
package resource
