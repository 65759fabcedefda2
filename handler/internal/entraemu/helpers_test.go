package entraemu

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

const (
	adele  = "AdeleV@contoso.example"
	nestor = "NestorW@contoso.example" // needs consent
)

var apiScope = "api://" + DevAppClientID + "/" + DevAppScope

// oauthConfig is golang.org/x/oauth2 set up against the emulator.
func oauthConfig(e *Emulator, clientID, secret, redirect string, scopes ...string) *oauth2.Config {
	base := e.BaseURL() + "/" + e.TenantID() + "/oauth2/v2.0/"
	return &oauth2.Config{
		ClientID: clientID, ClientSecret: secret, RedirectURL: redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: base + "authorize", TokenURL: base + "token"},
	}
}

func clientCtx(e *Emulator) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, e.Client())
}

// signIn runs the browser half of the code flow and returns the code.
func signIn(t *testing.T, e *Emulator, authURL, upn string) (code string, q url.Values) {
	t.Helper()
	loc, err := SignIn(e.Client(), authURL, upn)
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("redirect %q: %v", loc, err)
	}
	q = u.Query()
	if q.Get("code") == "" {
		t.Fatalf("redirect without code: %s", loc)
	}
	return q.Get("code"), q
}

// userAccessToken signs user in through the public client with the API
// scope and returns the token response.
func userAccessToken(t *testing.T, e *Emulator, upn string) *oauth2.Token {
	t.Helper()
	cfg := oauthConfig(e, DevPublicClientID, "", "http://127.0.0.1:5555/callback", apiScope, "openid", "offline_access")
	verifier := oauth2.GenerateVerifier()
	code, _ := signIn(t, e, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), upn)
	tok, err := cfg.Exchange(clientCtx(e), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// postToken posts a form to the token endpoint and decodes the JSON answer.
func postToken(t *testing.T, e *Emulator, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := e.Client().Post(e.BaseURL()+"/"+e.TenantID()+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func getJSON(t *testing.T, e *Emulator, path, bearer string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.BaseURL()+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("status %d, body not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// aadsts returns the AADSTS prefix of an error description, e.g. "AADSTS65001".
func aadsts(m map[string]any) string {
	d, _ := m["error_description"].(string)
	code, _, _ := strings.Cut(d, ":")
	return code
}
