package tokens

import "strings"

// NewRefresh returns a new refresh token of grant grantID:
// "<grant id>.<256 random bits>". The token stays opaque to clients
// (RFC 6749 §1.5); the grant id in it lets the store keep a grant's
// refresh tokens with the grant, so that reading one is a point read and
// revoking a family reads one partition (docs/architecture.md, State).
// The grant id is no secret (access tokens carry it as gid); the random
// part is, and the token is stored only as Hash of the whole of it, so a
// token with its grant id changed is simply unknown.
func NewRefresh(grantID string) string { return grantID + "." + NewOpaque() }

// RefreshGrant returns the grant id a refresh token names, and false when
// raw is not shaped like one NewRefresh made. Grant ids (NewOpaque) hold
// no dot.
func RefreshGrant(raw string) (string, bool) {
	id, secret, ok := strings.Cut(raw, ".")
	if !ok || id == "" || secret == "" {
		return "", false
	}
	return id, true
}
