package main

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Flow tests of POST /token (internal/oauth/token.go, refresh.go) through the
// in-process server and the emulator: what the endpoint refuses, refresh
// rotation and its grace window, and refresh tokens only where the user
// approved staying signed in.

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

// Parallel refreshes from one client within the grace window all succeed
// (claude.ai refreshes from several processes at once), and all get the
// successor the first one was issued: the family never forks, so a thief
// replaying a rotated token inside the window ends up on the user's chain,
// where the next reuse is detected (issue 8 item 5).
func TestRefreshWithinGraceWindow(t *testing.T) {
	ts := newTestServer(t, nil)
	c, code := signedIn(t, ts)
	first := c.redeem(t, ts.stack, code)

	const n = 8
	got := make([]tokenResp, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i] = c.refresh(t, ts.stack, first.RefreshToken) })
	}
	wg.Wait()
	ts.clock.Advance(30 * time.Second)
	late := c.refresh(t, ts.stack, first.RefreshToken)
	for i, r := range append(got, late) {
		if r.Status != 200 || r.RefreshToken != got[0].RefreshToken || r.RefreshToken == first.RefreshToken {
			t.Fatalf("refresh %d within the grace window: status %d, same successor as the first: %v", i, r.Status, r.RefreshToken == got[0].RefreshToken)
		}
		if code := mcpStatus(t, ts.stack, r.AccessToken); code != 200 {
			t.Fatalf("/mcp with access token %d = %d", i, code)
		}
	}

	// The successor is the family's one head: it rotates once more, and
	// the original, replayed after the window, revokes the family.
	next := c.refresh(t, ts.stack, late.RefreshToken)
	if next.Status != 200 || next.RefreshToken == late.RefreshToken {
		t.Fatalf("refresh with the successor: %+v", next)
	}
	ts.clock.Advance(2 * time.Minute)
	if r := c.refresh(t, ts.stack, first.RefreshToken); r.Error != "invalid_grant" {
		t.Fatalf("reuse after the window: %+v", r)
	}
	if code := mcpStatus(t, ts.stack, next.AccessToken); code != 401 {
		t.Fatalf("/mcp with the family's newest access token after the reuse = %d, want 401", code)
	}
}

// TestRefreshTokensFollowConsent: staying signed in is something the user
// sees and approves. A client registered for the refresh_token grant gets a
// refresh token, and its consent page says so with the real limit
// (REFRESH_TOKEN_TTL), whether or not it asked for offline_access: MCP
// clients take their scope from the 401 challenge, which names only the
// MCP scope (SEP-2207: the resource does not advertise offline_access). A
// client registered without that grant gets none, is not told it will stay
// signed in, and cannot use the grant (issue 8 items 4 and 7).
func TestRefreshTokensFollowConsent(t *testing.T) {
	ts := newTestServer(t, func(env map[string]string) { env["REFRESH_TOKEN_TTL"] = "48h" })
	st := ts.stack
	const stay = "stay signed in for up to 2 days"

	refresher := registerClient(t, st, "http://127.0.0.1:53682/callback")
	b := newBrowser(t, st)
	challengeScope := refresher.authorizeURL(st, url.Values{"scope": {"mcp:tools"}})
	if page := consentPageFor(t, b, challengeScope); !strings.Contains(strings.ToLower(page), stay) {
		t.Errorf("consent page of a refresh-token client does not say %q", stay)
	}
	tok := refresher.redeem(t, st, b.authorize(refresher, challengeScope, "AdeleV@contoso.example").Get("code"))
	if tok.Status != 200 || tok.RefreshToken == "" || tok.Scope != "mcp:tools offline_access" {
		t.Fatalf("token for a refresh-token client asking for mcp:tools: %+v", tok)
	}

	codeOnly := registerClientWith(t, st, "http://127.0.0.1:53682/callback",
		`{"client_name":"No Refresh","redirect_uris":["http://127.0.0.1:53682/callback"],"grant_types":["authorization_code"],"token_endpoint_auth_method":"none"}`)
	b2 := newBrowser(t, st)
	if page := consentPageFor(t, b2, codeOnly.authorizeURL(st, nil)); strings.Contains(strings.ToLower(page), "stay signed in") {
		t.Errorf("consent page of a client without the refresh_token grant offers to stay signed in")
	}
	tok2 := codeOnly.redeem(t, st, b2.authorize(codeOnly, codeOnly.authorizeURL(st, nil), "AdeleV@contoso.example").Get("code"))
	if tok2.Status != 200 || tok2.RefreshToken != "" || tok2.Scope != "mcp:tools" {
		t.Fatalf("token for a client registered for authorization_code only: %+v, want no refresh token", tok2)
	}
	// Registered grant_types are enforced (RFC 6749 §5.2 unauthorized_client).
	if r := codeOnly.refresh(t, st, tok.RefreshToken); r.Status != 400 || r.Error != "unauthorized_client" {
		t.Fatalf("refresh_token grant by a client not registered for it: %+v", r)
	}
}
