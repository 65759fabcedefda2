package apimemu

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
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
	g := newGateway(cfg, bicep)
	errs := g.setBackends(cfg.Backends)
	global, err := g.compile("(default global policy)", []byte(globalPolicy), "global", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("apimemu: %w", err)
	}
	if g.api, err = g.compileFile(cfg, bicep.APIPolicy, "api", global); err != nil {
		// Every operation policy builds on the API policy.
		return nil, fmt.Errorf("apimemu: refusing to start:\n%w", errors.Join(append(errs, err)...))
	}
	errs = append(errs, g.bindOperations(cfg, bicep, ops)...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("apimemu: refusing to start:\n%w", err)
	}
	return g, nil
}

func newGateway(cfg Config, bicep *Bicep) *Gateway {
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
	return g
}

func (g *Gateway) setBackends(backends map[string]string) []error {
	var errs []error
	for id, raw := range backends {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("backend %s: %q is not an http(s) base URL", id, raw))
			continue
		}
		g.backends[id] = u
	}
	return errs
}

// bindOperations compiles every policy of the mapping (used or not, so a
// broken file is found) on top of the API policy and gives each operation
// its effective policy.
func (g *Gateway) bindOperations(cfg Config, bicep *Bicep, ops []Operation) []error {
	var errs []error
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
		if _, known := bicep.Policies[op.Policy]; !known && op.Policy != "" {
			errs = append(errs, fmt.Errorf("%s: operation %s: policy %q is not a key of var policies in %s", OperationsFile, op.Name, op.Policy, BicepFile))
		}
		g.ops = append(g.ops, &operation{Operation: op, doc: docs[op.Policy]})
	}
	return errs
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
