package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// TestRegistrationsExpireWhenUnused: every registration used to live
// forever, so anyone could grow the store without bound. A registration
// now expires after REGISTRATION_IDLE_TTL without a sign-in or refresh,
// each use moves that forward, and the purge deletes what expired
// (issue 8 item 8).
func TestRegistrationsExpireWhenUnused(t *testing.T) {
	ts := newTestServer(t, func(env map[string]string) {
		env["REFRESH_TOKEN_TTL"] = "24h"
		env["REGISTRATION_IDLE_TTL"] = "48h"
	})
	st := ts.store
	c := registerClient(t, ts.stack, "http://127.0.0.1:53682/callback")
	known := func() bool {
		t.Helper()
		resp, body := newBrowser(t, ts.stack).get(c.authorizeURL(ts.stack, nil))
		if resp.StatusCode != http.StatusFound && !strings.Contains(body, "invalid_client") {
			t.Fatalf("authorize: %d\n%s", resp.StatusCode, body)
		}
		return resp.StatusCode == http.StatusFound
	}

	ts.clock.Advance(30 * time.Hour)
	if q := newBrowser(t, ts.stack).authorize(c, c.authorizeURL(ts.stack, nil), "AdeleV@contoso.example"); q.Get("code") == "" {
		t.Fatalf("sign-in after 30 hours: %v", q)
	}
	ts.clock.Advance(30 * time.Hour) // 60 hours after registering, 30 after its last use
	if !known() {
		t.Fatal("a registration used 30 hours ago expired; its idle time is 48 hours")
	}
	ts.clock.Advance(49 * time.Hour)
	if known() {
		t.Fatal("a registration unused for 49 hours still works; its idle time is 48 hours")
	}
	if n, _, err := st.DeleteExpired(context.Background(), ts.clock.Now(), "", 100); err != nil || n == 0 {
		t.Fatalf("purge: %d, %v; want the expired registration deleted", n, err)
	}
	if _, err := st.GetClient(context.Background(), c.ID); err != store.ErrNotFound {
		t.Fatalf("GetClient after the purge: %v", err)
	}
}
