package oauth

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// The consent page is required of an MCP proxy that talks upstream as one
// static client (MCP security best practices, "Confused Deputy Problem"):
// the user must approve each client before we redirect to Entra. It names
// the client, shows where the browser will be sent back to, lists the
// scopes, carries a CSRF token and cannot be framed.

type scopeView struct {
	Name, Description string
	// New: this browser approved the client before, without this scope.
	New bool
}

type consentView struct {
	// ClientName is the name the client gave (client_name); for a
	// registered client without one, its ID.
	ClientName string
	// ClientHost is set for a client ID metadata document: the host that
	// serves it, the one thing about the app the server can vouch for.
	// The page then names the app by it and shows ClientName as the app's
	// own, unverified claim.
	ClientHost                           string
	ClientID, RedirectHost, ResourceName string
	RequestID, CSRFToken, Action         string
	Loopback                             bool
	// CrossOrigin: the redirect URI is not on the client_id's origin (nor
	// loopback, which has its own warning).
	CrossOrigin bool
	Scopes      []scopeView
	// Widening: the user approved this client (and redirect URI) in this
	// browser before, for less than it asks for now; the new scopes are
	// marked.
	Widening bool
}

// Consent serves the consent page, GET /consent?request=<id>.
func (h *Handler) Consent(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("request")
	areq, ok := h.pendingRequest(w, r, id)
	if !ok {
		return
	}
	client, err := h.Client(r.Context(), areq.ClientID)
	if err != nil {
		h.lookupFailed(w, r, err, "invalid_client", "The application that started this sign-in is no longer registered.")
		return
	}
	csrf := h.cookie(r, cookieCSRF)
	if csrf == "" {
		csrf = tokens.NewOpaque()
		h.setCookie(w, cookieCSRF, csrf, authRequestTTL, http.SameSiteStrictMode)
	}
	u, _ := url.Parse(areq.RedirectURI)
	prev, approvedBefore := h.approvedConsent(r, client.ID, areq.RedirectURI)
	view := consentView{
		ClientName:   displayName(client),
		ClientID:     client.ID,
		RedirectHost: redirectHost(u),
		ResourceName: h.Options.ResourceName,
		RequestID:    areq.ID,
		CSRFToken:    csrf,
		Action:       "/consent",
		Loopback:     IsLoopbackRedirectURI(areq.RedirectURI),
		Scopes:       h.scopeViews(areq.Scope, prev.Scope, approvedBefore),
		Widening:     approvedBefore,
	}
	if docURL, err := url.Parse(client.ID); err == nil && strings.HasPrefix(client.ID, "https://") {
		view.ClientHost = docURL.Host
		view.ClientName = client.Name
		view.CrossOrigin = !view.Loopback && originSource(areq.RedirectURI) != originSource(client.ID)
	}
	setPageHeadersCSP(w, consentCSP(h.Options.AuthorityHost, areq.RedirectURI))
	if err := templates.ExecuteTemplate(w, "consent.html", view); err != nil {
		h.logger().ErrorContext(r.Context(), "consent: render", "err", err)
	}
}

// ConsentDecision handles the consent form's post, POST /consent: CSRF
// check, single-use request, then either access_denied to the client or
// the upstream sign-in.
func (h *Handler) ConsentDecision(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		if oerr := bodyReadError(err); oerr != nil {
			status = oerr.StatusCode()
		}
		errorPage(w, r, status, "invalid_request", "The consent form could not be read.")
		return
	}
	// Double-submit: the form's token must equal the __Host- cookie, which
	// no other site can set or read.
	if !equalSecret(r.PostForm.Get("csrf_token"), h.cookie(r, cookieCSRF)) || !sameOrigin(r, h.Options.PublicBaseURL) {
		h.logger().WarnContext(r.Context(), "consent: CSRF check failed")
		errorPage(w, r, http.StatusForbidden, "access_denied", "This consent form was not submitted from this server's page. Start the sign-in again.")
		return
	}
	decision := r.PostForm.Get("decision")
	if decision != "approve" && decision != "deny" {
		errorPage(w, r, http.StatusBadRequest, "invalid_request", "Choose Approve or Deny.")
		return
	}
	// Check the browser before taking the request: a leaked request id
	// posted from another browser must neither answer nor use it up.
	if _, ok := h.pendingRequest(w, r, r.PostForm.Get("request")); !ok {
		return
	}
	areq, err := h.Store.TakeAuthRequest(r.Context(), r.PostForm.Get("request"))
	if err != nil || areq.Approved || !h.sameBrowser(r, areq) {
		h.lookupFailed(w, r, err, "invalid_request", "This sign-in request has expired or was already answered. Start the sign-in again.")
		return
	}
	if decision == "deny" {
		h.audit(r, audit.ConsentDenied, slog.String("client_id", areq.ClientID), slog.String("redirect_uri", areq.RedirectURI))
		h.redirectError(w, r, areq.RedirectURI, areq.State, AccessDenied("the user denied the request"))
		return
	}
	browser := h.cookie(r, cookieBrowser)
	if browser == "" {
		browser = tokens.NewOpaque()
	}
	h.setCookie(w, cookieBrowser, browser, consentTTL, http.SameSiteLaxMode)
	now := h.now()
	// A widened approval keeps the link to the grant the last one led to
	// (linkGrant in callback.go).
	prev, _ := h.approvedConsent(r, areq.ClientID, areq.RedirectURI)
	if err := h.Store.PutConsent(r.Context(), store.Consent{
		Key: consentKey(browser, areq.ClientID, areq.RedirectURI), ClientID: areq.ClientID,
		RedirectURI: areq.RedirectURI, Scope: areq.Scope, GrantID: prev.GrantID, CreatedAt: now, ExpiresAt: now.Add(consentTTL),
	}); err != nil {
		h.redirectError(w, r, areq.RedirectURI, areq.State, storeError(err))
		return
	}
	h.audit(r, audit.ConsentApproved, slog.String("client_id", areq.ClientID),
		slog.String("redirect_uri", areq.RedirectURI), slog.String("scope", areq.Scope))
	h.approve(w, r, areq)
}

