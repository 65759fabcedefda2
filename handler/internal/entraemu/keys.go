package entraemu

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signingKey is one RSA token-signing key. Entra publishes each key with a
// self-signed certificate (x5c) and uses the certificate's SHA-1 thumbprint
// as both kid and x5t; the emulator does the same so JWKS consumers that
// check x5t against x5c (jwkset does) accept it.
type signingKey struct {
	kid     string
	priv    *rsa.PrivateKey
	certDER []byte
}

func newSigningKey() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net (entra emulator)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der) // x5t is defined as the SHA-1 thumbprint (RFC 7517 §4.8)
	return &signingKey{kid: base64.RawURLEncoding.EncodeToString(sum[:]), priv: priv, certDER: der}, nil
}

// jwk is one entry of the key set, with the members Entra publishes.
type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	Kid    string   `json:"kid"`
	X5t    string   `json:"x5t"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X5c    []string `json:"x5c"`
	Issuer string   `json:"issuer"`
}

func (k *signingKey) jwk(issuer string) jwk {
	return jwk{
		Kty:    "RSA",
		Use:    "sig",
		Kid:    k.kid,
		X5t:    k.kid,
		N:      base64.RawURLEncoding.EncodeToString(k.priv.N.Bytes()),
		E:      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.priv.E)).Bytes()),
		X5c:    []string{base64.StdEncoding.EncodeToString(k.certDER)},
		Issuer: issuer,
	}
}

// RotateKeys makes a new signing key current. The JWKS keeps publishing the
// previous key so tokens already issued stay verifiable; older keys are
// dropped.
func (e *Emulator) RotateKeys() error {
	k, err := newSigningKey()
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.prevKey, e.curKey = e.curKey, k
	e.mu.Unlock()
	e.log.Info("signing keys rotated", "kid", k.kid)
	return nil
}

// CurrentKeyID returns the kid new tokens are signed with.
func (e *Emulator) CurrentKeyID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.curKey.kid
}

// SignToken signs claims with the current key (RS256, header kid and typ
// JWT). Tests use it to mint tokens of any shape for verifier tests.
func (e *Emulator) SignToken(claims jwt.MapClaims) (string, error) {
	e.mu.Lock()
	k := e.curKey
	e.mu.Unlock()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.kid
	return t.SignedString(k.priv)
}

// publicKeys returns the published keys, current first.
func (e *Emulator) publicKeys() []*signingKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.prevKey == nil {
		return []*signingKey{e.curKey}
	}
	return []*signingKey{e.curKey, e.prevKey}
}

var errUnknownKey = errors.New("the key was not found")

// parseToken verifies a token the emulator issued: RS256, a published kid,
// issuer and lifetime checked against the emulator clock. The audience is the
// caller's business.
func (e *Emulator) parseToken(raw, issuer string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for _, k := range e.publicKeys() {
			if k.kid == kid {
				return &k.priv.PublicKey, nil
			}
		}
		return nil, errUnknownKey
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(issuer),
		jwt.WithTimeFunc(e.now),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(5*time.Minute), // Entra allows five minutes of clock skew
	)
	if err != nil {
		return nil, fmt.Errorf("token rejected: %w", err)
	}
	return claims, nil
}
