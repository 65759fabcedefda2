package tokens

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
)

func captureLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func TestLoadKeysEphemeralLocally(t *testing.T) {
	logger, buf := captureLogger()
	k, err := LoadKeys(testConfig(), logger)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Ephemeral || k.Signing == nil || k.Sealing == nil || k.SigningPrev != nil || k.SealingPrev != nil {
		t.Fatalf("keys = %+v", k)
	}
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "restart") {
		t.Errorf("no WARN about ephemeral keys in log:\n%s", buf)
	}
	if _, err := k.Issuer(testConfig()); err != nil {
		t.Error(err)
	}
	if _, err := k.Sealer(); err != nil {
		t.Error(err)
	}
}

func TestLoadKeysInAzureRequiresKeys(t *testing.T) {
	cfg := testConfig()
	cfg.InAzure = true
	_, err := LoadKeys(cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("LoadKeys in Azure without keys succeeded")
	}
	for _, name := range []string{config.EnvSigningKey, config.EnvSealingKey} {
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
	cfg := testConfig()
	cfg.InAzure = true
	cfg.SigningKey = base64.StdEncoding.EncodeToString([]byte(readTestdata(t, "test-signing-key.pem")))
	cfg.SigningKeyPrev = readTestdata(t, "test-signing-key-prev.sec1.pem")
	cfg.SealingKey, cfg.SealingKeyPrev = sealing, sealingPrev

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
	for _, secret := range []string{sealing, sealingPrev, cfg.SigningKey, "PRIVATE KEY", "MHcCAQEE"} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains key material %q:\n%s", secret, log)
		}
	}
	if !strings.Contains(log, cur.KeyID()) {
		t.Errorf("log does not name the signing kid:\n%s", log)
	}
}

func TestLoadKeysReportsEveryBadKey(t *testing.T) {
	cfg := testConfig()
	cfg.SigningKey, cfg.SigningKeyPrev = "bad-signing", "bad-prev"
	cfg.SealingKey, cfg.SealingKeyPrev = "c2hvcnQ=", "bad-sealing-prev!"
	_, err := LoadKeys(cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("LoadKeys succeeded")
	}
	for _, name := range []string{config.EnvSigningKey, config.EnvSigningKeyPrevious, config.EnvSealingKey, config.EnvSealingKeyPrevious} {
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
