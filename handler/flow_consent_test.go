package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
)

// Flow tests of GET and POST /consent (internal/oauth/consent.go): the
// request bound to the browser that started it, consent asked again when
// the scope widens, and the page driven in a real browser.

// TestConsentBoundToBrowser: the pending request id is in the consent
// page's URL, so it can leak (history, screen sharing, a link pasted
// into a chat). Only the browser that started the request at /authorize
// may see or answer its consent page: another browser can neither deny it
// (the client would get access_denied) nor approve it in its own session
// (it would get the code and the victim's state). Issue 8 item 3.
func TestConsentBoundToBrowser(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	victimClient := registerClient(t, st, "http://127.0.0.1:53682/callback")
	victim := newBrowser(t, st)
	resp, _ := victim.get(victimClient.authorizeURL(st, nil))
	consentPath := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(consentPath, "/consent?request=") {
		t.Fatalf("authorize: %d %q", resp.StatusCode, consentPath)
	}
	requestID, _ := url.QueryUnescape(strings.TrimPrefix(consentPath, "/consent?request="))

	// The attacker has a consent page of its own, so it holds a valid CSRF
	// cookie and token of this server.
	attacker := newBrowser(t, st)
	attackerClient := registerClient(t, st, "http://127.0.0.1:53682/callback")
	r2, _ := attacker.get(attackerClient.authorizeURL(st, nil))
	_, page := attacker.get(st.BaseURL + r2.Header.Get("Location"))
	csrf := hiddenField(t, page, "csrf_token")

	t.Run("another browser cannot open the page", func(t *testing.T) {
		r, body := attacker.get(st.BaseURL + consentPath)
		if r.StatusCode < 400 || strings.Contains(body, `name="csrf_token"`) {
			t.Fatalf("GET %s from another browser: %d, form shown: %v", consentPath, r.StatusCode, strings.Contains(body, "csrf_token"))
		}
	})
	for _, decision := range []string{"deny", "approve"} {
		t.Run("another browser cannot "+decision, func(t *testing.T) {
			r := attacker.postConsent(requestID, csrf, decision)
			if r.StatusCode != http.StatusForbidden || r.Header.Get("Location") != "" {
				t.Fatalf("POST /consent %s from another browser: %d Location %q, want 403 and no redirect", decision, r.StatusCode, r.Header.Get("Location"))
			}
		})
	}
	// The victim's request is untouched and completes in the victim's browser.
	q := victim.authorize(victimClient, st.BaseURL+consentPath, "AdeleV@contoso.example")
	if q.Get("code") == "" || q.Get("state") != victimClient.State {
		t.Fatalf("the victim's sign-in after the attempts: %v", q)
	}
}

func hiddenField(t *testing.T, page, name string) string {
	t.Helper()
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	t.Fatalf("no hidden field %s in the page", name)
	return ""
}

// postConsent submits the consent form for request with the given CSRF
// token, as a same-origin form post.
func (b *browser) postConsent(request, csrf, decision string) *http.Response {
	b.t.Helper()
	form := url.Values{"request": {request}, "csrf_token": {csrf}, "decision": {decision}}
	req, _ := http.NewRequest(http.MethodPost, b.st.BaseURL+"/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.st.BaseURL)
	r, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	r.Body.Close()
	return r
}

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

// TestConsentPageInBrowser drives the consent page in headless Chromium
// (Debian's chromium with playwright-core): approve, deny, a POST without
// the CSRF token, and framing. Screenshots go to $TEST_ARTIFACTS_DIR.
func TestConsentPageInBrowser(t *testing.T) {
	chromium := browserTools(t, "playwright-core")
	st := startStack(t, "proxy", storageEnv(t)...)
	const redirectURI = "http://127.0.0.1:53682/callback"
	c := registerClientNamed(t, st, redirectURI, "Browser Test Client")
	authURL := func(state string) string {
		c.State = state
		return c.authorizeURL(st, url.Values{})
	}
	artifacts := os.Getenv("TEST_ARTIFACTS_DIR")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	cmd := exec.Command("node", "test/browser/consent.mjs")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(),
		"CHROMIUM="+chromium,
		"BASE_URL="+st.BaseURL,
		"AUTHORIZE_URL="+authURL("browser-approve"),
		"AUTHORIZE_URL_DENY="+authURL("browser-deny"),
		"REDIRECT_URI="+redirectURI,
		"EMULATOR_URL="+st.Emu.BaseURL,
		"EMULATOR_SPKI="+spkiPin(t, st.Emu.CAFile),
		"ARTIFACTS_DIR="+filepath.Join(artifacts, "consent"),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test:\n%s", out)
	if err != nil {
		t.Fatalf("consent browser test failed: %v", err)
	}
}

// spkiPin is Chromium's --ignore-certificate-errors-spki-list value for the
// emulator's certificate: only that key is trusted despite being self-signed.
func spkiPin(t *testing.T, caFile string) string {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// browserTools skips the test unless Debian's chromium and the named npm
// packages are installed (scripts/test.sh installs them), and returns
// chromium's path.
func browserTools(t *testing.T, packages ...string) string {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (scripts/test.sh installs it)")
	}
	for _, p := range packages {
		if _, err := os.Stat("../node_modules/" + p); err != nil {
			t.Skipf("%s is not installed (scripts/test.sh runs npm ci)", p)
		}
	}
	return chromium
}
