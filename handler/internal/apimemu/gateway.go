package apimemu

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config configures New.
type Config struct {
	// InfraDir is the repository's infra folder.
	InfraDir string
	// AuthMode picks the `authMode == 'proxy' ? … : …` branch: proxy or entra.
	AuthMode string
	// NamedValues are the {{named values}} the policies use.
	NamedValues map[string]string
	// Backends maps backend ids (set-backend-service backend-id) to base
	// URLs, e.g. "function-app" → the Functions host stand-in.
	Backends map[string]string
	// FetchClient retrieves openid-config documents and key sets; default:
	// a client with a 10 s timeout and no proxy.
	FetchClient *http.Client
	// Now is the clock for token lifetimes and rate limits; default time.Now.
	Now func() time.Time
	// Logger receives a line per request (debug) and per policy error
	// (info); default: discard.
	Logger *slog.Logger
}

// Gateway is a loaded API: the operations with their effective policies.
// It is an http.Handler.
type Gateway struct {
	ops           []*operation
	api           *document
	backends      map[string]*url.URL
	bicepBackends []string
	limits        *limiter
	fetchClient   *http.Client
	now           func() time.Time
	log           *slog.Logger

	mu         sync.Mutex
	transports map[time.Duration]*http.Transport
	sources    map[string]*keySource
}

type operation struct {
	Operation
	doc *document
}

// globalPolicy is the global scope as API Management creates it: nothing
// but forward-request in backend ("By default, API Management sets up this
// policy at the global scope", forward-request-policy). apim.bicep sets no
// global policy, and the API is in no product, so this is the top.
const globalPolicy = `<policies><inbound /><backend><forward-request /></backend><outbound /><on-error /></policies>`

// New reads the operation list, apim.bicep's policy mapping and the policy
// files, and compiles them. Anything it does not model is an error that
// names the file and line; nothing is half-loaded.
func New(cfg Config) (*Gateway, error) {
	ops, err := ReadOperations(cfg.InfraDir)
	if err != nil {
		return nil, err
	}
	bicep, err := ReadBicep(cfg.InfraDir, cfg.AuthMode)
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		backends: map[string]*url.URL{}, bicepBackends: bicep.Backends, limits: newLimiter(),
		fetchClient: cfg.FetchClient, now: cfg.Now, log: cfg.Logger,
		transports: map[time.Duration]*http.Transport{}, sources: map[string]*keySource{},
	}
	if g.fetchClient == nil {
		g.fetchClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	for id, raw := range cfg.Backends {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("backend %s: %q is not an http(s) base URL", id, raw))
			continue
		}
		g.backends[id] = u
	}
	global, err := g.compile("(default global policy)", []byte(globalPolicy), "global", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("apimemu: %w", err)
	}
	if g.api, err = g.compileFile(cfg, bicep.APIPolicy, "api", global); err != nil {
		// Every operation policy builds on the API policy.
		return nil, fmt.Errorf("apimemu: refusing to start:\n%w", errors.Join(append(errs, err)...))
	}
	docs := map[string]*document{"": g.api}
	keys := make([]string, 0, len(bicep.Policies))
	for k := range bicep.Policies {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d, err := g.compileFile(cfg, bicep.Policies[k], "operation", g.api)
		errs = append(errs, err)
		docs[k] = d
	}
	for _, op := range ops {
		d := docs[op.Policy]
		if _, known := bicep.Policies[op.Policy]; !known && op.Policy != "" {
			errs = append(errs, fmt.Errorf("%s: operation %s: policy %q is not a key of var policies in %s", OperationsFile, op.Name, op.Policy, BicepFile))
		}
		g.ops = append(g.ops, &operation{Operation: op, doc: d})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("apimemu: refusing to start:\n%w", err)
	}
	return g, nil
}

func (g *Gateway) compileFile(cfg Config, name, scope string, parent *document) (*document, error) {
	file := filepath.Join(cfg.InfraDir, PoliciesDir, name)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return g.compile(file, data, scope, parent, cfg.NamedValues)
}

func (g *Gateway) compile(file string, data []byte, scope string, parent *document, namedValues map[string]string) (*document, error) {
	root, err := parsePolicyXML(file, data, namedValues)
	if err != nil {
		return nil, err
	}
	cp := &compiler{g: g, file: file, scope: scope, parent: parent}
	return cp.compileDocument(root)
}

// keySource returns the shared cache for one openid-config URL.
func (g *Gateway) keySource(u string) *keySource {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s, ok := g.sources[u]; ok {
		return s
	}
	s := &keySource{url: u, g: g}
	g.sources[u] = s
	return s
}

// Operations lists the loaded operations.
func (g *Gateway) Operations() []Operation {
	out := make([]Operation, len(g.ops))
	for i, op := range g.ops {
		out[i] = op.Operation
	}
	return out
}

