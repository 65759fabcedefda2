package main

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// testSigningKey and testSealingKey are the keys of every in-process test
// server: generating a 2048-bit RSA key per server would cost tens of
// milliseconds.
var (
	testSigningKey = sync.OnceValues(tokens.GenerateSigningKey)
	testSealingKey = sync.OnceValue(func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	})
)

type testServer struct {
	*stack
	srv   *server
	clock *testutil.Clock
	key   *tokens.SigningKey
	// store is the server's state, issuer mints tokens the server accepts
	// (same key, issuer and audience), sealer opens the grants' sealed Entra
	// tokens.
	store  store.Store
	issuer *tokens.Issuer
	sealer *tokens.Sealer
}

// newTestServer builds the whole handler in-process in mode proxy (memory
// store unless env names Table Storage, fixed keys, a fake clock shared with
// the emulator) against an in-process emulator, with env overrides from
// mutate and options from with (applied after the test defaults).
func newTestServer(t *testing.T, mutate func(env map[string]string), with ...func(*options)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	clock := testutil.NewClock(time.Now())
	emu := entraemu.NewTestServer(t, func(c *entraemu.Config) {
		c.App.RedirectURIs = []string{base + "/callback"}
		c.Now = clock.Now
	})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, emu.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := testSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	sealing, err := tokens.ParseSealingKey(testSealingKey())
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := key.PEM()
	env := map[string]string{
		"AUTH_MODE": "proxy", "PUBLIC_BASE_URL": base,
		"ENTRA_TENANT_ID": entraemu.DevTenantID, "ENTRA_CLIENT_ID": entraemu.DevAppClientID,
		"ENTRA_CLIENT_SECRET": entraemu.DevAppClientSecret, "ENTRA_AUTHORITY_HOST": emu.BaseURL(),
		"GRAPH_BASE_URL": emu.BaseURL(), "UPSTREAM_CA_FILE": ca, "SIGNING_KEY": string(keyPEM),
		"SEALING_KEY": testSealingKey(),
	}
	if mutate != nil {
		mutate(env)
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	opts := options{Clock: clock.Now, Logger: slog.New(slog.DiscardHandler)}
	for _, w := range with {
		w(&opts)
	}
	if opts.Store == nil {
		// Memory on the fake clock, unless env names Table Storage.
		if opts.Store, err = openStore(cfg, opts); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := newServer(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := tokens.NewIssuer(tokens.IssuerOptions{Issuer: cfg.PublicBaseURL, Audience: cfg.ResourceURL(), Now: clock.Now}, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := tokens.NewSealer(sealing, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv}}
	hs.Start()
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &testServer{
		stack: &stack{BaseURL: base, Emu: emulatorProc{BaseURL: emu.BaseURL(), CAFile: ca}},
		srv:   srv, clock: clock, key: key,
		store: opts.Store, issuer: issuer, sealer: sealer,
	}
}
