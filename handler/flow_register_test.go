package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// Flow tests of POST /register (internal/oauth/register.go, limits.go):
// idle expiry of registrations, input bounded to what the store holds, and
// the per-address quota.

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

// TestStoredInputLimits runs against Table Storage (Azurite when the test
// command started it) through the APIM stand-in and funchost: input that
// passes validation must fit in the store, and input that does not fit is
// refused up front with the right OAuth error, never a 500 (issue 8 items
// 8 and 9). Table Storage holds at most 64 KiB per string property and
// 1 MiB per entity (learn.microsoft.com/rest/api/storageservices/
// understanding-the-table-service-data-model).
func TestStoredInputLimits(t *testing.T) {
	st := startStack(t, "proxy", storageEnv(t)...)
	register := func(t *testing.T, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(st.BaseURL+"/register", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	uris := func(n, size int) string {
		var u []string
		for i := range n {
			p := fmt.Sprintf("https://app.example/%d/", i)
			u = append(u, p+strings.Repeat("a", size-len(p)))
		}
		b, _ := json.Marshal(u)
		return string(b)
	}

	t.Run("32 redirect URIs of 2 KB each are refused, not a 500", func(t *testing.T) {
		status, m := register(t, `{"redirect_uris":`+uris(32, 1990)+`}`)
		if status != 400 || m["error"] != "invalid_redirect_uri" {
			t.Fatalf("register: %d %v", status, m)
		}
	})
	t.Run("the largest registration accepted fits in the store", func(t *testing.T) {
		body := fmt.Sprintf(`{"redirect_uris":%s,"client_name":%q,"client_uri":%q,"logo_uri":%q,"scope":%q}`,
			uris(32, 256), strings.Repeat("名", 100), "https://app.example/"+strings.Repeat("c", 1980),
			"https://app.example/"+strings.Repeat("l", 1980), strings.TrimSpace(strings.Repeat("mcp:tools ", 100)))
		status, m := register(t, body)
		if status != 201 {
			t.Fatalf("register at the limits: %d %v", status, m)
		}
	})

	c := registerClient(t, st, "http://127.0.0.1:53682/callback")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(t *testing.T, state string) (*http.Response, []byte) {
		t.Helper()
		resp, err := hc.Get(c.authorizeURL(st, url.Values{"state": {state}}))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	t.Run("a 200 KB state is refused with a page, not a 200 KB Location", func(t *testing.T) {
		resp, body := authorize(t, strings.Repeat("s", 200<<10))
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || len(body) > 8<<10 || !strings.Contains(string(body), "invalid_request") {
			t.Fatalf("status %d, Location of %d bytes, body of %d bytes", resp.StatusCode, len(resp.Header.Get("Location")), len(body))
		}
	})
	t.Run("state is capped at 1 KiB", func(t *testing.T) {
		if resp, _ := authorize(t, strings.Repeat("s", 1024)); resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "/consent?") {
			t.Errorf("1024-byte state: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := authorize(t, strings.Repeat("s", 1025)); resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("1025-byte state: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestRegistrationQuota: registration needs no authentication, so one
// address could fill the store. The handler keeps its own per-address
// quota (APIM is not the only door: the Function App's host name answers
// to anyone holding a function key). Behind APIM and the Functions host
// the caller's address is the X-Forwarded-For entry APIM appended, counted
// from the right; entries the caller wrote itself are never trusted, so
// forging the header does not escape the quota (issue 8 item 8).
func TestRegistrationQuota(t *testing.T) {
	st := startStack(t, "proxy", append(storageEnv(t), "REGISTRATION_QUOTA=5", "TRUSTED_PROXY_HOPS=2")...)
	body := `{"redirect_uris":["http://127.0.0.1:53682/callback"]}`
	for i := range 7 {
		req, _ := http.NewRequest(http.MethodPost, st.BaseURL+"/register", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1)) // a different forged address each time
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case i < 5 && resp.StatusCode != 201:
			t.Fatalf("registration %d: %d %s", i+1, resp.StatusCode, b)
		case i >= 5 && (resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || jsonField(b, "error") != "temporarily_unavailable"):
			t.Fatalf("registration %d over the quota: %d Retry-After %q %s", i+1, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
	}
}
