package main

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
)

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

// TestUpstreamRefreshWhenExpired: when the grant's stored Entra token has
// expired, whoami refreshes it at Entra, stores the new one (sealed), and
// uses it for On-Behalf-Of.
func TestUpstreamRefreshWhenExpired(t *testing.T) {
	ts := newTestServer(t, nil)
	ctx := context.Background()
	c, code := signedIn(t, ts)
	tok := c.redeem(t, ts.stack, code)
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, claims); err != nil {
		t.Fatal(err)
	}
	before, err := ts.store.GetGrant(ctx, claims["gid"].(string))
	if err != nil {
		t.Fatal(err)
	}
	// 59 minutes on: our access token (1 h) is still valid, the Entra token
	// (1 h, refreshed 2 minutes early) is not.
	ts.clock.Advance(59 * time.Minute)
	mc := mcpClient(t, ctx, ts.BaseURL+"/mcp", tok.AccessToken)
	var me struct{ DisplayName string }
	callTool(t, ctx, mc, "whoami", &me)
	if me.DisplayName != "Adele Vance" {
		t.Fatalf("whoami = %+v", me)
	}
	after, err := ts.store.GetGrant(ctx, before.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(after.Upstream) == string(before.Upstream) || after.ETag == before.ETag {
		t.Fatal("the grant's Entra tokens were not refreshed and stored")
	}
	h := &oauth.Handler{Sealer: ts.sealer}
	old, _ := h.OpenUpstream(before)
	fresh, err := h.OpenUpstream(after)
	if err != nil || fresh.AccessToken == old.AccessToken || fresh.RefreshToken == "" {
		t.Fatalf("refreshed upstream tokens: err %v, same access token %v", err, fresh.AccessToken == old.AccessToken)
	}
}
