package apimemu

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// realInfra is the repository's infra folder.
const realInfra = "../../../infra"

// testPolicy wraps inbound/backend/outbound/on-error bodies in <policies>.
func testPolicy(in, be, out, onErr string) string {
	return "<policies>\n<inbound>" + in + "</inbound>\n<backend>" + be + "</backend>\n<outbound>" + out +
		"</outbound>\n<on-error>" + onErr + "</on-error>\n</policies>\n"
}

// apiPolicyXML is a minimal API policy like infra/policies/api.xml.
var apiPolicyXML = testPolicy(`<base /><set-backend-service backend-id="function-app" />
<set-header name="x-functions-key" exists-action="override"><value>{{function-host-key}}</value></set-header>`,
	"<base />", "<base />", "<base />")

// testInfra is a synthetic infra folder: an operation list, policy files
// and an apim.bicep mapping each key to one file.
type testInfra struct {
	ops      []Operation
	policies map[string]string // key -> XML (file <key>.xml)
	api      string            // API policy XML (default apiPolicyXML)
}

func (ti testInfra) write(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "modules"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "policies"), 0o755))
	ops, _ := json.Marshal(ti.ops)
	must(os.WriteFile(filepath.Join(dir, OperationsFile), ops, 0o644))
	api := ti.api
	if api == "" {
		api = apiPolicyXML
	}
	must(os.WriteFile(filepath.Join(dir, "policies", "api.xml"), []byte(api), 0o644))
	var lines []string
	for k, xml := range ti.policies {
		must(os.WriteFile(filepath.Join(dir, "policies", k+".xml"), []byte(xml), 0o644))
		lines = append(lines, fmt.Sprintf("  %s: loadTextContent('../policies/%s.xml')", k, k))
	}
	must(os.WriteFile(filepath.Join(dir, BicepFile), []byte(testBicep(strings.Join(lines, "\n"))), 0o644))
	return dir
}

func testBicep(policyLines string) string {
	return `resource backend 'Microsoft.ApiManagement/service/backends@2024-05-01' = {
  parent: apim
  name: 'function-app'
}

var policies = {
` + policyLines + `
}

var operations = loadJsonContent('../apim-operations.json')

resource apiPolicy 'Microsoft.ApiManagement/service/apis/policies@2024-05-01' = {
  parent: api
  name: 'policy'
  properties: {
    format: 'xml'
    value: loadTextContent('../policies/api.xml')
  }
}
`
}

// echo is a backend that answers with what it received.
type echoed struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Body                         string
}

func newEcho(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "https://backend-says.example")
		json.NewEncoder(w).Encode(echoed{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Host, r.Header, string(b)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// startGateway loads cfg (backend function-app → backendURL unless set)
// and serves it; it returns the gateway's base URL.
func startGateway(t *testing.T, cfg Config, backendURL string) (string, *Gateway) {
	t.Helper()
	if cfg.Backends == nil {
		cfg.Backends = map[string]string{"function-app": backendURL}
	}
	if cfg.AuthMode == "" {
		cfg.AuthMode = "proxy"
	}
	if cfg.NamedValues == nil {
		cfg.NamedValues = map[string]string{}
	}
	if _, ok := cfg.NamedValues["function-host-key"]; !ok {
		cfg.NamedValues["function-host-key"] = "host-key"
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() { srv.Close(); g.Close() })
	return srv.URL, g
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func newReq(t *testing.T, method, url string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return req
}

// --- tokens -------------------------------------------------------------------

// issuer holds an RSA and an EC key, publishes both in a JWKS behind an
// OpenID discovery document, and signs tokens with either.
type issuer struct {
	rsa   *rsa.PrivateKey
	ec    *ecdsa.PrivateKey
	base  string // discovery document's issuer
	mu    sync.Mutex
	fetch int // key set retrievals
	kids  []string
}

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
	ecKey   *ecdsa.PrivateKey
)

func newIssuer(t testing.TB) *issuer {
	keyOnce.Do(func() {
		rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	return &issuer{rsa: rsaKey, ec: ecKey, kids: []string{"rsa-1", "ec-1"}}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// serve answers the discovery document and the JWKS under mux.
func (is *issuer) serve(mux *http.ServeMux, base string) {
	is.base = base
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.base, "jwks_uri": base + "/.well-known/jwks.json"})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		is.mu.Lock()
		is.fetch++
		kids := is.kids
		is.mu.Unlock()
		// Uncompressed point: 0x04, then X and Y (SEC 1 §2.3.3).
		pub, err := is.ec.PublicKey.Bytes()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		keys := []map[string]string{
			{"kty": "RSA", "use": "sig", "kid": kids[0], "n": b64(is.rsa.N.Bytes()), "e": b64(big.NewInt(int64(is.rsa.E)).Bytes())},
			{"kty": "EC", "use": "sig", "kid": kids[1], "crv": "P-256", "x": b64(pub[1:33]), "y": b64(pub[33:65])},
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
}

func (is *issuer) fetches() int { is.mu.Lock(); defer is.mu.Unlock(); return is.fetch }

// sign makes a compact JWS with alg over claims; the kid follows the alg
// family unless header overrides it.
func (is *issuer) sign(t testing.TB, alg string, claims map[string]any, header map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": alg, "typ": "JWT", "kid": "rsa-1"}
	if strings.HasPrefix(alg, "ES") {
		h["kid"] = "ec-1"
	}
	for k, v := range header {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(claims)
	input := b64(hb) + "." + b64(cb)
	var sig []byte
	var err error
	switch alg {
	case "RS256":
		d := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPKCS1v15(rand.Reader, is.rsa, crypto.SHA256, d[:])
	case "RS512":
		d := sha512.Sum512([]byte(input))
		sig, err = rsa.SignPKCS1v15(rand.Reader, is.rsa, crypto.SHA512, d[:])
	case "PS256":
		d := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPSS(rand.Reader, is.rsa, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256":
		d := sha256.Sum256([]byte(input))
		r, s, e := ecdsa.Sign(rand.Reader, is.ec, d[:])
		err = e
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case "HS256":
		// Keyed with the RSA modulus: the classic key-confusion attempt.
		m := hmac.New(sha256.New, is.rsa.N.Bytes())
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "none":
	default:
		t.Fatalf("sign: alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// claims returns valid claims for aud and iss, with overrides (nil deletes).
func claims(iss, aud string, now time.Time, over map[string]any) map[string]any {
	c := map[string]any{"iss": iss, "aud": aud, "sub": "user-1", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix()}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func decodeJSON(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
}
