package tokens

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokencache"
)

const (
	// Leeway tolerates clock skew between instances and APIM when checking
	// exp, nbf and iat.
	Leeway = 30 * time.Second
	// maxLifetime bounds exp-iat of any token we accept; it is the largest
	// ACCESS_TOKEN_TTL config allows, so a longer-lived token cannot be ours.
	maxLifetime = 24 * time.Hour
	// MaxTokenLen rejects oversized input before any parsing; ours are
	// under 1 KB.
	MaxTokenLen = 4096
	// typ is the RFC 9068 §2.1 media type, which keeps our access tokens
	// from being confused with any other JWT (RFC 8725 §3.11).
	typ = "at+jwt"
)

// AccessClaims are the claims of an access token (RFC 9068 §2.2).
type AccessClaims struct {
	Subject   string    // sub: the user's Entra object id (oid)
	ClientID  string    // client_id: the MCP client the token was issued to
	Scope     string    // scope: space-separated (RFC 9068 §2.2.3)
	GrantID   string    // gid: the grant holding the sealed upstream tokens
	ID        string    // jti: set by Mint
	IssuedAt  time.Time // iat: set by Mint
	ExpiresAt time.Time // exp: set by Mint
}

// wireClaims is the JSON payload. aud is a single resource, the MCP endpoint
// (RFC 8707; docs/architecture.md §6.1).
type wireClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
	GrantID  string `json:"gid"`
}

// Issuer mints and verifies access tokens and serves the public JWK Set.
// It is safe for concurrent use.
type Issuer struct {
	now               func() time.Time
	issuer, audience  string
	ttl               time.Duration
	current, previous *SigningKey // previous may be nil
	// jwks is marshalled on first use, like everything that needs the key
	// material: an ephemeral key is generated only then.
	jwks   func() []byte
	parser *jwt.Parser
	// verified remembers tokens that passed Verify until they expire: a
	// client sends the same token on every MCP request, and even an RS256
	// check (tens of µs) would be a large share of a cheap request.
	verified *tokencache.Cache[AccessClaims]
}

// verifiedCacheSize bounds the verified-token cache (about 200 bytes an
// entry).
const verifiedCacheSize = 10000

// IssuerOptions are what an Issuer puts into and demands of its tokens.
type IssuerOptions struct {
	Issuer   string        // iss: PUBLIC_BASE_URL exactly
	Audience string        // aud: the MCP resource, PUBLIC_BASE_URL + "/mcp" (RFC 8707)
	TTL      time.Duration // lifetime, ACCESS_TOKEN_TTL; default 1 h
	// Now is the clock for iat, exp and their checks; default time.Now.
	Now func() time.Time
}

// NewIssuer builds an Issuer. previous may be nil; its tokens keep
// verifying, and it is published in the JWKS.
func NewIssuer(opts IssuerOptions, current, previous *SigningKey) (*Issuer, error) {
	if current == nil {
		return nil, errors.New("tokens: no signing key")
	}
	if opts.Issuer == "" || opts.Audience == "" {
		return nil, errors.New("tokens: no issuer or audience (PUBLIC_BASE_URL)")
	}
	i := &Issuer{
		now:      opts.Now,
		issuer:   opts.Issuer,
		audience: opts.Audience,
		ttl:      opts.TTL,
		current:  current,
		previous: previous,
	}
	if i.now == nil {
		i.now = time.Now
	}
	if i.ttl <= 0 {
		i.ttl = time.Hour
	}
	i.verified = tokencache.New[AccessClaims](verifiedCacheSize, i.now)
	i.jwks = sync.OnceValue(i.marshalJWKS)
	i.parser = jwt.NewParser(
		// Only RS256, the one algorithm we sign with; the token's alg header
		// is checked against this list before any key is looked up. This
		// alone rejects "none", HS256 keyed with our public key, ES256 and
		// the other RSA algorithms (RFC 8725 §2.1, §3.1).
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(i.issuer),
		jwt.WithAudience(i.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(i.now),
	)
	return i, nil
}

// Issuer is the iss value: PUBLIC_BASE_URL.
func (i *Issuer) Issuer() string { return i.issuer }

// Audience is the aud value: the MCP resource URL.
func (i *Issuer) Audience() string { return i.audience }

// JWKS returns the public JWK Set (RFC 7517 §5) with the current and the
// previous key. The bytes are shared: callers must not modify them.
func (i *Issuer) JWKS() []byte { return i.jwks() }

func (i *Issuer) marshalJWKS() []byte {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{i.current.jwk()}}
	if i.previous != nil && i.previous.KeyID() != i.current.KeyID() {
		set.Keys = append(set.Keys, i.previous.jwk())
	}
	// Only strings: Marshal cannot fail.
	b, _ := json.Marshal(set)
	return b
}

