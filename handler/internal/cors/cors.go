// Package cors lets browser-based MCP clients (MCP Inspector, web hosts)
// call the endpoints they need with fetch(): the metadata documents, the
// JWKS, /register, /token, /revoke and /mcp (docs/architecture.md §5.4).
// Every route that allows it is wrapped in Allow and has its OPTIONS
// preflight answered by Preflight, so all of them answer alike, and alike
// with the cors policies API Management answers with in Azure
// (infra/policies; a test in handler/infra holds the two together).
//
// Any origin, never credentials: tokens travel in Authorization and these
// endpoints read no cookies. /mcp alone admits only the origins
// ALLOWED_ORIGINS lists (Listed). /authorize, /consent and /callback are
// top-level navigations and are never wrapped, so no other origin can read
// them. See the Fetch standard's CORS protocol
// (fetch.spec.whatwg.org/#http-cors-protocol).
package cors

import (
	"net/http"
	"slices"
	"strings"
)

// MaxAge is how long, in seconds, a browser may reuse a preflight answer:
// 600, what APIM's cors policies answer with (preflight-result-max-age), so
// a local run behaves as Azure does and a change to the allowed headers
// reaches browsers within ten minutes. Chromium caps the value at 7200
// anyway.
const MaxAge = "600"

// AllowHeaders are the request headers a cross-origin request may carry:
// the bearer token, the JSON and form bodies, and MCP's own headers
// (streamable HTTP). They are listed because a "*" does not cover
// Authorization.
var AllowHeaders = []string{"Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "MCP-Protocol-Version", "Last-Event-ID"}

// ExposeHeaders are the response headers a page may read: the RFC 6750
// challenge (RFC 9728 §5.1 resource_metadata) and MCP's session and
// version headers.
var ExposeHeaders = []string{"WWW-Authenticate", "Mcp-Session-Id", "Mcp-Protocol-Version"}

// The header values are built once and shared by every response:
// Header.Set would canonicalise each name and allocate a one-element slice
// per header per request. Sharing is safe because nothing changes a header
// value in place (Set replaces the slice; Add appends to a full slice,
// which copies it).
var (
	anyOrigin    = []string{"*"}
	exposed      = []string{strings.Join(ExposeHeaders, ", ")}
	allowHeaders = []string{strings.Join(AllowHeaders, ", ")}
	maxAge       = []string{MaxAge}
)

// Allow makes every answer of h readable by any origin, without
// credentials.
func Allow(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Access-Control-Allow-Origin"] = anyOrigin
		hd["Access-Control-Expose-Headers"] = exposed
		h.ServeHTTP(w, r)
	})
}

// Preflight answers the OPTIONS preflight of an endpoint that serves
// methods (OPTIONS is added): 204 with the allowed methods and headers.
func Preflight(methods ...string) http.Handler {
	allowMethods := []string{strings.Join(slices.Concat(methods, []string{http.MethodOptions}), ", ")}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Access-Control-Allow-Origin"] = anyOrigin
		hd["Access-Control-Allow-Methods"] = allowMethods
		hd["Access-Control-Allow-Headers"] = allowHeaders
		hd["Access-Control-Expose-Headers"] = exposed
		hd["Access-Control-Max-Age"] = maxAge
		w.WriteHeader(http.StatusNoContent)
	})
}
