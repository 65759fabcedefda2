package resource

import (
	"net/http"
	"net/http/httptest"
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
			ScopesSupported:      []string{"api://22222222-2222-4222-8222-222222222222/user_impersonation", "api://22222222-2222-4222-8222-222222222222/mail.read"},
			ResourceName:         "MCP server on Azure Functions",
		}},
		{"proxy mode", "prm-proxy.golden.json", Metadata{
			Resource:             "https://apim-x.azure-api.net/mcp",
			AuthorizationServers: []string{"https://apim-x.azure-api.net"},
			ScopesSupported:      []string{"mcp:tools", "mail.read"},
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
	// OPTIONS and the other methods never reach the handler: the routes
	// answer them (handler/routes_test.go).
	for method, want := range map[string]int{"GET": 200, "HEAD": 200} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/.well-known/oauth-protected-resource/mcp", nil))
		if rec.Code != want || (method == "HEAD") != (rec.Body.Len() == 0) || rec.Header().Get("Content-Length") == "0" {
			t.Errorf("%s = %d, %d bytes, Content-Length %q; want %d, a body only for GET", method, rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"), want)
		}
	}
}
