package entraemu

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// ListenAndServe listens on addr with TLS, sets the base URL from the real
// address when none was configured (so ":0" works), calls ready with it,
// and serves until ctx is done, then shuts down gracefully.
func (e *Emulator) ListenAndServe(ctx context.Context, addr string, ready func(baseURL string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if e.BaseURL() == "" {
		e.SetBaseURL(originFor(ln.Addr()))
	}
	srv := &http.Server{
		Handler:           e.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tls.NewListener(ln, e.TLSConfig())) }()
	if ready != nil {
		ready(e.BaseURL())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// originFor turns a listener address into https://host:port; an unspecified
// host (0.0.0.0, ::) becomes 127.0.0.1, which the certificate covers.
func originFor(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "https://" + a.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "https://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// TB is the part of testing.TB NewTestServer needs; any *testing.T, *B or
// *F satisfies it. (A small interface keeps package testing out of the
// emulator command's binary.)
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewTestServer starts an emulator on a loopback port with DefaultConfig,
// changed by mutate when not nil, and stops it when the test ends. Its
// Client trusts it; BaseURL, Issuer and AuthorityHost are set.
func NewTestServer(t TB, mutate func(*Config)) *Emulator {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler) // tests read results, not logs
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("entraemu.New: %v", err)
	}
	srv := httptest.NewUnstartedServer(e.Handler())
	srv.TLS = e.TLSConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	if e.BaseURL() == "" {
		e.SetBaseURL(srv.URL)
	}
	return e
}
