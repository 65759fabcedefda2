package main

import (
	"net/http"
	"strings"
	"testing"
)

// The DNS-rebinding guard (docs/architecture.md §10.4): run by itself on
// loopback, /mcp refuses a request whose Host is not a loopback name (a web
// page that rebinds its own domain to 127.0.0.1). Behind the Functions host,
// which forwards the public Host over loopback, the guard is off, or every
// real request would be refused.
func TestDNSRebindingGuard(t *testing.T) {
	for _, tt := range []struct {
		name       string
		behindHost string
		want       int
	}{
		{"standalone on loopback: guard on", "false", http.StatusForbidden},
		{"behind the Functions host: guard off", "true", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(env map[string]string) { env["BEHIND_FUNCTIONS_HOST"] = tt.behindHost })
			c, code := signedIn(t, ts)
			tok := c.redeem(t, ts.stack, code)
			req, _ := http.NewRequest(http.MethodPost, ts.BaseURL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
			req.Host = "apim-x.azure-api.net"
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("/mcp with Host %s = %d, want %d", req.Host, resp.StatusCode, tt.want)
			}
		})
	}
}
