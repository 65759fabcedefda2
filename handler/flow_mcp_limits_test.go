package main

import (
	"io"
	"net/http"
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
