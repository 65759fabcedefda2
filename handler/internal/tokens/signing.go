package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// SigningKey is an EC P-256 private key used for ES256 (RFC 7518 §3.4),
// with its key id, the RFC 7638 JWK thumbprint of the public key.
type SigningKey struct {
	priv *ecdsa.PrivateKey
	kid  string
	x, y string // base64url public coordinates, 32 bytes each
}

// ParseSigningKey reads an EC P-256 private key from a PEM block, either
// PKCS#8 ("PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"). Because Key Vault
// secrets and app settings are single-line, the PEM may also be given
// base64-encoded, or with its line breaks written as the two characters \n.
// Keys on other curves, and other key types, are rejected.
func ParseSigningKey(s string) (*SigningKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("signing key: empty")
	}
	if !strings.HasPrefix(s, "-----BEGIN") {
		dec, err := decodeBase64(s)
		if err != nil {
			return nil, errors.New("signing key: neither PEM nor base64-encoded PEM")
		}
		s = strings.TrimSpace(string(dec))
	}
	s = strings.ReplaceAll(s, `\n`, "\n")
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("signing key: no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("signing key: PEM type %q, want PRIVATE KEY or EC PRIVATE KEY", block.Type)
	}
	if err != nil {
		// The parser's message does not contain key bytes.
		return nil, fmt.Errorf("signing key: %w", err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key: %T is not an EC key; ES256 needs EC P-256", key)
	}
	return newSigningKey(ec)
}

// GenerateSigningKey makes a fresh P-256 key, for local runs without a
// configured key and for tests.
func GenerateSigningKey() (*SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return newSigningKey(priv)
}

func newSigningKey(priv *ecdsa.PrivateKey) (*SigningKey, error) {
	if priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key: curve %s, want P-256 (ES256)", priv.Curve.Params().Name)
	}
	pub, err := priv.PublicKey.ECDH()
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	point := pub.Bytes() // 0x04 || X || Y, uncompressed (SEC 1 §2.3.3)
	k := &SigningKey{
		priv: priv,
		x:    base64.RawURLEncoding.EncodeToString(point[1:33]),
		y:    base64.RawURLEncoding.EncodeToString(point[33:65]),
	}
	// RFC 7638 §3.2: the required members only, in lexicographic order, no
	// whitespace. x and y are base64url strings, so no escaping is needed.
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + k.x + `","y":"` + k.y + `"}`))
	k.kid = base64.RawURLEncoding.EncodeToString(sum[:])
	return k, nil
}

// KeyID is the key's RFC 7638 thumbprint, sent as the JWS "kid" header.
func (k *SigningKey) KeyID() string {
	if k == nil {
		return ""
	}
	return k.kid
}

// PEM encodes the private key as PKCS#8 PEM, the form ParseSigningKey
// reads; for tooling that generates keys for configuration.
func (k *SigningKey) PEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// String and LogValue show only the key id, so printing or logging a key
// by mistake leaks nothing.
func (k *SigningKey) String() string { return "signing key " + k.KeyID() }

// LogValue implements slog.LogValuer; see String.
func (k *SigningKey) LogValue() slog.Value { return slog.StringValue(k.KeyID()) }

// jwk is one public key of the JWK Set (RFC 7517 §4, RFC 7518 §6.2.1).
type jwk struct {
	Kty string `json:"kty"` // "EC"
	Crv string `json:"crv"` // "P-256"
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"` // "sig"
	Alg string `json:"alg"` // "ES256"
}

func (k *SigningKey) jwk() jwk {
	return jwk{Kty: "EC", Crv: "P-256", X: k.x, Y: k.y, Kid: k.kid, Use: "sig", Alg: "ES256"}
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
