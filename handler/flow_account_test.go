package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// Flow tests of the connected-apps page (internal/oauth/account*.go): the
// user signs in through Entra, sees exactly their own grants, and revokes
// one; the client's next call is 401 and the user's other apps keep
// working.

// signInAs runs a full sign-in of a fresh client for upn and returns the
// client and its tokens.
func signInAs(t *testing.T, ts *testServer, name, upn string) (oauthClient, tokenResp) {
	t.Helper()
	c := registerClientNamed(t, ts.stack, "http://127.0.0.1:53682/callback", name)
	code := newBrowser(t, ts.stack).authorize(c, c.authorizeURL(ts.stack, nil), upn).Get("code")
	tok := c.redeem(t, ts.stack, code)
	if tok.Status != 200 {
		t.Fatalf("token: %+v", tok)
	}
	return c, tok
}

// openAccount opens /account in b, signing in at the emulator as upn when
// asked, and returns the page.
func (b *browser) openAccount(upn string) (*http.Response, string) {
	b.t.Helper()
	u := b.st.BaseURL + "/account"
	for range 6 {
		if strings.HasPrefix(u, b.st.Emu.BaseURL) {
			loc, err := entraemu.SignIn(b.http, u, upn)
			if err != nil {
				b.t.Fatal(err)
			}
			u = loc
			continue
		}
		resp, body := b.get(u)
		if resp.StatusCode != http.StatusFound {
			return resp, body
		}
		loc, _ := resp.Location()
		u = loc.String()
	}
	b.t.Fatalf("too many redirects, last %s", u)
	return nil, ""
}

func (b *browser) postAccount(form url.Values, origin string) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.st.BaseURL+"/account/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

var appNameRE = regexp.MustCompile(`<span class="app-name">([^<]*)</span>`)

func TestAccountPage(t *testing.T) {
	log, withLog := newAuditLog()
	ts := newTestServer(t, nil, withLog)
	st := ts.stack
	mail, mailTok := signInAs(t, ts, "Mail Helper", "AdeleV@contoso.example")
	ts.clock.Advance(time.Minute)
	_, notesTok := signInAs(t, ts, "Notes App", "AdeleV@contoso.example")
	_, alexTok := signInAs(t, ts, "Alex's App", "AlexW@contoso.example")

	b := newBrowser(t, st)
	resp, page := b.openAccount("AdeleV@contoso.example")
	if resp.StatusCode != 200 {
		t.Fatalf("/account: %d\n%s", resp.StatusCode, page)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self'") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("page headers: CSP %q, Cache-Control %q", csp, resp.Header.Get("Cache-Control"))
	}
	var names []string
	for _, m := range appNameRE.FindAllStringSubmatch(page, -1) {
		names = append(names, m[1])
	}
	if strings.Join(names, ",") != "Notes App,Mail Helper" {
		t.Errorf("apps listed: %q, want Adele's two, newest first", names)
	}
	for _, want := range []string{"127.0.0.1:53682", "mcp:tools", "offline_access", "name not verified", mail.ID} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	csrf := hiddenField(t, page, "csrf_token")
	mailRef := audit.GrantRef(grantOf(t, ts, mailTok.AccessToken))
	alexRef := audit.GrantRef(grantOf(t, ts, alexTok.AccessToken))

	refused := []struct {
		name   string
		form   url.Values
		origin string
		want   int
	}{
		{"no CSRF token", url.Values{"grant": {mailRef}}, st.BaseURL, 403},
		{"a forged CSRF token", url.Values{"grant": {mailRef}, "csrf_token": {"forged"}}, st.BaseURL, 403},
		{"a cross-site post", url.Values{"grant": {mailRef}, "csrf_token": {csrf}}, "https://evil.example", 403},
		{"another user's grant", url.Values{"grant": {alexRef}, "csrf_token": {csrf}}, st.BaseURL, 404},
	}
	for _, tt := range refused {
		if r := b.postAccount(tt.form, tt.origin); r.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, r.StatusCode, tt.want)
		}
	}
	if code := mcpStatus(t, st, mailTok.AccessToken); code != 200 {
		t.Fatalf("/mcp before the revoke: %d", code)
	}

	r := b.postAccount(url.Values{"grant": {mailRef}, "csrf_token": {csrf}}, st.BaseURL)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if code := mcpStatus(t, st, mailTok.AccessToken); code != 401 {
		t.Errorf("/mcp with the revoked app's token = %d, want 401", code)
	}
	if rt := mail.refresh(t, st, mailTok.RefreshToken); rt.Error != "invalid_grant" {
		t.Errorf("refresh of the revoked app: %+v", rt)
	}
	for name, tok := range map[string]string{"Adele's other app": notesTok.AccessToken, "Alex's app": alexTok.AccessToken} {
		if code := mcpStatus(t, st, tok); code != 200 {
			t.Errorf("/mcp with %s's token = %d, want 200", name, code)
		}
	}
	_, page = b.get(st.BaseURL + r.Header.Get("Location"))
	if !strings.Contains(page, `id="revoked"`) || strings.Contains(page, "Mail Helper") {
		t.Errorf("after the revoke the page still lists the app or has no notice:\n%s", page)
	}
	if m := find(log.records(t), "grant.revoked"); m["by"] != "user" || m["grant"] != mailRef {
		t.Errorf("audit: %v", m)
	}

	ts.clock.Advance(16 * time.Minute) // the session is short-lived
	resp, _ = b.get(st.BaseURL + "/account")
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.HasPrefix(loc, st.Emu.BaseURL) {
		t.Errorf("/account after the session ended: %d %q, want a new sign-in", resp.StatusCode, loc)
	}
	if r := b.postAccount(url.Values{"grant": {mailRef}, "csrf_token": {csrf}}, st.BaseURL); r.StatusCode != 401 {
		t.Errorf("revoke after the session ended: %d, want 401", r.StatusCode)
	}
}

