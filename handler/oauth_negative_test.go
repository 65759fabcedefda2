package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// signedIn runs a full sign-in for a fresh registration and returns the
// client and the code it received.
func signedIn(t *testing.T, ts *testServer) (oauthClient, string) {
	t.Helper()
	c := registerClient(t, ts.stack, "http://127.0.0.1:53682/callback")
	q := newBrowser(t, ts.stack).authorize(c, c.authorizeURL(ts.stack, nil), "AdeleV@contoso.example")
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return c, q.Get("code")
}

func TestTokenEndpointNegative(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	tests := []struct {
		name      string
		run       func(t *testing.T) tokenResp
		wantError string
		wantCode  int
	}{
		{"replayed code", func(t *testing.T) tokenResp {
			c, code := signedIn(t, ts)
			if r := c.redeem(t, st, code); r.Status != 200 {
				t.Fatalf("first redemption: %+v", r)
			}
			return c.redeem(t, st, code)
		}, "invalid_grant", 400},
		{"replayed code revokes what the first use issued", func(t *testing.T) tokenResp {
			// RFC 6749 §4.1.2: a code used twice was stolen by one of the
			// two; the tokens of the first redemption are revoked.
			c, code := signedIn(t, ts)
			first := c.redeem(t, st, code)
			if first.Status != 200 || first.RefreshToken == "" {
				t.Fatalf("first redemption: %+v", first)
			}
			if r := c.redeem(t, st, code); r.Error != "invalid_grant" {
				t.Fatalf("replay: %+v", r)
			}
			if code := mcpStatus(t, st, first.AccessToken); code != 401 {
				t.Errorf("/mcp with the first redemption's access token = %d, want 401", code)
			}
			return c.refresh(t, st, first.RefreshToken)
		}, "invalid_grant", 400},
		{"wrong code_verifier", func(t *testing.T) tokenResp {
			c, code := signedIn(t, ts)
			c.Verifier = strings.Repeat("w", 43)
			return c.redeem(t, st, code)
		}, "invalid_grant", 400},
		{"missing code_verifier", func(t *testing.T) tokenResp {
			c, code := signedIn(t, ts)
			return postToken(t, st, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI}, "client_id": {c.ID}})
		}, "invalid_request", 400},
		{"redirect_uri differs from the authorization request", func(t *testing.T) tokenResp {
			c, code := signedIn(t, ts)
			c.RedirectURI = "http://127.0.0.1:53682/other"
			return c.redeem(t, st, code)
		}, "invalid_grant", 400},
		{"code redeemed by another client", func(t *testing.T) tokenResp {
			_, code := signedIn(t, ts)
			other := registerClient(t, st, "http://127.0.0.1:53682/callback")
			return other.redeem(t, st, code)
		}, "invalid_grant", 400},
		{"resource mismatch", func(t *testing.T) tokenResp {
			c, code := signedIn(t, ts)
			return postToken(t, st, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI},
				"client_id": {c.ID}, "code_verifier": {c.Verifier}, "resource": {"https://evil.example/mcp"}})
		}, "invalid_target", 400},
		{"unknown client", func(t *testing.T) tokenResp {
			_, code := signedIn(t, ts)
			return postToken(t, st, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"no-such-client"}})
		}, "invalid_client", 401},
		{"expired code", func(t *testing.T) tokenResp {
			c, code := signedIn(t, ts)
			ts.clock.Advance(11 * time.Minute)
			defer ts.clock.Advance(-11 * time.Minute)
			return c.redeem(t, st, code)
		}, "invalid_grant", 400},
		{"unsupported grant type", func(t *testing.T) tokenResp {
			c, _ := signedIn(t, ts)
			return postToken(t, st, url.Values{"grant_type": {"password"}, "client_id": {c.ID}})
		}, "unsupported_grant_type", 400},
		{"refresh reuse after the grace window revokes the family", func(t *testing.T) tokenResp {
			c, code := signedIn(t, ts)
			first := c.redeem(t, st, code)
			second := c.refresh(t, st, first.RefreshToken)
			if second.Status != 200 {
				t.Fatalf("first refresh: %+v", second)
			}
			ts.clock.Advance(2 * time.Minute)
			defer ts.clock.Advance(-2 * time.Minute)
			if r := c.refresh(t, st, first.RefreshToken); r.Error != "invalid_grant" {
				t.Fatalf("reuse after grace: %+v", r)
			}
			// The family is gone: the newest refresh token and access token die too.
			if code := mcpStatus(t, st, second.AccessToken); code != 401 {
				t.Errorf("/mcp with the family's access token = %d, want 401", code)
			}
			return c.refresh(t, st, second.RefreshToken)
		}, "invalid_grant", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run(t)
			if r.Error != tt.wantError || r.Status != tt.wantCode || r.CacheControl != "no-store" {
				t.Fatalf("got status %d error %q cache %q, want %d %q no-store", r.Status, r.Error, r.CacheControl, tt.wantCode, tt.wantError)
			}
		})
	}
}

