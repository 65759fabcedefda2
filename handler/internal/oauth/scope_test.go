package oauth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// TestCheckScope: a request is granted the base scope, the other scopes
// of ours it asks for, and offline_access when the client may refresh;
// anything else is invalid_scope (RFC 6749 §3.3).
func TestCheckScope(t *testing.T) {
	h := newTestHandler(t, nil)
	refreshing := store.Client{GrantTypes: []string{grantAuthCode, grantRefresh}}
	codeOnly := store.Client{}
	tests := []struct {
		raw     string
		client  store.Client
		want    string
		wantErr string
	}{
		{"", refreshing, "mcp:tools offline_access", ""},
		{"mcp:tools", refreshing, "mcp:tools offline_access", ""},
		{"mcp:tools mail.read", refreshing, "mail.read mcp:tools offline_access", ""},
		{"mail.read", refreshing, "mail.read mcp:tools offline_access", ""},
		{"mail.read mail.read offline_access", codeOnly, "mail.read mcp:tools", ""},
		{"mcp:tools calendars.read", refreshing, "", `scope "calendars.read" is not offered; use any of mcp:tools mail.read offline_access`},
		{"openid", refreshing, "", `scope "openid" is not offered`},
	}
	for _, tt := range tests {
		got, oerr := h.checkScope(tt.raw, tt.client)
		switch {
		case tt.wantErr != "" && (oerr == nil || oerr.Code != "invalid_scope" || !strings.HasPrefix(oerr.Description, tt.wantErr)):
			t.Errorf("checkScope(%q) = %q, %v; want invalid_scope %q", tt.raw, got, oerr, tt.wantErr)
		case tt.wantErr == "" && (oerr != nil || got != tt.want):
			t.Errorf("checkScope(%q) = %q, %v; want %q", tt.raw, got, oerr, tt.want)
		}
	}
}

// TestPermissions: the sign-in at Entra asks for the Entra permissions of
// every scope requested, each once.
func TestPermissions(t *testing.T) {
	h := newTestHandler(t, nil)
	for scope, want := range map[string]string{
		"mcp:tools offline_access":           "https://graph.microsoft.com/User.Read",
		"mail.read mcp:tools offline_access": "https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/User.Read",
		"offline_access":                     "",
	} {
		if got := strings.Join(h.permissions(scope), " "); got != want {
			t.Errorf("permissions(%q) = %q, want %q", scope, got, want)
		}
	}
}

// TestConsentPageMarksWhatIsNew: a browser that approved the client for
// mcp:tools and now sees a request for mail.read too is told it approved
// before, and mail.read is marked new; a first approval marks nothing.
func TestConsentPageMarksWhatIsNew(t *testing.T) {
	const flow, browserID = "flow-cookie-value", "browser-cookie-value"
	h := newTestHandler(t, nil)
	client := store.Client{ID: "client-1", Name: "Step-up client", RedirectURIs: []string{"http://127.0.0.1:9000/cb"}, CreatedAt: t0}
	if err := h.Store.CreateClient(t.Context(), client); err != nil {
		t.Fatal(err)
	}
	page := func(previous string) string {
		t.Helper()
		if previous != "" {
			if err := h.Store.PutConsent(t.Context(), store.Consent{Key: consentKey(browserID, client.ID, client.RedirectURIs[0]),
				ClientID: client.ID, RedirectURI: client.RedirectURIs[0], Scope: previous, CreatedAt: t0, ExpiresAt: t0.Add(consentTTL)}); err != nil {
				t.Fatal(err)
			}
		}
		areq := store.AuthRequest{ID: tokens.NewOpaque(), ClientID: client.ID, RedirectURI: client.RedirectURIs[0],
			Scope: "mail.read mcp:tools offline_access", BrowserBindingHash: tokens.Hash(flow), CreatedAt: t0, ExpiresAt: t0.Add(authRequestTTL)}
		if err := h.Store.PutAuthRequest(t.Context(), areq); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, "/consent?request="+url.QueryEscape(areq.ID), nil)
		r.AddCookie(&http.Cookie{Name: h.cookieName(cookieFlow), Value: flow})
		r.AddCookie(&http.Cookie{Name: h.cookieName(cookieBrowser), Value: browserID})
		w := httptest.NewRecorder()
		h.Consent(w, r)
		if w.Code != 200 {
			t.Fatalf("GET /consent = %d", w.Code)
		}
		return w.Body.String()
	}
	first := page("")
	if strings.Contains(first, `id="widening"`) || strings.Contains(first, `data-new=`) {
		t.Errorf("a first approval marks scopes new:\n%s", first)
	}
	for _, want := range []string{
		`<li data-scope="mail.read"><strong>mail.read</strong>: use Recent mail as you</li>`,
		`<li data-scope="mcp:tools"><strong>mcp:tools</strong>: use the tools as you</li>`,
		`<li data-scope="offline_access"><strong>offline_access</strong>: stay signed in`,
	} {
		if !strings.Contains(first, want) {
			t.Errorf("first approval: page lacks %s", want)
		}
	}
	widened := page("mcp:tools offline_access")
	for _, want := range []string{
		`id="widening"`,
		`<li data-scope="mail.read" data-new="true"><span class="new">new</span> <strong>mail.read</strong>: use Recent mail as you</li>`,
		`<li data-scope="mcp:tools"><strong>mcp:tools</strong>`,
		`<li data-scope="offline_access"><strong>offline_access</strong>`,
	} {
		if !strings.Contains(widened, want) {
			t.Errorf("widened approval: page lacks %s", want)
		}
	}
}
