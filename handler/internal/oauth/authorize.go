package oauth

import (
	"errors"
	"fmt"
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

// maxStateLen bounds the client's state, which is stored with the pending
// request and echoed in the redirect back. Clients send a random value
// (tens of bytes) or, like vscode.dev's redirect page, a return URL
// (hundreds); a cap keeps every GET /authorize from storing tens of KB and
// a redirect from carrying them.
const maxStateLen = 1024

// Authorize handles GET /authorize (OAuth 2.1 §4.1.1, RFC 7636, RFC 8707).
// Everything is validated before anything is redirected: until the client
// and redirect URI are known good, errors are an HTML page (RFC 6749
// §4.1.2.1); after that, errors go back to the client with state and iss.
func (h *Handler) Authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	client, redirectURI, ok := h.authorizeClient(w, r, q)
	if !ok {
		return
	}
	// From here on the redirect URI is registered, but anyone can register
	// any https URI: until the user has approved this client and redirect
	// URI in this browser, errors are shown here instead of being sent
	// there (RFC 9700 §4.11.2), or /authorize would be an open redirect.
	state := q.Get("state")
	if len(state) > maxStateLen {
		// Not redirected even for an approved client: the state cannot be
		// echoed, so the client could not match the answer anyway.
		errorPage(w, r, http.StatusBadRequest, "invalid_request", fmt.Sprintf("The application sent a state parameter longer than %d bytes.", maxStateLen))
		return
	}
	consent, approved := h.approvedConsent(r, client.ID, redirectURI)
	areq, oerr := h.parseAuthorize(q, client, redirectURI)
	if oerr != nil {
		h.authorizeError(w, r, approved, redirectURI, state, oerr)
		return
	}
	// A browser that already approved this client and redirect URI for at
	// least this scope is not asked again; a wider scope is asked for.
	if approved && scopeCovers(consent.Scope, areq.Scope) {
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

// authorizeClient checks what must hold before anything may be sent to
// the client: no repeated parameter (RFC 6749 §3.1), a known client, and a
// redirect_uri registered for it. Every failure is an HTML page (RFC 6749
// §4.1.2.1); ok is false once it has answered. redirect_uri is always
// required (every MCP client sends it): /token then compares it with what
// it receives, with no implied default.
func (h *Handler) authorizeClient(w http.ResponseWriter, r *http.Request, q url.Values) (store.Client, string, bool) {
	for k, v := range q {
		if len(v) > 1 {
			errorPage(w, r, http.StatusBadRequest, "invalid_request", "The parameter "+k+" is repeated.")
			return store.Client{}, "", false
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		errorPage(w, r, http.StatusBadRequest, "invalid_request", "The request has no client_id.")
		return store.Client{}, "", false
	}
	client, err := h.Client(r.Context(), clientID)
	switch {
	case errors.Is(err, store.ErrUnavailable):
		unavailablePage(w, r)
		return store.Client{}, "", false
	case err != nil:
		h.logger().InfoContext(r.Context(), "authorize: unknown client", "client_id", clientID, "err", err)
		errorPage(w, r, http.StatusBadRequest, "invalid_client", "The application that sent you here is not registered with this server.")
		return store.Client{}, "", false
	}
	switch blocked, err := h.blocked(r.Context(), client.ID); {
	case err != nil:
		h.storeFailed(w, r, err, "The sign-in service is temporarily unavailable. Please try again in a moment.")
		return store.Client{}, "", false
	case blocked:
		h.logger().InfoContext(r.Context(), "authorize: client blocked by the operator", "client_id", clientID)
		errorPage(w, r, http.StatusForbidden, "access_denied", "The operator of this server has blocked this application. Ask your administrator if you think this is a mistake.")
		return store.Client{}, "", false
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" || len(redirectURI) > maxRedirectURILen || !MatchRedirectURI(client.RedirectURIs, redirectURI) {
		h.logger().InfoContext(r.Context(), "authorize: redirect_uri not registered", "client_id", clientID)
		errorPage(w, r, http.StatusBadRequest, "invalid_request", "The redirect URI in this request is not registered for the application.")
		return store.Client{}, "", false
	}
	return client, redirectURI, true
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
		return store.AuthRequest{}, InvalidTarget("resource must be %s", h.Options.ResourceURL)
	}
	scope, oerr := h.checkScope(q.Get("scope"), client)
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

// scopeOffline is the OpenID Connect scope for refresh tokens. Here it
// stands for "stay signed in", which the consent page states.
const scopeOffline = "offline_access"

// checkScope returns the scope a request is granted: the base scope
// (always: MCP clients without a challenge scope may omit scope), every
// other scope of ours it asks for (a step-up challenge names them), and
// offline_access exactly when the client is registered for the
// refresh_token grant. Whether a refresh token is issued is the
// authorization server's decision from the client's registered grant types
// (OAuth 2.1 has no way to ask for one; MCP SEP-2207), and MCP clients take
// their scope from the challenge, which does not name offline_access: so it
// is added for every client that can refresh, and dropped for one that
// cannot (RFC 6749 §3.3 lets the server grant other than asked for and say
// so in the token response). The consent page lists every scope, staying
// signed in included, so the user sees and approves each.
func (h *Handler) checkScope(raw string, client store.Client) (string, *Error) {
	fields := []string{h.Options.MCPScope}
	for _, s := range strings.Fields(raw) {
		if _, ok := h.scope(s); !ok && s != scopeOffline {
			return "", InvalidScope("scope %q is not offered; use any of %s", s, strings.Join(h.offered(), " "))
		}
		if s != scopeOffline && !slices.Contains(fields, s) {
			fields = append(fields, s)
		}
	}
	if allowsGrant(client, grantRefresh) {
		fields = append(fields, scopeOffline)
	}
	slices.Sort(fields)
	return strings.Join(fields, " "), nil
}

// offered lists the scopes a client may ask for: ours, then offline_access.
func (h *Handler) offered() []string {
	var out []string
	for _, s := range h.scopes() {
		out = append(out, s.Name)
	}
	return append(out, scopeOffline)
}

// scopeCovers reports whether every scope in want is in have.
func scopeCovers(have, want string) bool {
	h := strings.Fields(have)
	for _, s := range strings.Fields(want) {
		if !slices.Contains(h, s) {
			return false
		}
	}
	return true
}

// allowsGrant reports whether the client registered grant type gt. A
// client with no grant_types has RFC 7591 §2's default, authorization_code.
func allowsGrant(c store.Client, gt string) bool {
	if len(c.GrantTypes) == 0 {
		return gt == grantAuthCode
	}
	return slices.Contains(c.GrantTypes, gt)
}

// resourceMatches compares an RFC 8707 resource with ours. The spec asks to
// accept an upper-case scheme or host; anything else must match exactly.
func (h *Handler) resourceMatches(resource string) bool {
	want := h.Options.ResourceURL
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
	v := url.Values{"error": {e.Code}, "iss": {h.Options.PublicBaseURL}}
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
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return TemporarilyUnavailable(err)
	case errors.Is(err, store.ErrTooLarge):
		// Input is validated against tighter limits first; reaching the
		// store's limit is still the request's fault, not the server's.
		return &Error{Code: CodeInvalidRequest, Description: "the request is too large to store", Err: err}
	}
	return ServerError(err)
}
