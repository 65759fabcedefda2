package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBodyDrippedSlowly: every endpoint with a body cuts off one that is
// dripped a byte at a time (one byte every 4 s kept /register open 40 s)
// at the body deadline, with the endpoint's own error: OAuth
// invalid_request for /register and /token, the HTML error page for
// /consent, a JSON-RPC error for /mcp; all 408.
func TestBodyDrippedSlowly(t *testing.T) {
	const deadline = 300 * time.Millisecond
	ts := newTestServer(t, nil, func(o *options) { o.BodyTimeout = deadline })
	c, code := signedIn(t, ts)
	tok := c.redeem(t, ts.stack, code).AccessToken
	addr := strings.TrimPrefix(ts.BaseURL, "http://")
	tests := []struct {
		path, ctype, auth, want string
	}{
		{"/register", "application/json", "", `"error":"invalid_request","error_description":"the request body did not arrive in time"`},
		{"/token", "application/x-www-form-urlencoded", "", `"error":"invalid_request","error_description":"the request body did not arrive in time"`},
		{"/revoke", "application/x-www-form-urlencoded", "", `"error":"invalid_request"`},
		{"/consent", "application/x-www-form-urlencoded", "", "The consent form could not be read."},
		{"/mcp", "application/json", "Authorization: Bearer " + tok + "\r\n", `"error":{"code":-32600,"message":"The request body did not arrive in time."}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			body := strings.Repeat(" ", 50) // 50 bytes at 10 a second: 5 s
			head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n%sContent-Length: %d\r\n\r\n",
				tt.path, addr, tt.ctype, tt.auth, len(body))
			resp, got, took := drip(t, addr, head, body, 100*time.Millisecond)
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(got, tt.want) {
				t.Errorf("%d %s, want 408 with %s", resp.StatusCode, got, tt.want)
			}
			if took > 3*time.Second {
				t.Errorf("answered after %s: the dripped body was waited for", took)
			}
		})
	}
}

// drip sends head, then body one byte every interval, and reads the answer.
func drip(t *testing.T, addr, head, body string, interval time.Duration) (*http.Response, string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := range len(body) {
			if _, err := io.WriteString(conn, body[i:i+1]); err != nil {
				return // the server closed the connection
			}
			time.Sleep(interval)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), time.Since(start)
}
