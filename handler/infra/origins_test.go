package infra

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/apimemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/mcpserver"
)

// TestPolicyMCPOrigins runs the /mcp policies of both modes in the APIM
// stand-in with the named values Bicep gives them: a browser origin that
// mcp-allowed-origins (ALLOWED_ORIGINS) does not list gets the handler's
// own 403 at the edge, before validate-jwt and without reaching the
// Function App; a listed origin, or none, goes on to the challenge, which
// a listed origin can read (its origin reflected, never "*"); and the
// preflight goes to the handler, which answers it from the same list
// (cors.Listed).
func TestPolicyMCPOrigins(t *testing.T) {
	nvSetting, defined := namedValueSettings(t)
	var reached atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(backend.Close)
	refused := httptest.NewRecorder()
	mcpserver.RefuseOrigin(refused, httptest.NewRequest(http.MethodPost, "/mcp", nil))

	for _, mode := range []config.Mode{config.ModeProxy, config.ModeEntra} {
		env := infraFakeEnv(mode)
		nv := map[string]string{}
		for _, name := range defined {
			nv[name] = "secret-" + name
			if s, ok := nvSetting[name]; ok {
				nv[name] = env[s]
			}
		}
		gw, err := apimemu.New(apimemu.Config{InfraDir: filepath.Join(infraRoot, "infra"), AuthMode: string(mode), NamedValues: nv,
			Backends: map[string]string{"function-app": backend.URL}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(gw.Close)
		for _, tt := range []struct {
			name, method, origin string
			want                 int
			acao                 string
			toBackend            bool
		}{
			{"not listed", http.MethodPost, "https://evil.example", http.StatusForbidden, "", false},
			{"a listed origin with another port", http.MethodGet, "http://localhost:6275", http.StatusForbidden, "", false},
			{"listed, no token", http.MethodPost, "https://app.example", http.StatusUnauthorized, "https://app.example", false},
			{"no Origin, no token", http.MethodPost, "", http.StatusUnauthorized, "*", false},
			{"preflight", http.MethodOptions, "http://localhost:6274", http.StatusNoContent, "", true},
		} {
			t.Run(string(mode)+"/"+tt.name, func(t *testing.T) {
				reached.Store(0)
				r := httptest.NewRequest(tt.method, "https://apim-test.azure-api.net/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
				r.Header.Set("Content-Type", "application/json")
				if tt.origin != "" {
					r.Header.Set("Origin", tt.origin)
				}
				if tt.method == http.MethodOptions {
					r.Header.Set("Access-Control-Request-Method", "POST")
				}
				w := httptest.NewRecorder()
				gw.ServeHTTP(w, r)
				if w.Code != tt.want || w.Header().Get("Access-Control-Allow-Origin") != tt.acao || (reached.Load() > 0) != tt.toBackend {
					t.Fatalf("%d, Access-Control-Allow-Origin %q, reached the Function App %v; want %d, %q, %v",
						w.Code, w.Header().Get("Access-Control-Allow-Origin"), reached.Load() > 0, tt.want, tt.acao, tt.toBackend)
				}
				if tt.want == http.StatusUnauthorized && w.Header().Get("Vary") != "Origin" {
					t.Errorf("Vary %q, want Origin: the answer depends on it", w.Header().Get("Vary"))
				}
				if tt.want == http.StatusForbidden {
					body, _ := io.ReadAll(w.Body)
					if d := cmp.Diff(jsonOf(t, refused.Body.Bytes()), jsonOf(t, body)); d != "" || w.Header().Get("Content-Type") != "application/json" {
						t.Errorf("403 differs from the handler's (-handler +edge):\n%s", d)
					}
				}
			})
		}
	}
}

func jsonOf(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return v
}
