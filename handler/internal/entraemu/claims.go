package entraemu

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// azpacr values (how the client authenticated), as Entra sets them.
const (
	azpacrPublic    = "0"
	azpacrSecret    = "1"
	azpacrAssertion = "2"
)

// pairwiseSub derives the per-application subject Entra puts in sub: stable
// for a user and app, different across apps.
func pairwiseSub(oid, appID string) string {
	sum := sha256.Sum256([]byte(oid + "|" + appID))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:43]
}

func (e *Emulator) timeClaims(claims jwt.MapClaims, lifetime time.Duration) jwt.MapClaims {
	now := e.now()
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(lifetime).Unix()
	claims["uti"] = randomToken(16)
	return claims
}

// DefaultAccessTokenClaims returns the claims of a v2 access token for the
// API app that user obtained through clientID, with all of the app's scopes,
// valid from now for the configured lifetime. Tests change them and sign
// with SignToken.
func (e *Emulator) DefaultAccessTokenClaims(u User, clientID string) jwt.MapClaims {
	azpacr := azpacrSecret
	if c, ok := e.client(clientID); ok && c.Public {
		azpacr = azpacrPublic
	}
	return e.appAccessClaims(e.Issuer(), u, clientID, azpacr, e.cfg.App.Scopes)
}

// appAccessClaims is the v2 access token for the API app: aud is the app's
// client id (never its app id URI, since the app asks for v2 tokens).
func (e *Emulator) appAccessClaims(iss string, u User, azp, azpacr string, scopes []string) jwt.MapClaims {
	return e.timeClaims(jwt.MapClaims{
		"aud":                e.cfg.App.ID,
		"iss":                iss,
		"azp":                azp,
		"azpacr":             azpacr,
		"name":               u.DisplayName,
		"oid":                u.OID,
		"preferred_username": u.UPN,
		"scp":                strings.Join(scopes, " "),
		"sub":                pairwiseSub(u.OID, e.cfg.App.ID),
		"tid":                e.cfg.TenantID,
		"ver":                "2.0",
	}, e.cfg.AccessTokenLifetime)
}

// graphAccessClaims is a Microsoft Graph token. Real Graph tokens are v1
// shaped (appid, upn, unique_name) and opaque to clients; the emulator keeps
// that shape but signs them under the tenant's v2 issuer so one key set and
// one issuer cover every token it makes.
func (e *Emulator) graphAccessClaims(iss string, u User, azp, azpacr string, scopes []string) jwt.MapClaims {
	return e.timeClaims(jwt.MapClaims{
		"aud":         GraphResource,
		"iss":         iss,
		"appid":       azp,
		"appidacr":    azpacr,
		"idtyp":       "user",
		"name":        u.DisplayName,
		"given_name":  u.GivenName,
		"family_name": u.Surname,
		"oid":         u.OID,
		"scp":         strings.Join(scopes, " "),
		"sub":         pairwiseSub(u.OID, GraphAppID),
		"tid":         e.cfg.TenantID,
		"unique_name": u.UPN,
		"upn":         u.UPN,
		"ver":         "1.0",
	}, e.cfg.AccessTokenLifetime)
}

// idTokenClaims is the OpenID Connect ID token (OIDC Core §2) for clientID.
func (e *Emulator) idTokenClaims(iss string, u User, clientID, nonce string, sr scopeRequest) jwt.MapClaims {
	c := jwt.MapClaims{
		"aud": clientID,
		"iss": iss,
		"oid": u.OID,
		"sub": pairwiseSub(u.OID, clientID),
		"tid": e.cfg.TenantID,
		"ver": "2.0",
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if sr.has("profile") {
		c["name"] = u.DisplayName
		c["preferred_username"] = u.UPN
	}
	if sr.has("email") && u.Mail != "" {
		c["email"] = u.Mail
	}
	return e.timeClaims(c, e.cfg.AccessTokenLifetime)
}

// managedIdentityClaims is the token the managed identity endpoint returns:
// an app-only token of the user-assigned identity, whose principal id is the
// subject a federated identity credential trusts.
func (e *Emulator) managedIdentityClaims(iss, resource string) jwt.MapClaims {
	return e.timeClaims(jwt.MapClaims{
		"aud":    resource,
		"iss":    iss,
		"azp":    e.cfg.ManagedIdentityClientID,
		"azpacr": azpacrAssertion,
		"idtyp":  "app",
		"oid":    e.cfg.FederatedSubject,
		"sub":    e.cfg.FederatedSubject,
		"tid":    e.cfg.TenantID,
		"ver":    "2.0",
	}, e.cfg.AccessTokenLifetime)
}

// clientInfo is the client_info member MSAL asks for (client_info=1): a
// base64url JSON object naming the account's home object and tenant ids.
func (e *Emulator) clientInfo(u User) string {
	b, _ := json.Marshal(map[string]string{"uid": u.OID, "utid": e.cfg.TenantID})
	return base64.RawURLEncoding.EncodeToString(b)
}
