package funchost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/telemetry"
)

// Options configure Start.
type Options struct {
	// AppDir is the app folder (see LoadApp).
	AppDir string
	// Executable overrides host.json defaultExecutablePath, e.g. a binary
	// built by a test. Relative paths are relative to the current directory.
	Executable string
	// Args override customHandler.description.arguments when non-nil.
	Args []string
	// BackendURL, when set, points at a handler that is already running;
	// nothing is launched and FUNCTIONS_CUSTOMHANDLER_PORT is not chosen.
	BackendURL string
	// Env is the handler's environment (app settings); nil means this
	// process's environment. FUNCTIONS_CUSTOMHANDLER_PORT is always added.
	Env []string
	// ListenAddr is where the stand-in host listens; default 127.0.0.1:0.
	ListenAddr string
	// Keys, when not empty, are the accepted function keys, and triggers
	// with authLevel function or admin require one of them, as in Azure.
	// Empty means no key checks, as with `func start`.
	Keys []string
	// StartTimeout bounds the readiness wait; default 30 s, the host's
	// WorkerConstants.WorkerInitTimeoutSeconds.
	StartTimeout time.Duration
	// StopTimeout is how long Close waits after SIGTERM before killing the
	// handler; default 5 s.
	StopTimeout time.Duration
	// Stdout and Stderr receive the handler's output (default: discarded;
	// the last few KB of both are kept for error messages either way).
	Stdout, Stderr io.Writer
	// Telemetry, when set, gives every invocation a span of the host's
	// own, child of the caller's traceparent, and forwards the traceparent
	// of that span to the handler: what the host does with "telemetryMode":
	// "OpenTelemetry" in host.json (startTracing builds it from there).
	Telemetry *telemetry.Telemetry
}

// Host is a running stand-in host.
type Host struct {
	app     *App
	opts    Options
	backend *url.URL
	ln      net.Listener
	srv     *http.Server
	cmd     *exec.Cmd
	tail    *tailBuffer
	exited  chan struct{} // closed when the handler process exits
	exitErr error
	once    sync.Once
}

// Start loads the app, launches the handler (unless opts.BackendURL is
// set), waits until it answers, and serves the app's routes. ctx bounds the
// start only; call Close to stop.
func Start(ctx context.Context, opts Options) (*Host, error) {
	app, err := LoadApp(opts.AppDir)
	if err != nil {
		return nil, err
	}
	if opts.ListenAddr == "" {
		opts.ListenAddr = "127.0.0.1:0"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 5 * time.Second
	}
	if opts.Telemetry == nil {
		if opts.Telemetry, err = startTracing(app, opts.Env); err != nil {
			return nil, err
		}
	}
	h := &Host{app: app, opts: opts, tail: &tailBuffer{max: 4096}, exited: make(chan struct{})}
	if opts.BackendURL != "" {
		if h.backend, err = url.Parse(opts.BackendURL); err != nil {
			return nil, fmt.Errorf("funchost: backend URL: %w", err)
		}
	} else if err := h.launch(); err != nil {
		return nil, err
	}
	if err := h.waitReady(ctx); err != nil {
		return nil, errors.Join(err, h.stopHandler())
	}
	h.ln, err = net.Listen("tcp", opts.ListenAddr)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("funchost: %w", err), h.stopHandler())
	}
	h.srv = &http.Server{Handler: h.handler(), ReadHeaderTimeout: 10 * time.Second}
	// Serve returns only when Close shuts the server down (ErrServerClosed).
	go func() { _ = h.srv.Serve(h.ln) }()
	return h, nil
}

// URL is the stand-in host's base URL, e.g. http://127.0.0.1:7071.
func (h *Host) URL() string { return "http://" + h.ln.Addr().String() }

// App is the loaded app.
func (h *Host) App() *App { return h.app }

// BackendURL is where the handler listens.
func (h *Host) BackendURL() string { return h.backend.String() }

// Done is closed when the launched handler exits (never for BackendURL).
func (h *Host) Done() <-chan struct{} { return h.exited }

// Output returns the last few KB the handler wrote to stdout and stderr.
func (h *Host) Output() string { return h.tail.String() }

