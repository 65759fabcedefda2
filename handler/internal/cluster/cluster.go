// Package cluster runs the handler the way Flex Consumption scales it out
// (learn.microsoft.com/azure/azure-functions/flex-consumption-plan):
// several handler processes built from this repo, sharing one Table
// Storage account (Azurite), behind one public URL. The front routes each
// request to an instance (round robin, or as a test says), and instances
// can be drained, stopped with SIGTERM and started again with new settings,
// one at a time, as the platform scales in or a deployment rolls. The
// Entra emulator runs in-process.
//
// What it does not model: the Functions host in front of each instance
// (funchost covers that, one instance at a time), the platform's own load
// balancing and draining rules, and API Management. It is for the
// multi-instance tests and scripts/soak.sh; TestDeps keeps it out of the
// handler binary.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// Options configure a cluster.
type Options struct {
	// Handler is the handler binary (go build ./handler).
	Handler string
	// Instances is how many handler processes start (default 3).
	Instances int
	// Storage is the Table Storage connection string every instance
	// shares (Azurite's), Table the table (default: a fresh name).
	Storage, Table string
	// Env is added to every instance's environment after the defaults
	// (later entries win).
	Env []string
	// Logs receives every instance's output, each line prefixed with the
	// instance's name (A, B, C, …). nil discards it.
	Logs io.Writer
	// GraphDelay holds every Graph answer of the emulator this long, so a
	// tool call that reaches Graph stays in flight (the scale-in test).
	GraphDelay time.Duration
	// Dir holds the emulator's certificate; default a new temporary
	// directory, removed by Close.
	Dir string
}

// Cluster is a running cluster.
type Cluster struct {
	// URL is the front: PUBLIC_BASE_URL of every instance.
	URL string
	// Emulator is the Entra emulator; CAFile its certificate.
	Emulator *entraemu.Emulator
	CAFile   string
	// SigningKey and SealingKey are the keys every instance starts with
	// (PEM and base64), unless Env or Start overrides them.
	SigningKey, SealingKey string

	opts    Options
	env     []string
	tmpDir  string
	front   *http.Server
	emuStop context.CancelFunc
	emuDone chan struct{}

	mu    sync.Mutex
	insts []*Instance
	route func(*http.Request) int
	rr    atomic.Uint64
	// Served counts the requests the front sent to each instance, by
	// instance and path ("A /token").
	served map[string]int
}

// Start starts the emulator, the front and opts.Instances handler
// processes, and waits until every instance answers /healthz.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if opts.Instances == 0 {
		opts.Instances = 3
	}
	if opts.Table == "" {
		opts.Table = "cluster" + rand.Text()[:12]
	}
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	c = &Cluster{opts: opts, served: map[string]int{}}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if err := c.startFront(); err != nil {
		return nil, err
	}
	if err := c.startEmulator(); err != nil {
		return nil, err
	}
	if err := c.makeKeys(); err != nil {
		return nil, err
	}
	c.env = c.defaultEnv()
	c.insts = make([]*Instance, opts.Instances)
	for i := range opts.Instances {
		if err := c.Start(ctx, i); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// defaultEnv is what every instance runs with: mode proxy against the
// emulator, the shared table and the shared keys (instances that signed
// with different keys could not verify each other's tokens).
func (c *Cluster) defaultEnv() []string {
	emu := c.Emulator.BaseURL()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"AUTH_MODE=proxy",
		"PUBLIC_BASE_URL=" + c.URL,
		"ENTRA_TENANT_ID=" + entraemu.DevTenantID,
		"ENTRA_CLIENT_ID=" + entraemu.DevAppClientID,
		"ENTRA_CLIENT_SECRET=" + entraemu.DevAppClientSecret,
		"ENTRA_AUTHORITY_HOST=" + emu,
		"GRAPH_BASE_URL=" + emu,
		"UPSTREAM_CA_FILE=" + c.CAFile,
		"STORAGE_CONNECTION_STRING=" + c.opts.Storage,
		"STORAGE_TABLE_NAME=" + c.opts.Table,
		"SIGNING_KEY=" + c.SigningKey,
		"SEALING_KEY=" + c.SealingKey,
		"LOG_LEVEL=info",
	}
	return append(env, c.opts.Env...)
}

func (c *Cluster) makeKeys() error {
	k, err := tokens.GenerateSigningKey()
	if err != nil {
		return err
	}
	pem, err := k.PEM()
	if err != nil {
		return err
	}
	c.SigningKey = string(pem)
	seal := make([]byte, 32)
	_, _ = rand.Read(seal) // never fails since Go 1.24
	c.SealingKey = base64.StdEncoding.EncodeToString(seal)
	return nil
}

