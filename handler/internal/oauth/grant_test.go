package oauth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// A grant revoked by another instance (deleted from the shared store behind
// this handler's back) stops working here within GrantCheckInterval; one
// revoked through this handler stops at once.
func TestVerifyAccessTokenRevocation(t *testing.T) {
	now := t0
	h := newTestHandler(t, func(h *Handler) { h.Now = func() time.Time { return now } })
	ctx := context.Background()
	mint := func() (string, string) {
		g := store.Grant{ID: tokens.NewOpaque(), ClientID: "c", Subject: "u", ExpiresAt: now.Add(24 * time.Hour)}
		if err := h.Store.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		tok, _, err := h.Issuer.Mint(tokens.AccessClaims{Subject: "u", ClientID: "c", Scope: "mcp:tools", GrantID: g.ID})
		if err != nil {
			t.Fatal(err)
		}
		return tok, g.ID
	}
	valid := func(tok string) bool {
		_, err := h.VerifyAccessToken(ctx, tok)
		if err != nil && !errors.Is(err, resource.ErrInvalidToken) {
			t.Fatalf("unexpected error: %v", err)
		}
		return err == nil
	}

	tok, gid := mint()
	if !valid(tok) {
		t.Fatal("fresh token refused")
	}
	// Another instance revokes: this one may trust its read for a moment...
	if err := h.Store.DeleteGrant(ctx, gid); err != nil {
		t.Fatal(err)
	}
	if !valid(tok) {
		t.Fatal("refused before GrantCheckInterval: the cache is not used")
	}
	// ...but no longer than GrantCheckInterval.
	now = now.Add(GrantCheckInterval)
	if valid(tok) {
		t.Fatal("revoked grant still accepted after GrantCheckInterval")
	}

	// Revoked here: refused at once.
	tok2, gid2 := mint()
	if !valid(tok2) {
		t.Fatal("fresh token refused")
	}
	if err := h.revokeGrant(ctx, gid2); err != nil {
		t.Fatal(err)
	}
	if valid(tok2) {
		t.Fatal("grant revoked on this instance still accepted")
	}
}

// One caller value per token: repeated requests with a token get the value
// built when it was first verified, without allocating, until the grant
// must be read again; then a fresh value is built.
func TestVerifyAccessTokenReusesTheCallerValue(t *testing.T) {
	clock := testutil.NewClock(t0)
	h := newTestHandler(t, func(h *Handler) { h.Now = clock.Now }) // the issuer's clock too
	ctx := context.Background()
	g := store.Grant{ID: tokens.NewOpaque(), ClientID: "c", Subject: "u", Name: "Adele", ExpiresAt: t0.Add(24 * time.Hour)}
	if err := h.Store.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	tok, _, err := h.Issuer.Mint(tokens.AccessClaims{Subject: "u", ClientID: "c", Scope: "mcp:tools offline_access", GrantID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	first, err := h.VerifyAccessToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if first.Name != "Adele" || first.GrantID != g.ID || len(first.Scopes) != 2 {
		t.Fatalf("caller = %+v", first)
	}
	if n := testing.AllocsPerRun(50, func() {
		ti, err := h.VerifyAccessToken(ctx, tok)
		if err != nil || ti != first {
			t.Fatalf("second verification = %p, %v; want the first value %p", ti, err, first)
		}
	}); n != 0 {
		t.Errorf("a repeated token costs %v allocations, want 0", n)
	}
	clock.Advance(GrantCheckInterval)
	again, err := h.VerifyAccessToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if again == first {
		t.Error("after GrantCheckInterval the grant was not read again: same caller value")
	}
	if again.Name != first.Name || again.GrantID != first.GrantID || again.Expiry != first.Expiry {
		t.Errorf("after GrantCheckInterval: caller %+v, want the same as %+v", again, first)
	}
}

// GrantRevoked, which ends streams, sees what VerifyAccessToken sees: a
// grant revoked here at once, one deleted by another instance within
// GrantCheckInterval; a storage failure is no revocation.
func TestGrantRevoked(t *testing.T) {
	clock := testutil.NewClock(t0)
	h := newTestHandler(t, func(h *Handler) { h.Now = clock.Now })
	ctx := context.Background()
	grant := func() string {
		g := store.Grant{ID: tokens.NewOpaque(), ClientID: "c", Subject: "u", ExpiresAt: t0.Add(24 * time.Hour)}
		if err := h.Store.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	here, elsewhere := grant(), grant()
	if h.GrantRevoked(ctx, here) || h.GrantRevoked(ctx, elsewhere) {
		t.Fatal("live grants reported revoked")
	}
	if err := h.revokeGrant(ctx, here); err != nil {
		t.Fatal(err)
	}
	if !h.GrantRevoked(ctx, here) {
		t.Error("a grant revoked on this instance is not revoked at once")
	}
	if err := h.Store.DeleteGrant(ctx, elsewhere); err != nil {
		t.Fatal(err)
	}
	clock.Advance(GrantCheckInterval)
	if !h.GrantRevoked(ctx, elsewhere) {
		t.Error("a grant deleted by another instance is still live after GrantCheckInterval")
	}
	down := newTestHandler(t, func(h *Handler) { h.Store = flakyGrants{h.Store} })
	if down.GrantRevoked(ctx, "any") {
		t.Error("a storage failure was taken for a revocation")
	}
}

// flakyGrants fails grant reads as a storage outage would.
type flakyGrants struct{ store.Store }

func (flakyGrants) GetGrant(context.Context, string) (store.Grant, error) {
	return store.Grant{}, errors.New("storage down")
}
