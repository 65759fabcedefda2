package apimemu

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
)

// Jwt is the policy expressions' Jwt type (Algorithm, Audiences, Claims,
// ExpirationTime, Id, Issuer, IssuedAt, NotBefore, Subject, Type;
// learn.microsoft.com/azure/api-management/api-management-policy-expressions),
// put into the output-token-variable-name variable by validate-jwt.
type Jwt struct {
	Algorithm      string
	Audiences      []string
	Claims         map[string][]string
	ExpirationTime *time.Time
	ID             string
	Issuer         string
	IssuedAt       *time.Time
	NotBefore      *time.Time
	Subject        string
	Type           string
}

// acceptedAlgs are the asymmetric algorithms validate-jwt supports: "The
// following encryption algorithms are supported: PS256, RS256, RS512"
// (learn.microsoft.com/azure/api-management/validate-jwt-policy, usage
// notes). Its symmetric algorithms need keys inline in the policy, which
// the stand-in does not model, so nothing else is accepted.
var acceptedAlgs = map[string]struct {
	hash crypto.Hash
	pss  bool
}{
	"RS256": {crypto.SHA256, false},
	"RS512": {crypto.SHA512, false},
	"PS256": {crypto.SHA256, true},
}

// jws is a parsed JWS compact serialisation (RFC 7515 §3.1).
type jws struct {
	header struct {
		Alg  string   `json:"alg"`
		Kid  string   `json:"kid"`
		Typ  string   `json:"typ"`
		Crit []string `json:"crit"`
	}
	claims       map[string]any
	signingInput []byte
	signature    []byte
}

// b64url decodes without padding and refuses non-canonical encodings, so
// a token has one spelling and a changed character is a changed token.
var b64url = base64.RawURLEncoding.Strict()

// parseJWS splits and decodes a token. It checks structure only.
func parseJWS(token string) (*jws, error) {
	parts := strings.Split(token, ".")
	switch len(parts) {
	case 3:
	case 5:
		return nil, errors.New("the token is a JWE; decryption keys are not modelled")
	default:
		return nil, fmt.Errorf("a JWS has 3 dot-separated parts, this has %d", len(parts))
	}
	var t jws
	hb, err := b64url.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("header is not base64url: %w", err)
	}
	if err := strictJSON(hb, &t.header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if len(t.header.Crit) > 0 {
		return nil, fmt.Errorf("unsupported critical header parameters %v (RFC 7515 §4.1.11)", t.header.Crit)
	}
	pb, err := b64url.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload is not base64url: %w", err)
	}
	if err := strictJSON(pb, &t.claims); err != nil || t.claims == nil {
		return nil, fmt.Errorf("payload is not a JSON object: %v", err)
	}
	if t.signature, err = b64url.DecodeString(parts[2]); err != nil {
		return nil, fmt.Errorf("signature is not base64url: %w", err)
	}
	t.signingInput = []byte(parts[0] + "." + parts[1])
	return &t, nil
}

// strictJSON decodes one JSON value with numbers kept exact and nothing
// after it.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// verify checks the signature with key for alg (one of acceptedAlgs).
func (t *jws) verify(key *rsa.PublicKey) bool {
	a := acceptedAlgs[t.header.Alg]
	var digest []byte
	switch a.hash {
	case crypto.SHA256:
		d := sha256.Sum256(t.signingInput)
		digest = d[:]
	case crypto.SHA512:
		d := sha512.Sum512(t.signingInput)
		digest = d[:]
	default:
		return false
	}
	if a.pss {
		// RFC 7518 §3.5: the salt is as long as the hash output.
		return rsa.VerifyPSS(key, a.hash, digest, t.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	}
	return rsa.VerifyPKCS1v15(key, a.hash, digest, t.signature) == nil
}

// toJwt turns verified claims into the Jwt object. Registered claims with
// the wrong JSON type make the token invalid.
func (t *jws) toJwt() (*Jwt, error) {
	j := &Jwt{Algorithm: t.header.Alg, Type: t.header.Typ, Claims: map[string][]string{}}
	var err error
	str := func(name string) string {
		v, ok := t.claims[name]
		if !ok {
			return ""
		}
		s, isStr := v.(string)
		if !isStr && err == nil {
			err = fmt.Errorf("claim %s is not a string", name)
		}
		return s
	}
	j.Issuer, j.Subject, j.ID = str("iss"), str("sub"), str("jti")
	switch aud := t.claims["aud"].(type) {
	case nil:
	case string:
		j.Audiences = []string{aud}
	case []any:
		for _, a := range aud {
			s, ok := a.(string)
			if !ok {
				return nil, errors.New("claim aud holds a non-string")
			}
			j.Audiences = append(j.Audiences, s)
		}
	default:
		return nil, errors.New("claim aud is neither a string nor an array")
	}
	for name, dst := range map[string]**time.Time{"exp": &j.ExpirationTime, "nbf": &j.NotBefore, "iat": &j.IssuedAt} {
		v, ok := t.claims[name]
		if !ok {
			continue
		}
		n, isNum := v.(json.Number)
		f, ferr := n.Float64()
		if !isNum || ferr != nil || math.IsInf(f, 0) || f < 0 || f > 253402300799 { // year 9999
			return nil, fmt.Errorf("claim %s is not a NumericDate (RFC 7519 §2)", name)
		}
		sec, frac := math.Modf(f)
		tm := time.Unix(int64(sec), int64(frac*1e9)).UTC()
		*dst = &tm
	}
	for k, v := range t.claims {
		switch v := v.(type) {
		case string:
			j.Claims[k] = []string{v}
		case []any:
			for _, x := range v {
				j.Claims[k] = append(j.Claims[k], fmt.Sprint(x))
			}
		default:
			j.Claims[k] = []string{fmt.Sprint(v)}
		}
	}
	return j, err
}

// jwk is the part of a JSON Web Key (RFC 7517) the stand-in reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`

	key *rsa.PublicKey
}

// parseJWKS reads a key set and keeps the RSA signing keys; other key types
// cannot verify an accepted algorithm and are skipped.
func parseJWKS(b []byte) ([]jwk, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	var out []jwk
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		k.key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		// 1024 bits is the smallest RSA key anything still verifies with.
		if k.key.N.BitLen() < 1024 || k.key.E < 3 || k.key.E%2 == 0 {
			continue
		}
		out = append(out, k)
	}
	return out, nil
}
