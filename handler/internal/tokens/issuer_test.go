package tokens

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testConfig() config.Config {
	return config.Config{PublicBaseURL: "https://apim-mcp.azure-api.net", AccessTokenTTL: time.Hour}
}

// testKeys returns the fixed current and previous keys from testdata.
func testKeys(t testing.TB) (cur, prev *SigningKey) {
	t.Helper()
	cur, err := ParseSigningKey(readTestdata(t, "test-signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	prev, err = ParseSigningKey(readTestdata(t, "test-signing-key-prev.sec1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return cur, prev
}

func newTestIssuer(t testing.TB, cfg config.Config, cur, prev *SigningKey, now time.Time) *Issuer {
	t.Helper()
	i, err := NewIssuer(cfg, cur, prev)
	if err != nil {
		t.Fatal(err)
	}
	i.Now = func() time.Time { return now }
	return i
}

var sampleClaims = AccessClaims{
	Subject:  "8f3c1f7e-2d4b-4c5a-9e8f-0123456789ab",
	ClientID: "https://vscode.dev/oauth/client-metadata.json",
	Scope:    "mcp:tools offline_access",
	GrantID:  "Jq2v6yP1b1m3n8Yw0yHq3Gx0b8p4V6m2Q9c1t7r5e3A",
}

func TestMintVerifyRoundTrip(t *testing.T) {
	cur, _ := testKeys(t)
	i := newTestIssuer(t, testConfig(), cur, nil, t0)
	tok, exp, err := i.Mint(sampleClaims)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) >= 1024 {
		t.Errorf("token is %d bytes, want < 1 KB (DESIGN §5)", len(tok))
	}
	if want := t0.Add(time.Hour); !exp.Equal(want) {
		t.Errorf("exp = %v, want %v", exp, want)
	}
	got, err := i.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleClaims
	want.ID, want.IssuedAt, want.ExpiresAt = got.ID, t0, exp
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Verify mismatch (-want +got):\n%s", diff)
	}
	if len(got.ID) != 22 {
		t.Errorf("jti = %q, want 22 chars", got.ID)
	}

	// The header is exactly what RFC 9068 §2.1 asks for.
	parts := strings.Split(tok, ".")
	var hdr map[string]string
	if err := json.Unmarshal(mustB64(t, parts[0]), &hdr); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"alg": "ES256", "typ": "at+jwt", "kid": cur.KeyID()}, hdr); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	var payload map[string]any
	if err := json.Unmarshal(mustB64(t, parts[1]), &payload); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"iss", "aud", "sub", "client_id", "scope", "jti", "iat", "exp", "gid"} {
		if _, ok := payload[k]; !ok {
			t.Errorf("payload lacks %q: %v", k, payload)
		}
	}
}