// startEmulator runs the Entra emulator in this process, with the front's
// /callback as the app's redirect URI.
func (c *Cluster) startEmulator() error {
	cfg := entraemu.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.App.RedirectURIs = []string{c.URL + "/callback"}
	emu, err := entraemu.New(cfg)
	if err != nil {
		return err
	}
	dir := c.opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "cluster-"); err != nil {
			return err
		}
		c.tmpDir = dir
	}
	c.CAFile = filepath.Join(dir, "emulator-ca.pem")
	if err := os.WriteFile(c.CAFile, emu.CertPEM(), 0o600); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	emu.SetBaseURL("https://" + ln.Addr().String())
	srv := &http.Server{
		Handler:           delayGraph(emu.Handler(), c.opts.GraphDelay),
		TLSConfig:         emu.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.emuStop, c.emuDone = cancel, make(chan struct{})
	go func() {
		defer close(c.emuDone)
		go func() { <-ctx.Done(); _ = srv.Close() }()
		_ = srv.ServeTLS(ln, "", "") // the certificate comes from TLSConfig
	}()
	c.Emulator = emu
	return nil
}

// delayGraph holds the emulator's Graph answers (/v1.0/...) for d.
func delayGraph(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) > 5 && r.URL.Path[:5] == "/v1.0" {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// startFront listens for the public URL and proxies each request to the
// instance the route picks.
func (c *Cluster) startFront() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	c.URL = "http://" + ln.Addr().String()
	tr := &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			target := pr.In.Context().Value(targetKey{}).(*url.URL)
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // as the platform's front end passes it
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			_, _ = fmt.Fprintf(c.opts.Logs, "front: %s %s: %v\n", r.Method, r.URL.Path, err) // best effort, like every log line
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	c.front = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inst := c.pick(r)
			if inst == nil {
				http.Error(w, "no instance in rotation", http.StatusServiceUnavailable)
				return
			}
			defer inst.inFlight.Add(-1) // pick counted it
			proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, inst.url)))
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = c.front.Serve(ln) }()
	return nil
}

type targetKey struct{}

// Route makes f pick the instance of every request from now on: an index,
// or -1 for the next in rotation (round robin). nil restores round robin.
func (c *Cluster) Route(f func(*http.Request) int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.route = f
}

// pick chooses the instance for r and counts the request as in flight
// there, under the lock Drain takes, so a drained instance gets no request
// Drain has not waited for.
func (c *Cluster) pick(r *http.Request) *Instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.choose(r)
	if in != nil {
		in.inFlight.Add(1)
		c.served[in.Name+" "+r.URL.Path]++
	}
	return in
}

func (c *Cluster) choose(r *http.Request) *Instance {
	if c.route != nil {
		if i := c.route(r); i >= 0 && i < len(c.insts) && c.insts[i] != nil {
			return c.insts[i]
		}
	}
	var live []*Instance
	for _, in := range c.insts {
		if in != nil && in.inRotation {
			live = append(live, in)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[c.rr.Add(1)%uint64(len(live))]
}

// Served returns how many requests the front sent to instance name with
// path, and forgets nothing.
func (c *Cluster) Served(name, path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.served[name+" "+path]
}

// Instance returns instance i as it runs now.
func (c *Cluster) Instance(i int) *Instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.insts[i]
}

// Instances returns the instances as they run now.
func (c *Cluster) Instances() []*Instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Instance(nil), c.insts...)
}

// Drain takes instance i out of rotation, so the front sends it nothing
// more unless a route names it, and waits (at most timeout) until the
// requests the front already sent it have been answered. The platform
// drains an instance of its executions before it removes it
// (learn.microsoft.com/azure/azure-functions/event-driven-scaling). Only
// then is SIGTERM free of a race HTTP/1.1 cannot avoid: a request written
// on a kept-alive connection just as the server closes it as idle is lost
// without the server ever reading it (RFC 9112 §9.6), and a proxy may not
// repeat a POST.
func (c *Cluster) Drain(i int, timeout time.Duration) error {
	c.mu.Lock()
	in := c.insts[i]
	if in != nil {
		in.inRotation = false
	}
	c.mu.Unlock()
	if in == nil {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for in.inFlight.Load() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: %s still has %d requests in flight after %v", in.Name, in.inFlight.Load(), timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// Close stops every instance (SIGTERM, then SIGKILL after 10 s), the
// front and the emulator.
func (c *Cluster) Close() {
	for i, in := range c.Instances() {
		if in != nil {
			_ = c.Drain(i, 10*time.Second)
			_, _ = in.Stop(10 * time.Second)
		}
	}
	if c.front != nil {
		_ = c.front.Close()
	}
	if c.emuStop != nil {
		c.emuStop()
		<-c.emuDone
	}
	if c.tmpDir != "" {
		_ = os.RemoveAll(c.tmpDir)
	}
}

// errNotReady is an instance that did not answer /healthz in time.
var errNotReady = errors.New("cluster: instance not ready")
