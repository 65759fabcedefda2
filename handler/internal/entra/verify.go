package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokencache"
)

// Verifier checks Entra v2 access tokens issued for our app (mode entra).
// Keys are found lazily through the tenant's openid-configuration on the
// first token, so start-up makes no network call (docs/architecture.md §9.5,
// §14).
type Verifier struct {
	AuthorityHost string // https://login.microsoftonline.com, no trailing slash
	TenantID      string
	Audiences     []string // the app client id and its app id URI
	HTTPClient    *http.Client
	Now           func() time.Time
	// Leeway tolerates clock skew on exp/nbf/iat.
	Leeway time.Duration
	// RefreshUnknownKID limits how often an unknown kid triggers a JWKS
	// refetch (signing keys roll over; forged kids must not become a
	// request amplifier against Entra).
	RefreshUnknownKID *rate.Limiter

	// verified remembers tokens that passed, until they expire, so a
	// token's RS256 signature is checked once, not on every MCP request.
	verified     *tokencache.Cache[*resource.TokenInfo]
	verifiedOnce sync.Once

	mu       sync.Mutex
	kf       keyfunc.Keyfunc
	lastFail time.Time
	cancel   context.CancelFunc
}

// Issuer is the tenant's v2 issuer, e.g. https://login.microsoftonline.com/<tid>/v2.0.
func (v *Verifier) Issuer() string { return v.AuthorityHost + "/" + v.TenantID + "/v2.0" }

// Close stops the background JWKS refresh.
func (v *Verifier) Close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cancel != nil {
		v.cancel()
	}
}

// Verify implements resource.Verifier.
func (v *Verifier) Verify(ctx context.Context, raw string) (*resource.TokenInfo, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	v.verifiedOnce.Do(func() { v.verified = tokencache.New[*resource.TokenInfo](10000, now) })
	if ti, ok := v.verified.Get(raw); ok {
		return ti, nil
	}
	kf, err := v.keyfunc(ctx)
	if err != nil {
		return nil, err
	}
	var claims entraClaims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}), // Entra signs with RS256 only; refuses none/HS256 confusion
		jwt.WithIssuer(v.Issuer()),
		jwt.WithAudience(v.Audiences...),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.Leeway),
		jwt.WithTimeFunc(now),
	)
	if _, err := p.ParseWithClaims(raw, &claims, kf.Keyfunc); err != nil {
		return nil, fmt.Errorf("%w: %w", resource.ErrInvalidToken, err)
	}
	if claims.TenantID != v.TenantID {
		return nil, fmt.Errorf("%w: tid %q is not this tenant", resource.ErrInvalidToken, claims.TenantID)
	}
	if claims.ObjectID == "" {
		return nil, fmt.Errorf("%w: no oid claim (app-only tokens cannot act for a user)", resource.ErrInvalidToken)
	}
	ti := &resource.TokenInfo{
		Subject:   claims.ObjectID,
		Name:      claims.Name,
		Username:  claims.PreferredUsername,
		TenantID:  claims.TenantID,
		ClientID:  claims.AuthorizedParty,
		Scopes:    strings.Fields(claims.Scope),
		Expiry:    claims.ExpiresAt.Time,
		Issuer:    claims.Issuer,
		Assertion: raw,
	}
	v.verified.Put(raw, ti, ti.Expiry)
	return ti, nil
}

// entraClaims are the v2 access-token claims we read.
type entraClaims struct {
	jwt.RegisteredClaims
	ObjectID          string `json:"oid"`
	TenantID          string `json:"tid"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	AuthorizedParty   string `json:"azp"`
	Scope             string `json:"scp"`
	Version           string `json:"ver"`
}

// keyfunc builds the JWKS client on first use. A failed discovery is
// retried, but at most every few seconds, and reported as unavailable
// (503), not as a bad token.
func (v *Verifier) keyfunc(ctx context.Context) (keyfunc.Keyfunc, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.kf != nil {
		return v.kf, nil
	}
	if time.Since(v.lastFail) < 2*time.Second {
		return nil, errors.New("entra: signing keys unavailable (recent discovery failure)")
	}
	jwksURI, err := v.discoverJWKS(ctx)
	if err == nil {
		var kf keyfunc.Keyfunc
		kf, err = v.newKeyfunc(jwksURI)
		if err == nil {
			v.kf = kf
			return kf, nil
		}
	}
	v.lastFail = time.Now()
	return nil, fmt.Errorf("entra: signing keys unavailable: %w", err)
}

func (v *Verifier) newKeyfunc(jwksURI string) (keyfunc.Keyfunc, error) {
	bg, cancel := context.WithCancel(context.Background())
	failFirst := false
	limiter := v.RefreshUnknownKID
	if limiter == nil {
		limiter = rate.NewLimiter(rate.Every(time.Minute), 1)
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(bg, []string{jwksURI}, keyfunc.Override{
		Client:                    v.HTTPClient,
		HTTPTimeout:               5 * time.Second,
		NoErrorReturnFirstHTTPReq: &failFirst,
		RefreshInterval:           time.Hour,
		RefreshUnknownKID:         limiter,
		// jwkset bounds the unknown-kid refetch itself by this timeout; a
		// rate-limited refetch fails at once (rate.Limiter.Wait checks the
		// deadline up front) rather than holding the request.
		RateLimitWaitMax: 5 * time.Second,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	v.cancel = cancel
	return kf, nil
}

// discoverJWKS reads jwks_uri from the tenant's v2 openid-configuration and
// checks that the document names the issuer we expect.
func (v *Verifier) discoverJWKS(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u := v.Issuer() + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := v.HTTPClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("GET %s: %w", u, err)
	}
	if doc.Issuer != v.Issuer() {
		return "", fmt.Errorf("discovery issuer %q, want %q", doc.Issuer, v.Issuer())
	}
	if !strings.HasPrefix(doc.JWKSURI, "https://") {
		return "", fmt.Errorf("discovery jwks_uri %q is not https", doc.JWKSURI)
	}
	return doc.JWKSURI, nil
}

// IDClaims are the id-token claims the authorization server keeps.
type IDClaims struct {
	jwt.RegisteredClaims
	ObjectID          string `json:"oid"`
	TenantID          string `json:"tid"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Nonce             string `json:"nonce"`
}

// VerifyIDToken validates the id token Entra returned with our code
// (OIDC Core §3.1.3.7): RS256 with the tenant's keys, our issuer, aud = our
// client id, not expired, and the nonce we sent.
func (v *Verifier) VerifyIDToken(ctx context.Context, raw, clientID, nonce string) (IDClaims, error) {
	kf, err := v.keyfunc(ctx)
	if err != nil {
		return IDClaims{}, err
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	var c IDClaims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(v.Issuer()),
		jwt.WithAudience(clientID),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(v.Leeway),
		jwt.WithTimeFunc(now),
	)
	if _, err := p.ParseWithClaims(raw, &c, kf.Keyfunc); err != nil {
		return IDClaims{}, fmt.Errorf("%w: id token: %w", resource.ErrInvalidToken, err)
	}
	if c.Nonce == "" || c.Nonce != nonce {
		return IDClaims{}, fmt.Errorf("%w: id token nonce mismatch", resource.ErrInvalidToken)
	}
	if c.TenantID != v.TenantID || c.ObjectID == "" {
		return IDClaims{}, fmt.Errorf("%w: id token tid/oid", resource.ErrInvalidToken)
	}
	return c, nil
}
