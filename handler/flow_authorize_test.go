package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
)

// Flow tests of GET /authorize (internal/oauth/authorize.go): what it
// refuses and how (page or redirect), and clients identified by a client ID
// metadata document.

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

// TestClientIDMetadataDocumentFlow signs in a client that never registers:
// its client_id is the https URL of its metadata document (MCP 2025-11-25,
// what VS Code and Claude Code use). The document is served by a local TLS
// server; loopback is allowed for this test only (the production policy
// refuses it).
func TestClientIDMetadataDocumentFlow(t *testing.T) {
	const redirectURI = "http://127.0.0.1:53682/callback"
	var docURL string
	doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprintf(w, `{"client_id":%q,"client_name":"Metadata Document Client","redirect_uris":[%q],
			"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`, docURL, redirectURI)
	}))
	defer doc.Close()
	docURL = doc.URL + "/oauth/client-metadata.json"
	port, _ := strconv.Atoi(doc.URL[strings.LastIndex(doc.URL, ":")+1:])
	pool := doc.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	ts := newTestServer(t, nil, func(o *options) {
		o.ClientMetadata = oauth.CIMDOptions{AllowLoopback: true, RootCAs: pool, Ports: []int{port}}
	})

	c := oauthClient{ID: docURL, RedirectURI: redirectURI, Verifier: strings.Repeat("m", 43), State: "cimd"}
	b := newBrowser(t, ts.stack)
	resp, page := b.get(c.authorizeURL(ts.stack, nil))
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/consent?") {
		t.Fatalf("authorize: %d %s", resp.StatusCode, page)
	}
	_, consent := b.get(ts.BaseURL + resp.Header.Get("Location"))
	// The document's host is what the page vouches for; its name is the
	// app's own claim (issue 8 item 2).
	docHost := strings.TrimPrefix(doc.URL, "https://")
	if !strings.Contains(consent, "Allow the app at <strong id=\"client-host\">"+docHost+"</strong>") ||
		!strings.Contains(consent, "is the name given by the app at "+docHost+", not verified") {
		t.Errorf("consent page should name the app by its document's host %s and its name as unverified", docHost)
	}
	q := b.authorize(c, c.authorizeURL(ts.stack, nil), "AlexW@contoso.example")
	tok := c.redeem(t, ts.stack, q.Get("code"))
	if tok.Status != 200 || tok.AccessToken == "" {
		t.Fatalf("token: %+v", tok)
	}
	if code := mcpStatus(t, ts.stack, tok.AccessToken); code != 200 {
		t.Fatalf("/mcp = %d", code)
	}

	// A redirect URI the document does not list is refused without a redirect.
	bad := c
	bad.RedirectURI = "http://127.0.0.1:53682/elsewhere"
	resp, _ = b.get(bad.authorizeURL(ts.stack, nil))
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("unlisted redirect URI: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
