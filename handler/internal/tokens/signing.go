package tokens

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
)

// MinRSABits is the smallest signing key we accept (RFC 7518 §3.3 requires
// 2048 bits for RS256). 2048 is also the size that keeps an access token
// under 1 KB: every further 1024 bits add 171 characters of signature.
const MinRSABits = 2048

// errECKey explains why an EC key, which earlier versions of this server
// used for ES256, is refused now.
var errECKey = errors.New("EC key: access tokens are RS256 because API Management's validate-jwt accepts only PS256, RS256 and RS512 for asymmetric keys; " +
	"use an RSA key of 2048 bits or more (infra/scripts/keys.sh rotate makes one)")

// SigningKey is an RSA private key of at least 2048 bits, used for RS256
// (RFC 7518 §3.3), with its key id: the RFC 7638 JWK thumbprint of the
// public key. It is RS256 because APIM's validate-jwt, which checks our
// tokens at the gateway, supports only PS256, RS256 and RS512 for
// asymmetric keys (https://learn.microsoft.com/azure/api-management/validate-jwt-policy).
//
// An ephemeral key (EphemeralSigningKey) is generated on first use, not at
// start: RSA key generation takes tens of milliseconds or more.
type SigningKey struct {
	m    atomic.Pointer[rsaKey] // nil until an ephemeral key is generated
	once sync.Once              // generates an ephemeral key
}

// rsaKey is a signing key's material and its public JWK members.
type rsaKey struct {
	priv *rsa.PrivateKey
	kid  string
	n, e string // base64url, big-endian, minimal length (RFC 7518 §6.3.1)
}

// ParseSigningKey reads an RSA private key from a PEM block, either PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). Because Key Vault secrets
// and app settings are single-line, the PEM may also be given
// base64-encoded, or with its line breaks written as the two characters \n.
// Keys under 2048 bits, EC keys and other key types are rejected.
func ParseSigningKey(s string) (*SigningKey, error) {
	block, err := decodePEM(s)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return nil, fmt.Errorf("signing key: %w", errECKey)
	default:
		return nil, fmt.Errorf("signing key: PEM type %q, want PRIVATE KEY or RSA PRIVATE KEY", block.Type)
	}
	if err != nil {
		// The parser's message does not contain key bytes.
		return nil, fmt.Errorf("signing key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return newSigningKey(k)
	case *ecdsa.PrivateKey:
		return nil, fmt.Errorf("signing key: %w", errECKey)
	default:
		return nil, fmt.Errorf("signing key: %T is not an RSA key; RS256 needs RSA", key)
	}
}

// decodePEM finds the PEM block in s, which may be PEM, base64 of PEM, or
// PEM with `\n` escapes.
func decodePEM(s string) (*pem.Block, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty")
	}
	if !strings.HasPrefix(s, "-----BEGIN") {
		dec, err := decodeBase64(s)
		if err != nil {
			return nil, errors.New("neither PEM nor base64-encoded PEM")
		}
		s = strings.TrimSpace(string(dec))
	}
	s = strings.ReplaceAll(s, `\n`, "\n")
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	return block, nil
}

// GenerateSigningKey makes a fresh 2048-bit key now, for tests and tools.
func GenerateSigningKey() (*SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, MinRSABits)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return newSigningKey(priv)
}

// EphemeralSigningKey returns a key that generates its 2048-bit material on
// first use (signing, verifying, KeyID, JWKS), for local runs without a
// configured key. Logging it does not generate it.
func EphemeralSigningKey() *SigningKey { return &SigningKey{} }

func newSigningKey(priv *rsa.PrivateKey) (*SigningKey, error) {
	m, err := newRSAKey(priv)
	if err != nil {
		return nil, err
	}
	k := &SigningKey{}
	k.m.Store(m)
	return k, nil
}

func newRSAKey(priv *rsa.PrivateKey) (*rsaKey, error) {
	if bits := priv.N.BitLen(); bits < MinRSABits {
		return nil, fmt.Errorf("signing key: RSA key of %d bits, want at least %d (RFC 7518 §3.3)", bits, MinRSABits)
	}
	m := &rsaKey{
		priv: priv,
		n:    base64.RawURLEncoding.EncodeToString(priv.N.Bytes()),
		e:    base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes()),
	}
	// RFC 7638 §3.2: the required members only, in lexicographic order, no
	// whitespace. e and n are base64url strings, so no escaping is needed.
	sum := sha256.Sum256([]byte(`{"e":"` + m.e + `","kty":"RSA","n":"` + m.n + `"}`))
	m.kid = base64.RawURLEncoding.EncodeToString(sum[:])
	return m, nil
}

// material returns the key, generating an ephemeral key's material the
// first time. Generation cannot fail: since Go 1.24 crypto/rand never
// returns an error, and the size is valid.
func (k *SigningKey) material() *rsaKey {
	if m := k.m.Load(); m != nil {
		return m
	}
	k.once.Do(func() {
		priv, err := rsa.GenerateKey(rand.Reader, MinRSABits)
		if err != nil {
			panic("tokens: generating the ephemeral signing key: " + err.Error())
		}
		m, err := newRSAKey(priv)
		if err != nil {
			panic("tokens: " + err.Error())
		}
		k.m.Store(m)
	})
	return k.m.Load()
}

// KeyID is the key's RFC 7638 thumbprint, sent as the JWS "kid" header.
func (k *SigningKey) KeyID() string {
	if k == nil {
		return ""
	}
	return k.material().kid
}

// PEM encodes the private key as PKCS#8 PEM, the form ParseSigningKey
// reads; for tooling that generates keys for configuration.
func (k *SigningKey) PEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.material().priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// String and LogValue show only the key id, so printing or logging a key
// by mistake leaks nothing. An ephemeral key not generated yet shows as
// "ephemeral" (rendering it must not cost a key generation).
func (k *SigningKey) String() string { return "signing key " + k.label() }

// LogValue implements slog.LogValuer; see String.
func (k *SigningKey) LogValue() slog.Value { return slog.StringValue(k.label()) }

func (k *SigningKey) label() string {
	if k == nil {
		return ""
	}
	if m := k.m.Load(); m != nil {
		return m.kid
	}
	return "ephemeral"
}

// jwk is one public key of the JWK Set (RFC 7517 §4, RFC 7518 §6.3.1).
type jwk struct {
	Kty string `json:"kty"` // "RSA"
	N   string `json:"n"`   // modulus
	E   string `json:"e"`   // public exponent
	Kid string `json:"kid"`
	Use string `json:"use"` // "sig"
	Alg string `json:"alg"` // "RS256"
}

func (k *SigningKey) jwk() jwk {
	m := k.material()
	return jwk{Kty: "RSA", N: m.n, E: m.e, Kid: m.kid, Use: "sig", Alg: "RS256"}
}

// decodeBase64 accepts standard and URL alphabets, padded or not, because
// secrets get pasted from many tools.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
