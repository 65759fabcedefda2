package resource

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ErrInvalidToken is returned (wrapped) by a Verifier for any token that is
// malformed, expired, badly signed, or not issued for this resource.
var ErrInvalidToken = errors.New("invalid token")

// TokenInfo is what a verified token says about its caller.
type TokenInfo struct {
	Subject  string    // Entra object id (oid) of the user
	Name     string    // display name, when the token carries one
	Username string    // preferred_username / UPN, when the token carries one
	TenantID string    // Entra tenant id
	ClientID string    // the MCP client the token was issued to
	Scopes   []string  // granted scopes, short form as they appear in the token
	Expiry   time.Time // exp
	GrantID  string    // mode proxy: the grant holding the upstream tokens
	Issuer   string
	// Assertion is the raw bearer token when it is itself an Entra token
	// (mode entra), usable as the On-Behalf-Of user assertion. Empty in mode
	// proxy, where the client's token is never passed upstream.
	Assertion string
}

// Verifier checks a bearer token. It returns an error wrapping
// ErrInvalidToken for tokens that must get a 401; any other error is treated
// as a server-side failure (503).
type Verifier func(ctx context.Context, token string) (*TokenInfo, error)

type tokenInfoKey struct{}

// TokenInfoFrom returns the caller's verified token, if the request passed
// RequireBearer. Verifiers cache and share TokenInfo values across requests:
// treat it as read-only.
func TokenInfoFrom(ctx context.Context) (*TokenInfo, bool) {
	ti, ok := ctx.Value(tokenInfoKey{}).(*TokenInfo)
	return ti, ok
}

// WithTokenInfo returns a context carrying ti (for tests and in-process calls).
func WithTokenInfo(ctx context.Context, ti *TokenInfo) context.Context {
	return context.WithValue(ctx, tokenInfoKey{}, ti)
}

// Challenge holds what every WWW-Authenticate challenge advertises.
type Challenge struct {
	// ResourceMetadataURL is the path-inserted PRM URL (RFC 9728 §5.1).
	ResourceMetadataURL string
	// Scopes are every scope the endpoint needs. Each challenge lists all of
	// them at once (MCP 2026-07-28, SEP-2350) so clients don't step up one
	// scope at a time.
	Scopes []string
	// ScopeMatches reports whether a granted scope satisfies a required one.
	// Nil means exact string equality.
	ScopeMatches func(granted, required string) bool
}

// RequireBearer authenticates every request with verify (MCP: no
// session-based authentication; every request carries its token) and writes
// the RFC 6750 challenge when it fails. CORS, which lets browser clients
// read that challenge, and the preflight are the route's (package cors).
func RequireBearer(verify Verifier, ch Challenge, logger interface {
	WarnContext(context.Context, string, ...any)
}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearerToken(r)
			if !ok {
				// RFC 6750 §3.1: no error code when the request had no
				// authentication information at all.
				ch.write(w, http.StatusUnauthorized, "", "")
				return
			}
			ti, err := verify(r.Context(), token)
			switch {
			case errors.Is(err, ErrInvalidToken):
				ch.write(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid or expired")
				return
			case err != nil:
				logger.WarnContext(r.Context(), "token verification unavailable", "err", err)
				w.Header().Set("Retry-After", "5")
				writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "token verification is temporarily unavailable")
				return
			}
			if !ch.satisfied(ti.Scopes) {
				ch.write(w, http.StatusForbidden, "insufficient_scope", "the access token lacks a required scope")
				return
			}
			next.ServeHTTP(w, r.WithContext(WithTokenInfo(r.Context(), ti)))
		})
	}
}

// bearerToken extracts the token from the Authorization header only (MCP:
// never from the query string). The scheme is case-insensitive (RFC 9110 §11.1).
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func (ch Challenge) satisfied(granted []string) bool {
	return len(ch.Missing(granted, ch.Scopes)) == 0
}

// Grants reports whether the granted scopes (as the token carries them)
// include required (as challenges name it).
func (ch Challenge) Grants(granted []string, required string) bool {
	return slices.ContainsFunc(granted, func(g string) bool {
		if ch.ScopeMatches != nil {
			return ch.ScopeMatches(g, required)
		}
		return g == required
	})
}

// Missing returns the scopes of required that granted lacks.
func (ch Challenge) Missing(granted, required []string) []string {
	var out []string
	for _, r := range required {
		if !ch.Grants(granted, r) {
			out = append(out, r)
		}
	}
	return out
}

// Forbid writes the step-up challenge: 403 with error="insufficient_scope"
// and scope naming every scope the client should ask for in its next
// authorization request (RFC 6750 §3.1; MCP 2025-11-25, "Scope Challenge
// Handling"). desc says what was refused, for the response body.
func (ch Challenge) Forbid(w http.ResponseWriter, scopes []string, desc string) {
	ch.Scopes = scopes
	ch.write(w, http.StatusForbidden, "insufficient_scope", desc)
}

// Header renders the WWW-Authenticate value. errCode is empty when no token
// was sent.
func (ch Challenge) Header(errCode string) string {
	var b strings.Builder
	b.WriteString("Bearer ")
	if errCode != "" {
		b.WriteString(`error="` + errCode + `", `)
	}
	b.WriteString(`resource_metadata="` + ch.ResourceMetadataURL + `"`)
	if len(ch.Scopes) > 0 {
		b.WriteString(`, scope="` + strings.Join(ch.Scopes, " ") + `"`)
	}
	return b.String()
}

func (ch Challenge) write(w http.ResponseWriter, status int, errCode, desc string) {
	w.Header().Set("WWW-Authenticate", ch.Header(errCode))
	if errCode == "" {
		errCode, desc = "invalid_request", "an access token is required"
	}
	writeJSONError(w, status, errCode, desc)
}

func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
