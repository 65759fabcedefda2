package doctor

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The fakes below answer the way each layer is documented to answer, so
// each check can be driven into every branch without the real chain.

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func testRSAKey() *rsa.PrivateKey {
	rsaOnce.Do(func() { rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048) })
	return rsaKey
}

// fakeHandler answers like our handler: every response has X-Request-Id.
type fakeHandler struct {
	base string // PUBLIC_BASE_URL
	jwks string // the JWK set served; default one RS256 key
	// challengeRM overrides resource_metadata in the 401.
	challengeRM string
}

func (f *fakeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", "req-1")
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	b := f.base
	switch r.Method + " " + r.URL.Path {
	case "GET /healthz":
		writeJSON(200, map[string]string{"status": "ok", "mode": "proxy", "version": "test"})
	case "GET /.well-known/oauth-protected-resource", "GET /.well-known/oauth-protected-resource/mcp":
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeJSON(200, map[string]any{"resource": b + "/mcp", "authorization_servers": []string{b}, "scopes_supported": []string{"mcp:tools"}})
	case "GET /.well-known/oauth-authorization-server", "GET /.well-known/openid-configuration":
		writeJSON(200, map[string]any{
			"issuer": b, "authorization_endpoint": b + "/authorize", "token_endpoint": b + "/token",
			"registration_endpoint": b + "/register", "revocation_endpoint": b + "/revoke", "jwks_uri": b + "/.well-known/jwks.json",
			"code_challenge_methods_supported": []string{"S256"}, "response_types_supported": []string{"code"},
			"authorization_response_iss_parameter_supported": true,
		})
	case "GET /.well-known/jwks.json":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, f.keySet())
	case "POST /mcp":
		setTestCORS(w.Header())
		rm := f.challengeRM
		if rm == "" {
			rm = b + "/.well-known/oauth-protected-resource/mcp"
		}
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+rm+`", scope="mcp:tools"`)
		writeJSON(401, map[string]string{"error": "invalid_request", "error_description": "an access token is required"})
	case "OPTIONS /mcp":
		setTestCORS(w.Header())
		w.WriteHeader(204)
	case "POST /register":
		writeJSON(201, map[string]any{"client_id": "client-1", "redirect_uris": []string{loopbackRedirect}})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeHandler) keySet() string {
	if f.jwks != "" {
		return f.jwks
	}
	return fmt.Sprintf(`{"keys":[{"kty":"RSA","alg":"RS256","use":"sig","kid":"k1","n":%q,"e":"AQAB"}]}`,
		base64.RawURLEncoding.EncodeToString(testRSAKey().N.Bytes()))
}

func setTestCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version")
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version")
}

// fakeHost answers like the Functions host in front of the handler: a bare
// 401 without a valid function key on function-level routes, a bare 404 for
// a route no function.json declares.
type fakeHost struct {
	next      http.Handler
	key       string          // required key; "" = none (func start)
	anonymous map[string]bool // paths with authLevel anonymous
	missing   map[string]bool // paths whose function is not deployed
}

func (f *fakeHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case f.missing[r.URL.Path]:
		w.WriteHeader(http.StatusNotFound)
	case f.key != "" && !f.anonymous[r.URL.Path] && r.Header.Get("x-functions-key") != f.key:
		w.WriteHeader(http.StatusUnauthorized)
	case r.URL.Path == "/down":
		http.Error(w, "Function host is not running.", http.StatusServiceUnavailable)
	default:
		f.next.ServeHTTP(w, r)
	}
}

// fakeAPIM answers like API Management with our policies: its own JSON
// errors for missing operations and subscription keys, the /mcp policy's
// 401 from on-error, preflights answered by the cors policy of the real
// request's operation, and the function key added on the way in.
type fakeAPIM struct {
	next           http.Handler
	base           string
	key            string          // sent as x-functions-key
	noOperation    map[string]bool // "METHOD /path" without an operation
	noMCPPolicy    bool            // the /mcp operations lack mcp-proxy.xml
	subscription   bool            // the API requires a subscription key
	noExposeOnEdge bool            // the on-error 401 lacks Access-Control-Expose-Headers
}

func (f *fakeAPIM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	apimErr := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{ "statusCode": %d, "message": %q }`, status, msg)
	}
	switch {
	case f.noOperation[r.Method+" "+r.URL.Path]:
		apimErr(404, "Resource not found")
	case f.subscription:
		apimErr(401, "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.")
	case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
		// A preflight is answered by the cors policy of the operation for
		// the real request; without that operation or its policy it is
		// unmatched.
		if f.noOperation[r.Header.Get("Access-Control-Request-Method")+" "+r.URL.Path] || (r.URL.Path == "/mcp" && f.noMCPPolicy) {
			apimErr(404, "Resource not found")
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Methods", "GET,POST,DELETE,OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization,Content-Type,Accept,Mcp-Session-Id,MCP-Protocol-Version,Last-Event-ID")
		w.WriteHeader(200)
	case r.URL.Path == "/mcp" && !f.noMCPPolicy && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "):
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+f.base+`/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if !f.noExposeOnEdge {
			w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"invalid_request","error_description":"an access token is required"}`)
	default:
		r.Header.Set("x-functions-key", f.key)
		f.next.ServeHTTP(w, r)
	}
}

// chain is a fake deployment: APIM (optional) → host → handler.
type chain struct {
	URL     string // the MCP URL
	handler *fakeHandler
	host    *fakeHost
	apim    *fakeAPIM // nil: the host is reached directly
}

// newChain starts a server for the chain; mutate adjusts the layers before
// the first request.
func newChain(t *testing.T, withAPIM bool, mutate func(*chain)) *chain {
	t.Helper()
	c := &chain{}
	var front http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { front.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	c.URL = srv.URL + "/mcp"
	c.handler = &fakeHandler{base: srv.URL}
	c.host = &fakeHost{next: c.handler, anonymous: map[string]bool{"/healthz": true}, missing: map[string]bool{}}
	front = c.host
	if withAPIM {
		c.host.key = "host-key"
		c.apim = &fakeAPIM{next: c.host, base: srv.URL, key: "host-key", noOperation: map[string]bool{}}
		front = c.apim
	}
	if mutate != nil {
		mutate(c)
	}
	return c
}

// bigN is a modulus of the given size, for key-size checks.
func bigN(bits int) string {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return base64.RawURLEncoding.EncodeToString(n.Bytes())
}
