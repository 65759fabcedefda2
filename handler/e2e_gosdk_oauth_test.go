package main

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// TestGoSDKOAuthClient signs in with the official Go SDK's OAuth client
// (auth.AuthorizationCodeHandler): it meets the 401, reads the protected
// resource metadata and our metadata, registers dynamically, runs the
// authorization code flow with PKCE and checks iss (RFC 9207). It asks for
// refresh tokens the SEP-2207 way (refresh_token in its grant_types,
// offline_access added because our metadata lists it). When its access
// token expires, as it does after ACCESS_TOKEN_TTL, it must renew it with
// the refresh token, without sending the user back to sign in
// (issue 8 item 4). Then it calls recent_mail, which needs mail.read: it
// meets the 403 insufficient_scope challenge and re-authorizes for the
// union of its scopes and the challenge's (its SEP-2350 accumulation); the
// consent page describes mail.read, Entra prompts for Mail.Read, and the
// retried call returns Megan's mail (issue 10).
func TestGoSDKOAuthClient(t *testing.T) {
	st := startStack(t, "proxy", storageEnv(t)...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const redirectURI = "http://127.0.0.1:8086/oauth/callback"
	var signIns atomic.Int32
	var authScope string
	var clientIDs []string
	b := newBrowser(t, st) // one browser for both sign-ins, as a user has
	b.entraConsent = entraemu.ConsentAccept
	var tokens *expirableSource
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName:              "go-sdk-oauth-test",
			RedirectURIs:            []string{redirectURI},
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			TokenEndpointAuthMethod: "none",
		}},
		RedirectURL:         redirectURI,
		RequestRefreshToken: true,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			signIns.Add(1)
			u, err := url.Parse(args.URL)
			if err != nil {
				return nil, err
			}
			authScope = u.Query().Get("scope")
			clientIDs = append(clientIDs, u.Query().Get("client_id"))
			q := b.authorize(oauthClient{ID: u.Query().Get("client_id"), RedirectURI: redirectURI}, args.URL, "MeganB@contoso.example")
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
		NewTokenSource: func(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) (oauth2.TokenSource, error) {
			tokens = &expirableSource{ctx: ctx, cfg: cfg, src: cfg.TokenSource(ctx, tok)}
			return tokens, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := gosdk.NewClient(&gosdk.Implementation{Name: "go-sdk-oauth-test", Version: "1"}, nil)
	session, err := client.Connect(ctx, &gosdk.StreamableClientTransport{Endpoint: st.BaseURL + "/mcp", OAuthHandler: h}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer session.Close()
	whoami := func() string {
		t.Helper()
		res, err := session.CallTool(ctx, &gosdk.CallToolParams{Name: "whoami"})
		if err != nil || res.IsError {
			t.Fatalf("whoami: %v %+v", err, res)
		}
		m, _ := res.StructuredContent.(map[string]any)
		name, _ := m["displayName"].(string)
		return name
	}
	if got := whoami(); got != "Megan Bowen" {
		t.Fatalf("whoami = %q", got)
	}
	// A scope is a set (RFC 6749 §3.3); the SDK joins it from a map, in
	// any order.
	if got := strings.Fields(authScope); len(got) != 2 || !slices.Contains(got, "mcp:tools") || !slices.Contains(got, "offline_access") {
		t.Errorf("the SDK asked for scope %q, want the challenge's mcp:tools plus offline_access (SEP-2207)", authScope)
	}

	// An hour later the access token has expired; the SDK refreshes.
	before := tokens.expire(t)
	if before.RefreshToken == "" {
		t.Fatal("the sign-in gave the Go SDK no refresh token")
	}
	if got := whoami(); got != "Megan Bowen" {
		t.Fatalf("whoami after the access token expired = %q", got)
	}
	after, _ := tokens.Token()
	if after.AccessToken == before.AccessToken || after.RefreshToken == before.RefreshToken || signIns.Load() != 1 {
		t.Fatalf("after expiry: new access token %v, rotated refresh token %v, sign-ins %d; want a refresh, not a second sign-in",
			after.AccessToken != before.AccessToken, after.RefreshToken != before.RefreshToken, signIns.Load())
	}

	// Step-up: recent_mail needs mail.read.
	res, err := session.CallTool(ctx, &gosdk.CallToolParams{Name: "recent_mail", Arguments: map[string]any{"count": 2}})
	if err != nil || res.IsError {
		t.Fatalf("recent_mail: %v %+v", err, res)
	}
	m, _ := res.StructuredContent.(map[string]any)
	msgs, _ := m["messages"].([]any)
	first, _ := msgs[0].(map[string]any)
	if len(msgs) != 2 || first["subject"] != "Re: Quarterly retail review" {
		t.Fatalf("recent_mail = %+v", res.StructuredContent)
	}
	if got := strings.Fields(authScope); signIns.Load() != 2 || !sameSet(got, []string{"mcp:tools", "mail.read", "offline_access"}) {
		t.Errorf("step-up: %d sign-ins, scope %q; want a second sign-in for mcp:tools mail.read offline_access", signIns.Load(), authScope)
	}
	// Go SDK v1.8.0 registers anew at every authorization
	// (AuthorizationCodeHandler.handleRegistration), so to this server the
	// step-up is a first sign-in of another client: its consent page lists
	// every scope, none marked new, and the first registration's grant
	// stays until it expires or is revoked (replacement is per client).
	if len(clientIDs) != 2 || clientIDs[0] == clientIDs[1] {
		t.Errorf("client ids of the two sign-ins: %v (the SDK reused its registration: the README's client table needs updating)", clientIDs)
	}
	if len(b.consentPages) != 2 || !strings.Contains(b.consentPages[1], `<li data-scope="mail.read"><strong>mail.read</strong>: use Recent mail as you`) {
		t.Errorf("the second consent page does not describe mail.read")
	}
}

// expirableSource is the SDK's token source with a way to make it see its
// access token as expired, as it will after ACCESS_TOKEN_TTL: the refresh
// then runs through the SDK's own oauth2 configuration.
type expirableSource struct {
	ctx context.Context
	cfg *oauth2.Config
	mu  sync.Mutex
	src oauth2.TokenSource
}

func (s *expirableSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src.Token()
}

// expire returns the current token and makes the source treat it as expired.
func (s *expirableSource) expire(t *testing.T) *oauth2.Token {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, err := s.src.Token()
	if err != nil {
		t.Fatal(err)
	}
	old := *tok
	tok.Expiry = time.Now().Add(-time.Minute)
	s.src = s.cfg.TokenSource(s.ctx, tok)
	return &old
}
