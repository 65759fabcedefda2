package entraemu

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// grantCode redeems an authorization code (RFC 6749 §4.1.3) with its PKCE
// verifier (RFC 7636 §4.6). Codes are single use.
func (e *Emulator) grantCode(r *http.Request, c authedClient, p url.Values) (map[string]any, *Error) {
	code := p.Get("code")
	if code == "" {
		return nil, missingParam("code")
	}
	e.mu.Lock()
	g, ok := e.codes[code]
	var used bool
	if ok {
		used, g.redeemed = g.redeemed, true
	}
	e.mu.Unlock()
	switch {
	case !ok || g.clientID != c.ID:
		return nil, invalidGrant(70000, "The provided value for the 'code' parameter is not valid.")
	case used:
		return nil, invalidGrant(54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case e.now().After(g.expires):
		return nil, invalidGrant(70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	}
	redirect := p.Get("redirect_uri")
	if redirect == "" {
		return nil, missingParam("redirect_uri")
	}
	if redirect != g.redirectURI {
		return nil, invalidGrant(500112, "The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", redirect, g.redirectURI)
	}
	if g.challenge != "" {
		verifier := p.Get("code_verifier")
		sum := sha256.Sum256([]byte(verifier))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if verifier == "" || subtle.ConstantTimeCompare([]byte(want), []byte(g.challenge)) != 1 {
			return nil, invalidGrant(501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	}
	e.log.Info("audit: code redeemed", "client_id", c.ID, "oid", g.user.OID)
	return e.issueTokens(r, c, g.user, g.scopes, g.nonce)
}

// grantRefresh redeems a refresh token (RFC 6749 §6). A new refresh token
// comes back each time; like Entra, the old one stays valid until it
// expires, so concurrent refreshes of one token both succeed. A scope
// parameter may ask for another resource, as Entra's refresh tokens allow.
func (e *Emulator) grantRefresh(r *http.Request, c authedClient, p url.Values) (map[string]any, *Error) {
	rt := p.Get("refresh_token")
	if rt == "" {
		return nil, missingParam("refresh_token")
	}
	e.mu.Lock()
	g, ok := e.refresh[rt]
	e.mu.Unlock()
	switch {
	case !ok:
		return nil, invalidGrant(9002313, "Invalid request. Request is malformed or invalid.")
	case g.clientID != c.ID:
		return nil, invalidGrant(70000, "Provided grant is invalid or malformed.")
	case e.now().After(g.expires):
		return nil, invalidGrant(700082, "The refresh token has expired due to inactivity. The token was issued on a date and was inactive for longer than allowed.")
	}
	sr := g.scopes
	if raw := p.Get("scope"); raw != "" {
		var err *Error
		if sr, err = e.parseScopes(raw); err != nil {
			return nil, err
		}
		if sr.resource == resourceGraph {
			if err := e.graphConsent(c.Client, g.user, &sr); err != nil {
				return nil, err
			}
		}
	}
	e.log.Info("audit: refresh token redeemed", "client_id", c.ID, "oid", g.user.OID)
	return e.issueTokens(r, c, g.user, sr, "")
}

// grantOnBehalfOf is the On-Behalf-Of flow: the assertion is an access token
// for this client (aud = its client id) and the answer is a token for another
// resource, for the same user.
func (e *Emulator) grantOnBehalfOf(r *http.Request, c authedClient, p url.Values) (map[string]any, *Error) {
	if c.Public {
		return nil, invalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	if p.Get("requested_token_use") != "on_behalf_of" {
		if p.Get("requested_token_use") == "" {
			return nil, missingParam("requested_token_use")
		}
		return nil, invalidRequest(70011, "The provided value for the input parameter 'requested_token_use' is not valid.")
	}
	assertion := p.Get("assertion")
	if assertion == "" {
		return nil, missingParam("assertion")
	}
	claims, err := e.parseToken(assertion, e.issuer(r))
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, invalidGrant(500133, "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.")
		}
		return nil, invalidGrant(50013, "Assertion failed signature validation. [Reason - %s]", firstLine(err))
	}
	if aud, _ := claims.GetAudience(); !slices.Contains(aud, c.ID) && !slices.Contains(aud, c.AppIDURI) {
		return nil, invalidGrant(50013, "Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '%v' and the expected audience is '%s' or one of the Application Id URIs of this application.", aud, c.ID)
	}
	oid, _ := claims["oid"].(string)
	user, ok := e.User(oid)
	if !ok || oid == "" {
		return nil, invalidGrant(50034, "The user account %s does not exist in the %s directory.", oid, e.cfg.TenantID)
	}
	raw := p.Get("scope")
	if raw == "" {
		return nil, missingParam("scope")
	}
	sr, perr := e.parseScopes(raw)
	if perr != nil {
		return nil, perr
	}
	if sr.resource == resourceGraph {
		if err := e.graphConsent(c.Client, user, &sr); err != nil {
			return nil, err
		}
	}
	e.log.Info("audit: on-behalf-of token issued", "client_id", c.ID, "oid", user.OID)
	return e.issueTokens(r, c, user, sr, "")
}

// graphConsent resolves Graph scopes against the permissions user u has
// consented to for client c (".default" means all of them) and answers
// Entra's consent-required error when one is missing: On-Behalf-Of and
// refresh cannot prompt.
func (e *Emulator) graphConsent(c *Client, u User, sr *scopeRequest) *Error {
	if c.Public {
		return nil
	}
	if sr.isDefault {
		sr.names = e.consented(c, u)
	}
	if len(sr.names) == 0 || len(e.missingConsent(c, u, sr.names)) > 0 {
		err := invalidGrant(65001, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", c.ID, clientName(c))
		err.Suberror = "consent_required"
		return err
	}
	return nil
}

// issueTokens builds the token response: an access token for the requested
// resource, an ID token with openid, a refresh token with offline_access,
// and client_info when MSAL asks for it.
func (e *Emulator) issueTokens(r *http.Request, c authedClient, u User, sr scopeRequest, nonce string) (map[string]any, *Error) {
	iss := e.issuer(r)
	var claims jwt.MapClaims
	switch sr.resource {
	case resourceApp:
		claims = e.appAccessClaims(iss, u, c.ID, c.azpacr, sr.names)
	default:
		names := sr.names
		if sr.resource == resourceNone {
			names = slices.DeleteFunc(slices.Clone(sr.oidc), func(s string) bool { return s == "offline_access" })
		}
		claims = e.graphAccessClaims(iss, u, c.ID, c.azpacr, names)
	}
	at, err := e.SignToken(claims)
	if err != nil {
		return nil, errorf(http.StatusInternalServerError, "server_error", 90033, "A transient error has occurred. Please try again.")
	}
	secs := int(e.cfg.AccessTokenLifetime.Seconds())
	resp := map[string]any{
		"token_type":     "Bearer",
		"scope":          e.granted(sr),
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   at,
	}
	if sr.has("openid") {
		idt, err := e.SignToken(e.idTokenClaims(iss, u, c.ID, nonce, sr))
		if err != nil {
			return nil, errorf(http.StatusInternalServerError, "server_error", 90033, "A transient error has occurred. Please try again.")
		}
		resp["id_token"] = idt
	}
	if sr.has("offline_access") {
		rt := randomToken(64)
		e.mu.Lock()
		e.purgeLocked()
		e.refresh[rt] = &refreshGrant{clientID: c.ID, user: u, scopes: sr, expires: e.now().Add(e.cfg.RefreshTokenLifetime)}
		e.mu.Unlock()
		resp["refresh_token"] = rt
	}
	if r.PostForm.Get("client_info") == "1" {
		resp["client_info"] = e.clientInfo(u)
	}
	return resp, nil
}

func parseUnverified(raw string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(raw, claims)
	return claims, err
}

func firstLine(err error) string {
	s := err.Error()
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
