package resource

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

func TestMetadataGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		m      Metadata
	}{
		{"entra mode", "prm-entra.golden.json", Metadata{
			Resource:             "https://apim-x.azure-api.net/mcp",
			AuthorizationServers: []string{"https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0"},
			ScopesSupported:      []string{"api://22222222-2222-4222-8222-222222222222/user_impersonation"},
			ResourceName:         "MCP server on Azure Functions",
		}},
		{"proxy mode", "prm-proxy.golden.json", Metadata{
			Resource:             "https://apim-x.azure-api.net/mcp",
			AuthorizationServers: []string{"https://apim-x.azure-api.net"},
			ScopesSupported:      []string{"mcp:tools"},
			ResourceName:         "MCP server on Azure Functions",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := MetadataHandler(tt.m)
			for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != http.StatusOK {
					t.Fatalf("GET %s = %d", path, rec.Code)
				}
				if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
					t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
				}
				if got := rec.Header().Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q", got)
				}
				testutil.GoldenJSON(t, "testdata/"+tt.golden, rec.Body.Bytes())
			}
		})
	}
}

func TestMetadataMethods(t *testing.T) {
	h := MetadataHandler(Metadata{Resource: "https://x/mcp"})
	for method, want := range map[string]int{"HEAD": 200, "OPTIONS": 204, "POST": 405, "DELETE": 405} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/.well-known/oauth-protected-resource/mcp", nil))
		if rec.Code != want {
			t.Errorf("%s = %d, want %d", method, rec.Code, want)
		}
	}
}

// Browser clients (MCP Inspector, the TypeScript SDK in a page) send
// MCP-Protocol-Version on discovery requests; the preflight must allow it.
func TestMetadataPreflightAllowsProtocolVersionHeader(t *testing.T) {
	h := MetadataHandler(Metadata{Resource: "https://x/mcp"})
	r := httptest.NewRequest(http.MethodOptions, "/.well-known/oauth-protected-resource/mcp", nil)
	r.Header.Set("Origin", "http://localhost:6274")
	r.Header.Set("Access-Control-Request-Method", "GET")
	r.Header.Set("Access-Control-Request-Headers", "mcp-protocol-version")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers")), "mcp-protocol-version") {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}
}
