// Command funchost runs a staged Functions app the way `func start` would,
// for machines where Azure Functions Core Tools cannot be installed:
//
//	scripts/build.sh && go run ./handler/cmd/funchost -app-dir build/app
//
// The handler gets this process's environment plus the Values of
// local.settings.json in the app folder (the environment wins, as in Core
// Tools), and FUNCTIONS_CUSTOMHANDLER_PORT. With -key, triggers with
// authLevel function require that key, as in Azure; without it nothing is
// enforced, as with `func start`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/funchost"
)

func main() {
	if err := run(); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "funchost:") {
			msg = "funchost: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
}

func run() error {
	var (
		appDir  = flag.String("app-dir", "build/app", "app folder with host.json and the function folders")
		addr    = flag.String("addr", "127.0.0.1:7071", "listen address (7071 is the func start default)")
		exe     = flag.String("executable", "", "handler executable (default: host.json defaultExecutablePath)")
		backend = flag.String("backend", "", "URL of an already running handler; nothing is launched")
		keys    = flag.String("key", "", "function key(s), comma-separated, to require on non-anonymous triggers")
	)
	flag.Parse()

	values, err := funchost.LocalSettings(*appDir)
	if err != nil {
		return err
	}
	opts := funchost.Options{
		AppDir:     *appDir,
		Executable: *exe,
		BackendURL: *backend,
		Env:        funchost.MergeEnv(os.Environ(), values),
		ListenAddr: *addr,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
	}
	if *keys != "" {
		opts.Keys = strings.Split(*keys, ",")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := funchost.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := h.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "funchost: stopping the handler:", err)
		}
	}()

	fmt.Printf("funchost: handler on %s\n", h.BackendURL())
	for _, r := range h.App().Routes() {
		fmt.Printf("funchost:   %-10s [%s] %s/%s (%s)\n", r.Function, strings.Join(r.Methods, ","), h.URL(), r.Pattern, r.AuthLevel)
	}
	fmt.Printf("funchost: listening on %s\n", h.URL())

	select {
	case <-ctx.Done():
		return h.Close()
	case <-h.Done():
		return fmt.Errorf("handler exited; last output:\n%s", h.Output())
	}
}
