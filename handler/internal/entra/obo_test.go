package entra

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// newOBO returns an OBO client for the emulator e served at base.
func newOBO(base string, client *http.Client) *OBO {
	return &OBO{
		AuthorityHost: base, TenantID: entraemu.DevTenantID, ClientID: entraemu.DevAppClientID,
		ClientSecret: entraemu.DevAppClientSecret, HTTPClient: client,
	}
}

func assertionFor(t *testing.T, e *entraemu.Emulator, upn string) string {
	t.Helper()
	u, ok := e.User(upn)
	if !ok {
		t.Fatalf("no user %s", upn)
	}
	a, err := e.SignToken(e.DefaultAccessTokenClaims(u, entraemu.DevPublicClientID))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestOBOConsentRequired: Entra's AADSTS65001 becomes ConsentRequiredError
// naming the scopes and the admin-consent URL for them.
func TestOBOConsentRequired(t *testing.T) {
	e := entraemu.NewTestServer(t, nil)
	o := newOBO(e.BaseURL(), e.Client())
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	mail := []string{"https://graph.microsoft.com/Mail.Read"}

	if tok, err := o.Token(ctx, assertionFor(t, e, "AdeleV@contoso.example"), exp, mail); err != nil || tok == "" {
		t.Fatalf("Adele (consented): %q %v", tok, err)
	}
	_, err := o.Token(ctx, assertionFor(t, e, "MeganB@contoso.example"), exp, mail)
	var cr *ConsentRequiredError
	if !errors.As(err, &cr) {
		t.Fatalf("Megan (not consented): %v", err)
	}
	want := e.BaseURL() + "/" + entraemu.DevTenantID + "/v2.0/adminconsent?" +
		url.Values{"client_id": {entraemu.DevAppClientID}, "scope": {mail[0]}}.Encode()
	if cr.URL != want || strings.Join(cr.Scopes, " ") != mail[0] {
		t.Fatalf("consent error %+v, want URL %s", cr, want)
	}
	// With a redirect URI the administrator comes back to it (mode proxy:
	// /callback, which says what happened).
	o.AdminConsentRedirectURL = "https://mcp.example/callback"
	want = e.BaseURL() + "/" + entraemu.DevTenantID + "/v2.0/adminconsent?" +
		url.Values{"client_id": {entraemu.DevAppClientID}, "redirect_uri": {o.AdminConsentRedirectURL}, "scope": {mail[0]}}.Encode()
	if got := o.ConsentURL(mail); got != want {
		t.Fatalf("ConsentURL = %s, want %s", got, want)
	}
}

// TestOBOInteractionRequired: a Conditional Access answer (Entra's body for
// a policy that wants MFA on the downstream API) becomes
// InteractionRequiredError; other refusals stay plain errors.
func TestOBOInteractionRequired(t *testing.T) {
	cfg := entraemu.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	e, err := entraemu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	refuse := func(body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(body))
				return
			}
			e.Handler().ServeHTTP(w, r)
		})
	}
	tests := []struct {
		name, body string
		check      func(error) bool
	}{
		{"interaction_required", `{"error":"interaction_required","error_description":"AADSTS50079: Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access 'Microsoft Graph'.","error_codes":[50079],"suberror":"basic_action","claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"x\"]}}}"}`,
			func(err error) bool {
				var ir *InteractionRequiredError
				return errors.As(err, &ir) && ir.Detail == "AADSTS50079"
			}},
		{"other invalid_grant", `{"error":"invalid_grant","error_description":"AADSTS50013: Assertion failed signature validation.","error_codes":[50013]}`,
			func(err error) bool {
				var ir *InteractionRequiredError
				var cr *ConsentRequiredError
				return err != nil && !errors.As(err, &ir) && !errors.As(err, &cr)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(refuse(tt.body))
			srv.TLS = e.TLSConfig()
			srv.StartTLS()
			defer srv.Close()
			e.SetBaseURL(srv.URL)
			o := newOBO(srv.URL, e.Client())
			_, err := o.Token(context.Background(), assertionFor(t, e, "AdeleV@contoso.example"), time.Now().Add(time.Hour),
				[]string{"https://graph.microsoft.com/User.Read"})
			if !tt.check(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
		})
	}
}

// TestOBOCachesTokens: a user's downstream token is exchanged once and
// then served from the cache until shortly before it expires; concurrent
// requests share one exchange; other scopes or another user are another
// exchange.
func TestOBOCachesTokens(t *testing.T) {
	cfg := entraemu.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	e, err := entraemu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var exchanges atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
			exchanges.Add(1)
		}
		e.Handler().ServeHTTP(w, r)
	}))
	srv.TLS = e.TLSConfig()
	srv.StartTLS()
	defer srv.Close()
	e.SetBaseURL(srv.URL)
	now := time.Now()
	o := newOBO(srv.URL, e.Client())
	o.Now = func() time.Time { return now }
	ctx := context.Background()
	adele, alex := assertionFor(t, e, "AdeleV@contoso.example"), assertionFor(t, e, "AlexW@contoso.example")
	me := []string{"https://graph.microsoft.com/User.Read"}
	mail := []string{"https://graph.microsoft.com/Mail.Read"}

	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], _ = o.Token(ctx, adele, now.Add(time.Hour), me)
		}()
	}
	wg.Wait()
	for i, tk := range tokens {
		if tk == "" || tk != tokens[0] {
			t.Fatalf("concurrent call %d got %.20q, call 0 %.20q", i, tk, tokens[0])
		}
	}
	again, err := o.Token(ctx, adele, now.Add(time.Hour), me)
	if err != nil || again != tokens[0] {
		t.Fatalf("Token again = %.20q, %v; want the cached token", again, err)
	}
	if n := exchanges.Load(); n != 1 {
		t.Fatalf("%d exchanges for one user and scope, want 1", n)
	}
	for _, c := range []struct {
		assertion string
		scopes    []string
	}{{adele, mail}, {alex, me}} {
		if _, err := o.Token(ctx, c.assertion, now.Add(time.Hour), c.scopes); err != nil {
			t.Fatal(err)
		}
	}
	if n := exchanges.Load(); n != 3 {
		t.Fatalf("%d exchanges, want 3: another scope and another user are exchanges of their own", n)
	}
	now = now.Add(time.Hour) // the emulator's tokens last an hour
	if _, err := o.Token(ctx, adele, now.Add(time.Hour), me); err != nil {
		t.Fatal(err)
	}
	if n := exchanges.Load(); n != 4 {
		t.Fatalf("%d exchanges, want 4: an expired token is exchanged again", n)
	}
}
