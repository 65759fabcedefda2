package entraemu

import (
	"net/http"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// graphReadScopes are the delegated permissions that allow GET /me.
var graphReadScopes = []string{"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "Directory.Read.All"}

// handleMe serves Microsoft Graph GET /v1.0/me, so the emulator's base URL
// doubles as the Graph base URL. Only Graph tokens it issued are accepted.
func (e *Emulator) handleMe(w http.ResponseWriter, r *http.Request) {
	claims, ok := e.graphBearer(w, r)
	if !ok {
		return
	}
	scopes := strings.Fields(stringClaim(claims, "scp"))
	if !slices.ContainsFunc(scopes, func(s string) bool {
		return slices.ContainsFunc(graphReadScopes, func(g string) bool { return strings.EqualFold(g, s) })
	}) {
		e.graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	u, ok := e.User(stringClaim(claims, "oid"))
	if !ok {
		e.graphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+stringClaim(claims, "oid")+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context":    "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
		"businessPhones":    nonNil(u.BusinessPhones),
		"displayName":       u.DisplayName,
		"givenName":         nullable(u.GivenName),
		"jobTitle":          nullable(u.JobTitle),
		"mail":              nullable(u.Mail),
		"mobilePhone":       nullable(u.MobilePhone),
		"officeLocation":    nullable(u.OfficeLocation),
		"preferredLanguage": nullable(u.PreferredLanguage),
		"surname":           nullable(u.Surname),
		"userPrincipalName": u.UPN,
		"id":                u.OID,
		"department":        nullable(u.Department),
	})
}

// handleUserInfo serves the OIDC UserInfo endpoint (OIDC Core §5.3) the
// discovery document names; like Entra's, it takes a Graph token.
func (e *Emulator) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	claims, ok := e.graphBearer(w, r)
	if !ok {
		return
	}
	u, ok := e.User(stringClaim(claims, "oid"))
	if !ok {
		e.graphError(w, r, http.StatusNotFound, "Request_ResourceNotFound", "The user does not exist.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": stringClaim(claims, "sub"), "name": u.DisplayName, "family_name": u.Surname,
		"given_name": u.GivenName, "email": u.Mail,
	})
}

// graphBearer verifies the bearer token as a Graph token, answering 401 the
// way Graph does otherwise.
func (e *Emulator) graphBearer(w http.ResponseWriter, r *http.Request) (jwt.MapClaims, bool) {
	auth := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		e.graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return nil, false
	}
	claims, err := e.parseToken(strings.TrimSpace(token), e.issuer(r))
	if err != nil {
		e.graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
		return nil, false
	}
	if aud, _ := claims.GetAudience(); !slices.Contains(aud, GraphResource) && !slices.Contains(aud, GraphAppID) {
		e.graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return nil, false
	}
	return claims, true
}

// graphError writes Graph's error body ({"error":{code,message,innerError}}).
func (e *Emulator) graphError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+e.baseURL(r)+"/"+e.cfg.TenantID+`/oauth2/v2.0/authorize", client_id="`+GraphAppID+`"`)
	}
	id := e.newIDs(r)
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"innerError": map[string]string{
			"date":              id.timestamp,
			"request-id":        id.trace,
			"client-request-id": id.correlation,
		},
	}})
}

func stringClaim(c jwt.MapClaims, name string) string {
	s, _ := c[name].(string)
	return s
}

// nullable renders an empty property as JSON null, as Graph does.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