func TestAuthorizeNegative(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	c := registerClient(t, st, "http://127.0.0.1:53682/callback")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Before the client and redirect URI are trusted: an HTML page, never a redirect.
	pageCases := []struct {
		name  string
		extra url.Values
	}{
		{"unknown client", url.Values{"client_id": {"no-such-client"}}},
		{"missing client", url.Values{"client_id": {""}}},
		{"lookalike host", url.Values{"redirect_uri": {"http://127.0.0.1.evil.example/callback"}}},
		{"userinfo trick", url.Values{"redirect_uri": {"http://127.0.0.1:53682@evil.example/callback"}}},
		{"userinfo on loopback", url.Values{"redirect_uri": {"http://evil@127.0.0.1:53682/callback"}}},
		{"different path", url.Values{"redirect_uri": {"http://127.0.0.1:53682/other"}}},
		{"trailing slash", url.Values{"redirect_uri": {"http://127.0.0.1:53682/callback/"}}},
		{"localhost is not 127.0.0.1", url.Values{"redirect_uri": {"http://localhost:53682/callback"}}},
		{"https of a loopback", url.Values{"redirect_uri": {"https://127.0.0.1:53682/callback"}}},
		{"javascript scheme", url.Values{"redirect_uri": {"javascript:alert(1)"}}},
		{"missing redirect_uri", url.Values{"redirect_uri": {""}}},
	}
	for _, tt := range pageCases {
		t.Run("page/"+tt.name, func(t *testing.T) {
			resp, err := hc.Get(c.authorizeURL(st, tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d Location %q type %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Type"))
			}
			if !strings.Contains(string(body), "Sign-in cannot continue") || resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("error page body/CSP missing")
			}
		})
	}

	// A different loopback port is fine (RFC 8252 §7.3).
	t.Run("loopback any port", func(t *testing.T) {
		resp, err := hc.Get(c.authorizeURL(st, url.Values{"redirect_uri": {"http://127.0.0.1:1234/callback"}}))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.HasPrefix(loc, "/consent?") {
			t.Fatalf("status %d Location %q", resp.StatusCode, loc)
		}
	})

	errorCases := []struct {
		name      string
		extra     url.Values
		wantError string
	}{
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, "invalid_request"},
		{"missing PKCE", url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, "invalid_request"},
		{"malformed challenge", url.Values{"code_challenge": {"short"}}, "invalid_request"},
		{"resource mismatch", url.Values{"resource": {"https://evil.example/mcp"}}, "invalid_target"},
		{"resource with trailing slash", url.Values{"resource": {st.BaseURL + "/mcp/"}}, "invalid_target"},
		{"unknown scope", url.Values{"scope": {"mcp:tools admin"}}, "invalid_scope"},
		{"implicit flow", url.Values{"response_type": {"token"}}, "unsupported_response_type"},
	}

	// Anyone can register any https redirect URI, so an error response to
	// a client nobody vouches for is an open redirect (RFC 9700 §4.11.2):
	// until the user has approved that client and redirect URI in this
	// browser, errors are shown, not sent.
	evil := registerClient(t, st, "https://evil.example/landing")
	for _, tt := range errorCases {
		t.Run("unapproved client gets a page/"+tt.name, func(t *testing.T) {
			resp, err := hc.Get(evil.authorizeURL(st, tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(string(body), tt.wantError) {
				t.Fatalf("status %d Location %q, want 400, no redirect, a page naming %s", resp.StatusCode, resp.Header.Get("Location"), tt.wantError)
			}
		})
	}

	// After the user approved the client and redirect URI in this browser,
	// errors go back to the client with state and iss (RFC 6749 §4.1.2.1,
	// RFC 9207).
	approved := newBrowser(t, st)
	if q := approved.authorize(c, c.authorizeURL(st, nil), "AdeleV@contoso.example"); q.Get("code") == "" {
		t.Fatalf("sign-in: %v", q)
	}
	for _, tt := range errorCases {
		t.Run("approved client gets a redirect/"+tt.name, func(t *testing.T) {
			resp, _ := approved.get(c.authorizeURL(st, tt.extra))
			loc, err := resp.Location()
			if resp.StatusCode != 302 || err != nil || !strings.HasPrefix(loc.String(), c.RedirectURI+"?") {
				t.Fatalf("status %d Location %v", resp.StatusCode, loc)
			}
			q := loc.Query()
			if q.Get("error") != tt.wantError || q.Get("state") != c.State || q.Get("iss") != st.BaseURL || q.Get("code") != "" {
				t.Fatalf("redirect query %v, want error %s with state and iss", q, tt.wantError)
			}
		})
	}
	// The approval is for that redirect URI: another one registered for
	// the same client is not vouched for.
	t.Run("approval is per redirect URI", func(t *testing.T) {
		two := registerClientURIs(t, st, "http://127.0.0.1:53682/callback", "https://evil.example/landing")
		if q := approved.authorize(two, two.authorizeURL(st, nil), "AdeleV@contoso.example"); q.Get("code") == "" {
			t.Fatalf("sign-in: %v", q)
		}
		other := two
		other.RedirectURI = "https://evil.example/landing"
		resp, _ := approved.get(other.authorizeURL(st, url.Values{"response_type": {"token"}}))
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestMCPRejectsForeignTokens: /mcp in mode proxy accepts only our own
// RS256 tokens for our resource (MCP: no token passthrough).
func TestMCPRejectsForeignTokens(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	c, code := signedIn(t, ts)
	good := c.redeem(t, st, code)
	claims := func() jwt.MapClaims {
		p := jwt.NewParser()
		mc := jwt.MapClaims{}
		if _, _, err := p.ParseUnverified(good.AccessToken, mc); err != nil {
			t.Fatal(err)
		}
		return mc
	}
	otherAudience := func() string {
		iss, err := tokens.NewIssuer(tokens.IssuerOptions{Issuer: "https://other.example", Audience: "https://other.example/mcp", Now: ts.clock.Now}, ts.key, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := iss.Mint(tokens.AccessClaims{Subject: "s", ClientID: c.ID, Scope: "mcp:tools", GrantID: "g"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hs256 := func() string {
		pub := publicPEM(t, ts.key)
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims())
		tok.Header["kid"] = ts.key.KeyID()
		tok.Header["typ"] = "at+jwt"
		s, _ := tok.SignedString(pub)
		return s
	}
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims())
		tok.Header["typ"] = "at+jwt"
		s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}
	// signed re-signs our token's claims (modified by mod) with alg and key,
	// under our kid.
	signed := func(alg jwt.SigningMethod, key any, mod func(jwt.MapClaims)) string {
		mc := claims()
		if mod != nil {
			mod(mc)
		}
		tok := jwt.NewWithClaims(alg, mc)
		tok.Header["kid"] = ts.key.KeyID()
		tok.Header["typ"] = "at+jwt"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	otherAud := func(mc jwt.MapClaims) { mc["aud"] = []string{"https://graph.microsoft.com"} }
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	entraToken := signInAtEmulator(t, context.Background(), st, "AdeleV@contoso.example")

	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"our valid token", good.AccessToken, 200},
		{"our claims re-signed RS256 with our key", signed(jwt.SigningMethodRS256, signerOf(t, ts.key), nil), 200},
		{"token for another audience (other issuer)", otherAudience(), 401},
		{"our key, aud of another resource", signed(jwt.SigningMethodRS256, signerOf(t, ts.key), otherAud), 401},
		{"ES256 under our kid", signed(jwt.SigningMethodES256, ecKey, nil), 401},
		{"PS256 with our key", signed(jwt.SigningMethodPS256, signerOf(t, ts.key), nil), 401},
		{"alg none", none(), 401},
		{"HS256 keyed with our public key", hs256(), 401},
		{"an Entra token (no passthrough)", entraToken, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mcpStatus(t, st, tt.token); got != tt.want {
				t.Fatalf("/mcp = %d, want %d", got, tt.want)
			}
		})
	}
}

// mcpStatus posts tools/list with the token and returns the status code.
func mcpStatus(t *testing.T, st *stack, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.BaseURL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// signerOf returns the RSA key inside k, through its PKCS#8 PEM.
func signerOf(t *testing.T, k *tokens.SigningKey) *rsa.PrivateKey {
	t.Helper()
	b, _ := k.PEM()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key.(*rsa.PrivateKey)
}

func publicPEM(t *testing.T, k *tokens.SigningKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(&signerOf(t, k).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
