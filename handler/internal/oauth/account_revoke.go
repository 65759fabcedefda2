package oauth

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// AccountRevoke handles the connected-apps page's form, POST
// /account/revoke: with a live session, the session's CSRF token and a
// same-origin post, it revokes one of the session user's grants, named by
// its reference. The grant's tokens stop working at once on this instance
// and within GrantCheckInterval on every other one.
func (h *Handler) AccountRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		errorPage(w, r, http.StatusBadRequest, "invalid_request", "The form could not be read.")
		return
	}
	s, ok := h.session(r)
	if !ok {
		errorPage(w, r, http.StatusUnauthorized, "access_denied", "Your session on the connected-apps page has ended. Open it again to sign in.")
		return
	}
	if !equalSecret(r.PostForm.Get("csrf_token"), s.CSRF) || !sameOrigin(r, h.Options.PublicBaseURL) {
		h.logger().WarnContext(r.Context(), "account: CSRF check failed")
		errorPage(w, r, http.StatusForbidden, "access_denied", "This form was not submitted from the connected-apps page. Open it again.")
		return
	}
	ref := r.PostForm.Get("grant")
	// Only the session user's own grants can be named: the reference is
	// looked up among them, never used to reach any other grant.
	grants, err := h.Store.ListGrants(r.Context(), store.GrantQuery{Subject: s.Subject})
	if err != nil {
		h.storeFailed(w, r, err, "The app could not be revoked right now. Please try again in a moment.")
		return
	}
	i := -1
	for j, g := range grants {
		if ref != "" && audit.GrantRef(g.ID) == ref {
			i = j
		}
	}
	if i < 0 {
		errorPage(w, r, http.StatusNotFound, "invalid_request", "This app is not connected to your account (any more).")
		return
	}
	g := grants[i]
	if err := h.revokeGrant(r.Context(), g.ID); err != nil {
		h.storeFailed(w, r, err, "The app could not be revoked right now. Please try again in a moment.")
		return
	}
	h.audit(r, audit.GrantRevoked, slog.String("by", "user"), slog.String("client_id", g.ClientID),
		slog.String("sub", g.Subject), audit.Grant(g.ID))
	// 303: the page is fetched again with GET, so a reload does not post twice.
	http.Redirect(w, r, "/account?revoked="+url.QueryEscape(ref), http.StatusSeeOther)
}
