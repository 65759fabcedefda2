package main

import (
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
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// fakeClock is the handler's clock in tests that travel in time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testSigningKey is the SIGNING_KEY of every in-process test server:
// generating a 2048-bit RSA key per server would cost tens of milliseconds.
var testSigningKey = sync.OnceValues(tokens.GenerateSigningKey)

type testServer struct {
	*stack
	srv   *server
	clock *fakeClock
	key   *tokens.SigningKey
}

// newTestServer builds the whole handler in-process in mode proxy (memory
// store, fixed signing key, fake clock) against an in-process emulator,
// with env overrides from mutate.
func newTestServer(t *testing.T, mutate func(env map[string]string)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	emu := entraemu.NewTestServer(t, func(c *entraemu.Config) { c.App.RedirectURIs = []string{base + "/callback"} })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, emu.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := testSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := key.PEM()
	env := map[string]string{
		"AUTH_MODE": "proxy", "PUBLIC_BASE_URL": base,
		"ENTRA_TENANT_ID": entraemu.DevTenantID, "ENTRA_CLIENT_ID": entraemu.DevAppClientID,
		"ENTRA_CLIENT_SECRET": entraemu.DevAppClientSecret, "ENTRA_AUTHORITY_HOST": emu.BaseURL(),
		"GRAPH_BASE_URL": emu.BaseURL(), "UPSTREAM_CA_FILE": ca, "SIGNING_KEY": string(keyPEM),
	}
	if mutate != nil {
		mutate(env)
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newServer(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	if srv.proxy != nil {
		srv.proxy.oauth.Now = clock.Now
		srv.proxy.oauth.Issuer.Now = clock.Now
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv}}
	hs.Start()
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &testServer{
		stack: &stack{BaseURL: base, Emu: emulatorProc{BaseURL: emu.BaseURL(), CAFile: ca}},
		srv:   srv, clock: clock, key: key,
	}
}
