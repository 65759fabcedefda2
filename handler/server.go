package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/mcpserver"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// server is the whole HTTP surface plus what must be released on shutdown.
type server struct {
	http.Handler
	closers []func()
	proxy   *proxyMode // nil in mode entra
}

func (s *server) Close() {
	for _, c := range s.closers {
		c()
	}
}

// newServer wires every component from the configuration. It makes no
// network call: keys and discovery documents are fetched on first use, so
// the process answers its first request within milliseconds (DESIGN §12).
func newServer(cfg config.Config, logger *slog.Logger) (*server, error) {
	logger = slog.New(ctxHandler{logger.Handler()})
	httpClient, err := entra.NewHTTPClient(cfg.UpstreamCAFile)
	if err != nil {
		return nil, err
	}
	obo := &entra.OBO{
		AuthorityHost: cfg.AuthorityHost,
		TenantID:      cfg.TenantID,
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		HTTPClient:    httpClient,
	}
	if cfg.ManagedIdentityClientID != "" {
		// Azure: the federated credential on the app registration trusts
		// this managed identity; no secret exists.
		obo.ClientSecret = ""
		obo.ClientAssertion, err = entra.ManagedIdentityAssertion(cfg.ManagedIdentityClientID, httpClient)
		if err != nil {
			return nil, fmt.Errorf("managed identity: %w", err)
		}
	}
	s := &server{}
	graphClient := &graph.Client{BaseURL: cfg.GraphBaseURL, HTTPClient: httpClient}

	var verify resource.Verifier
	var profiles mcpserver.Profiles
	var authServers []string
	var extra handlers
	switch cfg.Mode {
	case config.ModeEntra:
		v := &entra.Verifier{
			AuthorityHost: cfg.AuthorityHost,
			TenantID:      cfg.TenantID,
			Audiences:     []string{cfg.ClientID, cfg.AppIDURI},
			HTTPClient:    httpClient,
			Leeway:        time.Minute,
		}
		s.closers = append(s.closers, v.Close)
		verify = v.Verify
		profiles = &entraProfiles{obo: obo, graph: graphClient, scopes: cfg.GraphScopes}
		authServers = []string{v.Issuer()}
	default:
		idTokens := &entra.Verifier{
			AuthorityHost: cfg.AuthorityHost,
			TenantID:      cfg.TenantID,
			HTTPClient:    httpClient,
			Leeway:        time.Minute,
		}
		s.closers = append(s.closers, idTokens.Close)
		pm, err := newProxyMode(cfg, logger, httpClient, obo.ClientAssertion, idTokens)
		if err != nil {
			return nil, err
		}
		s.proxy = pm
		extra = pm.handlers
		verify = pm.oauth.VerifyAccessToken
		profiles = &proxyProfiles{oauth: pm.oauth, obo: obo, graph: graphClient, scopes: cfg.GraphScopes}
		authServers = []string{cfg.PublicBaseURL}
		ctx, cancel := context.WithCancel(context.Background())
		s.closers = append(s.closers, cancel)
		go purgeEvery(ctx, pm.oauth.Store, 10*time.Minute, logger)
	}

	mcpSrv := mcpserver.New(mcpserver.Options{
		Name: "entra-mcp-functions", Version: version, Profiles: profiles, Logger: logger,
	})
	challenge := resource.Challenge{
		ResourceMetadataURL: cfg.ResourceMetadataURL(),
		Scopes:              cfg.RequiredScopes(),
		ScopeMatches:        scopeMatcher(cfg),
	}
	prm := resource.MetadataHandler(resource.Metadata{
		Resource:             cfg.ResourceURL(),
		AuthorizationServers: authServers,
		ScopesSupported:      cfg.RequiredScopes(),
		ResourceName:         cfg.ResourceName,
	})

	h := handlers{
		"/.well-known/oauth-protected-resource":     prm,
		"/.well-known/oauth-protected-resource/mcp": prm,
		"/mcp":     resource.RequireBearer(verify, challenge, logger)(mcpserver.NewHandler(mcpSrv, cfg.BehindHost, logger)),
		"/healthz": http.HandlerFunc(healthz(cfg)),
	}
	for path, handler := range extra {
		h[path] = handler
	}
	mux, err := addRoutes(cfg, h)
	if err != nil {
		return nil, err
	}
	s.Handler = withRequestLog(logger, mux)
	return s, nil
}

// addRoutes mounts handlers on the paths and methods of the endpoints
// table. A ProxyOnly endpoint without a handler (mode entra) answers 404.
func addRoutes(cfg config.Config, h handlers) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	for _, e := range endpoints {
		handler, ok := h[e.Path]
		if !ok {
			if e.ProxyOnly && cfg.Mode == config.ModeEntra {
				continue
			}
			return nil, fmt.Errorf("no handler for %s", e.Path)
		}
		for _, m := range e.Methods {
			if m == http.MethodHead {
				continue // GET patterns also match HEAD
			}
			mux.Handle(m+" "+e.Path, handler)
		}
	}
	// The Functions host polls "/" until any answer arrives; answer at once.
	mux.Handle("/", http.NotFoundHandler())
	return mux, nil
}

// scopeMatcher: Entra puts short scope names in scp ("user_impersonation")
// while clients request and the challenge names the full form
// ("api://<app>/user_impersonation").
func scopeMatcher(cfg config.Config) func(granted, required string) bool {
	return func(granted, required string) bool {
		if granted == required {
			return true
		}
		return cfg.Mode == config.ModeEntra && cfg.AppIDURI+"/"+granted == required
	}
}

func healthz(cfg config.Config) func(http.ResponseWriter, *http.Request) {
	body, _ := json.Marshal(map[string]string{"status": "ok", "mode": string(cfg.Mode), "version": version})
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	}
}

// entraProfiles serves whoami in mode entra: the bearer token is itself an
// Entra token for our app, so it is the On-Behalf-Of user assertion.
type entraProfiles struct {
	obo    *entra.OBO
	graph  *graph.Client
	scopes []string
}

func (p *entraProfiles) Me(ctx context.Context, caller *resource.TokenInfo) (graph.Profile, error) {
	if caller.Assertion == "" {
		return graph.Profile{}, fmt.Errorf("no user assertion for %s", strings.TrimSpace(caller.Subject))
	}
	token, err := p.obo.Token(ctx, caller.Assertion, caller.Expiry, p.scopes)
	if err != nil {
		return graph.Profile{}, err
	}
	return p.graph.Me(ctx, token)
}
