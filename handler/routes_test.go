package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// recorder is a router that lists the patterns addRoutes mounts.
type recorder []string

func (r *recorder) Handle(pattern string, _ http.Handler) { *r = append(*r, pattern) }

// patternsOf lists the routes of mode, in the order routes.go has them.
func patternsOf(mode config.Mode) []string {
	h := http.NotFoundHandler()
	e := endpoints{prm: h, mcp: h, healthz: h}
	if mode == config.ModeProxy {
		e.as = &oauth.Handler{}
	}
	var r recorder
	addRoutes(&r, e)
	return r
}

// endpoint is one path of the URL surface with the methods routed to it.
// ProxyOnly paths belong to the authorization server: mode entra has no
// route for them.
type endpoint struct {
	Path      string   `json:"path"`
	Methods   []string `json:"methods"`
	ProxyOnly bool     `json:"proxy_only,omitempty"`
}

// surface is every path of either mode with its methods, from the routes.
func surface() []endpoint {
	entra := map[string]bool{}
	for _, p := range patternsOf(config.ModeEntra) {
		_, path, _ := strings.Cut(p, " ")
		entra[path] = true
	}
	var out []endpoint
	for _, p := range patternsOf(config.ModeProxy) {
		method, path, _ := strings.Cut(p, " ")
		i := slices.IndexFunc(out, func(e endpoint) bool { return e.Path == path })
		if i < 0 {
			out = append(out, endpoint{Path: path, ProxyOnly: !entra[path]})
			i = len(out) - 1
		}
		out[i].Methods = append(out[i].Methods, method)
	}
	return out
}

// TestRoutesFile keeps testdata/routes.json, the URL surface as routes.go
// mounts it, up to date: the tests in handler/infra hold the APIM
// operations and policies to it without linking package main. After a
// change to the routes, run go test -run TestRoutesFile -update ./handler.
func TestRoutesFile(t *testing.T) {
	if modes := patternsOf(config.ModeEntra); !isPrefixSet(modes, patternsOf(config.ModeProxy)) {
		t.Fatalf("mode entra routes %v are not a subset of mode proxy's", modes)
	}
	b, err := json.Marshal(surface())
	if err != nil {
		t.Fatal(err)
	}
	testutil.GoldenJSON(t, "testdata/routes.json", b)
}

func isPrefixSet(sub, all []string) bool {
	for _, p := range sub {
		if !slices.Contains(all, p) {
			return false
		}
	}
	return true
}

// fetchPaths are the endpoints browser-based clients call with fetch()
// (docs/architecture.md §5.4); every other path must not be readable
// cross-origin.
var fetchPaths = []string{
	"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp",
	"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/.well-known/jwks.json",
	"/register", "/token", "/revoke", "/mcp",
}