// Close stops serving and stops the handler: SIGTERM, then SIGKILL after
// StopTimeout.
func (h *Host) Close() error {
	var err error
	h.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), h.opts.StopTimeout)
		defer cancel()
		if h.srv.Shutdown(ctx) != nil {
			_ = h.srv.Close() // streams still open: cut them; its error would only repeat why
		}
		err = h.stopHandler()
		if terr := h.opts.Telemetry.Shutdown(ctx); terr != nil && err == nil {
			err = fmt.Errorf("funchost: flushing spans: %w", terr)
		}
	})
	return err
}

// startTracing is the host's OpenTelemetry mode: on when host.json says
// "telemetryMode": "OpenTelemetry" and the app settings (env, or this
// process's environment) name an OTLP endpoint. Application Insights is
// not modelled: there is none here.
func startTracing(app *App, env []string) (*telemetry.Telemetry, error) {
	if !strings.EqualFold(app.Host.TelemetryMode, "OpenTelemetry") {
		return nil, nil
	}
	if env == nil {
		env = os.Environ()
	}
	var endpoint, headers string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "OTEL_EXPORTER_OTLP_ENDPOINT="); ok {
			endpoint = v
		}
		if v, ok := strings.CutPrefix(kv, "OTEL_EXPORTER_OTLP_HEADERS="); ok {
			headers = v
		}
	}
	t, err := telemetry.Start(telemetry.Options{Endpoint: endpoint, Headers: headers, ServiceName: "functions-host"})
	if err != nil {
		return nil, fmt.Errorf("funchost: %w", err)
	}
	return t, nil
}

// launch starts the executable on a free port, as HttpWorkerProcess does.
func (h *Host) launch() error {
	exe := h.opts.Executable
	if exe == "" {
		exe = h.app.Executable()
	} else if abs, err := filepath.Abs(exe); err == nil && fileExists(abs) {
		exe = abs
	}
	if fi, err := os.Stat(exe); err == nil && fi.IsDir() {
		return fmt.Errorf("funchost: executable %s is a directory; build the handler (scripts/build.sh) or set Executable", exe)
	}
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("funchost: %w", err)
	}
	h.backend = &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	args := h.opts.Args
	if args == nil {
		args = h.app.Host.CustomHandler.Description.Arguments
	}
	env := h.opts.Env
	if env == nil {
		env = os.Environ()
	}
	h.cmd = exec.Command(exe, args...)
	h.cmd.Dir = h.app.WorkingDir()
	h.cmd.Env = append(env[:len(env):len(env)], fmt.Sprintf("FUNCTIONS_CUSTOMHANDLER_PORT=%d", port))
	h.cmd.Stdout = teeTo(h.tail, h.opts.Stdout)
	h.cmd.Stderr = teeTo(h.tail, h.opts.Stderr)
	if err := h.cmd.Start(); err != nil {
		return fmt.Errorf("funchost: start handler: %w", err)
	}
	go func() {
		h.exitErr = h.cmd.Wait()
		close(h.exited)
	}()
	return nil
}

// waitReady polls GET / until any HTTP response arrives; connection errors
// mean "not yet" (DefaultHttpWorkerService.IsWorkerReady).
func (h *Host) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.StartTimeout)
	defer cancel()
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil},
		Timeout:   2 * time.Second,
		// A redirect on / is an answer too; do not chase it off-box.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.backend.String()+"/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-h.exited:
			return fmt.Errorf("funchost: handler exited before answering GET / (%v); output:\n%s", h.exitErr, h.tail)
		case <-ctx.Done():
			return fmt.Errorf("funchost: handler at %s did not answer GET / within %s: %w; output:\n%s",
				h.backend, h.opts.StartTimeout, ctx.Err(), h.tail)
		case <-tick.C:
		}
	}
}

func (h *Host) stopHandler() error {
	if h.cmd == nil || h.cmd.Process == nil {
		return nil
	}
	select {
	case <-h.exited:
		return nil
	default:
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(h.opts.StopTimeout):
		_ = h.cmd.Process.Kill()
		<-h.exited
		return errors.New("funchost: handler ignored SIGTERM and was killed")
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func teeTo(tail *tailBuffer, w io.Writer) io.Writer {
	if w == nil {
		return tail
	}
	return io.MultiWriter(tail, w)
}
