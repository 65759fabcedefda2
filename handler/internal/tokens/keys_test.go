package tokens

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"log/slog"
	"strings"
	"testing"
)

func captureLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// testKeySettings names the keys as package config does; none is set.
func testKeySettings() KeySettings {
	return KeySettings{
		Signing: Setting{Name: "SIGNING_KEY"}, SigningPrev: Setting{Name: "SIGNING_KEY_PREVIOUS"},
		Sealing: Setting{Name: "SEALING_KEY"}, SealingPrev: Setting{Name: "SEALING_KEY_PREVIOUS"},
	}
}

func TestLoadKeysEphemeralLocally(t *testing.T) {
	logger, buf := captureLogger()
	k, err := LoadKeys(testKeySettings(), logger)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Ephemeral || k.Signing == nil || k.Sealing == nil || k.SigningPrev != nil || k.SealingPrev != nil {
		t.Fatalf("keys = %+v", k)
	}
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "restart") {
		t.Errorf("no WARN about ephemeral keys in log:\n%s", buf)
	}
	// The RSA key is generated on first use, not while starting up.
	iss, err := k.Issuer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if k.Signing.m.Load() != nil {
		t.Error("LoadKeys or NewIssuer generated the ephemeral signing key")
	}
	if _, err := k.Sealer(); err != nil {
		t.Error(err)
	}
	if _, _, err := iss.Mint(sampleClaims); err != nil || k.Signing.m.Load() == nil {
		t.Errorf("first Mint: %v, key generated: %v", err, k.Signing.m.Load() != nil)
	}
}

// The EC keys of earlier versions are refused with the reason, for either
// slot, so an operator knows to rotate rather than guess.
func TestLoadKeysRefusesECKeys(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	cfg := testKeySettings()
	cfg.Signing.Value = readTestdata(t, "test-signing-key.pem")
	cfg.SigningPrev.Value = ecPEM
	_, err = LoadKeys(cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "SIGNING_KEY_PREVIOUS"+": signing key: EC key: access tokens are RS256") ||
		!strings.Contains(err.Error(), "keys.sh rotate") {
		t.Errorf("LoadKeys with an EC previous key: %v", err)
	}
}

func TestLoadKeysInAzureRequiresKeys(t *testing.T) {
	cfg := testKeySettings()
	cfg.Required = true
	_, err := LoadKeys(cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("LoadKeys in Azure without keys succeeded")
	}
	for _, name := range []string{"SIGNING_KEY", "SEALING_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestLoadKeysConfigured(t *testing.T) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	sealing := base64.StdEncoding.EncodeToString(raw)
	_, _ = rand.Read(raw)
	sealingPrev := base64.StdEncoding.EncodeToString(raw)
	cfg := testKeySettings()
	cfg.Required = true
	cfg.Signing.Value = base64.StdEncoding.EncodeToString([]byte(readTestdata(t, "test-signing-key.pem")))
	cfg.SigningPrev.Value = readTestdata(t, "test-signing-key-prev.pkcs1.pem")
	cfg.Sealing.Value, cfg.SealingPrev.Value = sealing, sealingPrev

	logger, buf := captureLogger()
	k, err := LoadKeys(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	cur, prev := testKeys(t)
	if k.Ephemeral || k.Signing.KeyID() != cur.KeyID() || k.SigningPrev.KeyID() != prev.KeyID() || k.SealingPrev == nil {
		t.Errorf("keys = %+v", k)
	}
	log := buf.String()
	if strings.Contains(log, "WARN") {
		t.Errorf("unexpected warning:\n%s", log)
	}
	pemBody := func(name string) string { return strings.Split(readTestdata(t, name), "\n")[1] }
	for _, secret := range []string{sealing, sealingPrev, cfg.Signing.Value, "PRIVATE KEY", pemBody("test-signing-key.pem"), pemBody("test-signing-key-prev.pkcs1.pem")} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains key material %q:\n%s", secret, log)
		}
	}
	if !strings.Contains(log, cur.KeyID()) {
		t.Errorf("log does not name the signing kid:\n%s", log)
	}
}

func TestLoadKeysReportsEveryBadKey(t *testing.T) {
	cfg := testKeySettings()
	cfg.Signing.Value, cfg.SigningPrev.Value = "bad-signing", "bad-prev"
	cfg.Sealing.Value, cfg.SealingPrev.Value = "c2hvcnQ=", "bad-sealing-prev!"
	_, err := LoadKeys(cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("LoadKeys succeeded")
	}
	for _, name := range []string{"SIGNING_KEY", "SIGNING_KEY_PREVIOUS", "SEALING_KEY", "SEALING_KEY_PREVIOUS"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	for _, v := range []string{"bad-signing", "bad-prev", "c2hvcnQ=", "bad-sealing-prev!"} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error repeats the value %q", v)
		}
	}
}
