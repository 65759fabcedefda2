package entraemu

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"time"
)

const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	clientAssertionType    = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// authedClient is a client after authentication, with the azpacr value its
// method earns.
type authedClient struct {
	*Client
	azpacr string
}

// refreshGrant is an issued refresh token.
type refreshGrant struct {
	clientID string
	user     User
	scopes   scopeRequest
	expires  time.Time
}

// handleToken is the token endpoint (RFC 6749 §3.2): it authenticates the
// client, then runs the grant.
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		e.writeJSONError(w, r, invalidRequest(900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
		return
	}
	if err := r.ParseForm(); err != nil {
		e.writeJSONError(w, r, invalidRequest(90014, "The request body could not be read as a form (too large or malformed)."))
		return
	}
	p := r.PostForm
	grant := p.Get("grant_type")
	if grant == "" {
		e.writeJSONError(w, r, missingParam("grant_type"))
		return
	}
	c, err := e.authenticateClient(r, p)
	if err != nil {
		e.writeJSONError(w, r, err)
		return
	}
	var resp map[string]any
	switch grant {
	case grantAuthorizationCode:
		resp, err = e.grantCode(r, c, p)
	case grantRefreshToken:
		resp, err = e.grantRefresh(r, c, p)
	case grantJWTBearer:
		resp, err = e.grantOnBehalfOf(r, c, p)
	default:
		err = errorf(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grant)
	}
	if err != nil {
		e.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// authenticateClient accepts client_secret_basic, client_secret_post, a
// federated client assertion (RFC 7523 §2.2), or nothing for clients
// registered as public.
func (e *Emulator) authenticateClient(r *http.Request, p url.Values) (authedClient, *Error) {
	clientID, secret := p.Get("client_id"), p.Get("client_secret")
	if user, pass, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: both halves are form-urlencoded.
		u, err1 := url.QueryUnescape(user)
		s, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil || (clientID != "" && clientID != u) {
			return authedClient{}, invalidClient(7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type; the Authorization header could not be used.")
		}
		clientID, secret = u, s
	}
	if clientID == "" {
		return authedClient{}, missingParam("client_id")
	}
	c, ok := e.client(clientID)
	if !ok {
		return authedClient{}, errorf(http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, e.cfg.TenantID)
	}
	assertion := p.Get("client_assertion")
	switch {
	case c.Public && (secret != "" || assertion != ""):
		return authedClient{}, invalidClient(700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
	case c.Public:
		return authedClient{c, azpacrPublic}, nil
	case assertion != "":
		if p.Get("client_assertion_type") != clientAssertionType {
			return authedClient{}, invalidClient(7000216, "'client_assertion_type' must be '%s'.", clientAssertionType)
		}
		if err := e.checkFederatedAssertion(r, c, assertion); err != nil {
			return authedClient{}, err
		}
		return authedClient{c, azpacrAssertion}, nil
	case secret != "":
		if c.Secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
			return authedClient{}, invalidClient(7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", c.ID)
		}
		return authedClient{c, azpacrSecret}, nil
	default:
		return authedClient{}, invalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
}

// checkFederatedAssertion emulates a federated identity credential on the
// app: the assertion must be a token this tenant's issuer signed, for the
// audience api://AzureADTokenExchange, about a configured subject (the
// managed identity's principal id).
func (e *Emulator) checkFederatedAssertion(r *http.Request, c *Client, assertion string) *Error {
	iss := e.issuer(r)
	claims, err := e.parseToken(assertion, iss)
	if err != nil {
		unverified, _ := parseUnverified(assertion)
		if got, _ := unverified["iss"].(string); got != "" && got != iss {
			return invalidClient(700211, "No matching federated identity record found for presented assertion issuer '%s'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.", got)
		}
		e.log.Info("client assertion rejected", "client_id", c.ID, "err", err)
		return invalidClient(700027, "Client assertion failed signature validation or is not within its valid time range.")
	}
	sub, _ := claims["sub"].(string)
	if !slices.Contains(c.FederatedSubjects, sub) {
		return invalidClient(700213, "No matching federated identity record found for presented assertion subject '%s'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.", sub)
	}
	if aud, _ := claims.GetAudience(); !slices.Contains(aud, FederatedAudience) {
		return invalidClient(700212, "No matching federated identity record found for presented assertion audience '%v'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.", aud)
	}
	return nil
}
