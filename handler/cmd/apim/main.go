// Command apim runs the API Management stand-in (handler/internal/apimemu)
// in front of a running Functions host or handler, executing the real
// infra/apim-operations.json, apim.bicep's policy mapping and
// infra/policies/*.xml:
//
//	go run ./handler/cmd/apim -backend http://127.0.0.1:7073 \
//	    -named-value public-base-url=http://127.0.0.1:7071 \
//	    -named-value mcp-scope=mcp:tools -named-value function-host-key=<key> \
//	    -named-value mcp-allowed-origins=,http://localhost:6274,
//
// Every {{named value}} the policies of the chosen mode use must be given;
// the openid-config documents are fetched with the system roots plus
// -ca-file (the Entra emulator's certificate). scripts/dev.sh runs it with
// DEV_VIA_APIM=1.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/apimemu"
)

// namedValues collects repeated -named-value name=value flags.
type namedValues map[string]string

func (n namedValues) String() string { return fmt.Sprint(len(n), " named values") }

func (n namedValues) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New("want name=value")
	}
	if _, dup := n[name]; dup {
		return fmt.Errorf("named value %s given twice", name)
	}
	n[name] = value
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "apim:", strings.TrimPrefix(err.Error(), "apimemu: "))
		os.Exit(1)
	}
}

func run() error {
	nv := namedValues{}
	var (
		infraDir = flag.String("infra-dir", "infra", "the repository's infra folder")
		mode     = flag.String("auth-mode", "proxy", "proxy or entra: which branch of apim.bicep's policy choice runs")
		addr     = flag.String("addr", "127.0.0.1:7070", "listen address (the public base URL's host and port)")
		backend  = flag.String("backend", "", "base URL of the function-app backend (the Functions host stand-in)")
		caFile   = flag.String("ca-file", "", "extra PEM roots for openid-config retrieval (the Entra emulator's certificate)")
		debug    = flag.Bool("debug", false, "log every request")
	)
	flag.Var(nv, "named-value", "name=value for a {{named value}} the policies use (repeat)")
	flag.Parse()
	if *backend == "" {
		return errors.New("-backend is required")
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	fetch, err := fetchClient(*caFile)
	if err != nil {
		return err
	}
	g, err := apimemu.New(apimemu.Config{
		InfraDir: *infraDir, AuthMode: *mode, NamedValues: nv,
		Backends: map[string]string{"function-app": *backend}, FetchClient: fetch, Logger: log,
	})
	if err != nil {
		return err
	}
	defer g.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	for _, op := range g.Operations() {
		fmt.Printf("apim:   %-26s %-6s %s (policy %q)\n", op.Name, op.Method, op.URLTemplate, op.Policy)
	}
	fmt.Printf("apim: mode %s, backend function-app = %s\napim: listening on http://%s\n", *mode, *backend, ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if srv.Shutdown(shutdown) != nil {
		_ = srv.Close() // streams still open: cut them; its error would only repeat why
	}
	return nil
}

// fetchClient trusts the system roots plus caFile; verification is never
// switched off.
func fetchClient(caFile string) (*http.Client, error) {
	t := &http.Transport{Proxy: nil}
	if caFile != "" {
		pool, err := entra.RootsWithCAFile(caFile)
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: t}, nil
}
