package main

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
)

// auditLog collects the server's JSON log and reads back its audit events.
type auditLog struct {
	buf  *syncBuffer
	seen int // records already returned by next
}

func newAuditLog() (*auditLog, func(*options)) {
	a := &auditLog{buf: &syncBuffer{}}
	return a, func(o *options) {
		o.Logger = slog.New(slog.NewJSONHandler(a.buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// records returns every audit record logged so far.
func (a *auditLog) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(a.buf.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if m["msg"] == "audit" {
			out = append(out, m)
		}
	}
	return out
}

// next returns the events logged since the last call, by name.
func (a *auditLog) next(t *testing.T) map[string]int {
	t.Helper()
	all := a.records(t)
	got := map[string]int{}
	for _, m := range all[a.seen:] {
		got[m["event"].(string)]++
	}
	a.seen = len(all)
	return got
}

// TestAuditEvents walks a whole life of grants (register → consent denied
// → Entra refuses → consent approved and sign-in → token → refresh →
// refresh reuse → sign-in again → revoke) and checks that each step logs
// exactly its audit events, each once, with the fields operators query
// and no secret in any of them.
func TestAuditEvents(t *testing.T) {
	log, withLog := newAuditLog()
	ts := newTestServer(t, nil, withLog)
	st := ts.stack
	b := newBrowser(t, st)
	var secrets []string
	step := func(name string, want map[string]int, do func()) {
		t.Helper()
		do()
		if got := log.next(t); !mapsEqual(got, want) {
			t.Errorf("%s: audit events %v, want %v", name, got, want)
		}
	}

	var c oauthClient
	step("register", map[string]int{"client.registered": 1}, func() {
		c = registerClient(t, st, "http://127.0.0.1:53682/callback")
		secrets = append(secrets, c.Verifier)
	})
	step("consent denied", map[string]int{"consent.denied": 1}, func() {
		page := consentPageFor(t, b, c.authorizeURL(st, nil))
		b.postConsent(hiddenField(t, page, "request"), hiddenField(t, page, "csrf_token"), "deny")
	})
	step("consent approved, then Entra refuses the sign-in", map[string]int{"consent.approved": 1, "upstream.error": 1}, func() {
		page := consentPageFor(t, b, c.authorizeURL(st, nil))
		secrets = append(secrets, hiddenField(t, page, "csrf_token"))
		resp := b.postConsent(hiddenField(t, page, "request"), hiddenField(t, page, "csrf_token"), "approve")
		loc, err := resp.Location()
		if err != nil || !strings.HasPrefix(loc.String(), st.Emu.BaseURL) {
			t.Fatalf("approve did not lead to Entra: %v %v", loc, err)
		}
		// What Entra sends back when the user cancels its consent prompt.
		q := url.Values{"state": {loc.Query().Get("state")}, "error": {"access_denied"},
			"error_description": {"AADSTS65004: User declined to consent to access the app."}}
		if r, _ := b.get(st.BaseURL + "/callback?" + q.Encode()); r.StatusCode != 302 {
			t.Fatalf("callback with Entra's error: %d", r.StatusCode)
		}
	})
	var tok tokenResp
	step("sign-in (consent remembered) and token", map[string]int{"signin.completed": 1, "tokens.issued": 1}, func() {
		code := b.authorize(c, c.authorizeURL(st, nil), "AdeleV@contoso.example").Get("code")
		tok = c.redeem(t, st, code)
		if tok.Status != 200 {
			t.Fatalf("token: %+v", tok)
		}
		secrets = append(secrets, code, tok.AccessToken, tok.RefreshToken)
		secrets = append(secrets, grantSecrets(t, ts, tok.AccessToken)...)
	})
	var next tokenResp
	step("refresh", map[string]int{"refresh.rotated": 1}, func() {
		next = c.refresh(t, st, tok.RefreshToken)
		secrets = append(secrets, next.AccessToken, next.RefreshToken)
	})
	step("the same refresh inside the grace window", map[string]int{}, func() {
		if again := c.refresh(t, st, tok.RefreshToken); again.RefreshToken != next.RefreshToken {
			t.Fatalf("grace window: %+v", again)
		}
	})
	step("refresh reuse after the grace window", map[string]int{"refresh.reuse_detected": 1}, func() {
		ts.clock.Advance(oauth.RefreshGrace + time.Second)
		if r := c.refresh(t, st, tok.RefreshToken); r.Error != "invalid_grant" {
			t.Fatalf("reuse: %+v", r)
		}
	})
	step("sign-in again and token", map[string]int{"signin.completed": 1, "tokens.issued": 1}, func() {
		code := b.authorize(c, c.authorizeURL(st, nil), "AdeleV@contoso.example").Get("code")
		tok = c.redeem(t, st, code)
		secrets = append(secrets, code, tok.AccessToken, tok.RefreshToken)
		secrets = append(secrets, grantSecrets(t, ts, tok.AccessToken)...)
	})
	step("revoke", map[string]int{"grant.revoked": 1}, func() {
		revoke(t, st, c, tok.RefreshToken)
	})

	records := log.records(t)
	checkAuditFields(t, records)
	for _, cookie := range b.http.Jar.Cookies(mustURL(t, st.BaseURL)) {
		secrets = append(secrets, cookie.Value)
	}
	secrets = append(secrets, entraemu.DevAppClientSecret)
	all := log.buf.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("the log holds a secret (%.12s…)", s)
		}
	}
}

// checkAuditFields checks what operators query: who (sub, client_id), by
// which address, which grant, and the AADSTS code.
func checkAuditFields(t *testing.T, records []map[string]any) {
	t.Helper()
	want := map[string][]string{
		"client.registered":      {"client_id", "client_addr", "redirect_uris"},
		"consent.denied":         {"client_id", "redirect_uri"},
		"consent.approved":       {"client_id", "redirect_uri", "scope"},
		"upstream.error":         {"client_id", "stage", "error", "aadsts"},
		"signin.completed":       {"client_id", "sub", "tid", "grant"},
		"tokens.issued":          {"client_id", "sub", "grant", "scope"},
		"refresh.rotated":        {"client_id", "sub", "grant"},
		"refresh.reuse_detected": {"client_id", "sub", "grant"},
		"grant.revoked":          {"client_id", "grant", "by"},
	}
	for _, m := range records {
		ev := m["event"].(string)
		for _, f := range want[ev] {
			if v, ok := m[f]; !ok || v == "" || v == nil {
				t.Errorf("%s has no %s: %v", ev, f, m)
			}
		}
		if g, ok := m["grant"].(string); ok && len(g) != 16 {
			t.Errorf("%s: grant %q is not a grant reference", ev, g)
		}
	}
	if m := find(records, "upstream.error"); m["aadsts"] != "AADSTS65004" || m["stage"] != "callback" {
		t.Errorf("upstream.error: %v", m)
	}
	if m := find(records, "grant.revoked"); m["by"] != "client" {
		t.Errorf("grant.revoked: %v", m)
	}
}

func find(records []map[string]any, event string) map[string]any {
	i := slices.IndexFunc(records, func(m map[string]any) bool { return m["event"] == event })
	if i < 0 {
		return nil
	}
	return records[i]
}

// grantSecrets returns the grant id behind an access token and the Entra
// tokens sealed in the grant: none of them may reach the log.
func grantSecrets(t *testing.T, ts *testServer, accessToken string) []string {
	t.Helper()
	claims, err := ts.issuer.Verify(accessToken)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ts.store.GetGrant(t.Context(), claims.GrantID)
	if err != nil {
		t.Fatal(err)
	}
	if audit.GrantRef(g.ID) == g.ID {
		t.Fatal("the grant reference is the id")
	}
	raw, err := ts.sealer.Open(g.Upstream, []byte(g.ID))
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ At, Rt string }
	_ = json.Unmarshal(raw, &up)
	return []string{g.ID, up.At, up.Rt}
}

func revoke(t *testing.T, st *stack, c oauthClient, token string) {
	t.Helper()
	resp, err := http.PostForm(st.BaseURL+"/revoke", url.Values{"token": {token}, "client_id": {c.ID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
