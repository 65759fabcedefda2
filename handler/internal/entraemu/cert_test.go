package entraemu

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateServingCertKeepsTheCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	first, err := LoadOrCreateServingCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	second, err := LoadOrCreateServingCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Certificate[0], second.Certificate[0]) {
		t.Fatal("a second run made a new certificate")
	}
	cfg := DefaultConfig()
	cfg.ServingCert = &second
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, _ := os.ReadFile(filepath.Join(dir, "cert.pem"))
	if !bytes.Equal(e.CertPEM(), onDisk) {
		t.Fatal("emulator does not serve the certificate kept in the directory")
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := LoadOrCreateServingCert(dir)
	if err != nil || bytes.Equal(third.Certificate[0], first.Certificate[0]) {
		t.Fatalf("a broken pair was not replaced: %v", err)
	}
}
