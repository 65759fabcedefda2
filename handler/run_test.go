package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

func TestRunRejectsBadConfigurationAtOnce(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), func(k string) string {
		return map[string]string{"AUTH_MODE": "both", "LOG_LEVEL": "loud"}[k]
	}, &stderr)
	if err == nil {
		t.Fatal("run() = nil, want a configuration error")
	}
	for _, name := range []string{"AUTH_MODE", "LOG_LEVEL", "ENTRA_TENANT_ID", "ENTRA_CLIENT_ID", "ENTRA_CLIENT_SECRET"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

// run serves until its context ends, then shuts down gracefully: an
// in-flight request finishes, and run returns nil.
func TestRunServesAndShutsDownGracefully(t *testing.T) {
	addr := testutil.FreeAddr(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	env := map[string]string{
		"PORT": port, "ENTRA_TENANT_ID": "11111111-1111-4111-8111-111111111111",
		"ENTRA_CLIENT_ID": "22222222-2222-4222-8222-222222222222", "ENTRA_CLIENT_SECRET": "x", "LOG_FORMAT": "json",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, &logs) }()

	url := "http://" + addr + "/healthz"
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" {
				t.Fatalf("healthz = %d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run() after shutdown = %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	if !strings.Contains(logs.String(), `"msg":"shutting down"`) {
		t.Errorf("no JSON shutdown log line:\n%s", logs.String())
	}
}
