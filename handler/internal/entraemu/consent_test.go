package entraemu

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

const (
	megan     = "MeganB@contoso.example" // User.Read (admin), no Mail.Read
	mailRead  = "https://graph.microsoft.com/Mail.Read"
	graphUser = "https://graph.microsoft.com/User.Read"
)

// appSignIn is the confidential API app's sign-in (what the handler does in
// mode proxy), asking for scopes, answering the consent prompt as consent
// says. It returns the redirect's query.
func appSignIn(t *testing.T, e *Emulator, upn string, consent Consent, scopes ...string) (*oauth2.Config, string, url.Values, error) {
	t.Helper()
	cfg := oauthConfig(e, DevAppClientID, DevAppClientSecret, DefaultRedirectURIs[0], scopes...)
	verifier := oauth2.GenerateVerifier()
	loc, err := SignInWith(e.Client(), cfg.AuthCodeURL("st-c", oauth2.S256ChallengeOption(verifier)), upn, consent)
	if err != nil {
		return cfg, verifier, nil, err
	}
	u, perr := url.Parse(loc)
	if perr != nil {
		t.Fatal(perr)
	}
	return cfg, verifier, u.Query(), nil
}

// obo asks for a Graph token On-Behalf-Of the user of assertion.
func obo(t *testing.T, e *Emulator, assertion, scope string) (int, map[string]any) {
	t.Helper()
	return postToken(t, e, url.Values{"grant_type": {grantJWTBearer}, "client_id": {DevAppClientID}, "client_secret": {DevAppClientSecret},
		"assertion": {assertion}, "requested_token_use": {"on_behalf_of"}, "scope": {scope}})
}

func appToken(t *testing.T, e *Emulator, upn string) string {
	t.Helper()
	u, ok := e.User(upn)
	if !ok {
		t.Fatalf("no user %s", upn)
	}
	tok, err := e.SignToken(e.DefaultAccessTokenClaims(u, DevPublicClientID))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestOnBehalfOfConsentPerUser: On-Behalf-Of gets a Graph permission only
// when the user (or an admin for everyone) consented to it.
func TestOnBehalfOfConsentPerUser(t *testing.T) {
	e := NewTestServer(t, nil)
	tests := []struct {
		user, scope string
		ok          bool
	}{
		{adele, graphUser, true},
		{adele, mailRead, true}, // her own consent
		{adele, graphUser + " " + mailRead, true},
		{megan, graphUser, true},
		{megan, mailRead, false},
		{megan, graphUser + " " + mailRead, false},
		{megan, "https://graph.microsoft.com/Calendars.Read", false},
		{nestor, graphUser, false}, // no consent reaches him
		{nestor, "https://graph.microsoft.com/.default", false},
	}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.scope, func(t *testing.T) {
			status, body := obo(t, e, appToken(t, e, tt.user), tt.scope)
			if tt.ok {
				if status != 200 {
					t.Fatalf("got %d %v", status, body)
				}
				return
			}
			if status != 400 || body["error"] != "invalid_grant" || body["suberror"] != "consent_required" || aadsts(body) != "AADSTS65001" {
				t.Fatalf("got %d %v, want AADSTS65001 consent_required", status, body)
			}
		})
	}
}

