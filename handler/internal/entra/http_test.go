package entra

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The client trusts the system roots plus UPSTREAM_CA_FILE, never less:
// a server whose certificate is in the file is reached, and without the
// file the same server is refused.
func TestHTTPClientTrustsTheCAFileAndVerifies(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	// Other PEM blocks are skipped, as in a bundle with a key beside it.
	other := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})
	if err := os.WriteFile(ca, append(other, certPEM...), 0o600); err != nil {
		t.Fatal(err)
	}

	withCA, err := NewHTTPClient(ca)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := withCA.Get(srv.URL)
	if err != nil {
		t.Fatalf("with the CA file: %v", err)
	}
	resp.Body.Close()
	withCA.CloseIdleConnections()

	plain, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Get(srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA file: err = %v, want a certificate error", err)
	}
}

func TestHTTPClientRefusesABadCAFileAtOnce(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty.pem":   "",
		"nocert.pem":  "-----BEGIN PRIVATE KEY-----\nAQ==\n-----END PRIVATE KEY-----\n",
		"garbage.pem": "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := NewHTTPClient(p); err == nil {
			t.Errorf("%s: NewHTTPClient = nil error", name)
		}
	}
	if _, err := NewHTTPClient(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("missing file: NewHTTPClient = nil error")
	}
}
