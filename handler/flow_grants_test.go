package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// A client the operator blocked (handler/cmd/grants "revoke -client")
// cannot sign anyone in: /authorize refuses it, and a sign-in already past
// /authorize when the block came is refused at /callback, its grant
// deleted.
func TestBlockedClientCannotSignIn(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	c := registerClient(t, st, "http://127.0.0.1:53682/callback")
	block := func() {
		if err := ts.store.PutClientBlock(t.Context(), store.ClientBlock{ClientID: c.ID, CreatedAt: ts.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}

	// Blocked between consent and Entra's answer.
	b := newBrowser(t, st)
	page := consentPageFor(t, b, c.authorizeURL(st, nil))
	resp := b.postConsent(hiddenField(t, page, "request"), hiddenField(t, page, "csrf_token"), "approve")
	loc, _ := resp.Location()
	block()
	back, err := entraemu.SignIn(b.http, loc.String(), "AdeleV@contoso.example")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := b.get(back)
	if q := locationQuery(t, r); r.StatusCode != http.StatusFound || q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Errorf("callback for a client blocked meanwhile: %d %v", r.StatusCode, q)
	}
	if gs, _ := ts.store.ListGrants(t.Context(), store.GrantQuery{ClientID: c.ID}); len(gs) != 0 {
		t.Errorf("%d grants left for the blocked client", len(gs))
	}

	// Blocked before the sign-in starts.
	r, body := b.get(c.authorizeURL(st, nil))
	if r.StatusCode != http.StatusForbidden || !strings.Contains(body, "blocked") || r.Header.Get("Location") != "" {
		t.Errorf("/authorize for a blocked client: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if err := ts.store.DeleteClientBlock(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}
	if q := b.authorize(c, c.authorizeURL(st, nil), "AdeleV@contoso.example"); q.Get("code") == "" {
		t.Errorf("sign-in after unblock: %v", q)
	}
}

func locationQuery(t *testing.T, r *http.Response) url.Values {
	t.Helper()
	loc, err := r.Location()
	if err != nil {
		return nil
	}
	return loc.Query()
}

// TestGrantsCommand runs the operator's command (go build
// ./cmd/grants) with the app's own storage settings against the stack's
// Azurite table: it lists the user's grant, and "revoke -client" ends the
// client's tokens and stops its next sign-in.
func TestGrantsCommand(t *testing.T) {
	storage := storageEnv(t)
	if storage == nil {
		t.Skip("needs Azurite (AZURE_TABLES_TEST_CONNECTION): the command has no memory store")
	}
	st := startStack(t, "proxy", storage...)
	c := registerClientNamed(t, st, "http://127.0.0.1:53682/callback", "Suspicious App")
	b := newBrowser(t, st)
	tok := c.redeem(t, st, b.authorize(c, c.authorizeURL(st, nil), "AdeleV@contoso.example").Get("code"))
	if tok.Status != 200 {
		t.Fatalf("token: %+v", tok)
	}
	exe := filepath.Join(t.TempDir(), "grants")
	if out, err := exec.Command("go", "build", "-o", exe, "./cmd/grants").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/grants: %v\n%s", err, out)
	}
	grants := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), storage...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("grants %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := grants("list", "-user", entraemu.DefaultUsers()[0].OID); !strings.Contains(out, c.ID) || !strings.Contains(out, "1 grants") {
		t.Errorf("list -user:\n%s", out)
	}
	if out := grants("revoke", "-client", c.ID); !strings.Contains(out, "revoked 1 grants") {
		t.Errorf("revoke -client:\n%s", out)
	}
	// Other instances (here: the handler's grant cache) notice within the
	// grant-check interval.
	deadline := time.Now().Add(5 * time.Second)
	for mcpStatus(t, st, tok.AccessToken) != 401 {
		if time.Now().After(deadline) {
			t.Fatal("/mcp still accepts the revoked client's token")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r, _ := b.get(c.authorizeURL(st, nil)); r.StatusCode != http.StatusForbidden {
		t.Errorf("/authorize for the blocked client: %d", r.StatusCode)
	}
}
