package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
)

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
