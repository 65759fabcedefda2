package oauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// The connected-apps page, GET /account: the user signs in through Entra
// (our own app, like any sign-in, but no grant is made and Entra's tokens
// are dropped), sees every grant they gave an MCP client, and revokes any
// of them. The session is a cookie of our own, sealed (AES-256-GCM) and
// short-lived; account_list.go renders the page, account_revoke.go the
// revocation.

// accountSessionTTL bounds a connected-apps session: long enough to look
// and revoke, short enough that a forgotten tab signs itself out.
const accountSessionTTL = 15 * time.Minute

// cookieAccount holds the sealed session (__Host- with an https URL).
const cookieAccount = "mcp-account"

// accountAAD binds a sealed session to its purpose: a blob sealed for
// anything else (Entra tokens, refresh successors) never opens as one.
var accountAAD = []byte("account-session")

// accountSession is what the session cookie seals.
type accountSession struct {
	Subject  string    `json:"sub"`
	TenantID string    `json:"tid"`
	Name     string    `json:"name,omitempty"`
	Username string    `json:"upn,omitempty"`
	CSRF     string    `json:"csrf"` // the revoke form's token (synchronizer token)
	Expires  time.Time `json:"exp"`
}

// session returns the request's valid session, if any.
func (h *Handler) session(r *http.Request) (accountSession, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(h.cookie(r, cookieAccount))
	if err != nil || len(raw) == 0 {
		return accountSession{}, false
	}
	b, err := h.Sealer.Open(raw, accountAAD)
	if err != nil {
		return accountSession{}, false
	}
	var s accountSession
	if json.Unmarshal(b, &s) != nil || s.Subject == "" || s.CSRF == "" || !h.now().Before(s.Expires) {
		return accountSession{}, false
	}
	return s, true
}

// startSession seals s into the session cookie. SameSite Lax, not Strict:
// the first GET /account comes at the end of Entra's redirect chain, a
// cross-site navigation that would not carry a Strict cookie.
func (h *Handler) startSession(w http.ResponseWriter, s accountSession) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	sealed, err := h.Sealer.Seal(b, accountAAD)
	if err != nil {
		return err
	}
	h.setCookie(w, cookieAccount, base64.RawURLEncoding.EncodeToString(sealed), accountSessionTTL, http.SameSiteLaxMode)
	return nil
}

// Account serves GET /account: the user's connected apps, or the sign-in.
func (h *Handler) Account(w http.ResponseWriter, r *http.Request) {
	s, ok := h.session(r)
	if !ok {
		h.accountSignIn(w, r)
		return
	}
	h.renderAccount(w, r, s, r.URL.Query().Get("revoked"))
}

// accountSignIn sends the browser to Entra. The pending request has no
// client: /callback tells an account sign-in by that, and returns to
// /account instead of a client.
func (h *Handler) accountSignIn(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	areq := store.AuthRequest{
		ID:                 tokens.NewOpaque(),
		RedirectURI:        h.Options.PublicBaseURL + "/account",
		UpstreamVerifier:   oauth2.GenerateVerifier(),
		Nonce:              tokens.NewOpaque(),
		BrowserBindingHash: tokens.Hash(h.flowCookie(w, r)),
		Approved:           true,
		CreatedAt:          now,
		ExpiresAt:          now.Add(authRequestTTL),
	}
	if err := h.Store.PutAuthRequest(r.Context(), areq); err != nil {
		h.storeFailed(w, r, err, "The sign-in service is temporarily unavailable. Please try again in a moment.")
		return
	}
	http.Redirect(w, r, h.Upstream.AuthCodeURL(areq.ID, areq.UpstreamVerifier, areq.Nonce, nil), http.StatusFound)
}

// accountCallback finishes an account sign-in at /callback: Entra's code is
// redeemed (its tokens are not kept: the page needs only who the user is,
// from the verified id token) and the session starts.
func (h *Handler) accountCallback(w http.ResponseWriter, r *http.Request, areq store.AuthRequest) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		h.upstreamError(r, "callback", "", e, q.Get("error_description"))
		errorPage(w, r, http.StatusForbidden, "access_denied", "Sign-in at Microsoft Entra ID did not complete. Open the connected-apps page again to retry.")
		return
	}
	toks, err := h.Upstream.Exchange(r.Context(), q.Get("code"), areq.UpstreamVerifier)
	if err != nil {
		errorPage(w, r, http.StatusBadGateway, "access_denied", "Microsoft Entra ID did not accept the sign-in. Open the connected-apps page again to retry.")
		h.logger().WarnContext(r.Context(), "account: code exchange failed", "err", err)
		return
	}
	id, err := h.IDTokens.VerifyIDToken(r.Context(), toks.IDToken, h.Options.ClientID, areq.Nonce)
	if err != nil {
		h.logger().WarnContext(r.Context(), "account: id token rejected", "err", err)
		errorPage(w, r, http.StatusForbidden, "access_denied", "The sign-in response from Microsoft Entra ID could not be verified.")
		return
	}
	s := accountSession{Subject: id.ObjectID, TenantID: id.TenantID, Name: id.Name, Username: id.PreferredUsername,
		CSRF: tokens.NewOpaque(), Expires: h.now().Add(accountSessionTTL)}
	if err := h.startSession(w, s); err != nil {
		errorPage(w, r, http.StatusInternalServerError, "server_error", "The session could not be started.")
		return
	}
	h.audit(r, audit.AccountSignIn, slog.String("sub", s.Subject), slog.String("tid", s.TenantID))
	http.Redirect(w, r, "/account", http.StatusFound)
}

// storeFailed answers a browser page whose store call failed: the outage
// page when the store is unavailable (503, try again), else a 500 with
// message.
func (h *Handler) storeFailed(w http.ResponseWriter, r *http.Request, err error, message string) {
	if errors.Is(err, store.ErrUnavailable) {
		h.logger().WarnContext(r.Context(), "state unavailable", "err", err)
		unavailablePage(w, r)
		return
	}
	h.logger().ErrorContext(r.Context(), "store", "err", err)
	errorPage(w, r, http.StatusInternalServerError, "server_error", message)
}
