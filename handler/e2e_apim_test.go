package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestEdgeChain: through client → APIM stand-in → funchost → handler, the
// function key is required behind the edge and supplied by it, CORS
// preflights are answered by the policies, and the per-IP rate limit of a
// browser page gives 429 with Retry-After.
func TestEdgeChain(t *testing.T) {
	st := startStack(t, "proxy")
	get := func(u string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	t.Run("function key", func(t *testing.T) {
		const prm = "/.well-known/oauth-protected-resource/mcp"
		if resp, _ := get(st.HostURL + prm); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("funchost without the key: %d, want 401", resp.StatusCode)
		}
		if resp, _ := get(st.HostURL+prm, "x-functions-key", "wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("funchost with a wrong key: %d, want 401", resp.StatusCode)
		}
		if resp, body := get(st.BaseURL+prm, "x-functions-key", "wrong"); resp.StatusCode != http.StatusOK || !strings.Contains(body, st.BaseURL+"/mcp") {
			t.Errorf("through the edge (which overrides the client's key): %d %s", resp.StatusCode, body)
		}
	})

	t.Run("preflight answered by the policy", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, st.BaseURL+"/token", nil)
		req.Header.Set("Origin", "http://localhost:6274")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// The handler answers its own preflights with 204 (and the same
		// max-age as the policies); APIM's cors policy answers with 200.
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			resp.Header.Get("Access-Control-Allow-Methods") != "POST, OPTIONS" || resp.Header.Get("Access-Control-Max-Age") != "600" {
			t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("edge 401 on /mcp", func(t *testing.T) {
		resp, err := http.Post(st.BaseURL+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := `Bearer resource_metadata="` + st.BaseURL + `/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
			t.Errorf("%d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})

	t.Run("rate limit per operation and client address", func(t *testing.T) {
		// ratelimit-ip.xml: 60 calls a minute per operation and IP.
		for i := 1; i <= 60; i++ {
			if resp, body := get(st.BaseURL + "/authorize"); resp.StatusCode == http.StatusTooManyRequests {
				t.Fatalf("call %d already limited: %s", i, body)
			}
		}
		resp, body := get(st.BaseURL + "/authorize")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Rate limit is exceeded") {
			t.Fatalf("61st call: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if resp, _ := get(st.BaseURL + "/.well-known/oauth-authorization-server"); resp.StatusCode != http.StatusOK {
			t.Errorf("metadata is not limited with /authorize: %d", resp.StatusCode)
		}
	})
}
