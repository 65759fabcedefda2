package oauth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// Callback handles GET /callback, where Entra sends the browser back. The
// state is single use and must belong to this browser; Entra's code is
// redeemed with our PKCE verifier and its id token checked; then our own
// code goes to the client with state and iss (RFC 9207).
func (h *Handler) Callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("admin_consent") != "" {
		h.adminConsentDone(w, r, q)
		return
	}
	state := q.Get("state")
	if state == "" {
		errorPage(w, r, http.StatusBadRequest, "invalid_request", "The sign-in response has no state.")
		return
	}
	areq, err := h.Store.TakeAuthRequest(r.Context(), state)
	if err != nil || !areq.Approved {
		h.lookupFailed(w, r, err, "invalid_request", "This sign-in response is unknown, expired or was already used. Start the sign-in again.")
		return
	}
	if !h.sameBrowser(r, areq) {
		h.logger().WarnContext(r.Context(), "callback: browser binding mismatch", "client_id", areq.ClientID)
		errorPage(w, r, http.StatusBadRequest, "access_denied", "This sign-in was started in a different browser. Start the sign-in again from your application.")
		return
	}
	if areq.ClientID == "" {
		h.accountCallback(w, r, areq) // a sign-in to the connected-apps page
		return
	}
	if e := q.Get("error"); e != "" {
		// Entra's description carries AADSTS codes for the log; the client
		// gets a plain OAuth error.
		h.upstreamError(r, "callback", areq.ClientID, e, q.Get("error_description"))
		code := "access_denied"
		if e == "temporarily_unavailable" || e == "server_error" {
			code = e
		}
		h.redirectError(w, r, areq.RedirectURI, areq.State, &Error{Code: code, Description: "sign-in at Microsoft Entra ID did not complete"})
		return
	}
	grant, oerr := h.redeemUpstream(r, areq, q.Get("code"))
	if oerr != nil {
		h.redirectError(w, r, areq.RedirectURI, areq.State, oerr)
		return
	}
	code := tokens.NewOpaque()
	now := h.now()
	if err := h.Store.PutCode(r.Context(), store.Code{
		Hash: tokens.Hash(code), ClientID: areq.ClientID, RedirectURI: areq.RedirectURI,
		CodeChallenge: areq.CodeChallenge, Resource: areq.Resource, Scope: areq.Scope,
		GrantID: grant.ID, Subject: grant.Subject, Replaces: h.linkGrant(r, areq, grant),
		CreatedAt: now, ExpiresAt: now.Add(h.Options.AuthCodeTTL),
	}); err != nil {
		h.redirectError(w, r, areq.RedirectURI, areq.State, storeError(err))
		return
	}
	h.audit(r, audit.SignInCompleted, slog.String("client_id", areq.ClientID), slog.String("sub", grant.Subject),
		slog.String("tid", grant.TenantID), audit.Grant(grant.ID))
	v := url.Values{"code": {code}, "iss": {h.Options.PublicBaseURL}}
	if areq.State != "" {
		v.Set("state", areq.State)
	}
	http.Redirect(w, r, withQuery(areq.RedirectURI, v), http.StatusFound)
}

// redeemUpstream exchanges Entra's code and stores the grant with the
// sealed Entra tokens. Nothing of Entra's reaches the client.
func (h *Handler) redeemUpstream(r *http.Request, areq store.AuthRequest, code string) (store.Grant, *Error) {
	if code == "" {
		return store.Grant{}, InvalidRequest("the sign-in response has no code")
	}
	toks, err := h.Upstream.Exchange(r.Context(), code, areq.UpstreamVerifier)
	if err != nil {
		var ue *entra.UpstreamError
		if errors.As(err, &ue) && ue.Definitive() {
			h.upstreamError(r, "code", areq.ClientID, ue.Code, ue.Description)
			return store.Grant{}, AccessDenied("sign-in at Microsoft Entra ID was refused")
		}
		return store.Grant{}, TemporarilyUnavailable(err)
	}
	id, err := h.IDTokens.VerifyIDToken(r.Context(), toks.IDToken, h.Options.ClientID, areq.Nonce)
	if err != nil {
		h.logger().WarnContext(r.Context(), "callback: id token rejected", "err", err)
		return store.Grant{}, AccessDenied("the sign-in response from Microsoft Entra ID could not be verified")
	}
	now := h.now()
	g := store.Grant{
		ID: tokens.NewOpaque(), ClientID: areq.ClientID, Subject: id.ObjectID, Name: id.Name,
		Username: id.PreferredUsername, TenantID: id.TenantID, Scope: areq.Scope, Resource: areq.Resource,
		UpstreamExpiresAt: toks.Expiry, RedirectURI: areq.RedirectURI,
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(h.Options.RefreshTokenTTL),
	}
	if g.Upstream, err = h.sealUpstream(g.ID, toks); err != nil {
		return store.Grant{}, ServerError(err)
	}
	if err := h.Store.CreateGrant(r.Context(), g); err != nil {
		return store.Grant{}, storeError(err)
	}
	// Checked after the grant is written: an operator who blocks the client
	// and then deletes its grants either finds this grant or is seen here.
	switch blocked, err := h.blocked(r.Context(), g.ClientID); {
	case err != nil || blocked:
		_ = h.revokeGrant(r.Context(), g.ID)
		if err != nil {
			return store.Grant{}, storeError(err)
		}
		return store.Grant{}, AccessDenied("the operator of this server has blocked this application")
	}
	return g, nil
}

