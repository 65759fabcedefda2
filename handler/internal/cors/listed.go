package cors

import (
	"net/http"
	"slices"
	"strings"
)

// Listed is the CORS of an endpoint that only some browser origins may
// call: /mcp (ALLOWED_ORIGINS). The MCP streamable HTTP transport requires
// servers to validate Origin on every request and to answer 403 when it is
// present and invalid (MCP 2025-11-25, basic/transports, security warning):
// a page at another origin must not drive a user's MCP session, and a
// rebinding page must not reach a local server. Requests without Origin
// come from non-browser clients and pass.
//
// API Management's /mcp policies make the same decision at the edge from
// the same list (the named value mcp-allowed-origins) and forward the
// preflight here (an OPTIONS /mcp operation), so edge and handler cannot
// disagree.
type Listed struct {
	// Origins may call, each as browsers write it (config.ALLOWED_ORIGINS).
	Origins []string
	// Refuse answers a request whose Origin is not listed, with 403.
	Refuse http.Handler
}

// vary says that the answer depends on Origin, so no cache hands one
// origin's answer to another (Fetch standard, CORS protocol and HTTP
// caches).
var vary = []string{"Origin"}

// allowed reports whether the request may go on, and sets
// Access-Control-Allow-Origin: the request's own origin when it is
// listed, "*" when it has none (no browser is reading; "*" is what API
// Management answers then). A listed origin is reflected, never "*".
func (l Listed) allowed(w http.ResponseWriter, r *http.Request) bool {
	hd := w.Header()
	hd["Vary"] = vary
	origin := r.Header.Values("Origin")
	switch {
	case len(origin) == 0:
		hd["Access-Control-Allow-Origin"] = anyOrigin
		return true
	case len(origin) == 1 && slices.Contains(l.Origins, origin[0]):
		hd["Access-Control-Allow-Origin"] = []string{origin[0]}
		return true
	}
	delete(hd, "Vary")
	l.Refuse.ServeHTTP(w, r)
	return false
}

// Allow serves h to requests without Origin or from a listed origin,
// readable by that origin; others get Refuse.
func (l Listed) Allow(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.allowed(w, r) {
			w.Header()["Access-Control-Expose-Headers"] = exposed
			h.ServeHTTP(w, r)
		}
	})
}

// Preflight answers the OPTIONS preflight of a listed origin like
// Preflight does for any origin; another origin gets Refuse.
func (l Listed) Preflight(methods ...string) http.Handler {
	allowMethods := []string{strings.Join(append(slices.Clone(methods), http.MethodOptions), ", ")}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.allowed(w, r) {
			return
		}
		hd := w.Header()
		hd["Access-Control-Allow-Methods"] = allowMethods
		hd["Access-Control-Allow-Headers"] = allowHeaders
		hd["Access-Control-Expose-Headers"] = exposed
		hd["Access-Control-Max-Age"] = maxAge
		w.WriteHeader(http.StatusNoContent)
	})
}
