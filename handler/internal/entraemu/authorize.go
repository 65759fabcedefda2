package entraemu

import (
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// authzRequest is a validated authorization request.
type authzRequest struct {
	client      *Client
	redirectURI string
	state       string
	nonce       string
	challenge   string
	scopes      scopeRequest
}

// codeGrant is an issued authorization code.
type codeGrant struct {
	clientID    string
	redirectURI string
	challenge   string
	nonce       string
	user        User
	scopes      scopeRequest
	expires     time.Time
	redeemed    bool
}

// pkceChallenge is a base64url SHA-256 (43 chars) or any RFC 7636 §4.2 value.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

// handleAuthorize serves GET (show the sign-in page) and POST (the page's
// form, naming the chosen user) of the authorization endpoint.
func (e *Emulator) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	var params url.Values
	switch r.Method {
	case http.MethodGet:
		params = r.URL.Query()
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			e.renderError(w, r, invalidRequest(90014, "The request body could not be read."))
			return
		}
		params = r.PostForm
	default:
		e.renderError(w, r, invalidRequest(900561, "The endpoint only accepts GET, POST requests. Received a %s request.", r.Method))
		return
	}
	req, err, trusted := e.validateAuthorize(params)
	if err != nil {
		if trusted {
			e.redirectError(w, r, req.redirectURI, req.state, err)
		} else {
			e.renderError(w, r, err)
		}
		return
	}
	if r.Method == http.MethodGet {
		if params.Get("prompt") == "none" {
			// There is never a session, so a silent request cannot succeed.
			e.redirectError(w, r, req.redirectURI, req.state, errorf(http.StatusBadRequest, "login_required", 50058, "A silent sign-in request was sent but no user is signed in."))
			return
		}
		e.renderSignIn(w, r, req, params)
		return
	}
	user, ok := e.User(params.Get("user"))
	if !ok {
		e.renderError(w, r, invalidRequest(50034, "The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory.", params.Get("user"), e.cfg.TenantID))
		return
	}
	if !e.consentStep(w, r, req, user, params) {
		return
	}
	code := randomToken(48)
	e.mu.Lock()
	e.purgeLocked()
	e.codes[code] = &codeGrant{
		clientID: req.client.ID, redirectURI: req.redirectURI, challenge: req.challenge, nonce: req.nonce,
		user: user, scopes: req.scopes, expires: e.now().Add(e.cfg.CodeLifetime),
	}
	e.mu.Unlock()
	e.log.Info("audit: user signed in, code issued", "client_id", req.client.ID, "oid", user.OID)
	u, _ := url.Parse(req.redirectURI) // parsed successfully during validation
	q := u.Query()
	q.Set("code", code)
	if req.state != "" {
		q.Set("state", req.state)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// validateAuthorize checks the request in the order RFC 6749 §4.1.2.1 needs:
// client and redirect URI first (errors shown on a page, trusted=false),
// everything else afterwards (errors redirected, trusted=true).
func (e *Emulator) validateAuthorize(p url.Values) (authzRequest, *Error, bool) {
	var req authzRequest
	clientID := p.Get("client_id")
	if clientID == "" {
		return req, missingParam("client_id"), false
	}
	c, ok := e.client(clientID)
	if !ok {
		return req, errorf(http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, e.cfg.TenantID), false
	}
	req.client = c
	redirect := p.Get("redirect_uri")
	if redirect == "" {
		return req, missingParam("redirect_uri"), false
	}
	if _, err := url.Parse(redirect); err != nil || !redirectAllowed(c, redirect) {
		return req, invalidRequest(50011, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", redirect, c.ID), false
	}
	req.redirectURI, req.state, req.nonce = redirect, p.Get("state"), p.Get("nonce")

	switch rt := p.Get("response_type"); rt {
	case "code":
	case "":
		return req, missingParam("response_type"), true
	default:
		return req, errorf(http.StatusBadRequest, "unsupported_response_type", 700054, "response_type '%s' is not enabled for the application.", rt), true
	}
	if m := p.Get("response_mode"); m != "" && m != "query" {
		return req, invalidRequest(90014, "The emulator supports response_mode 'query' only; got '%s'.", m), true
	}
	sr, err := e.parseAuthorizeScopes(p.Get("scope"))
	if err != nil {
		return req, err, true
	}
	req.scopes = sr
	if res := p.Get("resource"); res != "" && !e.resourceParamMatches(res, sr) {
		return req, errorf(http.StatusBadRequest, "invalid_target", 9010010, "The resource parameter provided in the request doesn't match with the requested scopes."), true
	}
	challenge, method := p.Get("code_challenge"), p.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return req, missingParam("code_challenge"), true
	case challenge == "" && c.Public:
		return req, invalidRequest(9002325, "Proof Key for Code Exchange is required for this public client (code_challenge with code_challenge_method S256)."), true
	case challenge != "" && method != "S256":
		// Entra accepts plain (and defaults to it); the emulator refuses it so
		// that nothing built against it relies on plain.
		return req, invalidRequest(501492, "The emulator requires code_challenge_method 'S256'; got '%s'.", method), true
	case challenge != "" && !pkceChallenge.MatchString(challenge):
		return req, invalidRequest(501491, "Invalid size of Code_Challenge parameter."), true
	}
	req.challenge = challenge
	return req, nil, true
}

var signInPage = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto}button{display:block;width:100%;margin:.5rem 0;padding:.7rem;text-align:left}</style>
</head><body>
<h1>Sign in</h1>
<p>Entra emulator (tenant <code>{{.Tenant}}</code>). <strong>{{.ClientName}}</strong> wants to sign you in
and will be sent back to <code>{{.RedirectHost}}</code>.</p>
<form id="signin" method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}{{range .Users}}<button type="submit" name="user" value="{{.UPN}}" id="user-{{.OID}}" data-upn="{{.UPN}}">{{.DisplayName}} &lt;{{.UPN}}&gt;{{if .NeedsConsent}} (no consent for Graph){{end}}{{if .Admin}} (administrator){{end}}</button>
{{end}}</form></body></html>`))

type hiddenField struct{ Name, Value string }

// hiddenFields carries every request parameter but the skipped ones into
// the next form, so each POST revalidates exactly what was asked.
func hiddenFields(params url.Values, skip string) []hiddenField {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var hidden []hiddenField
	for _, k := range keys {
		if k != skip {
			hidden = append(hidden, hiddenField{k, params.Get(k)})
		}
	}
	return hidden
}

// renderSignIn shows the users to pick from.
func (e *Emulator) renderSignIn(w http.ResponseWriter, r *http.Request, req authzRequest, params url.Values) {
	hidden := hiddenFields(params, "user")
	redirectHost := req.redirectURI
	if u, err := url.Parse(req.redirectURI); err == nil {
		redirectHost = u.Host
	}
	setPageHeaders(w)
	_ = signInPage.Execute(w, map[string]any{
		"Tenant": e.cfg.TenantID, "ClientName": clientName(req.client), "RedirectHost": redirectHost,
		"Action": r.URL.Path, "Hidden": hidden, "Users": e.cfg.Users,
	})
}

// purgeLocked drops codes and refresh tokens that expired a while ago (kept
// that long so a late redemption is told "expired", not "unknown"); e.mu
// must be held.
func (e *Emulator) purgeLocked() {
	now := e.now().Add(-e.cfg.CodeLifetime)
	for k, c := range e.codes {
		if now.After(c.expires) {
			delete(e.codes, k)
		}
	}
	for k, g := range e.refresh {
		if now.After(g.expires) {
			delete(e.refresh, k)
		}
	}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.TrimRight(base64.RawURLEncoding.EncodeToString(b), "=")
}
