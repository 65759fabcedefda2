package tokens

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
)

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func pemOf(t *testing.T, typ string, der []byte, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func TestParseSigningKey(t *testing.T) {
	pkcs8 := readTestdata(t, "test-signing-key.pem")
	pkcs1 := readTestdata(t, "test-signing-key-prev.pkcs1.pem")
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, err := x509.MarshalPKCS8PrivateKey(p256)
	ecPKCS8 := pemOf(t, "PRIVATE KEY", ecDER, err)
	sec1, err := x509.MarshalECPrivateKey(p256)
	ecSEC1 := pemOf(t, "EC PRIVATE KEY", sec1, err)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	edPEM := pemOf(t, "PRIVATE KEY", edDER, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // the point: too small
	if err != nil {
		t.Fatal(err)
	}
	small1024 := pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small), nil)

	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" means success
	}{
		{"PKCS#8 PEM", pkcs8, ""},
		{"PKCS#1 PEM", pkcs1, ""},
		{"PEM with surrounding space", "\n  " + pkcs8 + "\n", ""},
		{"base64 PEM (Key Vault one-liner)", base64.StdEncoding.EncodeToString([]byte(pkcs8)), ""},
		{"base64url PEM without padding", base64.RawURLEncoding.EncodeToString([]byte(pkcs1)), ""},
		{"PEM with literal \\n", strings.ReplaceAll(pkcs8, "\n", `\n`), ""},
		{"PKCS#1 with literal \\n", strings.ReplaceAll(pkcs1, "\n", `\n`), ""},
		{"empty", "  ", "empty"},
		{"not base64, not PEM", "hello world!", "neither PEM"},
		{"base64 of garbage", base64.StdEncoding.EncodeToString([]byte("garbage")), "no PEM block"},
		{"certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "CERTIFICATE"},
		{"EC P-256 PKCS#8 (the old ES256 key)", ecPKCS8, "validate-jwt accepts only PS256, RS256 and RS512"},
		{"EC P-256 SEC 1 (the old keys.sh format)", ecSEC1, "validate-jwt accepts only PS256, RS256 and RS512"},
		{"EC, base64 one-liner", base64.StdEncoding.EncodeToString([]byte(ecSEC1)), "EC key"},
		{"Ed25519", edPEM, "not an RSA key"},
		{"RSA 1024", small1024, "1024 bits, want at least 2048"},
		{"corrupt DER", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "signing key:"},
		{"corrupt PKCS#1", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "signing key:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseSigningKey(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSigningKey: %v", err)
				}
				if k.KeyID() == "" {
					t.Error("empty kid")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseSigningKey error = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

// The kid is the RFC 7638 thumbprint, computed here independently through
// encoding/json's sorted map keys, and it is the same whatever the PEM form.
func TestSigningKeyThumbprint(t *testing.T) {
	k, err := ParseSigningKey(readTestdata(t, "test-signing-key-prev.pkcs1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pub := k.material().priv.PublicKey
	canon, _ := json.Marshal(map[string]string{
		"kty": "RSA",
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	})
	sum := sha256.Sum256(canon)
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); k.KeyID() != want {
		t.Errorf("kid = %s, want %s", k.KeyID(), want)
	}
	// RFC 7518 §6.3.1: 2048-bit n is 256 bytes (342 base64url characters),
	// no leading zero; e = 65537 is "AQAB".
	if j := k.jwk(); len(j.N) != 342 || j.E != "AQAB" || j.Kty != "RSA" || j.Alg != "RS256" {
		t.Errorf("jwk = kty %s alg %s e %s, len(n) %d", j.Kty, j.Alg, j.E, len(j.N))
	}
	p, err := k.PEM()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(p), "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("PEM() is not PKCS#8: %.30s", p)
	}
	k2, err := ParseSigningKey(string(p))
	if err != nil {
		t.Fatal(err)
	}
	if k2.KeyID() != k.KeyID() {
		t.Errorf("kid after PKCS#1 -> PKCS#8 round trip = %s, want %s", k2.KeyID(), k.KeyID())
	}
}

// An ephemeral key costs nothing until used; logging it does not generate
// it; concurrent first uses agree on one key.
func TestEphemeralSigningKeyIsLazy(t *testing.T) {
	k := EphemeralSigningKey()
	if got := fmt.Sprint(k); got != "signing key ephemeral" {
		t.Errorf("unused ephemeral key renders as %q", got)
	}
	if k.m.Load() != nil {
		t.Fatal("rendering the key generated it")
	}
	var wg sync.WaitGroup
	kids := make([]string, 8)
	for i := range kids {
		wg.Go(func() { kids[i] = k.KeyID() })
	}
	wg.Wait()
	for _, kid := range kids {
		if kid == "" || kid != kids[0] {
			t.Fatalf("concurrent first uses saw kids %v", kids)
		}
	}
	if got := k.LogValue().String(); got != kids[0] {
		t.Errorf("generated ephemeral key logs as %q, want its kid", got)
	}
	if bits := k.material().priv.N.BitLen(); bits != MinRSABits {
		t.Errorf("ephemeral key has %d bits", bits)
	}
}

// Printing or logging a key shows its id and nothing of the key itself.
// The check looks for the material (PEM, n, d, the sealing key bytes) in
// every encoding, not for characters a random thumbprint may contain.
func TestKeysDoNotPrintMaterial(t *testing.T) {
	k, err := ParseSigningKey(readTestdata(t, "test-signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	s, err := ParseSealingKey(base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	pemText, _ := k.PEM()
	priv := k.material().priv
	var secrets []string
	for _, b := range [][]byte{priv.N.Bytes(), priv.D.Bytes(), priv.Primes[0].Bytes(), raw} {
		for _, enc := range []func([]byte) string{base64.StdEncoding.EncodeToString, base64.RawURLEncoding.EncodeToString, hex.EncodeToString} {
			secrets = append(secrets, enc(b[:12])) // a 12-byte prefix is enough to spot it
		}
		secrets = append(secrets, string(b[:12]), fmt.Sprint(b[:6]))
	}
	secrets = append(secrets, strings.Split(string(pemText), "\n")[1], priv.D.String()[:20])

	var logged strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("keys", "signing", k, "sealing", s)
	renders := []string{fmt.Sprint(k), fmt.Sprintf("%v %s %+v", s, s, s), fmt.Sprintf("%v %+v", k, k), logged.String()}
	for _, got := range renders {
		for _, secret := range secrets {
			if strings.Contains(got, secret) {
				t.Errorf("%q contains key material %q", got, secret)
			}
		}
	}
	if got, want := fmt.Sprint(k), "signing key "+k.KeyID(); got != want {
		t.Errorf("signing key renders as %q, want %q", got, want)
	}
	if got, want := fmt.Sprint(s), "sealing key "+s.KeyID(); got != want {
		t.Errorf("sealing key renders as %q, want %q", got, want)
	}
	var nilKey *SigningKey
	if nilKey.LogValue().String() != "" {
		t.Error("nil key should log as empty")
	}
}
