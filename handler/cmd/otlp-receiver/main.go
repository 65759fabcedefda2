// Command otlp-receiver prints the spans an OpenTelemetry SDK sends it,
// one line each: the local stand-in for a collector (scripts/dev.sh
// DEV_TRACES=1 starts it; point OTEL_EXPORTER_OTLP_ENDPOINT at it).
//
//	go run ./handler/cmd/otlp-receiver -addr 127.0.0.1:4318
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/otlprecv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4318", "listen address (4318 is OTLP/HTTP's default port)")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: &otlprecv.Receiver{Out: os.Stdout}, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("otlp-receiver: listening on http://%s (POST /v1/traces)\n", *addr)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "otlp-receiver:", err)
		os.Exit(1)
	}
}
