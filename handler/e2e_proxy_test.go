package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// TestProxyFlow is issue 3's flow test through real HTTP: register →
// authorize → consent (approve) → emulator sign-in → callback → token →
// /mcp whoami → refresh → revoke → /mcp answers 401. State lives in
// Azurite when the test command started it, in memory otherwise.
func TestProxyFlow(t *testing.T) {
	st := startStack(t, "proxy", storageEnv(t)...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	c := registerClient(t, st, "http://127.0.0.1:53682/callback")
	b := newBrowser(t, st)
	q := b.authorize(c, c.authorizeURL(st, nil), "MeganB@contoso.example")
	if q.Get("state") != c.State || q.Get("iss") != st.BaseURL || q.Get("code") == "" {
		t.Fatalf("client redirect query = %v", q)
	}
	tok := c.redeem(t, st, q.Get("code"))
	if tok.Status != 200 || tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.CacheControl != "no-store" {
		t.Fatalf("token response = %+v", tok)
	}
	if len(tok.AccessToken) > 1024 {
		t.Errorf("access token is %d bytes, want < 1 KB", len(tok.AccessToken))
	}

	mc := mcpClient(t, ctx, st.BaseURL+"/mcp", tok.AccessToken)
	var me struct{ DisplayName, Mail, JobTitle string }
	callTool(t, ctx, mc, "whoami", &me)
	if me.DisplayName != "Megan Bowen" || me.JobTitle != "Marketing Manager" {
		t.Fatalf("whoami = %+v", me)
	}
	var info struct {
		Subject, ClientID, Issuer string
		Scopes                    []string
	}
	callTool(t, ctx, mc, "auth_info", &info)
	if info.ClientID != c.ID || info.Issuer != st.BaseURL || strings.Join(info.Scopes, " ") != "mcp:tools offline_access" {
		t.Fatalf("auth_info = %+v", info)
	}

	// The same browser is not asked again for this client and redirect URI.
	c2 := c
	c2.State = "second"
	q2 := b.authorize(c2, c2.authorizeURL(st, nil), "MeganB@contoso.example")
	if q2.Get("code") == "" || q2.Get("state") != "second" {
		t.Fatalf("second sign-in = %v", q2)
	}

	refreshed := c.refresh(t, st, tok.RefreshToken)
	if refreshed.Status != 200 || refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh = %+v", refreshed)
	}
	mc2 := mcpClient(t, ctx, st.BaseURL+"/mcp", refreshed.AccessToken)
	callTool(t, ctx, mc2, "whoami", &me)

	resp, err := http.PostForm(st.BaseURL+"/revoke", url.Values{"token": {refreshed.RefreshToken}, "client_id": {c.ID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke = %d", resp.StatusCode)
	}
	// Revocation takes the grant away at once: the still-unexpired access
	// token is refused.
	req, _ := http.NewRequest(http.MethodPost, st.BaseURL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Authorization", "Bearer "+refreshed.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := `Bearer error="invalid_token", resource_metadata="` + st.BaseURL + `/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("after revoke: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if r := c.refresh(t, st, refreshed.RefreshToken); r.Status != 400 || r.Error != "invalid_grant" {
		t.Fatalf("refresh after revoke = %+v", r)
	}
	_ = mcp.LATEST_PROTOCOL_VERSION
}

// TestProxyFlowWithManagedIdentity runs the sign-in with the app
// authenticating to Entra the way it does in Azure: no secret, a client
// assertion that is a managed-identity token for api://AzureADTokenExchange,
// trusted through a federated credential. The emulator serves the App
// Service managed-identity endpoint azidentity uses.
func TestProxyFlowWithManagedIdentity(t *testing.T) {
	st := startStackWith(t, "proxy", func(emu emulatorProc) []string {
		return []string{
			"ENTRA_CLIENT_SECRET=",
			"MANAGED_IDENTITY_CLIENT_ID=" + entraemu.DevManagedIdentityClientID,
			"IDENTITY_ENDPOINT=" + emu.BaseURL + "/msi/token",
			"IDENTITY_HEADER=" + entraemu.DevIdentityHeader,
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := registerClient(t, st, "http://127.0.0.1:53682/callback")
	q := newBrowser(t, st).authorize(c, c.authorizeURL(st, nil), "AdeleV@contoso.example")
	tok := c.redeem(t, st, q.Get("code"))
	if tok.Status != 200 {
		t.Fatalf("token: %+v", tok)
	}
	var me struct{ DisplayName string }
	callTool(t, ctx, mcpClient(t, ctx, st.BaseURL+"/mcp", tok.AccessToken), "whoami", &me)
	if me.DisplayName != "Adele Vance" {
		t.Fatalf("whoami = %+v", me)
	}
}
