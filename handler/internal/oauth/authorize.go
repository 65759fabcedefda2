package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// authRequestTTL bounds the whole interactive flow: consent, Entra sign-in
// and callback (MCP security best practices: state lives ~10 minutes).
const authRequestTTL = 10 * time.Minute

// consentTTL is how long a browser's approval of a client is remembered.
const consentTTL = 30 * 24 * time.Hour

// Authorize handles GET /authorize (OAuth 2.1 §4.1.1, RFC 7636, RFC 8707).
// Everything is validated before anything is redirected: until the client
// and redirect URI are known good, errors are an HTML page (RFC 6749
// §4.1.2.1); after that, errors go back to the client with state and iss.
func (h *Handler) Authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 { // RFC 6749 §3.1: parameters must not repeat
			errorPage(w, r, http.StatusBadRequest, "invalid_request", "The parameter "+k+" is repeated.")
			return
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		errorPage(w, r, http.StatusBadRequest, "invalid_request", "The request has no client_id.")
		return
	}
	client, err := h.Client(r.Context(), clientID)
	switch {
	case errors.Is(err, store.ErrUnavailable):
		errorPage(w, r, http.StatusServiceUnavailable, "temporarily_unavailable", "The sign-in service is temporarily unavailable. Please try again in a moment.")
		return
	case err != nil:
		h.logger().InfoContext(r.Context(), "authorize: unknown client", "client_id", clientID, "err", err)
		errorPage(w, r, http.StatusBadRequest, "invalid_client", "The application that sent you here is not registered with this server.")
		return
	}
	// redirect_uri is always required (every MCP client sends it): /token
	// then compares it with what it receives, with no implied default.
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" || !MatchRedirectURI(client.RedirectURIs, redirectURI) {
		h.logger().InfoContext(r.Context(), "authorize: redirect_uri not registered", "client_id", clientID)
		errorPage(w, r, http.StatusBadRequest, "invalid_request", "The redirect URI in this request is not registered for the application.")
		return
	}

	// From here on the redirect URI is registered, but anyone can register
	// any https URI: until the user has approved this client and redirect
	// URI in this browser, errors are shown here instead of being sent
	// there (RFC 9700 §4.11.2), or /authorize would be an open redirect.
	state := q.Get("state")
	_, approved := h.approvedConsent(r, client.ID, redirectURI)
	areq, oerr := h.parseAuthorize(q, client, redirectURI)
	if oerr != nil {
		h.authorizeError(w, r, approved, redirectURI, state, oerr)
		return
	}
	// A browser that already approved this client and redirect URI is not
	// asked again.
	if approved {
		h.approve(w, r, areq)
		return
	}
	// The request id travels in the consent page's URL, where it can leak;
	// binding the request to this browser's flow cookie makes a leaked id
	// useless to any other browser (checked at GET and POST /consent).
	areq.BrowserBindingHash = tokens.Hash(h.flowCookie(w, r))
	if err := h.Store.PutAuthRequest(r.Context(), areq); err != nil {
		h.authorizeError(w, r, approved, redirectURI, state, storeError(err))
		return
	}
	http.Redirect(w, r, "/consent?request="+url.QueryEscape(areq.ID), http.StatusFound)
}

// approvedConsent returns this browser's consent record for the client and
// redirect URI, if the user gave one.
func (h *Handler) approvedConsent(r *http.Request, clientID, redirectURI string) (store.Consent, bool) {
	b := h.cookie(r, cookieBrowser)
	if b == "" {
		return store.Consent{}, false
	}
	c, err := h.Store.GetConsent(r.Context(), consentKey(b, clientID, redirectURI))
	return c, err == nil
}

// authorizeError answers an invalid authorization request whose client and
// redirect URI are registered: back to the client if the user approved it
// in this browser, as an HTML page otherwise (RFC 9700 §4.11.2: a server
// may inform the user instead of redirecting to a URI it does not trust).
func (h *Handler) authorizeError(w http.ResponseWriter, r *http.Request, approved bool, redirectURI, state string, e *Error) {
	if approved {
		h.redirectError(w, r, redirectURI, state, e)
		return
	}
	if e.Err != nil || e.StatusCode() >= 500 {
		h.logger().WarnContext(r.Context(), "authorize: error", "code", e.Code, "err", e)
	}
	if status := e.StatusCode(); status >= 500 {
		errorPage(w, r, status, e.Code, "The sign-in service is temporarily unavailable. Please try again in a moment.")
		return
	}
	errorPage(w, r, http.StatusBadRequest, e.Code, "The application sent a sign-in request this server cannot accept: "+
		sanitizeDescription(e.Description)+". You have not approved this application in this browser yet, so you are not sent back to it.")
}

