package entraemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// TestCodeFlowConfidential walks a whole sign-in of the confidential app
// with golang.org/x/oauth2 (client_secret_basic, PKCE S256), then refreshes.
func TestCodeFlowConfidential(t *testing.T) {
	e := NewTestServer(t, nil)
	cfg := oauthConfig(e, DevAppClientID, DevAppClientSecret, DefaultRedirectURIs[0], apiScope, "openid", "profile", "offline_access")
	verifier := oauth2.GenerateVerifier()
	code, q := signIn(t, e, cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n-1")), adele)
	if q.Get("state") != "state-1" {
		t.Fatalf("state %q", q.Get("state"))
	}
	tok, err := cfg.Exchange(clientCtx(e), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	claims, err := e.parseToken(tok.AccessToken, e.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := e.User(adele)
	want := map[string]any{"aud": DevAppClientID, "azp": DevAppClientID, "azpacr": "1", "scp": DevAppScope,
		"oid": u.OID, "tid": DevTenantID, "ver": "2.0", "preferred_username": adele, "name": "Adele Vance"}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("access token %s = %v, want %v", k, claims[k], v)
		}
	}
	if exp, _ := claims.GetExpirationTime(); time.Until(exp.Time) < 59*time.Minute {
		t.Errorf("exp %v, want about 1h", exp)
	}
	idt, _ := tok.Extra("id_token").(string)
	idc, err := e.parseToken(idt, e.Issuer())
	if err != nil || idc["aud"] != DevAppClientID || idc["nonce"] != "n-1" {
		t.Fatalf("id_token %v %v", idc, err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token despite offline_access")
	}

	// Refresh through oauth2's TokenSource by expiring the token.
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(clientCtx(e), tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not return a new access and refresh token")
	}

	// The code is single use.
	_, err = cfg.Exchange(clientCtx(e), code, oauth2.VerifierOption(verifier))
	if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "AADSTS54005") {
		t.Fatalf("second redemption: %v", err)
	}
}

func TestTokenErrors(t *testing.T) {
	c := testutil.NewClock(time.Now())
	e := NewTestServer(t, func(cfg *Config) { cfg.Now = c.Now })
	cfg := oauthConfig(e, DevPublicClientID, "", "http://127.0.0.1:5555/callback", apiScope, "offline_access")
	verifier := oauth2.GenerateVerifier()
	newCode := func() string {
		code, _ := signIn(t, e, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), adele)
		return code
	}
	codeForm := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "client_id": {DevPublicClientID}, "code": {code},
			"redirect_uri": {"http://127.0.0.1:5555/callback"}, "code_verifier": {verifier}}
	}
	with := func(v url.Values, k, val string) url.Values {
		out := url.Values{}
		for kk, vv := range v {
			out[kk] = vv
		}
		if val == "" {
			out.Del(k)
		} else {
			out.Set(k, val)
		}
		return out
	}
	tests := []struct {
		name   string
		form   func() url.Values
		status int
		error  string
		aadsts string
	}{
		{"no grant_type", func() url.Values { return url.Values{"client_id": {DevPublicClientID}} }, 400, "invalid_request", "AADSTS900144"},
		{"unsupported grant", func() url.Values { return url.Values{"grant_type": {"password"}, "client_id": {DevPublicClientID}} }, 400, "unsupported_grant_type", "AADSTS70003"},
		{"no client_id", func() url.Values { return url.Values{"grant_type": {"authorization_code"}} }, 400, "invalid_request", "AADSTS900144"},
		{"unknown client", func() url.Values { return with(codeForm("x"), "client_id", "nope") }, 400, "unauthorized_client", "AADSTS700016"},
		{"confidential without secret", func() url.Values { return with(codeForm("x"), "client_id", DevAppClientID) }, 401, "invalid_client", "AADSTS7000218"},
		{"wrong secret", func() url.Values {
			return with(with(codeForm("x"), "client_id", DevAppClientID), "client_secret", "wrong")
		}, 401, "invalid_client", "AADSTS7000215"},
		{"public client with secret", func() url.Values { return with(codeForm("x"), "client_secret", "s") }, 401, "invalid_client", "AADSTS700025"},
		{"garbage assertion", func() url.Values {
			return with(with(with(codeForm("x"), "client_id", DevAppClientID), "client_assertion", "a.b.c"), "client_assertion_type", clientAssertionType)
		}, 401, "invalid_client", "AADSTS700027"},
		{"unknown code", func() url.Values { return codeForm("nope") }, 400, "invalid_grant", "AADSTS70000"},
		{"missing code", func() url.Values { return with(codeForm(""), "code", "") }, 400, "invalid_request", "AADSTS900144"},
		{"wrong verifier", func() url.Values { return with(codeForm(newCode()), "code_verifier", oauth2.GenerateVerifier()) }, 400, "invalid_grant", "AADSTS501481"},
		{"missing verifier", func() url.Values { return with(codeForm(newCode()), "code_verifier", "") }, 400, "invalid_grant", "AADSTS501481"},
		{"other redirect_uri", func() url.Values { return with(codeForm(newCode()), "redirect_uri", "http://127.0.0.1:5556/callback") }, 400, "invalid_grant", "AADSTS500112"},
		{"expired code", func() url.Values { f := codeForm(newCode()); c.Advance(11 * time.Minute); return f }, 400, "invalid_grant", "AADSTS70008"},
		{"unknown refresh token", func() url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "client_id": {DevPublicClientID}, "refresh_token": {"nope"}}
		}, 400, "invalid_grant", "AADSTS9002313"},
		{"obo from public client", func() url.Values {
			return url.Values{"grant_type": {grantJWTBearer}, "client_id": {DevPublicClientID}, "assertion": {"x"}, "requested_token_use": {"on_behalf_of"}, "scope": {"User.Read"}}
		}, 401, "invalid_client", "AADSTS7000218"},
		{"obo with bad assertion", func() url.Values {
			return url.Values{"grant_type": {grantJWTBearer}, "client_id": {DevAppClientID}, "client_secret": {DevAppClientSecret}, "assertion": {"x.y.z"}, "requested_token_use": {"on_behalf_of"}, "scope": {"User.Read"}}
		}, 400, "invalid_grant", "AADSTS50013"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := postToken(t, e, tt.form())
			if status != tt.status || body["error"] != tt.error || aadsts(body) != tt.aadsts {
				t.Fatalf("got %d %v, want %d %s %s", status, body, tt.status, tt.error, tt.aadsts)
			}
			if codes, _ := body["error_codes"].([]any); len(codes) != 1 {
				t.Errorf("error_codes = %v", body["error_codes"])
			}
		})
	}

	// GET on the token endpoint is refused in Entra's words.
	resp, err := e.Client().Get(e.BaseURL() + "/" + DevTenantID + "/oauth2/v2.0/token")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := decode(t, resp); status != http.StatusBadRequest || aadsts(body) != "AADSTS900561" {
		t.Fatalf("GET token: %d %v", status, body)
	}
}

