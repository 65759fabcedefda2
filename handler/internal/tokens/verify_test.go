package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// sign makes arbitrary tokens for the negative cases.
func sign(t *testing.T, m jwt.SigningMethod, key any, hdr map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	for k, v := range hdr {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	cfg := testConfig()
	cur, prev := testKeys(t)
	other, err := GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	curPriv := cur.material().priv
	pubDER, _ := x509.MarshalPKIXPublicKey(&curPriv.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	mint := func(k *SigningKey, c IssuerOptions, at time.Time) string {
		tok, _, err := newTestIssuer(t, c, k, nil, at).Mint(sampleClaims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": cfg.Issuer, "aud": cfg.Audience, "sub": "s", "client_id": "c",
			"gid": "g", "jti": "j", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	hdr := map[string]any{"typ": "at+jwt", "kid": cur.KeyID()}
	rs := func(mod func(jwt.MapClaims)) string {
		return sign(t, jwt.SigningMethodRS256, curPriv, hdr, claims(mod))
	}
	// The attacker's own key, offered in the header (RFC 8725 §3.10).
	otherJWK := other.jwk()
	embedded := map[string]any{"typ": "at+jwt", "kid": other.KeyID(), "jku": "https://evil.example/jwks.json",
		"jwk": map[string]string{"kty": "RSA", "n": otherJWK.N, "e": otherJWK.E}}
	wrongIss := cfg
	wrongIss.Issuer = "https://evil.example"
	valid := mint(cur, cfg, t0)
	tamperedSig := valid[:len(valid)-4] + flip(valid[len(valid)-4:])
	parts := strings.Split(valid, ".")
	tamperedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2]

	tests := []struct {
		name   string
		token  string
		now    time.Time
		keys   [2]*SigningKey // verifier's current, previous
		wantOK bool
	}{
		{"valid", valid, t0.Add(time.Minute), [2]*SigningKey{cur}, true},
		{"valid hand-made", rs(nil), t0, [2]*SigningKey{cur}, true},
		{"aud as array", rs(func(c jwt.MapClaims) { c["aud"] = []string{"x", cfg.Audience} }), t0, [2]*SigningKey{cur}, true},
		{"expired within leeway", valid, t0.Add(time.Hour + 20*time.Second), [2]*SigningKey{cur}, true},
		{"expired", valid, t0.Add(time.Hour + Leeway + time.Second), [2]*SigningKey{cur}, false},
		{"no exp", rs(func(c jwt.MapClaims) { delete(c, "exp") }), t0, [2]*SigningKey{cur}, false},
		{"nbf in future", rs(func(c jwt.MapClaims) { c["nbf"] = t0.Add(5 * time.Minute).Unix() }), t0, [2]*SigningKey{cur}, false},
		{"iat in future", rs(func(c jwt.MapClaims) { c["iat"] = t0.Add(5 * time.Minute).Unix() }), t0, [2]*SigningKey{cur}, false},
		{"lifetime beyond 24h", rs(func(c jwt.MapClaims) { c["exp"] = t0.Add(48 * time.Hour).Unix() }), t0, [2]*SigningKey{cur}, false},
		{"no gid", rs(func(c jwt.MapClaims) { delete(c, "gid") }), t0, [2]*SigningKey{cur}, false},
		{"no sub", rs(func(c jwt.MapClaims) { delete(c, "sub") }), t0, [2]*SigningKey{cur}, false},
		{"no iat", rs(func(c jwt.MapClaims) { delete(c, "iat") }), t0, [2]*SigningKey{cur}, false},
		{"wrong iss", mint(cur, wrongIss, t0), t0, [2]*SigningKey{cur}, false},
		{"iss with trailing slash", rs(func(c jwt.MapClaims) { c["iss"] = cfg.Issuer + "/" }), t0, [2]*SigningKey{cur}, false},
		{"wrong aud", rs(func(c jwt.MapClaims) { c["aud"] = cfg.Issuer }), t0, [2]*SigningKey{cur}, false},
		{"aud with trailing slash", rs(func(c jwt.MapClaims) { c["aud"] = cfg.Audience + "/" }), t0, [2]*SigningKey{cur}, false},
		{"wrong typ", sign(t, jwt.SigningMethodRS256, curPriv, map[string]any{"typ": "JWT", "kid": cur.KeyID()}, claims(nil)), t0, [2]*SigningKey{cur}, false},
		// JWS header tricks (RFC 8725 §2.1, §3.1): only RS256 with one of our
		// own keys, chosen by kid, is ever accepted.
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"HS256 keyed with public key PEM", sign(t, jwt.SigningMethodHS256, pubPEM, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"HS256 keyed with public key DER", sign(t, jwt.SigningMethodHS256, pubDER, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"ES256 with our kid", sign(t, jwt.SigningMethodES256, ecKey, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"PS256 with our key", sign(t, jwt.SigningMethodPS256, curPriv, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"RS384 with our key", sign(t, jwt.SigningMethodRS384, curPriv, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"RS512 with our key", sign(t, jwt.SigningMethodRS512, curPriv, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"attacker key in jwk and jku headers", sign(t, jwt.SigningMethodRS256, other.material().priv, embedded, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"tampered signature", tamperedSig, t0, [2]*SigningKey{cur}, false},
		{"tampered payload", tamperedPayload, t0, [2]*SigningKey{cur}, false},
		{"unknown kid", mint(other, cfg, t0), t0, [2]*SigningKey{cur, prev}, false},
		{"known kid, other key", sign(t, jwt.SigningMethodRS256, other.material().priv, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"kid of the current key, signed by the previous", sign(t, jwt.SigningMethodRS256, prev.material().priv, hdr, claims(nil)), t0, [2]*SigningKey{cur, prev}, false},
		{"no kid", sign(t, jwt.SigningMethodRS256, curPriv, map[string]any{"typ": "at+jwt"}, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"kid not a string", sign(t, jwt.SigningMethodRS256, curPriv, map[string]any{"typ": "at+jwt", "kid": 7}, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"signed with previous key", mint(prev, cfg, t0), t0, [2]*SigningKey{cur, prev}, true},
		{"previous key removed", mint(prev, cfg, t0), t0, [2]*SigningKey{cur}, false},
		{"empty", "", t0, [2]*SigningKey{cur}, false},
		{"oversized", valid + strings.Repeat("A", MaxTokenLen), t0, [2]*SigningKey{cur}, false},
		{"garbage", "a.b.c", t0, [2]*SigningKey{cur}, false},
		{"two segments", parts[0] + "." + parts[1], t0, [2]*SigningKey{cur}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := newTestIssuer(t, cfg, tt.keys[0], tt.keys[1], tt.now)
			_, err := i.Verify(tt.token)
			if tt.wantOK && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.wantOK {
				if err == nil {
					t.Fatal("Verify succeeded, want error")
				}
				if !errors.Is(err, resource.ErrInvalidToken) {
					t.Errorf("error %v does not wrap ErrInvalidToken", err)
				}
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestVerifyExpiredIsDistinguishable(t *testing.T) {
	cur, _ := testKeys(t)
	opts, now := testConfig(), t0
	opts.Now = func() time.Time { return now }
	i, err := NewIssuer(opts, cur, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := i.Mint(sampleClaims)
	now = t0.Add(2 * time.Hour)
	if _, err := i.Verify(tok); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("Verify error = %v, want jwt.ErrTokenExpired", err)
	}
}
