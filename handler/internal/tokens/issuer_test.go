package tokens

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokencache"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testConfig() IssuerOptions {
	return IssuerOptions{Issuer: "https://apim-mcp.azure-api.net", Audience: "https://apim-mcp.azure-api.net/mcp", TTL: time.Hour}
}

// testKeys returns the fixed current and previous keys from testdata.
func testKeys(t testing.TB) (cur, prev *SigningKey) {
	t.Helper()
	cur, err := ParseSigningKey(readTestdata(t, "test-signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	prev, err = ParseSigningKey(readTestdata(t, "test-signing-key-prev.pkcs1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return cur, prev
}

func newTestIssuer(t testing.TB, opts IssuerOptions, cur, prev *SigningKey, now time.Time) *Issuer {
	t.Helper()
	opts.Now = func() time.Time { return now }
	i, err := NewIssuer(opts, cur, prev)
	if err != nil {
		t.Fatal(err)
	}
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
	if diff := cmp.Diff(map[string]string{"alg": "RS256", "typ": "at+jwt", "kid": cur.KeyID()}, hdr); diff != "" {
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

// A realistic token stays under 1 KB, so it fits any header limit: the
// gateway name the Bicep deployment gives (apim-<13-character token>), a
// client ID metadata document URL as client_id, an Entra object id as sub.
// The log line shows the headroom left for longer client IDs or domains.
func TestTokenSize(t *testing.T) {
	cur, _ := testKeys(t)
	cfg := testConfig()
	cfg.Issuer = "https://apim-" + strings.Repeat("x", 13) + ".azure-api.net"
	cfg.Audience = cfg.Issuer + "/mcp"
	tok, _, err := newTestIssuer(t, cfg, cur, nil, t0).Mint(sampleClaims)
	if err != nil {
		t.Fatal(err)
	}
	sig := len(tok) - strings.LastIndexByte(tok, '.') - 1
	t.Logf("RS256 access token: %d bytes (signature %d), %d bytes under 1 KB", len(tok), sig, 1024-len(tok))
	if sig != 342 {
		t.Errorf("signature is %d characters, want 342 (2048-bit RSA)", sig)
	}
	if len(tok) >= 1024 {
		t.Errorf("token is %d bytes, want < 1 KB", len(tok))
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

func TestJWKSGolden(t *testing.T) {
	cur, prev := testKeys(t)
	i := newTestIssuer(t, testConfig(), cur, prev, t0)
	testutil.GoldenJSON(t, "testdata/jwks.golden.json", i.JWKS())
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

// A verifier that knows only our JWKS, as APIM's validate-jwt does,
// accepts tokens of the current and the previous key: keyfunc/jwkset reads
// n and e itself, so this checks their encoding independently. After a
// rotation new tokens carry the new kid.
func TestJWKSVerifiesRotation(t *testing.T) {
	cur, prev := testKeys(t)
	before := newTestIssuer(t, testConfig(), prev, nil, t0)
	after := newTestIssuer(t, testConfig(), cur, prev, t0)
	oldTok, _, err := before.Mint(sampleClaims)
	if err != nil {
		t.Fatal(err)
	}
	newTok, _, err := after.Mint(sampleClaims)
	if err != nil {
		t.Fatal(err)
	}
	kf, err := keyfunc.NewJWKSetJSON(after.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	for tok, kid := range map[string]string{oldTok: prev.KeyID(), newTok: cur.KeyID()} {
		parsed, err := jwt.Parse(tok, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return t0 }))
		if err != nil {
			t.Fatalf("JWKS client rejects our token: %v", err)
		}
		if parsed.Header["kid"] != kid {
			t.Errorf("kid %v, want %s", parsed.Header["kid"], kid)
		}
		if _, err := after.Verify(tok); err != nil {
			t.Errorf("Verify after rotation: %v", err)
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

// BenchmarkVerify is the verify-once cache hit: what every MCP request after
// a client's first pays.
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

// BenchmarkVerifyUncached checks the signature every time: what the first
// request with a token pays.
func BenchmarkVerifyUncached(b *testing.B) {
	cur, _ := testKeys(b)
	i := newTestIssuer(b, testConfig(), cur, nil, t0)
	i.verified = tokencache.New[AccessClaims](0, nil) // caches nothing
	tok, _, _ := i.Mint(sampleClaims)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