func TestOnBehalfOfAssertionChecks(t *testing.T) {
	e := NewTestServer(t, nil)
	u, _ := e.User(adele)
	obo := func(assertion string) (int, map[string]any) {
		return postToken(t, e, url.Values{"grant_type": {grantJWTBearer}, "client_id": {DevAppClientID}, "client_secret": {DevAppClientSecret},
			"assertion": {assertion}, "requested_token_use": {"on_behalf_of"}, "scope": {"https://graph.microsoft.com/.default"}})
	}
	mint := func(change func(jwt.MapClaims)) string {
		c := e.DefaultAccessTokenClaims(u, DevPublicClientID)
		change(c)
		s, err := e.SignToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if status, body := obo(mint(func(c jwt.MapClaims) { c["aud"] = "someone-else" })); status != 400 || aadsts(body) != "AADSTS50013" {
		t.Errorf("wrong audience: %d %v", status, body)
	}
	if status, body := obo(mint(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })); status != 400 || aadsts(body) != "AADSTS500133" {
		t.Errorf("expired assertion: %d %v", status, body)
	}
	status, body := obo(mint(func(jwt.MapClaims) {}))
	if status != 200 {
		t.Fatalf("good assertion: %d %v", status, body)
	}
	gc, err := e.parseToken(body["access_token"].(string), e.Issuer())
	// .default is every permission Adele consented to: User.Read (admin,
	// tenant-wide) and Mail.Read (her own).
	if err != nil || gc["aud"] != GraphResource || gc["scp"] != "User.Read Mail.Read" || gc["oid"] != u.OID {
		t.Fatalf("graph token %v %v", gc, err)
	}
}

