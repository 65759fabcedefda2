package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
)

// TestExitCodes: 2 for usage errors, 1 when a check fails, flags before or
// after the URL.
func TestExitCodes(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String() + "/mcp"
	ln.Close()
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "usage: doctor"},
		{[]string{"a", "b"}, 2, "usage: doctor"},
		{[]string{"not a url"}, 2, "is not an http(s) URL"},
		{[]string{"-no-such-flag", closed}, 2, "flag provided but not defined"},
		{[]string{"-ca-file", "/nonexistent.pem", closed}, 2, "no such file"},
		{[]string{"-h"}, 0, "usage: doctor"},
		{[]string{closed, "-timeout", "2s"}, 1, "FAIL handler reachable"},
		{[]string{"-timeout=2s", closed}, 1, "layer: network"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		code := run(context.Background(), tt.args, &out, &out)
		if code != tt.code || !strings.Contains(out.String(), tt.out) {
			t.Errorf("doctor %q: exit %d, want %d; output lacks %q:\n%s", tt.args, code, tt.code, tt.out, out.String())
		}
	}
}
