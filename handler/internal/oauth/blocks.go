package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// blocked reports whether the operator stopped new sign-ins for the client
// (the grants command's "revoke -client"). Only the sign-in checks it, at
// /authorize and again once the grant exists at /callback: the client's
// grants were deleted when it was blocked, so its tokens and refreshes fail
// on their own, and the token endpoint pays nothing for blocks.
func (h *Handler) blocked(ctx context.Context, clientID string) (bool, error) {
	_, err := h.Store.GetClientBlock(ctx, clientID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("get client block: %w", err)
}

// grantUseResolution is how precisely a grant's LastUsedAt is kept: a
// refresh writes it only when it is older than this, so a busy grant costs
// at most one more write an hour.
const grantUseResolution = time.Hour

// markUsed moves g's LastUsedAt to now, best effort: a lost race (another
// instance refreshed the Entra tokens) or an outage leaves the old value,
// which only the connected-apps page shows.
func (h *Handler) markUsed(ctx context.Context, g store.Grant) {
	now := h.now()
	if now.Sub(g.LastUsedAt) < grantUseResolution {
		return
	}
	g.LastUsedAt = now
	err := h.Store.UpdateGrant(ctx, g)
	h.grantCache().Delete(g.ID) // its ETag changed (or it is gone)
	if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		h.logger().WarnContext(ctx, "could not record the grant's last use", slog.Any("err", err))
	}
}