func TestMintRequiresIdentity(t *testing.T) {
	cur, _ := testKeys(t)
	i := newTestIssuer(t, testConfig(), cur, nil, t0)
	for _, c := range []AccessClaims{{ClientID: "c", GrantID: "g"}, {Subject: "s", GrantID: "g"}, {Subject: "s", ClientID: "c"}} {
		if _, _, err := i.Mint(c); err == nil {
			t.Errorf("Mint(%+v) succeeded", c)
		}
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := jwt.NewParser().DecodeSegment(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

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
	other, _ := GenerateSigningKey()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&cur.priv.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	mint := func(k *SigningKey, c config.Config, at time.Time) string {
		tok, _, err := newTestIssuer(t, c, k, nil, at).Mint(sampleClaims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": cfg.PublicBaseURL, "aud": cfg.ResourceURL(), "sub": "s", "client_id": "c",
			"gid": "g", "jti": "j", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	hdr := map[string]any{"typ": "at+jwt", "kid": cur.KeyID()}
	es := func(mod func(jwt.MapClaims)) string {
		return sign(t, jwt.SigningMethodES256, cur.priv, hdr, claims(mod))
	}
	wrongIss := cfg
	wrongIss.PublicBaseURL = "https://evil.example"
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
		{"valid hand-made", es(nil), t0, [2]*SigningKey{cur}, true},
		{"aud as array", es(func(c jwt.MapClaims) { c["aud"] = []string{"x", cfg.ResourceURL()} }), t0, [2]*SigningKey{cur}, true},
		{"expired within leeway", valid, t0.Add(time.Hour + 20*time.Second), [2]*SigningKey{cur}, true},
		{"expired", valid, t0.Add(time.Hour + Leeway + time.Second), [2]*SigningKey{cur}, false},
		{"no exp", es(func(c jwt.MapClaims) { delete(c, "exp") }), t0, [2]*SigningKey{cur}, false},
		{"nbf in future", es(func(c jwt.MapClaims) { c["nbf"] = t0.Add(5 * time.Minute).Unix() }), t0, [2]*SigningKey{cur}, false},
		{"iat in future", es(func(c jwt.MapClaims) { c["iat"] = t0.Add(5 * time.Minute).Unix() }), t0, [2]*SigningKey{cur}, false},
		{"lifetime beyond 24h", es(func(c jwt.MapClaims) { c["exp"] = t0.Add(48 * time.Hour).Unix() }), t0, [2]*SigningKey{cur}, false},
		{"no gid", es(func(c jwt.MapClaims) { delete(c, "gid") }), t0, [2]*SigningKey{cur}, false},
		{"no sub", es(func(c jwt.MapClaims) { delete(c, "sub") }), t0, [2]*SigningKey{cur}, false},
		{"no iat", es(func(c jwt.MapClaims) { delete(c, "iat") }), t0, [2]*SigningKey{cur}, false},
		{"wrong iss", mint(cur, wrongIss, t0), t0, [2]*SigningKey{cur}, false},
		{"iss with trailing slash", es(func(c jwt.MapClaims) { c["iss"] = cfg.PublicBaseURL + "/" }), t0, [2]*SigningKey{cur}, false},
		{"wrong aud", es(func(c jwt.MapClaims) { c["aud"] = cfg.PublicBaseURL }), t0, [2]*SigningKey{cur}, false},
		{"aud with trailing slash", es(func(c jwt.MapClaims) { c["aud"] = cfg.ResourceURL() + "/" }), t0, [2]*SigningKey{cur}, false},
		{"wrong typ", sign(t, jwt.SigningMethodES256, cur.priv, map[string]any{"typ": "JWT", "kid": cur.KeyID()}, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"HS256 keyed with public key PEM", sign(t, jwt.SigningMethodHS256, pubPEM, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"HS256 keyed with public key DER", sign(t, jwt.SigningMethodHS256, pubDER, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"RS256", sign(t, jwt.SigningMethodRS256, rsaKey, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"tampered signature", tamperedSig, t0, [2]*SigningKey{cur}, false},
		{"tampered payload", tamperedPayload, t0, [2]*SigningKey{cur}, false},
		{"unknown kid", mint(other, cfg, t0), t0, [2]*SigningKey{cur, prev}, false},
		{"known kid, other key", sign(t, jwt.SigningMethodES256, other.priv, hdr, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"no kid", sign(t, jwt.SigningMethodES256, cur.priv, map[string]any{"typ": "at+jwt"}, claims(nil)), t0, [2]*SigningKey{cur}, false},
		{"signed with previous key", mint(prev, cfg, t0), t0, [2]*SigningKey{cur, prev}, true},
		{"previous key removed", mint(prev, cfg, t0), t0, [2]*SigningKey{cur}, false},
		{"empty", "", t0, [2]*SigningKey{cur}, false},
		{"oversized", valid + strings.Repeat("A", maxTokenLen), t0, [2]*SigningKey{cur}, false},
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
				if !errors.Is(err, ErrInvalidToken) {
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
	i := newTestIssuer(t, testConfig(), cur, nil, t0)
	tok, _, _ := i.Mint(sampleClaims)
	i.Now = func() time.Time { return t0.Add(2 * time.Hour) }
	if _, err := i.Verify(tok); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("Verify error = %v, want jwt.ErrTokenExpired", err)
	}
}

func TestJWKSGolden(t *testing.T) {
	cur, prev := testKeys(t)
	i := newTestIssuer(t, testConfig(), cur, prev, t0)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, i.JWKS(), "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	const golden = "testdata/jwks.golden.json"
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
		t.Errorf("JWKS mismatch (-want +got), run with -update if intended:\n%s", diff)
	}
	// Only public members: no "d" anywhere.
	if bytes.Contains(i.JWKS(), []byte(`"d"`)) {
		t.Error("JWKS contains a private key member")
	}
	// Without a previous key, one key; the same key twice is listed once.
	for _, p := range []*SigningKey{nil, cur} {
		var set struct{ Keys []jwk }
		_ = json.Unmarshal(newTestIssuer(t, testConfig(), cur, p, t0).JWKS(), &set)
		if len(set.Keys) != 1 || set.Keys[0].Kid != cur.KeyID() {
			t.Errorf("JWKS with previous=%v: %+v", p, set.Keys)
		}
	}
}

func BenchmarkMint(b *testing.B) {
	cur, _ := testKeys(b)
	i := newTestIssuer(b, testConfig(), cur, nil, t0)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := i.Mint(sampleClaims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	cur, _ := testKeys(b)
	i := newTestIssuer(b, testConfig(), cur, nil, t0)
	tok, _, _ := i.Mint(sampleClaims)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