func serve(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestCORS: each CORS path answers its preflight without a token (the
// Allow-Methods are the path's routes), and every answer it gives, a 401
// challenge included, is readable cross-origin (by any origin, or for /mcp
// by the origins ALLOWED_ORIGINS lists, reflected); the other paths never
// are.
func TestCORS(t *testing.T) {
	srv := plainServer(t, slog.New(slog.DiscardHandler), map[string]string{"ALLOWED_ORIGINS": "http://localhost:6274"})
	for _, e := range surface() {
		t.Run(e.Path, func(t *testing.T) {
			preflight := serve(srv, http.MethodOptions, e.Path, "Origin", "http://localhost:6274",
				"Access-Control-Request-Method", e.Methods[0], "Access-Control-Request-Headers", "authorization, content-type, mcp-protocol-version")
			method := e.Methods[0]
			if method == http.MethodGet && e.Path == "/mcp" {
				method = http.MethodPost
			}
			answer := serve(srv, method, e.Path, "Origin", "http://localhost:6274")
			if !slices.Contains(fetchPaths, e.Path) {
				if preflight.Code != http.StatusMethodNotAllowed || preflight.Header().Get("Access-Control-Allow-Origin") != "" ||
					answer.Header().Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("a page that must not be readable cross-origin: preflight %d %v, %s %v", preflight.Code, preflight.Header(), method, answer.Header())
				}
				return
			}
			acao := "*"
			if e.Path == "/mcp" {
				acao = "http://localhost:6274"
			}
			want := http.Header{
				"Access-Control-Allow-Origin":   {acao},
				"Access-Control-Allow-Methods":  {strings.Join(e.Methods, ", ")},
				"Access-Control-Allow-Headers":  {"Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID"},
				"Access-Control-Max-Age":        {"600"},
				"Access-Control-Expose-Headers": {"WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version"},
				"X-Request-Id":                  preflight.Header().Values("X-Request-Id"),
			}
			if e.Path == "/mcp" {
				want["Vary"] = []string{"Origin"}
			}
			if diff := cmp.Diff(want, preflight.Result().Header); preflight.Code != http.StatusNoContent || diff != "" {
				t.Errorf("preflight %d, headers (-want +got):\n%s", preflight.Code, diff)
			}
			if answer.Header().Get("Access-Control-Allow-Origin") != acao ||
				!strings.Contains(answer.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate") ||
				answer.Header().Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s answer %d is not readable cross-origin: %v", method, answer.Code, answer.Header())
			}
		})
	}
}

// TestUnroutedRequests: a routed path with another method answers 405
// with Allow listing its methods, any other path 404, both JSON; mode
// entra has no authorization server, so its paths answer 404 there. The
// root answers at once: it is the Functions host's readiness ping.
func TestUnroutedRequests(t *testing.T) {
	proxy := plainServer(t, slog.New(slog.DiscardHandler), nil)
	entra := plainServer(t, slog.New(slog.DiscardHandler), map[string]string{"AUTH_MODE": "entra"})
	check := func(t *testing.T, w *httptest.ResponseRecorder, status int, code, allow string) {
		t.Helper()
		var body struct{ Error, ErrorDescription string }
		b, _ := io.ReadAll(w.Body)
		if err := json.Unmarshal(b, &body); err != nil || w.Code != status || body.Error != code ||
			w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Allow") != allow {
			t.Errorf("%d %s (Allow %q, %s); want %d %s, Allow %q", w.Code, b, w.Header().Get("Allow"), w.Header().Get("Content-Type"), status, code, allow)
		}
	}
	for _, e := range surface() {
		allow := strings.Join(e.Methods, ", ")
		t.Run(e.Path, func(t *testing.T) {
			for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost, http.MethodGet, http.MethodHead} {
				if slices.Contains(e.Methods, m) || m == http.MethodHead && !slices.Contains(e.Methods, http.MethodGet) {
					continue
				}
				check(t, serve(proxy, m, e.Path), http.StatusMethodNotAllowed, "method_not_allowed", allow)
			}
			if e.ProxyOnly {
				check(t, serve(entra, e.Methods[0], e.Path), http.StatusNotFound, "not_found", "")
			}
		})
	}
	for _, p := range []string{"/", "/nope", "/mcp/", "/.well-known/oauth-protected-resource/other", "/api/mcp"} {
		check(t, serve(proxy, http.MethodGet, p), http.StatusNotFound, "not_found", "")
		check(t, serve(entra, http.MethodPost, p), http.StatusNotFound, "not_found", "")
	}
	// The example of the issue that asked for this: GET /register used to be
	// a text/plain 404 from the catch-all.
	check(t, serve(proxy, http.MethodGet, "/register"), http.StatusMethodNotAllowed, "method_not_allowed", "POST, OPTIONS")
}

// TestMetadataEndpointsAreRoutes: every endpoint the metadata documents
// advertise is routed, with the method a client uses on it.
func TestMetadataEndpointsAreRoutes(t *testing.T) {
	srv := plainServer(t, slog.New(slog.DiscardHandler), nil)
	var as oauth.ServerMetadata
	if err := json.Unmarshal(serve(srv, http.MethodGet, "/.well-known/oauth-authorization-server").Body.Bytes(), &as); err != nil {
		t.Fatal(err)
	}
	var prm struct{ Resource string }
	if err := json.Unmarshal(serve(srv, http.MethodGet, "/.well-known/oauth-protected-resource").Body.Bytes(), &prm); err != nil {
		t.Fatal(err)
	}
	routes := patternsOf(config.ModeProxy)
	for method, u := range map[string]string{
		"GET /authorize": as.AuthorizationEndpoint, "POST /token": as.TokenEndpoint, "POST /register": as.RegistrationEndpoint,
		"POST /revoke": as.RevocationEndpoint, "GET /jwks": as.JWKSURI, "POST /mcp": prm.Resource,
	} {
		m, _, _ := strings.Cut(method, " ")
		parsed, err := url.Parse(u)
		if err != nil || parsed.Scheme+"://"+parsed.Host != as.Issuer || !slices.Contains(routes, m+" "+parsed.Path) {
			t.Errorf("%s: %q is not a route %s under the issuer %s", method, u, m, as.Issuer)
		}
	}
}
