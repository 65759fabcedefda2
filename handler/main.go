// Command handler is the Azure Functions custom handler: one HTTP server that
// serves Protected Resource Metadata, the OAuth 2.1 authorization server and
// the MCP endpoint. See docs/architecture.md and README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The Functions host stops the worker with SIGTERM; finish in-flight
	// requests before exiting.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
