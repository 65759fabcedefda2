// Command entra-emulator serves the Entra ID emulator (package entraemu)
// over HTTPS for offline local runs and tests. It is never deployed.
//
// It prints exactly one line to stdout once it is listening:
//
//	entra-emulator: ready on https://127.0.0.1:<port> tenant <id>
//
// and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "entra-emulator:", err)
		os.Exit(1)
	}
}

// stringList is a repeatable flag; the first use replaces the default.
type stringList struct {
	values []string
	set    bool
}

func (s *stringList) String() string { return strings.Join(s.values, ",") }

func (s *stringList) Set(v string) error {
	if !s.set {
		s.values, s.set = nil, true
	}
	s.values = append(s.values, v)
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := entraemu.DefaultConfig()
	fs := flag.NewFlagSet("entra-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", entraemu.DefaultAddr, "listen address; port 0 picks a free port")
	certOut := fs.String("cert-out", "", "write the generated TLS certificate (PEM) to this file, for UPSTREAM_CA_FILE")
	tlsDir := fs.String("tls-dir", "", "keep the TLS certificate and key in this directory across runs (a browser that accepted it once keeps accepting it)")
	baseURL := fs.String("base-url", "", "public origin for issuer and endpoints (default: https://<listen address>)")
	fs.StringVar(&cfg.TenantID, "tenant", cfg.TenantID, "tenant id")
	fs.StringVar(&cfg.App.ID, "client-id", cfg.App.ID, "API app (confidential client) id")
	fs.StringVar(&cfg.App.Secret, "client-secret", cfg.App.Secret, "API app client secret")
	redirects := &stringList{values: cfg.App.RedirectURIs}
	fs.Var(redirects, "redirect-uri", "API app redirect URI (repeatable)")
	fs.StringVar(&cfg.FederatedSubject, "federated-subject", cfg.FederatedSubject, "managed identity principal id trusted by the app's federated credential")
	fs.StringVar(&cfg.ManagedIdentityClientID, "managed-identity-client-id", cfg.ManagedIdentityClientID, "user-assigned managed identity client id served at /msi/token")
	fs.StringVar(&cfg.IdentityHeader, "identity-header", cfg.IdentityHeader, "value expected in X-IDENTITY-HEADER at /msi/token")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.App.RedirectURIs = redirects.values
	cfg.App.AppIDURI = "api://" + cfg.App.ID
	cfg.App.FederatedSubjects = []string{cfg.FederatedSubject}
	cfg.BaseURL = strings.TrimSuffix(*baseURL, "/")

	if *tlsDir != "" {
		c, err := entraemu.LoadOrCreateServingCert(*tlsDir)
		if err != nil {
			return fmt.Errorf("tls-dir: %w", err)
		}
		cfg.ServingCert = &c
	}
	emu, err := entraemu.New(cfg)
	if err != nil {
		return err
	}
	if *certOut != "" {
		if err := os.WriteFile(*certOut, emu.CertPEM(), 0o644); err != nil {
			return err
		}
	}
	defer cfg.Logger.Info("entra emulator stopped")
	return emu.ListenAndServe(ctx, *addr, func(base string) {
		cfg.Logger.Info("entra emulator listening", "base_url", base, "tenant", cfg.TenantID,
			"client_id", cfg.App.ID, "cert_out", *certOut, "managed_identity_endpoint", base+"/msi/token")
		// The line a parent process waits for; if it cannot be written the
		// parent times out and says so.
		_, _ = fmt.Fprintf(stdout, "entra-emulator: ready on %s tenant %s\n", base, cfg.TenantID)
	})
}
