package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
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
	sec1 := readTestdata(t, "test-signing-key-prev.sec1.pem")
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // only its type matters
	p384DER, err := x509.MarshalPKCS8PrivateKey(p384)
	p384PEM := pemOf(t, "PRIVATE KEY", p384DER, err)
	p384SEC1, err := x509.MarshalECPrivateKey(p384)
	p384SEC1PEM := pemOf(t, "EC PRIVATE KEY", p384SEC1, err)
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	rsaPEM := pemOf(t, "PRIVATE KEY", rsaDER, err)

	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" means success
	}{
		{"PKCS#8 PEM", pkcs8, ""},
		{"SEC1 PEM", sec1, ""},
		{"PEM with surrounding space", "\n  " + pkcs8 + "\n", ""},
		{"base64 PEM (Key Vault one-liner)", base64.StdEncoding.EncodeToString([]byte(pkcs8)), ""},
		{"base64url PEM without padding", base64.RawURLEncoding.EncodeToString([]byte(sec1)), ""},
		{"PEM with literal \\n", strings.ReplaceAll(pkcs8, "\n", `\n`), ""},
		{"empty", "  ", "empty"},
		{"not base64, not PEM", "hello world!", "neither PEM"},
		{"base64 of garbage", base64.StdEncoding.EncodeToString([]byte("garbage")), "no PEM block"},
		{"certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "CERTIFICATE"},
		{"P-384 PKCS#8", p384PEM, "P-384"},
		{"P-384 SEC1", p384SEC1PEM, "P-384"},
		{"RSA", rsaPEM, "not an EC key"},
		{"corrupt DER", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "signing key:"},
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
	k, err := ParseSigningKey(readTestdata(t, "test-signing-key-prev.sec1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	canon, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": k.x, "y": k.y})
	sum := sha256.Sum256(canon)
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); k.KeyID() != want {
		t.Errorf("kid = %s, want %s", k.KeyID(), want)
	}
	if len(k.x) != 43 || len(k.y) != 43 {
		t.Errorf("x, y lengths = %d, %d, want 43 (32 bytes, RFC 7518 §6.2.1.2)", len(k.x), len(k.y))
	}
	p, err := k.PEM()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseSigningKey(string(p))
	if err != nil {
		t.Fatal(err)
	}
	if k2.KeyID() != k.KeyID() {
		t.Errorf("kid after PKCS#8 round trip = %s, want %s", k2.KeyID(), k.KeyID())
	}
}

func TestKeysDoNotPrintMaterial(t *testing.T) {
	k, _ := GenerateSigningKey()
	s, _ := GenerateSealingKey()
	for _, got := range []string{fmt.Sprint(k), fmt.Sprintf("%v %s", s, s), k.LogValue().String(), s.LogValue().String()} {
		if strings.Contains(got, "{") || strings.Contains(got, "0x") {
			t.Errorf("key renders as %q", got)
		}
	}
	var nilKey *SigningKey
	if nilKey.LogValue().String() != "" {
		t.Error("nil key should log as empty")
	}
}
