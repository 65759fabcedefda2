package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/cluster"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/headless"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
)

// TestScaleOutRaces: the single-use and revocation rules across three
// instances, each request of a race sent to every instance at once. The
// refresh race after the grace window needs the window to pass (60 s), so
// it starts first and the other races run while it waits.
func TestScaleOutRaces(t *testing.T) {
	t.Parallel()
	c := startCluster(t, cluster.Options{Instances: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The same refresh token on all three at once, inside the grace
	// window: all succeed, and all hand out the one successor, so the
	// family stays one chain (docs/architecture.md §6.2).
	cl, tok := signedInClient(t, ctx, c, "AdeleV@contoso.example")
	rotated := time.Now()
	inside := raceInstances(c, func(u string) headless.Tokens {
		r, err := cl.At(u).Refresh(ctx, tok.RefreshToken)
		if err != nil {
			t.Error(err)
		}
		return r
	})
	for i, r := range inside {
		if r.Status != 200 || r.RefreshToken == "" || r.RefreshToken == tok.RefreshToken || r.RefreshToken != inside[0].RefreshToken {
			t.Errorf("refresh on %c inside the grace window = %d %s, refresh token %.12q… (instance A's %.12q…)",
				'A'+i, r.Status, r.Error, r.RefreshToken, inside[0].RefreshToken)
		}
	}

	t.Run("code redeemed on three instances at once", func(t *testing.T) { raceCode(t, ctx, c) })
	t.Run("revocation reaches the other instances", func(t *testing.T) { revocationDelay(t, ctx, c) })

	// After the window the rotated token is a stolen copy wherever it is
	// presented: all three refuse it, and the family dies everywhere.
	time.Sleep(time.Until(rotated.Add(oauth.RefreshGrace + time.Second)))
	after := raceInstances(c, func(u string) headless.Tokens {
		r, err := cl.At(u).Refresh(ctx, tok.RefreshToken)
		if err != nil {
			t.Error(err)
		}
		return r
	})
	for i, r := range after {
		if r.Status != 400 || r.Error != "invalid_grant" {
			t.Errorf("reuse on %c after the grace window = %d %q, want 400 invalid_grant", 'A'+i, r.Status, r.Error)
		}
	}
	for _, in := range c.Instances() {
		if r, _ := cl.At(in.URL).Refresh(ctx, inside[0].RefreshToken); r.Status != 400 || r.Error != "invalid_grant" {
			t.Errorf("the successor on %s after the family was revoked = %d %q, want invalid_grant", in.Name, r.Status, r.Error)
		}
	}
	for i, in := range c.Instances() {
		if d := refusedWithin(ctx, cl.At(in.URL), inside[i].AccessToken, oauth.GrantCheckInterval+time.Second); d < 0 {
			t.Errorf("%s still accepts an access token of the revoked family", in.Name)
		}
	}
}

// raceCode redeems one code on every instance at once: exactly one gets
// tokens, the others invalid_grant; and since a code used twice was
// intercepted (RFC 6749 §4.1.2), the winner's grant is revoked too.
func raceCode(t *testing.T, ctx context.Context, c *cluster.Cluster) {
	api, browser := clusterClients(t, c)
	cl, err := headless.Register(ctx, api, c.URL, "Code race")
	if err != nil {
		t.Fatal(err)
	}
	code, pkce, err := cl.Code(ctx, headless.NewBrowser(browser), c.URL, "AlexW@contoso.example")
	if err != nil {
		t.Fatal(err)
	}
	got := raceInstances(c, func(u string) headless.Tokens {
		r, err := cl.At(u).Redeem(ctx, code, pkce)
		if err != nil {
			t.Error(err)
		}
		return r
	})
	winners := 0
	var won headless.Tokens
	for i, r := range got {
		switch {
		case r.Status == 200:
			winners++
			won = r
		case r.Status != 400 || r.Error != "invalid_grant":
			t.Errorf("redemption on %c = %d %q, want 200 or 400 invalid_grant", 'A'+i, r.Status, r.Error)
		}
	}
	if winners != 1 {
		t.Fatalf("%d redemptions of one code succeeded, want exactly 1: %+v", winners, got)
	}
	if r, _ := cl.Refresh(ctx, won.RefreshToken); r.Status != 400 || r.Error != "invalid_grant" {
		t.Errorf("the winner's refresh token after the replay = %d %q, want invalid_grant (grant revoked)", r.Status, r.Error)
	}
}

// revocationDelay revokes a grant on A and measures how long B and C keep
// accepting its access token: at most the grant-check interval, during
// which they trust the grant they read (docs/architecture.md §14).
func revocationDelay(t *testing.T, ctx context.Context, c *cluster.Cluster) {
	cl, tok := signedInClient(t, ctx, c, "MeganB@contoso.example")
	insts := c.Instances()
	for _, in := range insts { // every instance has read the grant
		if status, _, _, err := cl.At(in.URL).CallTool(ctx, tok.AccessToken, "auth_info"); err != nil || status != 200 {
			t.Fatalf("tools/call on %s = %d, %v", in.Name, status, err)
		}
	}
	if err := cl.At(insts[0].URL).Revoke(ctx, tok.RefreshToken); err != nil {
		t.Fatalf("revoke on A: %v", err)
	}
	if status, _, _, _ := cl.At(insts[0].URL).CallTool(ctx, tok.AccessToken, "auth_info"); status != http.StatusUnauthorized {
		t.Errorf("A after its own revocation = %d, want 401 at once", status)
	}
	bound := oauth.GrantCheckInterval + time.Second
	var wg sync.WaitGroup
	for _, in := range insts[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := refusedWithin(ctx, cl.At(in.URL), tok.AccessToken, 2*bound)
			switch {
			case d < 0:
				t.Errorf("%s still accepts the token %v after the revocation", in.Name, 2*bound)
			case d > bound:
				t.Errorf("%s refused the token %v after the revocation, want within %v", in.Name, d.Round(time.Millisecond), bound)
			default:
				t.Logf("%s refuses the revoked grant's access token %v after the revocation on A (grant-check interval %v)",
					in.Name, d.Round(time.Millisecond), oauth.GrantCheckInterval)
			}
		}()
	}
	wg.Wait()
}

// refusedWithin calls a tool with token every 20 ms until the answer is
// 401 and returns how long that took, or -1 if it did not happen within
// limit. Any other answer than 200 or 401 is unexpected and ends the wait.
func refusedWithin(ctx context.Context, cl headless.Client, token string, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit {
		status, _, _, err := cl.CallTool(ctx, token, "auth_info")
		if status == http.StatusUnauthorized {
			return time.Since(start)
		}
		if err != nil || status != http.StatusOK {
			return -1
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1
}
