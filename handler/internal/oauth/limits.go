package oauth

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// Registration needs no credentials, so what anyone can make the store
// hold is bounded here: a quota per client address and hour, and an idle
// expiry for every registration (REGISTRATION_QUOTA, REGISTRATION_IDLE_TTL).

// checkQuota counts a registration against the caller's address for the
// current hour and refuses it, 429 with Retry-After, over
// REGISTRATION_QUOTA. Registration needs no credentials, so without a
// bound one address could fill the store; APIM limits the rate at the
// edge, but the Function App's own host name is another door. The counter
// is kept in the store (every instance counts together) under a hash, so
// no client address is stored.
func (h *Handler) checkQuota(w http.ResponseWriter, r *http.Request) error {
	quota := h.Options.RegistrationQuota
	if quota <= 0 {
		return nil
	}
	now := h.now().UTC()
	window := now.Truncate(time.Hour)
	key := tokens.Hash("register\n" + h.clientAddr(r) + "\n" + window.Format(time.RFC3339))
	n, err := h.Store.Increment(r.Context(), key, window.Add(time.Hour))
	if err != nil {
		return storeError(err)
	}
	if n <= int64(quota) {
		return nil
	}
	retry := window.Add(time.Hour).Sub(now)
	w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds()+1)))
	h.logger().WarnContext(r.Context(), "registration quota exceeded", "registrations_this_hour", n)
	return &Error{Code: CodeTemporarilyUnavailable, Status: http.StatusTooManyRequests,
		Description: fmt.Sprintf("too many registrations from this address; try again in %d minutes", int(retry.Minutes())+1)}
}

// touch moves a registration's idle expiry forward now that it is used
// (sign-in, refresh, revocation), writing at most about once a day per
// client. A failure only costs the move; the request goes on.
func (h *Handler) touch(ctx context.Context, c *store.Client) {
	idle := h.Options.RegistrationIdleTTL
	if idle <= 0 {
		return
	}
	now := h.now()
	if !c.ExpiresAt.IsZero() && c.ExpiresAt.Sub(now) > idle-min(24*time.Hour, idle/2) {
		return
	}
	next := now.Add(idle)
	if err := h.Store.TouchClient(ctx, c.ID, next); err != nil {
		h.logger().WarnContext(ctx, "registration: could not move its idle expiry", "client_id", c.ID, "err", err)
		return
	}
	c.ExpiresAt = next
}

// clientAddr is the address registration quotas count against.
func (h *Handler) clientAddr(r *http.Request) string {
	if h.ClientAddr != nil {
		return h.ClientAddr(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
