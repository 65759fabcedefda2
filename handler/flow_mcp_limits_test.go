package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Flow tests of what /mcp refuses before mcp-go sees a request (issue 8,
// resource server): oversized bodies, foreign browser origins, revoked
// grants, and the stream it does not offer.

// mcpPost builds a POST /mcp with token and body, as MCP clients send it.
func mcpPost(t *testing.T, base, token string, body io.Reader, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/mcp", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestMCPBodyLimit: MCP_MAX_BODY_BYTES bounds what a signed-in caller can
// make the server read; over it, 413 with a JSON-RPC error, whether the
// length is declared or the body is chunked.
func TestMCPBodyLimit(t *testing.T) {
	ts := newTestServer(t, func(env map[string]string) { env["MCP_MAX_BODY_BYTES"] = "8192" })
	c, code := signedIn(t, ts)
	tok := c.redeem(t, ts.stack, code).AccessToken
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	pad := func(n int) string { return ping + strings.Repeat(" ", n-len(ping)) }

	resp, body := do(t, mcpPost(t, ts.BaseURL, tok, strings.NewReader(pad(8192))))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a body of exactly the limit: %d %s", resp.StatusCode, body)
	}
	for name, r := range map[string]io.Reader{
		"declared length": strings.NewReader(pad(8193)),
		"chunked":         io.MultiReader(strings.NewReader(pad(8193))), // no length known: chunked
	} {
		resp, body := do(t, mcpPost(t, ts.BaseURL, tok, r))
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"jsonrpc":"2.0"`) ||
			!strings.Contains(body, `"code":-32600`) || !strings.Contains(body, "larger than 8192 bytes") {
			t.Errorf("%s, one byte over: %d %s, want 413 with a JSON-RPC error", name, resp.StatusCode, body)
		}
	}
}

// TestMCPAfterRevocation: nothing of /mcp outlives a revoked grant (issue
// 8, item 18). There is no standalone GET stream to outlive it (405:
// stateless, mcp-go would key it by the empty session id every POST
// shares, carrying other clients' notifications); every POST is checked
// when it arrives, so the revoked grant's next one gets 401 invalid_token;
// and an answer that streams while a tool sends notifications is ended
// within GrantCheckInterval (mcpserver.TestStreamEndsWithItsAuthorization,
// oauth.TestGrantRevoked).
func TestMCPAfterRevocation(t *testing.T) {
	ts := newTestServer(t, nil)
	c, code := signedIn(t, ts)
	tok := c.redeem(t, ts.stack, code)
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

	get, _ := http.NewRequest(http.MethodGet, ts.BaseURL+"/mcp", nil)
	get.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	get.Header.Set("Accept", "text/event-stream")
	if resp, body := do(t, get); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /mcp = %d %s, want 405: no standalone stream", resp.StatusCode, body)
	}
	if resp, body := do(t, mcpPost(t, ts.BaseURL, tok.AccessToken, strings.NewReader(list))); resp.StatusCode != http.StatusOK {
		t.Fatalf("before revocation: %d %s", resp.StatusCode, body)
	}
	resp, err := http.PostForm(ts.BaseURL+"/revoke", url.Values{"token": {tok.RefreshToken}, "client_id": {c.ID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	resp, body := do(t, mcpPost(t, ts.BaseURL, tok.AccessToken, strings.NewReader(list)))
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("after revocation: %d %q %s, want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
}

// TestMCPOrigin: ALLOWED_ORIGINS decides which browser origins may call
// /mcp (MCP 2025-11-25 transports: an Origin present and invalid gets 403).
// By default none may; clients without Origin (every non-browser client)
// always pass; a listed origin is reflected in the CORS headers, never
// "*". The origin is checked before the token, so a foreign page learns
// nothing from a 401 either.
func TestMCPOrigin(t *testing.T) {
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	for _, tt := range []struct {
		name, allowed, origin, token string
		want                         int
		acao                         string
	}{
		{"default: no origin is allowed", "", "http://localhost:6274", "valid", http.StatusForbidden, ""},
		{"default: a client without Origin passes", "", "", "valid", http.StatusOK, "*"},
		{"listed", "http://localhost:6274", "http://localhost:6274", "valid", http.StatusOK, "http://localhost:6274"},
		{"not listed", "http://localhost:6274", "https://evil.example", "valid", http.StatusForbidden, ""},
		{"not listed, no token: 403 before 401", "http://localhost:6274", "https://evil.example", "", http.StatusForbidden, ""},
		{"listed, no token: the challenge is readable", "http://localhost:6274", "http://localhost:6274", "", http.StatusUnauthorized, "http://localhost:6274"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(env map[string]string) { env["ALLOWED_ORIGINS"] = tt.allowed })
			tok := ""
			if tt.token != "" {
				c, code := signedIn(t, ts)
				tok = c.redeem(t, ts.stack, code).AccessToken
			}
			req := mcpPost(t, ts.BaseURL, tok, strings.NewReader(list))
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tok == "" {
				req.Header.Del("Authorization")
			}
			resp, body := do(t, req)
			if resp.StatusCode != tt.want || resp.Header.Get("Access-Control-Allow-Origin") != tt.acao {
				t.Fatalf("%d, Access-Control-Allow-Origin %q: %s; want %d, %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), body, tt.want, tt.acao)
			}
			if tt.want == http.StatusForbidden && (!strings.Contains(body, `"jsonrpc":"2.0","id":null,"error":{"code":-32600`) || resp.Header.Get("WWW-Authenticate") != "") {
				t.Errorf("403 body %s, WWW-Authenticate %q: want a JSON-RPC error and no challenge", body, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}
