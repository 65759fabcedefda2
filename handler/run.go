package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/telemetry"
	"go.opentelemetry.io/otel"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// run loads the configuration, builds the server and serves until ctx is
// done. It is main without the process: tests call it directly.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	logger.Debug("configuration", "config", cfg) // secrets redacted (Config.LogValue)
	// GOGC as configured, or the handler's default (config.DefaultGCPercent)
	// rather than Go's; GOMEMLIMIT is applied by the runtime itself.
	debug.SetGCPercent(cfg.GCPercent)

	// The SDK reports export failures to a process-wide handler: ours logs
	// them like everything else (a collector that is down is a warning).
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { logger.Warn("telemetry export failed", "err", err) }))
	tracing, err := telemetry.Start(telemetry.Options{Endpoint: cfg.OTLPEndpoint, Headers: cfg.OTLPHeaders, ServiceName: cfg.ServiceName, Version: version,
		Metrics: true, MetricInterval: cfg.MetricInterval})
	if err != nil {
		return err
	}
	defer func() {
		// Flush the last spans; bounded, the host is waiting for us to exit.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(ctx); err != nil {
			logger.Warn("flushing spans failed", "err", err)
		}
	}()
	srv, err := newServer(cfg, options{Logger: logger, Telemetry: tracing})
	if err != nil {
		return err
	}
	defer srv.Close()

	// Loopback only: the Functions host (or APIM via the host) is the only
	// client; nothing else on the machine's network should reach us.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: MCP responses may stream. The host's own limit
		// (230 s on the Azure front end) bounds them.
		IdleTimeout: 120 * time.Second,
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "mode", cfg.Mode, "public_base_url", cfg.PublicBaseURL,
		"behind_functions_host", cfg.BehindHost, "tracing", tracing.Enabled(), "version", version,
		"gogc", cfg.GCPercent, "gomemlimit", memoryLimit())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return drain(hs, errc, logger)
}

// shutdownGrace bounds how long a stopping instance waits for the requests
// it is serving. Every request is itself bounded well within it (store
// operations 5 s, Entra and Graph calls 15 s; docs/architecture.md §13),
// and the platform drains an instance of its executions before removing
// it (learn.microsoft.com/azure/azure-functions/event-driven-scaling).
const shutdownGrace = 20 * time.Second

// drain is the instance's scale-in (SIGTERM from the platform): stop
// accepting, let the requests in flight finish, close the connections
// they leave idle, and return. Requests still running after
// shutdownGrace are cut off, and the error says so.
func drain(hs *http.Server, served <-chan error, logger *slog.Logger) error {
	start := time.Now()
	logger.Info("shutting down", "grace", shutdownGrace)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		_ = hs.Close() // cut off what did not finish in time
		return fmt.Errorf("shutdown: requests still running after %v: %w", shutdownGrace, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped", "drained_in", time.Since(start).Round(time.Millisecond))
	return nil
}

// memoryLimit is the runtime's soft memory limit (GOMEMLIMIT), for the log.
func memoryLimit() string {
	n := debug.SetMemoryLimit(-1) // -1 reads without changing it
	if n == math.MaxInt64 {
		return "none"
	}
	return strconv.FormatInt(n>>20, 10) + "MiB"
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config.Load
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