// parseAuthorize validates the parameters that may be answered with a
// redirect, and builds the pending request.
func (h *Handler) parseAuthorize(q url.Values, client store.Client, redirectURI string) (store.AuthRequest, *Error) {
	if rt := q.Get("response_type"); rt != "code" {
		return store.AuthRequest{}, &Error{Code: "unsupported_response_type", Description: "only response_type=code is supported"}
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "":
		return store.AuthRequest{}, InvalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256")
	case method != "S256":
		return store.AuthRequest{}, InvalidRequest("code_challenge_method must be S256")
	case !ValidChallenge(challenge):
		return store.AuthRequest{}, InvalidRequest("code_challenge is not a base64url SHA-256 value")
	}
	resource := q.Get("resource")
	if resource != "" && !h.resourceMatches(resource) {
		return store.AuthRequest{}, InvalidTarget("resource must be %s", h.Config.ResourceURL())
	}
	scope, oerr := h.checkScope(q.Get("scope"))
	if oerr != nil {
		return store.AuthRequest{}, oerr
	}
	now := h.now()
	return store.AuthRequest{
		ID:               tokens.NewOpaque(),
		ClientID:         client.ID,
		RedirectURI:      redirectURI,
		State:            q.Get("state"),
		Scope:            scope,
		Resource:         resource,
		CodeChallenge:    challenge,
		UpstreamVerifier: oauth2.GenerateVerifier(),
		Nonce:            tokens.NewOpaque(),
		CreatedAt:        now,
		ExpiresAt:        now.Add(authRequestTTL),
	}, nil
}

// checkScope accepts our MCP scope and offline_access; no scope means the
// MCP scope (MCP: clients without a challenge scope may omit it).
func (h *Handler) checkScope(raw string) (string, *Error) {
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return h.Config.MCPScope, nil
	}
	allowed := []string{h.Config.MCPScope, "offline_access"}
	for _, s := range fields {
		if !slices.Contains(allowed, s) {
			return "", InvalidScope("scope %q is not offered; use %s", s, strings.Join(allowed, " "))
		}
	}
	if !slices.Contains(fields, h.Config.MCPScope) {
		fields = append([]string{h.Config.MCPScope}, fields...)
	}
	slices.Sort(fields)
	return strings.Join(slices.Compact(fields), " "), nil
}

// resourceMatches compares an RFC 8707 resource with ours. The spec asks to
// accept an upper-case scheme or host; anything else must match exactly.
func (h *Handler) resourceMatches(resource string) bool {
	want := h.Config.ResourceURL()
	if resource == want {
		return true
	}
	u, err := url.Parse(resource)
	if err != nil || u.Fragment != "" || u.RawQuery != "" || u.User != nil {
		return false
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return u.String() == want
}

// redirectError sends an error back to the client (RFC 6749 §4.1.2.1) with
// iss (RFC 9207), so a mix-up attacker cannot pass it off as another AS's.
func (h *Handler) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, e *Error) {
	if e.Err != nil || e.StatusCode() >= 500 {
		h.logger().WarnContext(r.Context(), "authorize: error", "code", e.Code, "err", e)
	}
	v := url.Values{"error": {e.Code}, "iss": {h.Config.PublicBaseURL}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	if state != "" {
		v.Set("state", state)
	}
	http.Redirect(w, r, withQuery(redirectURI, v), http.StatusFound)
}

// withQuery adds parameters to a redirect URI that may already have a query
// (RFC 6749 §3.1.2: the query component must be retained).
func withQuery(uri string, v url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + v.Encode()
}

// storeError maps a storage failure to the error a client should see.
func storeError(err error) *Error {
	if errors.Is(err, store.ErrUnavailable) {
		return TemporarilyUnavailable(err)
	}
	return ServerError(err)
}