// approve starts the upstream leg. The state Entra sees is created only now,
// after consent, under a fresh id, bound to this browser by the flow cookie
// and stored server-side for single use at /callback.
func (h *Handler) approve(w http.ResponseWriter, r *http.Request, areq store.AuthRequest) {
	areq.ID = tokens.NewOpaque()
	areq.Approved = true
	areq.BrowserBindingHash = tokens.Hash(h.flowCookie(w, r))
	areq.ExpiresAt = h.now().Add(authRequestTTL)
	if err := h.Store.PutAuthRequest(r.Context(), areq); err != nil {
		h.redirectError(w, r, areq.RedirectURI, areq.State, storeError(err))
		return
	}
	http.Redirect(w, r, h.Upstream.AuthCodeURL(areq.ID, areq.UpstreamVerifier, areq.Nonce, h.permissions(areq.Scope)), http.StatusFound)
}

// permissions are the Entra delegated permissions the scopes map to. The
// sign-in asks Entra for them besides our API scope (incremental consent:
// Entra asks the user for those not consented yet, or says an
// administrator must approve them); its code still yields a token for our
// API only, the resource of the first scope
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).
func (h *Handler) permissions(scope string) []string {
	var out []string
	for _, name := range strings.Fields(scope) {
		s, _ := h.scope(name)
		for _, p := range s.Permissions {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// pendingRequest loads a not-yet-approved request for the consent page,
// if this is the browser that started it.
func (h *Handler) pendingRequest(w http.ResponseWriter, r *http.Request, id string) (store.AuthRequest, bool) {
	if id == "" {
		errorPage(w, r, http.StatusBadRequest, "invalid_request", "The consent page was opened without a sign-in request.")
		return store.AuthRequest{}, false
	}
	areq, err := h.Store.GetAuthRequest(r.Context(), id)
	if err != nil || areq.Approved {
		h.lookupFailed(w, r, err, "invalid_request", "This sign-in request has expired or was already answered. Start the sign-in again.")
		return store.AuthRequest{}, false
	}
	if !h.sameBrowser(r, areq) {
		h.logger().WarnContext(r.Context(), "consent: browser binding mismatch", "client_id", areq.ClientID)
		errorPage(w, r, http.StatusForbidden, "access_denied", "This sign-in was started in a different browser. Start the sign-in again from your application.")
		return store.AuthRequest{}, false
	}
	return areq, true
}

// scopeViews describes each scope of the request in words, marking those
// a previous approval in this browser (previous, when approvedBefore) did
// not include.
func (h *Handler) scopeViews(scope, previous string, approvedBefore bool) []scopeView {
	var out []scopeView
	had := strings.Fields(previous)
	for _, name := range strings.Fields(scope) {
		v := scopeView{Name: name, New: approvedBefore && !slices.Contains(had, name)}
		s, _ := h.scope(name)
		switch {
		case name == scopeOffline:
			ttl := humanDuration(h.Options.RefreshTokenTTL)
			v.Description = "stay signed in for up to " + ttl + ": the application renews its access without asking you again; after " + ttl + " you sign in again"
		case s.Description != "":
			v.Description = s.Description
		case name == h.Options.MCPScope:
			v.Description = "use the tools of " + h.Options.ResourceName + " as you"
		default:
			v.Description = name
		}
		out = append(out, v)
	}
	return out
}

// humanDuration spells a lifetime the way the consent page states it:
// whole days as days, anything else in hours.
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return plural(int64(d/(24*time.Hour)), "day")
	}
	return plural(int64((d+time.Hour-1)/time.Hour), "hour")
}

func displayName(c store.Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// redirectHost is what the user must recognise: the host (and port) for
// web redirects, the scheme for private-use schemes (vscode://…).
func redirectHost(u *url.URL) string {
	if u == nil {
		return ""
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	return u.Host
}

// sameOrigin rejects cross-site form posts when the browser tells us the
// origin (Origin or Sec-Fetch-Site); absent headers fall back to the CSRF
// token alone.
func sameOrigin(r *http.Request, base string) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" && o != base {
		return false
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return false
	}
	return true
}

// lookupFailed answers a browser whose request names a record that could
// not be read: when the store is unavailable, the outage page (503
// temporarily_unavailable: try again, nothing is wrong with the sign-in);
// otherwise the page for code and message (400).
func (h *Handler) lookupFailed(w http.ResponseWriter, r *http.Request, err error, code, message string) {
	if errors.Is(err, store.ErrUnavailable) {
		h.logger().WarnContext(r.Context(), "state unavailable", "err", err)
		unavailablePage(w, r)
		return
	}
	errorPage(w, r, http.StatusBadRequest, code, message)
}

// unavailablePage is the browser's 503 temporarily_unavailable.
func unavailablePage(w http.ResponseWriter, r *http.Request) {
	errorPage(w, r, http.StatusServiceUnavailable, CodeTemporarilyUnavailable, "The sign-in service is temporarily unavailable. Please try again in a moment.")
}
