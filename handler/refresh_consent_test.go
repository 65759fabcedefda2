package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
)

// consentPageFor opens authURL in b and returns the consent page it leads to.
func consentPageFor(t *testing.T, b *browser, authURL string) string {
	t.Helper()
	resp, body := b.get(authURL)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/consent?") {
		t.Fatalf("authorize: %d %q\n%s", resp.StatusCode, loc, body)
	}
	_, page := b.get(b.st.BaseURL + loc)
	return page
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

// TestConsentAskedAgainWhenScopeWidens: consent is remembered per browser,
// client and redirect URI, for the scope approved. A client ID metadata
// document may add the refresh_token grant later; the next sign-in would
// then stay signed in, which the user never approved, so the consent page
// is shown again (issue 8 item 4).
func TestConsentAskedAgainWhenScopeWidens(t *testing.T) {
	const redirectURI = "http://127.0.0.1:53682/callback"
	var grants atomic.Value
	grants.Store(`["authorization_code"]`)
	var docURL string
	doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		fmt.Fprintf(w, `{"client_id":%q,"client_name":"Changing Client","redirect_uris":[%q],"grant_types":%s,"token_endpoint_auth_method":"none"}`,
			docURL, redirectURI, grants.Load())
	}))
	defer doc.Close()
	docURL = doc.URL + "/client.json"
	port, _ := strconv.Atoi(doc.URL[strings.LastIndex(doc.URL, ":")+1:])
	ts := newTestServer(t, nil, func(o *options) {
		o.ClientMetadata = oauth.CIMDOptions{AllowLoopback: true,
			RootCAs: doc.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, Ports: []int{port}}
	})

	c := oauthClient{ID: docURL, RedirectURI: redirectURI, Verifier: strings.Repeat("w", 43), State: "widen"}
	b := newBrowser(t, ts.stack)
	if q := b.authorize(c, c.authorizeURL(ts.stack, nil), "AlexW@contoso.example"); q.Get("code") == "" {
		t.Fatalf("first sign-in: %v", q)
	}
	// Same scope: not asked again.
	if resp, _ := b.get(c.authorizeURL(ts.stack, nil)); !strings.HasPrefix(resp.Header.Get("Location"), ts.Emu.BaseURL) {
		t.Fatalf("second sign-in with the approved scope went to %q, want Entra", resp.Header.Get("Location"))
	}
	// The document now asks for refresh tokens; once the cached copy
	// expires, the effective scope includes staying signed in.
	grants.Store(`["authorization_code","refresh_token"]`)
	ts.clock.Advance(10 * time.Minute)
	if page := consentPageFor(t, b, c.authorizeURL(ts.stack, nil)); !strings.Contains(strings.ToLower(page), "stay signed in") {
		t.Errorf("consent page after the scope widened does not mention staying signed in")
	}
}