// Close releases idle backend connections.
func (g *Gateway) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range g.transports {
		t.CloseIdleConnections()
	}
}

// match finds the operation for method and path. Literal URL templates are
// compared case-insensitively (the stand-in's choice, as the Functions host
// routes; the reference does not say); the path itself is forwarded as the
// client sent it.
func (g *Gateway) match(method, path string) *operation {
	for _, op := range g.ops {
		if op.Method == method && strings.EqualFold(op.URLTemplate, path) {
			return op
		}
	}
	return nil
}

// isPreflight: an OPTIONS request with Origin and
// Access-Control-Request-Method (fetch.spec.whatwg.org/#cors-preflight-fetch).
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isPreflight(r) && g.match(http.MethodOptions, r.URL.Path) == nil {
		// A preflight is matched to the operation of the method it asks
		// about, and only that operation's cors policy runs. With an OPTIONS
		// operation the preflight logic "will not be executed" and the
		// request goes through the pipeline like any other
		// (learn.microsoft.com/azure/api-management/cors-policy). A preflight
		// for an operation without a cors policy is the stand-in's choice of
		// answer: the 404 of an unmatched request.
		if op := g.match(r.Header.Get("Access-Control-Request-Method"), r.URL.Path); op != nil {
			if cors := firstCORS(op.doc.sections[inbound]); cors != nil {
				g.write(w, r, cors.preflight(r), "preflight "+op.Name)
				return
			}
		}
	}
	op := g.match(r.Method, r.URL.Path)
	if op == nil {
		g.notFound(w, r)
		return
	}
	g.serve(w, r, op)
}

// serve runs inbound, backend and outbound, and on-error after any policy
// error (learn.microsoft.com/azure/api-management/api-management-error-handling-policies:
// "If an error occurs, processing immediately jumps to the on-error policy
// section").
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, op *operation) {
	c := g.newCall(r, op)
	defer func() { c.resp.close() }()
	doc := op.doc
	err := runSteps(c, doc.sections[inbound])
	if err == nil {
		err = runSteps(c, doc.sections[backend])
	}
	if err == nil {
		err = runSteps(c, doc.sections[outbound])
		if err == nil {
			// CORS headers go on responses that come back through the
			// pipeline; set, so the backend's own CORS headers are not
			// doubled (the stand-in's choice; the reference is silent).
			for k, v := range c.cors {
				c.resp.header[k] = v
			}
		}
	}
	g.handleError(c, err, doc)
	g.write(w, r, c.resp, op.Name)
}

// handleError makes the failing policy's response current and runs
// on-error with context.LastError set.
func (g *Gateway) handleError(c *call, err error, doc *document) {
	var pe *PolicyError
	if !errors.As(err, &pe) {
		return
	}
	g.log.Info("apimemu: policy error", "operation", c.opName(), "source", pe.Source, "reason", pe.Reason, "scope", pe.Scope, "section", pe.Section, "message", pe.Message)
	c.lastErr = pe
	if pe.keep != nil {
		c.setResponse(pe.keep)
	} else {
		c.setResponse(errorResponse(pe.status, pe.Message, pe.header))
	}
	err = runSteps(c, doc.sections[onError])
	if errors.As(err, &pe) {
		g.log.Warn("apimemu: error in on-error", "operation", c.opName(), "source", pe.Source, "message", pe.Message)
		c.setResponse(errorResponse(http.StatusInternalServerError, "Internal server error", nil))
	}
}

// notFound answers a request no operation matches: 404 "Resource not
// found", the configuration error OperationNotFound. The API (at the root
// path) did match, so its on-error section runs.
func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	c := g.newCall(r, nil)
	defer func() { c.resp.close() }()
	err := &PolicyError{Source: "configuration", Reason: "OperationNotFound", Message: "Resource not found", Scope: "api", Section: "inbound", status: http.StatusNotFound}
	g.handleError(c, err, g.api)
	g.write(w, r, c.resp, "(no operation)")
}

func (g *Gateway) newCall(r *http.Request, op *operation) *call {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return &call{g: g, op: op, in: r, clientIP: ip, header: r.Header.Clone(), vars: map[string]any{},
		resp: &response{status: http.StatusOK, header: http.Header{}}}
}

func (c *call) opName() string {
	if c.op == nil {
		return ""
	}
	return c.op.Name
}

func (g *Gateway) write(w http.ResponseWriter, r *http.Request, resp *response, what string) {
	g.log.Debug("apimemu", "method", r.Method, "path", r.URL.Path, "operation", what, "status", resp.status)
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // no type sniffing: pass the absence on
	}
	w.WriteHeader(resp.status)
	if r.Method == http.MethodHead {
		if resp.body != nil {
			io.Copy(io.Discard, io.LimitReader(resp.body, 1<<16))
		}
		return
	}
	copyBody(w, resp)
}