// TestConsentPrompt walks Entra's incremental consent: the app asks at
// /authorize for its API scope plus a Graph permission (two resources are
// allowed there, for consent); a user who has not consented sees the
// "Permissions requested" page listing only what is missing; Accept records
// the consent, the code yields a token for the first resource, and
// On-Behalf-Of for the permission works afterwards.
func TestConsentPrompt(t *testing.T) {
	e := NewTestServer(t, nil)
	scopes := []string{apiScope, graphUser, mailRead, "openid", "offline_access"}

	if _, _, _, err := appSignIn(t, e, megan, ConsentUnexpected, scopes...); err == nil || !strings.Contains(err.Error(), "consent prompt") {
		t.Fatalf("Megan was not prompted: %v", err)
	}
	page := consentPageFor(t, e, megan, scopes...)
	if !strings.Contains(page, `data-permission="Mail.Read">Read your mail</li>`) || strings.Contains(page, `data-permission="User.Read"`) {
		t.Errorf("the prompt must list Mail.Read (missing) and not User.Read (consented):\n%s", page)
	}

	cfg, verifier, q, err := appSignIn(t, e, megan, ConsentAccept, scopes...)
	if err != nil || q.Get("code") == "" || q.Get("state") != "st-c" {
		t.Fatalf("accept: %v %v", q, err)
	}
	tok, err := cfg.Exchange(clientCtx(e), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	claims, err := e.parseToken(tok.AccessToken, e.Issuer())
	if err != nil || claims["aud"] != DevAppClientID || claims["scp"] != DevAppScope {
		t.Fatalf("the token must be for the first resource (the API app): %v %v", claims, err)
	}
	status, body := obo(t, e, tok.AccessToken, mailRead)
	if status != 200 {
		t.Fatalf("On-Behalf-Of after consent: %d %v", status, body)
	}
	if status, msgs := getJSON(t, e, "/v1.0/me/messages?$top=1", body["access_token"].(string)); status != 200 || len(msgs["value"].([]any)) != 1 {
		t.Fatalf("messages after consent: %d %v", status, msgs)
	}

	// Consent is remembered: no prompt the second time.
	if _, _, q, err := appSignIn(t, e, megan, ConsentUnexpected, scopes...); err != nil || q.Get("code") == "" {
		t.Fatalf("second sign-in prompted again: %v %v", q, err)
	}
}

// consentPageFor signs upn in and returns the consent page the emulator
// shows.
func consentPageFor(t *testing.T, e *Emulator, upn string, scopes ...string) string {
	t.Helper()
	cfg := oauthConfig(e, DevAppClientID, DevAppClientSecret, DefaultRedirectURIs[0], scopes...)
	authURL := cfg.AuthCodeURL("st-p", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	resp, err := e.Client().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form, err := parseForm(body, "user", upn)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = e.Client().PostForm(resp.Request.URL.String(), form.values)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<h1>Permissions requested</h1>") {
		t.Fatalf("no consent page: %d %s", resp.StatusCode, page)
	}
	return string(page)
}

func TestConsentPromptAlreadyConsentedAndForced(t *testing.T) {
	e := NewTestServer(t, nil)
	if _, _, q, err := appSignIn(t, e, adele, ConsentUnexpected, apiScope, mailRead, "openid"); err != nil || q.Get("code") == "" {
		t.Fatalf("Adele consented to Mail.Read already, yet: %v %v", q, err)
	}
	cfg := oauthConfig(e, DevAppClientID, DevAppClientSecret, DefaultRedirectURIs[0], apiScope, mailRead, "openid")
	authURL := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "consent"))
	if _, err := SignIn(e.Client(), authURL, adele); err == nil || !strings.Contains(err.Error(), "consent prompt") {
		t.Fatalf("prompt=consent did not prompt: %v", err)
	}
	loc, err := SignInWith(e.Client(), authURL, adele, ConsentAccept)
	if err != nil || !strings.Contains(loc, "code=") {
		t.Fatalf("accept after prompt=consent: %q %v", loc, err)
	}
}

// TestConsentCancel: Cancel sends the user back with Entra's answer and
// records nothing.
func TestConsentCancel(t *testing.T) {
	e := NewTestServer(t, nil)
	_, _, q, err := appSignIn(t, e, megan, ConsentCancel, apiScope, mailRead, "openid")
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("error") != "access_denied" || q.Get("error_subcode") != "cancel" || q.Get("state") != "st-c" ||
		!strings.HasPrefix(q.Get("error_description"), "AADSTS65004: User declined to consent to access the app.") || q.Get("code") != "" {
		t.Fatalf("cancel redirect = %v", q)
	}
	if status, body := obo(t, e, appToken(t, e, megan), mailRead); status != 400 || aadsts(body) != "AADSTS65001" {
		t.Fatalf("consent was recorded despite cancel: %d %v", status, body)
	}
}

// TestConsentNeedsAdmin: a user who may not consent gets Entra's "Need
// admin approval" instead of a prompt.
func TestConsentNeedsAdmin(t *testing.T) {
	e := NewTestServer(t, nil)
	_, _, _, err := appSignIn(t, e, nestor, ConsentAccept, apiScope, graphUser, "openid")
	if err == nil || !strings.Contains(err.Error(), "only an admin can grant") {
		t.Fatalf("Nestor: %v", err)
	}
	// Without Graph permissions in the request there is nothing to consent to.
	if _, _, q, err := appSignIn(t, e, nestor, ConsentUnexpected, apiScope, "openid"); err != nil || q.Get("code") == "" {
		t.Fatalf("Nestor's plain sign-in: %v %v", q, err)
	}
}

// TestTwoResourcesOnlyAtAuthorize: the token endpoint still refuses two
// resources in one request (AADSTS28000).
func TestTwoResourcesOnlyAtAuthorize(t *testing.T) {
	e := NewTestServer(t, nil)
	tok := userAccessToken(t, e, adele)
	status, body := postToken(t, e, url.Values{"grant_type": {"refresh_token"}, "client_id": {DevPublicClientID},
		"refresh_token": {tok.RefreshToken}, "scope": {apiScope + " " + graphUser}})
	if status != http.StatusBadRequest || aadsts(body) != "AADSTS28000" {
		t.Fatalf("got %d %v", status, body)
	}
}
