package entraemu

import (
	"net/url"
	"strings"
	"testing"
)

// TestAdminConsent: the v2 admin-consent endpoint. An administrator's
// acceptance reaches every user, the one no other consent reaches too; a
// cancel goes back with access_denied and admin_consent=True; requests the
// emulator does not model are refused on a page.
func TestAdminConsent(t *testing.T) {
	e := NewTestServer(t, nil)
	redirect := DefaultRedirectURIs[0]
	consentURL := func(mod func(url.Values)) string {
		q := url.Values{"client_id": {DevAppClientID}, "scope": {"https://graph.microsoft.com/User.Read Mail.Read"},
			"redirect_uri": {redirect}, "state": {"st-9"}}
		if mod != nil {
			mod(q)
		}
		return e.BaseURL() + "/" + DevTenantID + "/v2.0/adminconsent?" + q.Encode()
	}
	const miriam = "MiriamG@contoso.example"

	for name, tt := range map[string]struct {
		mod     func(url.Values)
		upn     string
		wantErr string
	}{
		"not an administrator":      {nil, adele, "AADSTS90094"},
		"another app":               {func(q url.Values) { q.Set("client_id", DevPublicClientID) }, miriam, "AADSTS700016"},
		"unregistered redirect URI": {func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, miriam, "AADSTS50011"},
		"the app's own scope":       {func(q url.Values) { q.Set("scope", apiScope) }, miriam, "Microsoft Graph permissions only"},
		"no scope":                  {func(q url.Values) { q.Del("scope") }, miriam, "scope"},
	} {
		t.Run(name, func(t *testing.T) {
			if loc, err := SignInWith(e.Client(), consentURL(tt.mod), tt.upn, ConsentAccept); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %q, %v; want an error page with %s", loc, err, tt.wantErr)
			}
		})
	}

	loc, err := SignInWith(e.Client(), consentURL(nil), miriam, ConsentCancel)
	if q := query(t, loc); err != nil || q.Get("error") != "access_denied" || q.Get("admin_consent") != "True" ||
		!strings.HasPrefix(q.Get("error_description"), "AADSTS65004") || q.Get("state") != "st-9" {
		t.Fatalf("cancel: %q %v", loc, err)
	}
	if got := e.missingConsent(&e.cfg.App, mustUser(t, e, nestor), []string{"User.Read", "Mail.Read"}); len(got) != 2 {
		t.Fatalf("after a cancel Nestor lacks %v, want both", got)
	}

	loc, err = SignInWith(e.Client(), consentURL(nil), miriam, ConsentAccept)
	q := query(t, loc)
	if err != nil || !strings.HasPrefix(loc, redirect+"?") || q.Get("admin_consent") != "True" || q.Get("tenant") != DevTenantID ||
		q.Get("scope") != "https://graph.microsoft.com/User.Read Mail.Read" || q.Get("state") != "st-9" {
		t.Fatalf("accept: %q %v", loc, err)
	}
	for _, upn := range []string{nestor, "MeganB@contoso.example"} {
		if got := e.missingConsent(&e.cfg.App, mustUser(t, e, upn), []string{"User.Read", "Mail.Read"}); len(got) != 0 {
			t.Errorf("%s after the administrator's consent still lacks %v", upn, got)
		}
	}
}

func query(t *testing.T, loc string) url.Values {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func mustUser(t *testing.T, e *Emulator, upn string) User {
	t.Helper()
	u, ok := e.User(upn)
	if !ok {
		t.Fatalf("no user %s", upn)
	}
	return u
}
