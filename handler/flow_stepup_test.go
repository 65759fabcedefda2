package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// Flow tests of step-up (MCP 2025-11-25, "Scope Challenge Handling"): a
// tools/call for a tool whose scope the token lacks gets 403
// insufficient_scope (internal/mcpserver/stepup.go); the client
// re-authorizes for the challenge's scope; the consent page shows what is
// new (internal/oauth/consent.go); the sign-in at Entra asks for the new
// scope's Entra permission, so Entra prompts for it (incremental consent);
// the new grant replaces the old refresh-token family
// (internal/oauth/callback.go linkGrant, token.go); the new token carries
// exactly what was granted.

// TestStepUpFlow is issue 10's done-when test, with this package's own
// client and browser: Megan signs in with mcp:tools, calls recent_mail,
// gets 403 insufficient_scope, re-authorizes through the consent page (the
// new scope shown) and the emulator's consent prompt, then gets her mail.
func TestStepUpFlow(t *testing.T) {
	log, withLog := newAuditLog()
	ts := newTestServer(t, nil, withLog)
	st := ts.stack
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const megan = "MeganB@contoso.example"
	c := registerClient(t, st, "http://127.0.0.1:53690/callback")
	b := newBrowser(t, st)
	first := c.redeem(t, st, b.authorize(c, c.authorizeURL(st, url.Values{"scope": {"mcp:tools"}}), megan).Get("code"))
	if first.Status != 200 || first.Scope != "mcp:tools offline_access" {
		t.Fatalf("first sign-in: %+v", first)
	}

	t.Run("tools/list lists every tool", func(t *testing.T) {
		tools, err := mcpClient(t, ctx, st.BaseURL+"/mcp", first.AccessToken).ListTools(ctx, mcp.ListToolsRequest{})
		if err != nil || len(tools.Tools) != 3 {
			t.Fatalf("tools/list: %v %v", err, tools)
		}
	})
	var challenge string
	t.Run("recent_mail without mail.read: 403 insufficient_scope", func(t *testing.T) {
		status, www, body := postToolsCall(t, st, first.AccessToken, "recent_mail")
		want := `Bearer error="insufficient_scope", resource_metadata="` + st.BaseURL + `/.well-known/oauth-protected-resource/mcp", scope="mcp:tools mail.read"`
		if status != http.StatusForbidden || www != want || jsonField(body, "error") != "insufficient_scope" {
			t.Fatalf("%d %q %s\nwant %q", status, www, body, want)
		}
		challenge = "mcp:tools mail.read"
	})
	t.Run("whoami still works with the narrow token", func(t *testing.T) {
		if status, _, body := postToolsCall(t, st, first.AccessToken, "whoami"); status != 200 || !strings.Contains(string(body), "Megan Bowen") {
			t.Fatalf("%d %s", status, body)
		}
	})

	// The client re-authorizes for the challenge's scope, in the same browser.
	resp, _ := b.get(c.authorizeURL(st, url.Values{"scope": {challenge}}))
	consentURL := st.BaseURL + resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(consentURL, "/consent?request=") {
		t.Fatalf("a wider scope must ask for consent again: %d %q", resp.StatusCode, consentURL)
	}
	t.Run("the consent page marks mail.read new and says what it does", func(t *testing.T) {
		_, page := b.get(consentURL)
		for _, want := range []string{
			`id="widening"`,
			`<li data-scope="mail.read" data-new="true"><span class="new">new</span> <strong>mail.read</strong>: use Recent mail as you; it may read your mail through Microsoft Graph (Mail.Read)</li>`,
			`<li data-scope="mcp:tools"><strong>mcp:tools</strong>: use the tools of MCP server on Azure Functions as you (Who am I, Authentication info); they may read your profile through Microsoft Graph (User.Read)</li>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("consent page lacks %s\n%s", want, page)
			}
		}
	})
	entraURL := approveAt(t, b, consentURL)
	t.Run("the sign-in at Entra asks for the scopes' Graph permissions", func(t *testing.T) {
		u, _ := url.Parse(entraURL)
		got := strings.Fields(u.Query().Get("scope"))
		want := []string{"api://" + entraemu.DevAppClientID + "/user_impersonation", "openid", "profile", "offline_access",
			"https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/User.Read"}
		if !sameSet(got, want) || !strings.HasPrefix(got[0], "api://") {
			t.Fatalf("scope at Entra = %q, want %q with the API scope first (its resource gets the token)", got, want)
		}
	})
	t.Run("Entra prompts for Mail.Read", func(t *testing.T) {
		_, err := entraemu.SignIn(b.http, entraURL, megan)
		if err == nil || !strings.HasSuffix(err.Error(), "unexpected consent prompt for "+megan+": Permissions requested: Mail.Read (Read your mail)") {
			t.Fatalf("no consent prompt for Mail.Read: %v", err)
		}
	})
	loc, err := entraemu.SignInWith(b.http, entraURL, megan, entraemu.ConsentAccept)
	if err != nil {
		t.Fatal(err)
	}
	second := c.redeem(t, st, b.authorize(c, loc, megan).Get("code"))
	if second.Status != 200 || second.Scope != "mail.read mcp:tools offline_access" {
		t.Fatalf("second sign-in: %+v", second)
	}
	t.Run("the audit trail names the replaced grant and its successor", func(t *testing.T) {
		m := find(log.records(t), "grant.revoked")
		if m["by"] != "signin" || m["reason"] != "replaced" || m["client_id"] != c.ID ||
			m["grant"] != audit.GrantRef(grantOf(t, ts, first.AccessToken)) || m["replaced_by"] != audit.GrantRef(grantOf(t, ts, second.AccessToken)) {
			t.Errorf("grant.revoked = %v", m)
		}
	})

	t.Run("recent_mail returns Megan's mail", func(t *testing.T) {
		var got struct {
			Messages []struct{ Subject, From string }
		}
		callTool(t, ctx, mcpClient(t, ctx, st.BaseURL+"/mcp", second.AccessToken), "recent_mail", &got)
		if len(got.Messages) != 3 || got.Messages[0].Subject != "Re: Quarterly retail review" || got.Messages[0].From != "Adele Vance" {
			t.Fatalf("messages = %+v", got.Messages)
		}
	})
	t.Run("the old refresh family is replaced by the new one", func(t *testing.T) {
		if r := c.refresh(t, st, first.RefreshToken); r.Status != 400 || r.Error != "invalid_grant" {
			t.Errorf("old refresh token: %+v", r)
		}
		if got := mcpStatus(t, st, first.AccessToken); got != http.StatusUnauthorized {
			t.Errorf("old access token: %d, want 401 (its grant is gone)", got)
		}
		r := c.refresh(t, st, second.RefreshToken)
		if r.Status != 200 || r.Scope != "mail.read mcp:tools offline_access" {
			t.Fatalf("new refresh token: %+v", r)
		}
		if status, _, _ := postToolsCall(t, st, r.AccessToken, "recent_mail"); status != 200 {
			t.Errorf("recent_mail after refresh: %d", status)
		}
	})
	t.Run("a token narrowed at refresh carries only what it asked for", func(t *testing.T) {
		second2 := c.refresh(t, st, second.RefreshToken) // inside the grace window: the successor
		r := postToken(t, st, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second2.RefreshToken}, "client_id": {c.ID}, "scope": {"mcp:tools"}})
		if r.Status != 200 || r.Scope != "mcp:tools" {
			t.Fatalf("narrowed refresh: %+v", r)
		}
		if status, www, _ := postToolsCall(t, st, r.AccessToken, "recent_mail"); status != 403 || !strings.Contains(www, `scope="mcp:tools mail.read"`) {
			t.Errorf("recent_mail with the narrowed token: %d %q", status, www)
		}
	})
}

// TestStepUpDeclined: a user who cancels Entra's consent prompt ends the
// re-authorization with access_denied; the grant they had keeps working.
func TestStepUpDeclined(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	const alex = "AlexW@contoso.example"
	c := registerClient(t, st, "http://127.0.0.1:53691/callback")
	b := newBrowser(t, st)
	first := c.redeem(t, st, b.authorize(c, c.authorizeURL(st, nil), alex).Get("code"))
	resp, _ := b.get(c.authorizeURL(st, url.Values{"scope": {"mcp:tools mail.read"}}))
	entraURL := approveAt(t, b, st.BaseURL+resp.Header.Get("Location"))
	loc, err := entraemu.SignInWith(b.http, entraURL, alex, entraemu.ConsentCancel)
	if err != nil {
		t.Fatal(err)
	}
	q := b.authorize(c, loc, alex)
	if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != c.State {
		t.Fatalf("after cancelling at Entra the client got %v", q)
	}
	if r := c.refresh(t, st, first.RefreshToken); r.Status != 200 || r.Scope != "mcp:tools offline_access" {
		t.Fatalf("the previous grant after a declined step-up: %+v", r)
	}
}

// TestStepUpAnotherUser: the same browser and client, another user: the
// first user's grant is not the second's to replace.
func TestStepUpAnotherUser(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	c := registerClient(t, st, "http://127.0.0.1:53692/callback")
	b := newBrowser(t, st)
	adele := c.redeem(t, st, b.authorize(c, c.authorizeURL(st, nil), "AdeleV@contoso.example").Get("code"))
	resp, _ := b.get(c.authorizeURL(st, url.Values{"scope": {"mcp:tools mail.read"}}))
	loc, err := entraemu.SignInWith(b.http, approveAt(t, b, st.BaseURL+resp.Header.Get("Location")), "MeganB@contoso.example", entraemu.ConsentAccept)
	if err != nil {
		t.Fatal(err)
	}
	if megan := c.redeem(t, st, b.authorize(c, loc, "").Get("code")); megan.Status != 200 {
		t.Fatalf("Megan: %+v", megan)
	}
	if r := c.refresh(t, st, adele.RefreshToken); r.Status != 200 {
		t.Fatalf("Adele's grant after Megan signed in through the same browser and client: %+v", r)
	}
}

// TestAdminConsentLanding: the admin-consent URL a tool result gives names
// /callback as redirect_uri; Entra sends the administrator back there with
// admin_consent=True, or with an error, and the page says what happened.
func TestAdminConsentLanding(t *testing.T) {
	log, withLog := newAuditLog()
	ts := newTestServer(t, nil, withLog)
	b := newBrowser(t, ts.stack)
	resp, page := b.get(ts.BaseURL + "/callback?admin_consent=True&tenant=" + entraemu.DevTenantID + "&scope=https%3A%2F%2Fgraph.microsoft.com%2FMail.Read")
	if resp.StatusCode != 200 || !strings.Contains(page, "An administrator granted this server") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("%d %s", resp.StatusCode, page)
	}
	if m := find(log.records(t), "admin_consent.reported"); m["tenant"] != entraemu.DevTenantID {
		t.Errorf("admin_consent.reported = %v", m)
	}
	// The redirect is not signed: a tenant without a tenant's shape is not
	// written to the audit trail.
	if resp, _ = b.get(ts.BaseURL + "/callback?admin_consent=True&tenant=%3Cx%3E%20y"); resp.StatusCode != 200 {
		t.Fatalf("%d", resp.StatusCode)
	}
	if recs := log.records(t); recs[len(recs)-1]["event"] != "admin_consent.reported" || recs[len(recs)-1]["tenant"] != "" {
		t.Errorf("admin_consent.reported with a forged tenant = %v", recs[len(recs)-1])
	}
	resp, page = b.get(ts.BaseURL + "/callback?admin_consent=True&error=access_denied&error_description=AADSTS65004%3A+declined")
	if resp.StatusCode != 400 || !strings.Contains(page, "Administrator consent was not granted") || strings.Contains(page, "AADSTS65004") {
		t.Fatalf("%d %s", resp.StatusCode, page)
	}
	resp, page = b.get(ts.BaseURL + "/callback?admin_consent=True&error=%3Cscript%3E")
	if resp.StatusCode != 400 || strings.Contains(page, "<script>") || !strings.Contains(page, `id="error-code">access_denied<`) {
		t.Fatalf("%d %s", resp.StatusCode, page)
	}
}

// postToolsCall posts one tools/call with the token and returns the status,
// WWW-Authenticate and body.
func postToolsCall(t *testing.T, st *stack, token, tool string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.BaseURL+"/mcp", strings.NewReader(
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"`+tool+`","arguments":{}}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body
}

// approveAt approves the consent page at u and returns where it sends
// the browser: Entra's authorization endpoint.
func approveAt(t *testing.T, b *browser, u string) string {
	t.Helper()
	resp := b.consent(u, "approve")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, b.st.Emu.BaseURL) {
		t.Fatalf("approve: %d %q", resp.StatusCode, loc)
	}
	return loc
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestAdminConsentRoundTrip: a user who may not consent (Nestor) is
// stopped at Entra's "Need admin approval"; an administrator opens the
// admin-consent URL tool results give (it names /callback), accepts for
// the organization at the emulator and lands on our page; then Nestor's
// sign-in goes through and On-Behalf-Of works for him.
func TestAdminConsentRoundTrip(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	const nestor, miriam = "NestorW@contoso.example", "MiriamG@contoso.example"
	c := registerClient(t, st, "http://127.0.0.1:53693/callback")
	b := newBrowser(t, st)
	resp, _ := b.get(c.authorizeURL(st, nil))
	entraURL := approveAt(t, b, st.BaseURL+resp.Header.Get("Location"))
	if _, err := entraemu.SignIn(b.http, entraURL, nestor); err == nil || !strings.Contains(err.Error(), "only an admin can grant") {
		t.Fatalf("Nestor's sign-in asking for User.Read: %v, want Entra's Need admin approval", err)
	}

	consentURL := (&entra.OBO{AuthorityHost: st.Emu.BaseURL, TenantID: entraemu.DevTenantID, ClientID: entraemu.DevAppClientID,
		AdminConsentRedirectURL: st.BaseURL + "/callback"}).ConsentURL([]string{"https://graph.microsoft.com/User.Read"})
	if _, err := entraemu.SignInWith(b.http, consentURL, "AlexW@contoso.example", entraemu.ConsentAccept); err == nil || !strings.Contains(err.Error(), "only an admin can grant") {
		t.Fatalf("a user who is no administrator at the admin-consent URL: %v", err)
	}
	admin := newBrowser(t, st)
	loc, err := entraemu.SignInWith(admin.http, consentURL, miriam, entraemu.ConsentAccept)
	if err != nil || !strings.HasPrefix(loc, st.BaseURL+"/callback?") || !strings.Contains(loc, "admin_consent=True") {
		t.Fatalf("administrator consent: %q %v", loc, err)
	}
	if resp, page := admin.get(loc); resp.StatusCode != 200 || !strings.Contains(page, "An administrator granted this server") {
		t.Fatalf("landing page: %d %s", resp.StatusCode, page)
	}

	q := b.authorize(c, c.authorizeURL(st, nil), nestor) // approved in this browser: straight to Entra
	tok := c.redeem(t, st, q.Get("code"))
	if tok.Status != 200 {
		t.Fatalf("Nestor after the administrator's consent: %+v", tok)
	}
	if status, _, body := postToolsCall(t, st, tok.AccessToken, "whoami"); status != 200 || !strings.Contains(string(body), "Nestor Wilke") || strings.Contains(string(body), `"isError":true`) {
		t.Fatalf("whoami for Nestor: %d %s", status, body)
	}
}
