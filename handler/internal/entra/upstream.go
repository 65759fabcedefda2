package entra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Upstream is our confidential-client leg to Entra ID v2 (authorization
// code + PKCE, refresh). golang.org/x/oauth2 does the protocol work; what it
// lacks, client assertions (RFC 7523 §2.2, used with the managed identity's
// federated credential), is added by assertionTransport.
type Upstream struct {
	conf   *oauth2.Config
	client *http.Client
	// Scopes sent to Entra: the API scope plus openid profile offline_access.
	// The MCP client's RFC 8707 resource is never forwarded (Entra answers
	// AADSTS9010010 to it).
	Scopes []string
}

// UpstreamConfig configures NewUpstream.
type UpstreamConfig struct {
	AuthorityHost string
	TenantID      string
	ClientID      string
	// Exactly one of ClientSecret and ClientAssertion.
	ClientSecret    string
	ClientAssertion func(ctx context.Context) (string, error)
	RedirectURL     string // PUBLIC_BASE_URL + "/callback"
	APIScope        string // api://<app>/user_impersonation
	HTTPClient      *http.Client
}

// Tokens is what a successful exchange or refresh returns.
type Tokens struct {
	AccessToken  string    `json:"at"`
	RefreshToken string    `json:"rt,omitempty"`
	Expiry       time.Time `json:"exp"`
	IDToken      string    `json:"-"`
}

// NewUpstream builds the Entra client.
func NewUpstream(c UpstreamConfig) *Upstream {
	base := c.AuthorityHost + "/" + c.TenantID + "/oauth2/v2.0"
	client := c.HTTPClient
	conf := &oauth2.Config{
		ClientID:    c.ClientID,
		RedirectURL: c.RedirectURL,
		Scopes:      []string{c.APIScope, "openid", "profile", "offline_access"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   base + "/authorize",
			TokenURL:  base + "/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	if c.ClientAssertion != nil {
		client = &http.Client{
			Transport: &assertionTransport{base: transportOf(c.HTTPClient), tokenURL: conf.Endpoint.TokenURL, assertion: c.ClientAssertion},
			Timeout:   c.HTTPClient.Timeout,
		}
	} else {
		conf.ClientSecret = c.ClientSecret
	}
	return &Upstream{conf: conf, client: client, Scopes: conf.Scopes}
}

// AuthCodeURL is where the browser goes to sign in at Entra: our own state,
// nonce and PKCE challenge (a second PKCE leg, independent of the client's).
// permissions are delegated permissions of other resources (Microsoft
// Graph, an API of the developer's) to ask consent for at the same time:
// Entra's authorization endpoint takes scopes of several resources for
// consent, while the code still yields a token for the first scope's
// resource, our API (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).
func (u *Upstream) AuthCodeURL(state, verifier, nonce string, permissions []string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce)}
	if len(permissions) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("scope", strings.Join(append(slices.Clone(u.Scopes), permissions...), " ")))
	}
	return u.conf.AuthCodeURL(state, opts...)
}

// Exchange redeems Entra's authorization code with our PKCE verifier.
func (u *Upstream) Exchange(ctx context.Context, code, verifier string) (Tokens, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, u.client)
	tok, err := u.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Tokens{}, upstreamError(err)
	}
	t := fromOAuth2(tok)
	t.IDToken, _ = tok.Extra("id_token").(string)
	return t, nil
}

// Refresh gets fresh Entra tokens with the stored refresh token. Entra may
// rotate the refresh token; the caller stores whatever comes back.
func (u *Upstream) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, u.client)
	ts := u.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)})
	tok, err := ts.Token()
	if err != nil {
		return Tokens{}, upstreamError(err)
	}
	t := fromOAuth2(tok)
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	return t, nil
}

func fromOAuth2(tok *oauth2.Token) Tokens {
	return Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
}

// UpstreamError is a refusal from Entra's token endpoint. Code is the
// OAuth error code; Description (with the AADSTS number) goes to the log,
// never verbatim to our clients.
type UpstreamError struct {
	Code        string
	Description string
	Status      int
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("entra token endpoint: %d %s: %s", e.Status, e.Code, e.Description)
}

// Definitive reports whether Entra refused the grant itself (the refresh
// token is revoked or expired, the user must sign in again), as opposed to
// a transient failure.
func (e *UpstreamError) Definitive() bool {
	return e.Status >= 400 && e.Status < 500
}

func upstreamError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return &UpstreamError{Code: re.ErrorCode, Description: re.ErrorDescription, Status: status}
	}
	return fmt.Errorf("entra token endpoint: %w", err)
}

func transportOf(c *http.Client) http.RoundTripper {
	if c != nil && c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// assertionTransport adds client_assertion to form posts to the token
// endpoint. x/oauth2 builds the rest of the request (code, PKCE verifier,
// refresh token) and parses the answer, including RetrieveError.
type assertionTransport struct {
	base      http.RoundTripper
	tokenURL  string
	assertion func(context.Context) (string, error)
}

func (t *assertionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.URL.String() != t.tokenURL || req.Body == nil {
		return t.base.RoundTrip(req)
	}
	a, err := t.assertion(req.Context())
	if err != nil {
		return nil, fmt.Errorf("client assertion: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", a)
	enc := form.Encode()
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(strings.NewReader(enc))
	r2.ContentLength = int64(len(enc))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(enc))), nil }
	return t.base.RoundTrip(r2)
}
