package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/telemetry"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokencache"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// VerifyAccessToken is the resource.Verifier of mode proxy: our own RS256
// token (iss, aud, exp checked by the Issuer), whose grant must still
// exist, so a revoked grant stops working.
//
// A client sends the same token on every MCP request, so the caller value
// built for it is kept (until the token expires) and handed out again for
// as long as its grant is trusted: read less than GrantCheckInterval ago and
// not revoked here. Every other case takes the full path below.
func (h *Handler) VerifyAccessToken(ctx context.Context, raw string) (*resource.TokenInfo, error) {
	if len(raw) <= tokens.MaxTokenLen {
		if ti, ok := h.callerCache().Get(raw); ok {
			if _, live := h.grantCache().Get(ti.GrantID); live {
				traceCaller(ctx, ti)
				return ti, nil
			}
		}
	}
	c, err := h.Issuer.Verify(raw)
	if err != nil {
		return nil, err // wraps resource.ErrInvalidToken and its cause
	}
	g, err := h.liveGrant(ctx, c.GrantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: grant revoked or expired", resource.ErrInvalidToken)
	}
	if err != nil {
		return nil, err // storage down: 503, not a bad token
	}
	if g.Subject != c.Subject || g.ClientID != c.ClientID {
		return nil, fmt.Errorf("%w: token does not match its grant", resource.ErrInvalidToken)
	}
	ti := &resource.TokenInfo{
		Subject: c.Subject, Name: g.Name, Username: g.Username, TenantID: g.TenantID,
		ClientID: c.ClientID, Scopes: strings.Fields(c.Scope), Expiry: c.ExpiresAt,
		GrantID: g.ID, Issuer: h.Options.PublicBaseURL,
	}
	h.callerCache().Put(raw, ti, c.ExpiresAt)
	traceCaller(ctx, ti)
	return ti, nil
}

// traceCaller names the caller's client and grant (by reference) on the
// request's span, when there is one recording.
func traceCaller(ctx context.Context, ti *resource.TokenInfo) {
	if s := telemetry.Span(ctx); s != nil {
		s.SetAttributes(telemetry.Client(ti.ClientID), telemetry.Grant(audit.GrantRef(ti.GrantID)))
	}
}

// upstreamSkew refreshes Entra tokens this long before they expire, so an
// assertion never expires between our check and Entra's.
const upstreamSkew = 2 * time.Minute

// UserAssertion returns a valid Entra access token (aud = our app) for the
// grant, to be used as the On-Behalf-Of assertion. An expired one is
// refreshed at Entra and written back with If-Match; if another instance
// refreshed first, its tokens are used instead.
func (h *Handler) UserAssertion(ctx context.Context, grantID string) (string, time.Time, error) {
	for attempt := 0; attempt < 3; attempt++ {
		// The grant /mcp just checked is usually in the cache; its Entra
		// token may be a few seconds staler than the store's, which only
		// matters if it expired, and then If-Match below catches it.
		read := h.liveGrant
		if attempt > 0 {
			read = h.Store.GetGrant
		}
		g, err := read(ctx, grantID)
		if err != nil {
			return "", time.Time{}, err
		}
		t, err := h.OpenUpstream(g)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("open upstream tokens: %w", err)
		}
		if h.now().Add(upstreamSkew).Before(t.Expiry) {
			return t.AccessToken, t.Expiry, nil
		}
		nt, err := h.Upstream.Refresh(ctx, t.RefreshToken)
		if err != nil {
			var ue *entra.UpstreamError
			if errors.As(err, &ue) && ue.Definitive() {
				// Entra revoked the session: so do we.
				_ = h.revokeGrant(ctx, grantID)
				audit.Log(ctx, h.logger(), audit.UpstreamError, slog.String("stage", "refresh"), slog.String("client_id", g.ClientID),
					slog.String("error", ue.Code), slog.String("aadsts", audit.AADSTS(ue.Description)))
				audit.Log(ctx, h.logger(), audit.GrantRevoked, slog.String("by", "entra"), slog.String("client_id", g.ClientID),
					slog.String("sub", g.Subject), audit.Grant(grantID))
				return "", time.Time{}, fmt.Errorf("%w: upstream refresh refused: %w", resource.ErrInvalidToken, err)
			}
			return "", time.Time{}, err
		}
		if g.Upstream, err = h.sealUpstream(g.ID, nt); err != nil {
			return "", time.Time{}, err
		}
		g.UpstreamExpiresAt = nt.Expiry
		err = h.Store.UpdateGrant(ctx, g)
		h.grantCache().Delete(grantID) // its ETag changed either way
		switch {
		case err == nil:
			return nt.AccessToken, nt.Expiry, nil
		case errors.Is(err, store.ErrConflict):
			continue // someone else refreshed; read theirs
		default:
			return "", time.Time{}, err
		}
	}
	return "", time.Time{}, errors.New("upstream refresh: too much contention on the grant")
}

// GrantCheckInterval is how long one instance trusts that a grant it read
// still exists. Reading it from Table Storage on every MCP request would
// add a round trip (~5 ms) to each and cap an instance at a few thousand
// requests a second. A revocation takes effect at once on the instance
// that handled it, and within this interval on every other instance.
const GrantCheckInterval = 2 * time.Second

// liveGrant returns the grant, from the short-lived cache when it was read
// less than GrantCheckInterval ago.
func (h *Handler) liveGrant(ctx context.Context, id string) (store.Grant, error) {
	if g, ok := h.grantCache().Get(id); ok {
		return g, nil
	}
	// Concurrent requests of one user miss the cache together; one read
	// answers them all instead of a burst of identical reads.
	v, err, _ := h.grantReads.Do(id, func() (any, error) {
		g, err := h.Store.GetGrant(ctx, id)
		if err == nil {
			h.grantCache().Put(id, g, h.now().Add(GrantCheckInterval))
		}
		return g, err
	})
	if err != nil {
		return store.Grant{}, err
	}
	return v.(store.Grant), nil
}

// GrantRevoked reports whether the grant is gone (revoked, or expired),
// as VerifyAccessToken would find it now: within GrantCheckInterval of its
// revocation on another instance, at once on this one. A storage failure
// is not a revocation.
func (h *Handler) GrantRevoked(ctx context.Context, id string) bool {
	_, err := h.liveGrant(ctx, id)
	return errors.Is(err, store.ErrNotFound)
}

// revokeGrant deletes the grant (and with it its refresh tokens and the
// sealed Entra tokens) and forgets it here at once.
func (h *Handler) revokeGrant(ctx context.Context, id string) error {
	h.grantCache().Delete(id)
	return h.Store.DeleteGrant(ctx, id)
}

func (h *Handler) grantCache() *tokencache.Cache[store.Grant] {
	h.grantsOnce.Do(func() { h.grants = tokencache.New[store.Grant](10000, h.now) })
	return h.grants
}

// callerCache holds the caller value of each verified access token. The
// values are shared by concurrent requests: read-only (resource.TokenInfoFrom).
func (h *Handler) callerCache() *tokencache.Cache[*resource.TokenInfo] {
	h.callersOnce.Do(func() { h.callers = tokencache.New[*resource.TokenInfo](10000, h.now) })
	return h.callers
}
