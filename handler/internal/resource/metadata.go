package resource

import (
	"net/http"

	"github.com/mark3labs/mcp-go/server"
)

// Metadata describes the protected resource (RFC 9728 §2).
type Metadata struct {
	// Resource is the canonical resource URI ("resource"), exactly
	// PUBLIC_BASE_URL + "/mcp": clients compare it with the URL they
	// connect to (RFC 9728 §3.3), so no trailing slash and no normalisation.
	Resource string
	// AuthorizationServers are issuer identifiers ("authorization_servers").
	AuthorizationServers []string
	// ScopesSupported ("scopes_supported") lists the scopes /mcp needs. Per
	// MCP 2026-07-28 it does not include offline_access.
	ScopesSupported []string
	// ResourceName ("resource_name") is shown by some clients.
	ResourceName string
}

// MetadataHandler serves the metadata document at both the root and the
// path-inserted well-known URLs (RFC 9728 §3.1). mcp-go's handler already
// pre-marshals the document and answers CORS preflights with "*", which
// browser clients such as MCP Inspector need.
func MetadataHandler(m Metadata) http.Handler {
	h := server.NewProtectedResourceMetadataHandler(server.ProtectedResourceMetadataConfig{
		Resource:               m.Resource,
		AuthorizationServers:   m.AuthorizationServers,
		ScopesSupported:        m.ScopesSupported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           m.ResourceName,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			// Browser SDKs send MCP-Protocol-Version on discovery requests;
			// mcp-go's preflight allows only Content-Type and Authorization.
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", "*")
			hd.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			hd.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, Mcp-Protocol-Version")
			hd.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}
