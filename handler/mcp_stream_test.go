package main

import (
	"net/http"
	"testing"
)

// GET /mcp answers 405: the server offers no standalone SSE stream (MCP
// streamable HTTP transport, "Listening for Messages from the Server").
// Stateless, mcp-go keys that stream by the empty session id every POST
// shares, so it would carry other clients' notifications to whoever opened
// it; and on Flex Consumption a stream on one instance cannot see tool
// calls served by another anyway.
func TestMCPOffersNoGETStream(t *testing.T) {
	ts := newTestServer(t, nil)
	c, code := signedIn(t, ts)
	tok := c.redeem(t, ts.stack, code)
	req, _ := http.NewRequest(http.MethodGet, ts.BaseURL+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /mcp = %d %s, want 405", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