// TestFederatedAssertionChecks emulates the federated identity credential
// trust: issuer, subject and audience must all match.
func TestFederatedAssertionChecks(t *testing.T) {
	e := NewTestServer(t, nil)
	u, _ := e.User(adele)
	userTok, _ := e.SignToken(e.DefaultAccessTokenClaims(u, DevPublicClientID))
	try := func(change func(jwt.MapClaims)) (int, map[string]any) {
		c := e.managedIdentityClaims(e.Issuer(), FederatedAudience)
		change(c)
		a, err := e.SignToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return postToken(t, e, url.Values{"grant_type": {grantJWTBearer}, "client_id": {DevAppClientID},
			"client_assertion_type": {clientAssertionType}, "client_assertion": {a},
			"assertion": {userTok}, "requested_token_use": {"on_behalf_of"}, "scope": {"User.Read"}})
	}
	tests := []struct {
		name   string
		change func(jwt.MapClaims)
		aadsts string
	}{
		{"other subject", func(c jwt.MapClaims) { c["sub"] = "66666666-6666-4666-8666-666666666666" }, "AADSTS700213"},
		{"other audience", func(c jwt.MapClaims) { c["aud"] = "api://something-else" }, "AADSTS700212"},
		{"other issuer", func(c jwt.MapClaims) { c["iss"] = "https://login.microsoftonline.com/x/v2.0" }, "AADSTS700211"},
		{"expired", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, "AADSTS700027"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := try(tt.change)
			if status != http.StatusUnauthorized || body["error"] != "invalid_client" || aadsts(body) != tt.aadsts {
				t.Fatalf("got %d %v, want %s", status, body, tt.aadsts)
			}
		})
	}
	if status, body := try(func(jwt.MapClaims) {}); status != http.StatusOK {
		t.Fatalf("valid assertion: %d %v", status, body)
	}
}

// TestConsentRequiredBody checks the exact shape of Entra's answer.
func TestConsentRequiredBody(t *testing.T) {
	e := NewTestServer(t, nil)
	u, _ := e.User(nestor)
	userTok, _ := e.SignToken(e.DefaultAccessTokenClaims(u, DevPublicClientID))
	status, body := postToken(t, e, url.Values{"grant_type": {grantJWTBearer}, "client_id": {DevAppClientID}, "client_secret": {DevAppClientSecret},
		"assertion": {userTok}, "requested_token_use": {"on_behalf_of"}, "scope": {"https://graph.microsoft.com/User.Read offline_access openid profile"}})
	want := "AADSTS65001: The user or administrator has not consented to use the application with ID '" + DevAppClientID +
		"' named '" + DevAppName + "'. Send an interactive authorization request for this user and resource."
	desc, _ := body["error_description"].(string)
	if status != 400 || body["error"] != "invalid_grant" || body["suberror"] != "consent_required" || !strings.HasPrefix(desc, want) {
		t.Fatalf("got %d %v", status, body)
	}
	if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(65001) {
		t.Fatalf("error_codes %v", body["error_codes"])
	}
}
