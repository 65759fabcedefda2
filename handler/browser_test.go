package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// browser plays the user's browser in flow tests: it keeps cookies, follows
// redirects by hand, and stops at the MCP client's redirect URI.
type browser struct {
	t    *testing.T
	st   *stack
	http *http.Client
	// consent is the answer to Entra's consent prompt at the emulator; the
	// zero value makes a prompt fail the test.
	entraConsent entraemu.Consent
	// consentPages are the consent pages it was shown, in order.
	consentPages []string
}

func newBrowser(t *testing.T, st *stack) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := trustingClient(t, st.Emu.CAFile)
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, st: st, http: hc}
}

// client is an MCP client's registration and PKCE state.
type oauthClient struct {
	ID, RedirectURI, Verifier, State string
}

func registerClient(t *testing.T, st *stack, redirectURI string) oauthClient {
	t.Helper()
	return registerClientNamed(t, st, redirectURI, "Flow Test Client")
}

func registerClientNamed(t *testing.T, st *stack, redirectURI, name string) oauthClient {
	t.Helper()
	return registerClientWith(t, st, redirectURI, fmt.Sprintf(`{"client_name":%q,"redirect_uris":[%q],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"],"application_type":"native"}`, name, redirectURI))
}

// registerClientURIs registers one client with several redirect URIs; the
// first is the one it uses.
func registerClientURIs(t *testing.T, st *stack, redirectURIs ...string) oauthClient {
	t.Helper()
	uris, _ := json.Marshal(redirectURIs)
	return registerClientWith(t, st, redirectURIs[0], `{"client_name":"Flow Test Client","redirect_uris":`+string(uris)+`,"token_endpoint_auth_method":"none","application_type":"native"}`)
}

// registerClientWith posts body to /register and returns the client, which
// will use redirectURI.
func registerClientWith(t *testing.T, st *stack, redirectURI, body string) oauthClient {
	t.Helper()
	resp, err := http.Post(st.BaseURL+"/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg struct {
		ClientID string `json:"client_id"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &reg) != nil || reg.ClientID == "" {
		t.Fatalf("register: %d %s", resp.StatusCode, b)
	}
	return oauthClient{ID: reg.ClientID, RedirectURI: redirectURI, Verifier: strings.Repeat("v", 20) + reg.ClientID[:23], State: "state-" + reg.ClientID[:6]}
}

func (c oauthClient) challenge() string {
	s := sha256.Sum256([]byte(c.Verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

func (c oauthClient) authorizeURL(st *stack, extra url.Values) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {c.RedirectURI},
		"code_challenge": {c.challenge()}, "code_challenge_method": {"S256"}, "state": {c.State},
		"resource": {st.BaseURL + "/mcp"}, "scope": {"mcp:tools offline_access"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return st.BaseURL + "/authorize?" + q.Encode()
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.http.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var hiddenRE = regexp.MustCompile(`name="(request|csrf_token)" value="([^"]*)"`)

// consent opens the consent page at u and submits decision.
func (b *browser) consent(u, decision string) *http.Response {
	b.t.Helper()
	resp, page := b.get(u)
	if resp.StatusCode != 200 {
		b.t.Fatalf("consent page %s: %d\n%s", u, resp.StatusCode, page)
	}
	b.consentPages = append(b.consentPages, page)
	form := url.Values{"decision": {decision}}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], m[2])
	}
	req, _ := http.NewRequest(http.MethodPost, b.st.BaseURL+"/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.st.BaseURL)
	r2, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	r2.Body.Close()
	return r2
}

// authorize runs the browser part of a sign-in: /authorize, consent when
// asked (approve), the emulator's sign-in page as upn, /callback, and
// returns the query the MCP client receives on its redirect URI.
func (b *browser) authorize(c oauthClient, authURL, upn string) url.Values {
	b.t.Helper()
	u := authURL
	for i := 0; i < 10; i++ {
		if strings.HasPrefix(u, c.RedirectURI) {
			parsed, _ := url.Parse(u)
			return parsed.Query()
		}
		var resp *http.Response
		switch {
		case strings.Contains(u, "/consent?"):
			resp = b.consent(u, "approve")
		case strings.HasPrefix(u, b.st.Emu.BaseURL):
			loc, err := entraemu.SignInWith(b.http, u, upn, b.entraConsent)
			if err != nil {
				b.t.Fatal(err)
			}
			u = loc
			continue
		default:
			var body string
			resp, body = b.get(u)
			if resp.StatusCode != http.StatusFound {
				b.t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, body)
			}
		}
		loc, err := resp.Location()
		if err != nil {
			b.t.Fatalf("no redirect from %s (%d)", u, resp.StatusCode)
		}
		u = loc.String()
	}
	b.t.Fatalf("too many redirects, last %s", u)
	return nil
}

type tokenResp struct {
	Status       int
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
	CacheControl string
}

func postToken(t *testing.T, st *stack, form url.Values) tokenResp {
	t.Helper()
	resp, err := http.PostForm(st.BaseURL+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResp
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("token response %d %q: %v", resp.StatusCode, b, err)
	}
	tr.Status, tr.CacheControl = resp.StatusCode, resp.Header.Get("Cache-Control")
	return tr
}

func (c oauthClient) redeem(t *testing.T, st *stack, code string) tokenResp {
	return postToken(t, st, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI},
		"client_id": {c.ID}, "code_verifier": {c.Verifier}, "resource": {st.BaseURL + "/mcp"},
	})
}

func (c oauthClient) refresh(t *testing.T, st *stack, rt string) tokenResp {
	return postToken(t, st, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {c.ID}})
}

var _ = context.Background

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
