package oauth

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// Revoke handles POST /revoke (RFC 7009). Revoking a refresh token or an
// access token revokes its whole grant: every token of the family and the
// stored Entra tokens stop working at once. Unknown tokens get 200 too
// (RFC 7009 §2.2), so the endpoint tells an attacker nothing.
func (h *Handler) Revoke(w http.ResponseWriter, r *http.Request) {
	form, client, ok := h.clientRequest(w, r)
	if !ok {
		return
	}
	raw := form.Get("token")
	if raw == "" {
		h.writeError(w, r, InvalidRequest("token is required"))
		return
	}
	grantID, err := h.grantOf(r, raw, form.Get("token_type_hint"), client.ID)
	if err == nil && grantID != "" {
		err = h.revokeGrant(r.Context(), grantID)
		if err == nil {
			h.audit(r, audit.GrantRevoked, slog.String("by", "client"), slog.String("client_id", client.ID), audit.Grant(grantID))
		}
	}
	if err != nil {
		h.writeError(w, r, storeError(err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// grantOf finds the grant a token belongs to, if it belongs to this client.
// The hint only orders the lookups (RFC 7009 §2.1).
func (h *Handler) grantOf(r *http.Request, raw, hint, clientID string) (string, error) {
	tryAccess := func() string {
		c, err := h.Issuer.Verify(raw)
		if err != nil || c.ClientID != clientID {
			return ""
		}
		return c.GrantID
	}
	if hint == "access_token" {
		if g := tryAccess(); g != "" {
			return g, nil
		}
	}
	if grantID, ok := tokens.RefreshGrant(raw); ok {
		rt, err := h.Store.GetRefresh(r.Context(), grantID, tokens.Hash(raw))
		switch {
		case err == nil && rt.ClientID == clientID:
			_ = h.Store.DeleteRefresh(r.Context(), rt.GrantID, rt.Hash)
			return rt.GrantID, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return "", err
		}
	}
	return tryAccess(), nil
}