// Mint signs an access token for c with the current key. Subject,
// ClientID and GrantID are required; ID, IssuedAt and ExpiresAt are set
// here. It returns the compact JWS and its expiry.
func (i *Issuer) Mint(c AccessClaims) (string, time.Time, error) {
	if c.Subject == "" || c.ClientID == "" || c.GrantID == "" {
		return "", time.Time{}, errors.New("tokens: mint: subject, client id and grant id are required")
	}
	now := i.now().Truncate(time.Second)
	exp := now.Add(i.ttl)
	wc := wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{i.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        newID(),
		},
		ClientID: c.ClientID,
		Scope:    c.Scope,
		GrantID:  c.GrantID,
	}
	key := i.current.material()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, wc)
	t.Header["typ"] = typ
	t.Header["kid"] = key.kid
	s, err := t.SignedString(key.priv)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("tokens: mint: %w", err)
	}
	return s, exp, nil
}

// Verify checks a token's signature (RS256 only, kid among the current and
// previous keys), typ, exact iss, aud containing our resource, a required
// exp, sane nbf/iat (30 s leeway) and the presence of sub, client_id, jti
// and gid. Every failure wraps resource.ErrInvalidToken, so the bearer
// middleware answers 401 invalid_token (RFC 6750 §3.1), and its cause
// (jwt.ErrTokenExpired, …) for logs and errors.Is.
func (i *Issuer) Verify(token string) (AccessClaims, error) {
	if len(token) > MaxTokenLen {
		return AccessClaims{}, fmt.Errorf("%w: longer than %d bytes", resource.ErrInvalidToken, MaxTokenLen)
	}
	if c, ok := i.verified.Get(token); ok {
		return c, nil
	}
	var wc wireClaims
	if _, err := i.parser.ParseWithClaims(token, &wc, i.key); err != nil {
		return AccessClaims{}, fmt.Errorf("%w: %w", resource.ErrInvalidToken, err)
	}
	if wc.Subject == "" || wc.ClientID == "" || wc.GrantID == "" || wc.ID == "" || wc.IssuedAt == nil {
		return AccessClaims{}, fmt.Errorf("%w: missing sub, client_id, gid, jti or iat", resource.ErrInvalidToken)
	}
	iat, exp := wc.IssuedAt.Time, wc.ExpiresAt.Time
	if exp.Sub(iat) > maxLifetime+Leeway {
		return AccessClaims{}, fmt.Errorf("%w: lifetime %s exceeds %s", resource.ErrInvalidToken, exp.Sub(iat), maxLifetime)
	}
	c := AccessClaims{
		Subject:   wc.Subject,
		ClientID:  wc.ClientID,
		Scope:     wc.Scope,
		GrantID:   wc.GrantID,
		ID:        wc.ID,
		IssuedAt:  iat,
		ExpiresAt: exp,
	}
	i.verified.Put(token, c, exp)
	return c, nil
}

// key is the jwt.Keyfunc: it runs after the alg check and picks the
// verification key by kid among our own keys. A token without a known kid
// is rejected rather than tried against every key, and no key is ever
// taken from the token (jwk, jku, x5c headers are ignored; RFC 8725 §3.10).
func (i *Issuer) key(t *jwt.Token) (any, error) {
	if h, _ := t.Header["typ"].(string); !strings.EqualFold(h, typ) && !strings.EqualFold(h, "application/"+typ) {
		return nil, fmt.Errorf("typ %q, want %q", h, typ)
	}
	kid, _ := t.Header["kid"].(string)
	for _, k := range []*SigningKey{i.current, i.previous} {
		if k != nil && kid != "" && kid == k.KeyID() {
			return publicKey(k), nil
		}
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

func publicKey(k *SigningKey) *rsa.PublicKey { return &k.material().priv.PublicKey }

// newID returns a 128-bit random jti: unique enough for revocation lists
// and shorter than NewOpaque, which keeps the token small.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
