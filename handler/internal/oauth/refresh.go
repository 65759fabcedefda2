package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// RefreshGrace is how long a rotated refresh token still works. Clients
// such as claude.ai refresh from several processes at once, and a client
// may lose the response to a refresh; strict single use would log those
// users out. Inside the window the rotated token yields the successor
// already issued, never a new one, so the family stays one chain: a thief
// replaying a rotated token lands on the user's chain, and whichever of
// them reuses a token after the window revokes the family (OAuth 2.1
// §4.3.1, RFC 9700 §4.14.2).
const RefreshGrace = time.Minute

// refreshGrant rotates a refresh token (OAuth 2.1 §4.3.1: public clients
// must get a new one each time).
func (h *Handler) refreshGrant(r *http.Request, form map[string][]string, client store.Client) (tokenResponse, *Error) {
	raw := first(form["refresh_token"])
	if raw == "" {
		return tokenResponse{}, InvalidRequest("refresh_token is required")
	}
	grantID, ok := tokens.RefreshGrant(raw)
	if !ok {
		return tokenResponse{}, InvalidGrant("the refresh token is invalid or expired")
	}
	rt, err := h.Store.GetRefresh(r.Context(), grantID, tokens.Hash(raw))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return tokenResponse{}, InvalidGrant("the refresh token is invalid or expired")
	case err != nil:
		return tokenResponse{}, storeError(err)
	case !h.now().Before(rt.ExpiresAt):
		return tokenResponse{}, InvalidGrant("the refresh token has expired")
	case rt.ClientID != client.ID:
		return tokenResponse{}, InvalidGrant("the refresh token was issued to another client")
	}
	if res := first(form["resource"]); res != "" && !h.resourceMatches(res) {
		return tokenResponse{}, InvalidTarget("resource must be %s", h.Options.ResourceURL)
	}
	scope, oerr := narrowScope(rt.Scope, first(form["scope"]))
	if oerr != nil {
		return tokenResponse{}, oerr
	}
	g, err := h.Store.GetGrant(r.Context(), rt.GrantID)
	if err != nil {
		return tokenResponse{}, grantError(err)
	}
	rotated := false
	if rt.RotatedAt.IsZero() {
		if rt, rotated, oerr = h.rotate(r.Context(), rt, g); oerr != nil {
			return tokenResponse{}, oerr
		}
	}
	if h.now().Sub(rt.RotatedAt) > RefreshGrace {
		// Reuse of a rotated token after the grace window: someone holds a
		// copy. Revoke the family (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).
		if err := h.revokeGrant(r.Context(), rt.GrantID); err != nil {
			return tokenResponse{}, storeError(err)
		}
		h.audit(r, audit.RefreshReuseDetected, slog.String("client_id", client.ID), slog.String("sub", g.Subject),
			audit.Grant(rt.GrantID), slog.Bool("grant_revoked", true))
		return tokenResponse{}, InvalidGrant("the refresh token was already used; sign in again")
	}
	next, err := h.Sealer.Open(rt.Successor, []byte(rt.Hash))
	if err != nil || len(next) == 0 {
		// Rotated before successors were kept, or sealed under a key that
		// is gone: nothing to hand out again.
		return tokenResponse{}, InvalidGrant("the refresh token was already used; sign in again")
	}
	resp, oerr := h.issue(g, scope, string(next))
	if oerr == nil && rotated {
		h.markUsed(r.Context(), g)
		// Once per rotation: a repeat inside the grace window hands out
		// the same successor and is no new event.
		h.audit(r, audit.RefreshRotated, slog.String("client_id", client.ID), slog.String("sub", g.Subject),
			audit.Grant(g.ID), slog.String("scope", scope))
	}
	return resp, oerr
}

// rotate marks rt as used and returns it as stored afterwards, with its
// successor sealed in it. The successor is stored first and the mark is a
// replace with If-Match, so of racing refreshes (several processes, several
// instances) exactly one mark succeeds (won); a loser deletes the successor
// it stored and reads the winner's. RFC 6749 §6: the successor has rt's scope.
func (h *Handler) rotate(ctx context.Context, rt store.RefreshToken, g store.Grant) (_ store.RefreshToken, won bool, _ *Error) {
	next, oerr := h.newRefresh(ctx, g, rt.Scope)
	if oerr != nil {
		return store.RefreshToken{}, false, oerr
	}
	sealed, err := h.Sealer.Seal([]byte(next), []byte(rt.Hash))
	if err != nil {
		return store.RefreshToken{}, false, ServerError(err)
	}
	marked := rt
	marked.RotatedAt, marked.Successor = h.now(), sealed
	err = h.Store.UpdateRefresh(ctx, marked)
	if err == nil {
		return marked, true, nil
	}
	_ = h.Store.DeleteRefresh(ctx, g.ID, tokens.Hash(next)) // never handed out
	if errors.Is(err, store.ErrConflict) {
		rt, err = h.Store.GetRefresh(ctx, g.ID, rt.Hash) // lost the race: the winner's successor
	}
	if err != nil {
		return store.RefreshToken{}, false, grantError(err)
	}
	return rt, false, nil
}
