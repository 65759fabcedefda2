// Package headless is an MCP client with nobody at the browser, for the
// multi-instance tests and the soak (scripts/soak.sh): it registers
// (RFC 7591), walks the sign-in as a browser would (authorize, the consent
// page, the Entra emulator's sign-in page, the callback; cookies kept,
// redirects followed by hand), redeems the code with PKCE (RFC 7636),
// refreshes, revokes (RFC 7009) and calls tools over MCP streamable HTTP.
//
// Every request names its target explicitly (Client.At), so a test can send
// one step of a sign-in to one instance and the next to another. It is for
// tests and load only; TestDeps keeps it out of the handler binary.
package headless

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

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// Client is one registered MCP client. Base is where its requests go (the
// public URL, or one instance); Resource is the MCP resource it asks for
// (RFC 8707), the public URL + /mcp whatever Base is.
type Client struct {
	Base, Resource  string
	ID, RedirectURI string
	// HTTP sends the API requests (register, token, revoke, MCP).
	HTTP *http.Client
	// Header, when set, is added to every API request (X-Request-Id, say).
	Header func() http.Header
}

// At returns the client with its requests sent to base instead.
func (c Client) At(base string) Client {
	c.Base = base
	return c
}

// StatusError is an answer with an unexpected status.
type StatusError struct {
	Step   string
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: status %d: %.300s", e.Step, e.Status, e.Body)
}

// Register registers a public native client with a loopback redirect URI
// at base (the public URL, which the resource is derived from).
func Register(ctx context.Context, hc *http.Client, base, name string) (Client, error) {
	c := Client{Base: base, Resource: base + "/mcp", RedirectURI: "http://127.0.0.1:53682/callback", HTTP: hc}
	return c.register(ctx, name)
}

func (c Client) register(ctx context.Context, name string) (Client, error) {
	body, _ := json.Marshal(map[string]any{
		"client_name": name, "redirect_uris": []string{c.RedirectURI}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"application_type": "native",
	})
	status, b, err := c.do(ctx, http.MethodPost, "/register", "application/json", string(body), "")
	if err != nil {
		return c, err
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if status != http.StatusCreated || json.Unmarshal(b, &reg) != nil || reg.ClientID == "" {
		return c, &StatusError{"register", status, string(b)}
	}
	c.ID = reg.ClientID
	return c, nil
}

// PKCE is one authorization request's verifier (RFC 7636 §4.1).
type PKCE struct{ Verifier string }

// NewPKCE makes a fresh verifier: 256 random bits, 43 characters.
func NewPKCE() PKCE { return PKCE{Verifier: tokens.NewOpaque()} }

// Challenge is the S256 challenge (RFC 7636 §4.2).
func (p PKCE) Challenge() string {
	s := sha256.Sum256([]byte(p.Verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// AuthorizeURL is the authorization request for scope "mcp:tools
// offline_access", at the public URL base.
func (c Client) AuthorizeURL(base string, p PKCE, state string) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {c.RedirectURI},
		"code_challenge": {p.Challenge()}, "code_challenge_method": {"S256"}, "state": {state},
		"resource": {c.Resource}, "scope": {"mcp:tools offline_access"},
	}
	return base + "/authorize?" + q.Encode()
}

// Browser is a user's browser: a cookie jar, redirects by hand. Its
// client must trust the Entra emulator's certificate.
type Browser struct{ http *http.Client }

// NewBrowser returns a browser with an empty cookie jar that sends its
// requests through rt (nil: http.DefaultTransport).
func NewBrowser(rt http.RoundTripper) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{http: &http.Client{
		Transport:     rt,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var hiddenRE = regexp.MustCompile(`name="(request|csrf_token)" value="([^"]*)"`)

// Authorize runs the browser's part of a sign-in from authURL: the consent
// page when shown (approve), the emulator's sign-in as upn, the callback.
// It returns the query the client gets on its redirect URI (code, state,
// iss, or an error).
func (b *Browser) Authorize(ctx context.Context, c Client, authURL, upn string) (url.Values, error) {
	u := authURL
	for range 10 {
		if strings.HasPrefix(u, c.RedirectURI) {
			parsed, err := url.Parse(u)
			if err != nil {
				return nil, err
			}
			return parsed.Query(), nil
		}
		next, err := b.step(ctx, u, upn)
		if err != nil {
			return nil, err
		}
		u = next
	}
	return nil, fmt.Errorf("too many redirects, the last to %s", u)
}

// step takes the browser one page further from u and returns where it is
// sent next.
func (b *Browser) step(ctx context.Context, u, upn string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	switch {
	case strings.HasPrefix(parsed.Path, "/consent"):
		return b.consent(ctx, parsed)
	case strings.Contains(parsed.Path, "/oauth2/v2.0/authorize"): // the Entra emulator
		return entraemu.SignIn(b.http, u, upn)
	}
	resp, body, err := b.send(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusFound {
		return "", &StatusError{"GET " + parsed.Path, resp.StatusCode, body}
	}
	return location(resp)
}

// consent loads the consent page and approves.
func (b *Browser) consent(ctx context.Context, page *url.URL) (string, error) {
	resp, body, err := b.send(ctx, http.MethodGet, page.String(), nil)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &StatusError{"GET /consent", resp.StatusCode, body}
	}
	form := url.Values{"decision": {"approve"}}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], m[2])
	}
	origin := page.Scheme + "://" + page.Host
	resp, body, err = b.send(ctx, http.MethodPost, origin+"/consent", form)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusFound {
		return "", &StatusError{"POST /consent", resp.StatusCode, body}
	}
	return location(resp)
}

func (b *Browser) send(ctx context.Context, method, u string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	return resp, string(page), err
}

func location(resp *http.Response) (string, error) {
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("%s %s answered %d without a Location", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode)
	}
	return loc.String(), nil
}
