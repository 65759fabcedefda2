package apimemu

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// realEdge runs the repository's infra (operation list, apim.bicep
// mapping, policy files) in front of a backend that plays the Function
// App: it serves the discovery document and a JWKS with an RSA and an EC
// key, and echoes everything else.
type realEdge struct {
	url string
	is  *issuer
}

func startRealEdge(t *testing.T, mode string) *realEdge {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gw := "http://" + ln.Addr().String()
	nv := realNamedValues(gw)
	is := newIssuer(t)
	mux := http.NewServeMux()
	echo := newEcho(t)
	mux.Handle("/", echo.Config.Handler)
	backendSrv := httptest.NewServer(mux)
	t.Cleanup(backendSrv.Close)
	if mode == "proxy" {
		// Our authorization server publishes its keys under the public
		// base URL, so the gateway fetches them through itself.
		is.serve(mux, gw)
	} else {
		idpMux := http.NewServeMux()
		idp := httptest.NewServer(idpMux)
		t.Cleanup(idp.Close)
		nv["entra-authority-host"] = idp.URL
		sub := http.NewServeMux()
		is.serve(sub, idp.URL+"/"+nv["entra-tenant-id"]+"/v2.0")
		idpMux.Handle("/"+nv["entra-tenant-id"]+"/v2.0/", http.StripPrefix("/"+nv["entra-tenant-id"]+"/v2.0", sub))
	}
	g, err := New(Config{InfraDir: realInfra, AuthMode: mode, NamedValues: nv, Backends: map[string]string{"function-app": backendSrv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: g}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &realEdge{url: gw, is: is}
}

func mcpPost(t *testing.T, url, authorization string) (*http.Response, string) {
	t.Helper()
	req := newReq(t, "POST", url+"/mcp", "Content-Type", "application/json", "Origin", "https://inspector.example")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Body = nopBody(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	return do(t, req)
}

// TestRealPoliciesAtTheEdge: with the repository's policies in mode proxy,
// no token and an ES256 token are answered by the /mcp policy's on-error
// (401 with resource_metadata, the handler's own challenge), while an
// RS256 token from the same key set reaches the backend with the function
// key.
func TestRealPoliciesAtTheEdge(t *testing.T) {
	e := startRealEdge(t, "proxy")
	now := time.Now()
	tok := func(alg string) string { return e.is.sign(t, alg, claims(e.url, e.url+"/mcp", now, nil), nil) }
	rm := `resource_metadata="` + e.url + `/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`

	resp, body := mcpPost(t, e.url, "")
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "Bearer "+rm ||
		!strings.Contains(body, `"error":"invalid_request"`) || resp.Header.Get("Access-Control-Allow-Origin") != "https://inspector.example" ||
		resp.Header.Get("Vary") != "Origin" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("no token: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, body = mcpPost(t, e.url, "Bearer "+tok("ES256"))
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token", `+rm || !strings.Contains(body, `"error":"invalid_token"`) {
		t.Errorf("ES256 token: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	rs256 := tok("RS256")
	resp, body = mcpPost(t, e.url, "Bearer "+rs256)
	var got echoed
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("RS256 token: %d %s", resp.StatusCode, body)
	}
	if got.Path != "/mcp" || got.Header.Get("X-Functions-Key") != "the-host-key" || got.Header.Get("Authorization") != "Bearer "+rs256 {
		t.Errorf("backend saw %s with headers %v", got.Path, got.Header)
	}
	// The backend's answer keeps the backend's CORS headers (the handler
	// sets them from ALLOWED_ORIGINS); the edge adds none of its own.
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://backend-says.example" || resp.Header.Get("Access-Control-Expose-Headers") != "" {
		t.Errorf("cross-origin /mcp response: the edge added CORS headers %v", resp.Header)
	}
}

// TestRealPoliciesEntraMode: mode entra validates against the tenant's
// discovery document, with the client id as audience.
func TestRealPoliciesEntraMode(t *testing.T) {
	e := startRealEdge(t, "entra")
	nv := realNamedValues("")
	now := time.Now()
	iss := e.is.base
	resp, _ := mcpPost(t, e.url, "Bearer "+e.is.sign(t, "RS256", claims(iss, nv["entra-client-id"], now, nil), nil))
	if resp.StatusCode != 200 {
		t.Errorf("Entra-shaped RS256 token: %d", resp.StatusCode)
	}
	resp, _ = mcpPost(t, e.url, "Bearer "+e.is.sign(t, "RS256", claims(iss, "https://graph.microsoft.com", now, nil), nil))
	if want := `Bearer error="invalid_token", resource_metadata="` + e.url + `/.well-known/oauth-protected-resource/mcp", scope="api://22222222-2222-4222-8222-222222222222/user_impersonation"`; resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("token for another audience: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// TestRealPoliciesRateLimitAndCORS: the browser pages are limited per
// operation and client address (60 a minute) and never answer a preflight;
// /mcp's preflight goes to the backend (the handler answers it from
// ALLOWED_ORIGINS), and an origin mcp-allowed-origins does not list is
// refused at the edge before validate-jwt.
func TestRealPoliciesRateLimitAndCORS(t *testing.T) {
	e := startRealEdge(t, "proxy")
	for i := 1; i <= 60; i++ {
		if resp, _ := do(t, newReq(t, "GET", e.url+"/callback?code=x&state=y")); resp.StatusCode != 200 {
			t.Fatalf("call %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := do(t, newReq(t, "GET", e.url+"/callback?code=x&state=y"))
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Rate limit is exceeded") {
		t.Fatalf("61st call: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := do(t, newReq(t, "GET", e.url+"/authorize")); resp.StatusCode != 200 {
		t.Errorf("/authorize counts separately: %d", resp.StatusCode)
	}

	resp, body = do(t, newReq(t, "OPTIONS", e.url+"/mcp", "Origin", "http://localhost:6274",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type,mcp-protocol-version"))
	if resp.StatusCode != 200 || !strings.Contains(body, `"Method":"OPTIONS"`) {
		t.Errorf("/mcp preflight: %d %s, want it forwarded to the backend", resp.StatusCode, body)
	}
	req := newReq(t, "POST", e.url+"/mcp", "Content-Type", "application/json", "Origin", "https://evil.example")
	req.Body = nopBody(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	resp, body = do(t, req)
	if resp.StatusCode != 403 || !strings.Contains(body, `"code":-32600`) || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("/mcp from an unlisted origin: %d %v %s, want the edge's 403", resp.StatusCode, resp.Header, body)
	}
	resp, _ = do(t, newReq(t, "OPTIONS", e.url+"/authorize", "Origin", "http://localhost:6274", "Access-Control-Request-Method", "GET"))
	if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("/authorize preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestRealPoliciesConcurrent: 80 simultaneous calls to a page limited to
// 60 a minute let exactly 60 through, while token validation (one shared
// key-set fetch) runs alongside; run with -race in scripts/test.sh.
func TestRealPoliciesConcurrent(t *testing.T) {
	e := startRealEdge(t, "proxy")
	token := "Bearer " + e.is.sign(t, "RS256", claims(e.url, e.url+"/mcp", time.Now(), nil), nil)
	codes := make(chan int, 100)
	var wg sync.WaitGroup
	for i := 0; i < 80; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(e.url + "/consent")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, _ := mcpPost(t, e.url, token); resp.StatusCode != 200 {
				t.Errorf("/mcp with a valid token: %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[200] != 60 || n[429] != 20 {
		t.Fatalf("status counts %v, want 60 × 200 and 20 × 429", n)
	}
	if f := e.is.fetches(); f != 1 {
		t.Errorf("%d key-set fetches for 20 concurrent validations, want 1", f)
	}
}