// sealUpstream encrypts Entra's tokens under the current sealing key, with
// the grant id as additional data so a blob cannot be moved to another grant.
func (h *Handler) sealUpstream(grantID string, t entra.Tokens) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return h.Sealer.Seal(b, []byte(grantID))
}

// OpenUpstream decrypts a grant's Entra tokens.
func (h *Handler) OpenUpstream(g store.Grant) (entra.Tokens, error) {
	b, err := h.Sealer.Open(g.Upstream, []byte(g.ID))
	if err != nil {
		return entra.Tokens{}, err
	}
	var t entra.Tokens
	err = json.Unmarshal(b, &t)
	return t, err
}

// linkGrant records g as the grant this browser's approval of the client
// leads to, and returns the grant the previous sign-in through that
// approval created, if the same user made it: redeeming the new code
// revokes it, so a re-authorization (a step-up to a wider scope, or signing
// in again) leaves one refresh-token family, the one the client now holds.
// Without an approval record (another browser) nothing is linked.
func (h *Handler) linkGrant(r *http.Request, areq store.AuthRequest, g store.Grant) string {
	ctx := r.Context()
	c, ok := h.approvedConsent(r, areq.ClientID, areq.RedirectURI)
	if !ok {
		return ""
	}
	var replaces string
	if c.GrantID != "" && c.GrantID != g.ID {
		old, err := h.Store.GetGrant(ctx, c.GrantID)
		if err == nil && old.Subject == g.Subject && old.ClientID == g.ClientID {
			replaces = old.ID
		}
	}
	c.GrantID = g.ID
	if err := h.Store.PutConsent(ctx, c); err != nil {
		// The sign-in stands; only the link for the next one is lost.
		h.logger().WarnContext(ctx, "callback: could not record the grant with the consent", "err", err)
	}
	return replaces
}

// tenantID is the shape of a tenant Entra names: a GUID or a domain name.
var tenantID = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.-]{0,99}$`)

// adminConsentDone answers Entra's redirect after an administrator used the
// admin-consent URL a tool result gave (it names /callback as redirect_uri):
// admin_consent=True with the tenant, or an error. It only informs: no
// grant or code comes of it. Nothing from the query is shown but the
// error code, so the page cannot carry someone else's text.
func (h *Handler) adminConsentDone(w http.ResponseWriter, r *http.Request, q url.Values) {
	if e := q.Get("error"); e != "" {
		h.logger().InfoContext(r.Context(), "admin consent not granted", "code", e, "error_description", q.Get("error_description"))
		code := "access_denied"
		if oauthErrorCode.MatchString(e) {
			code = e
		}
		errorPage(w, r, http.StatusBadRequest, code, "Administrator consent was not granted. The tools that need it keep telling users so; an administrator can try again from the link they show.")
		return
	}
	tenant := q.Get("tenant")
	if !tenantID.MatchString(tenant) {
		tenant = "" // not Entra's: nothing of it goes to the audit trail
	}
	h.audit(r, audit.AdminConsentReported, slog.String("tenant", tenant))
	infoPage(w, r, "Consent granted", "An administrator granted this server's tools the permissions they asked for, for everyone in the organization. Return to your MCP client and call the tool again.")
}
