package resource

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Metadata describes the protected resource (RFC 9728 §2).
type Metadata struct {
	// Resource is the canonical resource URI ("resource"), exactly
	// PUBLIC_BASE_URL + "/mcp": clients compare it with the URL they
	// connect to (RFC 9728 §3.3), so no trailing slash and no normalisation.
	Resource string `json:"resource"`
	// AuthorizationServers are issuer identifiers ("authorization_servers").
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// ScopesSupported ("scopes_supported") lists the scopes /mcp needs. Per
	// MCP 2026-07-28 it does not include offline_access.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported ("bearer_methods_supported") is always
	// ["header"]: tokens are never read from the query or a form body.
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceName ("resource_name") is shown by some clients.
	ResourceName string `json:"resource_name,omitempty"`
}

// MetadataHandler serves the metadata document, marshalled once, at both
// the root and the path-inserted well-known URLs (RFC 9728 §3.1): GET and
// HEAD. It is no-store, so clients never hold a stale document across a
// change of authorization server. CORS and the preflight are the route's
// (package cors).
func MetadataHandler(m Metadata) http.Handler {
	m.BearerMethodsSupported = []string{"header"}
	body, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", length)
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}
