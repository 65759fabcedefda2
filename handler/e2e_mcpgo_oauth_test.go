package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// TestMCPGoOAuthClient drives the whole sign-in with mcp-go's own OAuth
// client: it meets the 401, finds the protected resource metadata from
// the challenge, discovers our authorization server, registers
// dynamically, and after the browser part exchanges the code itself.
func TestMCPGoOAuthClient(t *testing.T) {
	st := startStack(t, "proxy", storageEnv(t)...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const redirectURI = "http://127.0.0.1:8085/oauth/callback"
	tokens := client.NewMemoryTokenStore()
	c, err := client.NewOAuthStreamableHttpClient(st.BaseURL+"/mcp", client.OAuthConfig{
		RedirectURI: redirectURI,
		Scopes:      []string{"mcp:tools"}, // the challenge's scope: no offline_access
		TokenStore:  tokens,
		PKCEEnabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "mcp-go-oauth-test", Version: "1"}

	err = c.Start(ctx)
	if err == nil {
		_, err = c.Initialize(ctx, init)
	}
	if !client.IsOAuthAuthorizationRequiredError(err) {
		t.Fatalf("first initialize: %v, want an OAuth-authorization-required error", err)
	}
	h := client.GetOAuthHandler(err)
	if err := h.RegisterClient(ctx, "mcp-go-oauth-test"); err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	verifier, err := client.GenerateCodeVerifier()
	if err != nil {
		t.Fatal(err)
	}
	state, _ := client.GenerateState()
	authURL, err := h.GetAuthorizationURL(ctx, state, client.GenerateCodeChallenge(verifier))
	if err != nil {
		t.Fatalf("GetAuthorizationURL: %v", err)
	}
	if !strings.HasPrefix(authURL, st.BaseURL+"/authorize?") {
		t.Fatalf("authorization URL %q is not our /authorize", authURL)
	}

	q := newBrowser(t, st).authorize(oauthClient{ID: h.GetClientID(), RedirectURI: redirectURI}, authURL, "AlexW@contoso.example")
	if q.Get("state") != state || q.Get("iss") != st.BaseURL {
		t.Fatalf("callback query %v", q)
	}
	if err := h.ProcessAuthorizationResponse(ctx, q.Get("code"), state, verifier); err != nil {
		t.Fatalf("ProcessAuthorizationResponse: %v", err)
	}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize after sign-in: %v", err)
	}
	var me struct{ DisplayName, Department string }
	callTool(t, ctx, c, "whoami", &me)
	if me.DisplayName != "Alex Wilber" || me.Department != "Marketing" {
		t.Fatalf("whoami = %+v", me)
	}

	// An hour later the access token has expired. The client must renew it
	// with its refresh token, not send the user back to sign in (issue 8
	// item 4): it registered for the refresh_token grant, and the server
	// issues refresh tokens on that, not on offline_access, which the
	// challenge does not name.
	before, err := tokens.GetToken(ctx)
	if err != nil || before.RefreshToken == "" {
		t.Fatalf("token after sign-in: %+v, %v; want a refresh token", before, err)
	}
	expired := *before
	expired.ExpiresAt = time.Now().Add(-time.Minute)
	if err := tokens.SaveToken(ctx, &expired); err != nil {
		t.Fatal(err)
	}
	callTool(t, ctx, c, "whoami", &me)
	after, err := tokens.GetToken(ctx)
	if err != nil || after.AccessToken == before.AccessToken || after.RefreshToken == before.RefreshToken || after.RefreshToken == "" {
		t.Fatalf("after expiry: %v; want a refreshed access token and a rotated refresh token", err)
	}
}