func grantOf(t *testing.T, ts *testServer, accessToken string) string {
	t.Helper()
	c, err := ts.issuer.Verify(accessToken)
	if err != nil {
		t.Fatal(err)
	}
	return c.GrantID
}

// TestAccountPageInBrowser drives the connected-apps page in headless
// Chromium through the whole stack (APIM stand-in, funchost, handler,
// Azurite when available): Entra sign-in, the listing, a forged revoke
// refused, a revoke; then the revoked app's next call is 401 and the other
// app's is not. Screenshots go to $TEST_ARTIFACTS_DIR/account.
func TestAccountPageInBrowser(t *testing.T) {
	chromium := browserTools(t, "playwright-core")
	st := startStack(t, "proxy", storageEnv(t)...)
	const upn = "AdeleV@contoso.example"
	var toks []tokenResp
	for _, name := range []string{"Mail Helper", "Notes App"} {
		c := registerClientNamed(t, st, "http://127.0.0.1:53682/callback", name)
		code := newBrowser(t, st).authorize(c, c.authorizeURL(st, nil), upn).Get("code")
		tok := c.redeem(t, st, code)
		if tok.Status != 200 {
			t.Fatalf("token: %+v", tok)
		}
		toks = append(toks, tok)
	}
	artifacts := os.Getenv("TEST_ARTIFACTS_DIR")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	cmd := exec.Command("node", "test/browser/account.mjs")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(),
		"CHROMIUM="+chromium,
		"BASE_URL="+st.BaseURL,
		"EMULATOR_URL="+st.Emu.BaseURL,
		"EMULATOR_SPKI="+spkiPin(t, st.Emu.CAFile),
		"USER_UPN="+upn,
		"REVOKE_APP=Mail Helper",
		"KEEP_APP=Notes App",
		"ARTIFACTS_DIR="+filepath.Join(artifacts, "account"),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test:\n%s", out)
	if err != nil {
		t.Fatalf("account browser test failed: %v", err)
	}
	if code := mcpStatus(t, st, toks[0].AccessToken); code != 401 {
		t.Errorf("/mcp with the revoked app's token = %d, want 401", code)
	}
	if code := mcpStatus(t, st, toks[1].AccessToken); code != 200 {
		t.Errorf("/mcp with the other app's token = %d, want 200", code)
	}
}
