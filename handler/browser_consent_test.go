package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestConsentPageInBrowser drives the consent page in headless Chromium
// (Debian's chromium with playwright-core): approve, deny, a POST without
// the CSRF token, and framing. Screenshots go to $TEST_ARTIFACTS_DIR.
func TestConsentPageInBrowser(t *testing.T) {
	chromium := browserTools(t, "playwright-core")
	st := startStack(t, "proxy", storageEnv(t)...)
	const redirectURI = "http://127.0.0.1:53682/callback"
	c := registerClientNamed(t, st, redirectURI, "Browser Test Client")
	authURL := func(state string) string {
		c.State = state
		return c.authorizeURL(st, url.Values{})
	}
	artifacts := os.Getenv("TEST_ARTIFACTS_DIR")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	cmd := exec.Command("node", "test/browser/consent.mjs")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(),
		"CHROMIUM="+chromium,
		"BASE_URL="+st.BaseURL,
		"AUTHORIZE_URL="+authURL("browser-approve"),
		"AUTHORIZE_URL_DENY="+authURL("browser-deny"),
		"REDIRECT_URI="+redirectURI,
		"EMULATOR_URL="+st.Emu.BaseURL,
		"EMULATOR_SPKI="+spkiPin(t, st.Emu.CAFile),
		"ARTIFACTS_DIR="+filepath.Join(artifacts, "consent"),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test:\n%s", out)
	if err != nil {
		t.Fatalf("consent browser test failed: %v", err)
	}
}

// spkiPin is Chromium's --ignore-certificate-errors-spki-list value for the
// emulator's certificate: only that key is trusted despite being self-signed.
func spkiPin(t *testing.T, caFile string) string {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// browserTools skips the test unless Debian's chromium and the named npm
// packages are installed (scripts/test.sh installs them), and returns
// chromium's path.
func browserTools(t *testing.T, packages ...string) string {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (scripts/test.sh installs it)")
	}
	for _, p := range packages {
		if _, err := os.Stat("../node_modules/" + p); err != nil {
			t.Skipf("%s is not installed (scripts/test.sh runs npm ci)", p)
		}
	}
	return chromium
}
