package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/cors"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/mcpserver"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/reqbody"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/reqlog"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/telemetry"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

// options are the dependencies newServer does not read from the
// configuration. The zero value is what production runs with; tests pass
// a fake clock, a store they can inspect, or a looser policy for client ID
// metadata documents.
type options struct {
	// Clock is every component's clock (token times, expiry in the store
	// and the caches); default time.Now.
	Clock func() time.Time
	// Logger receives every log record, with the request id added; default
	// discards.
	Logger *slog.Logger
	// Store holds the authorization server's state (mode proxy); default
	// Table Storage when configured, else memory.
	Store store.Store
	// HTTPClient is used for every call to Entra and Graph; default
	// entra.NewHTTPClient(UPSTREAM_CA_FILE).
	HTTPClient *http.Client
	// ClientMetadata is the policy for fetching client ID metadata
	// documents; the zero value is the production one. Clock and Logger
	// are filled in.
	ClientMetadata oauth.CIMDOptions
	// BodyTimeout is how long a request body has to arrive; default
	// reqbody.DefaultTimeout.
	BodyTimeout time.Duration
	// Telemetry records spans and metrics (package telemetry); nil: off,
	// and nothing is wrapped.
	Telemetry *telemetry.Telemetry
}

// server is the whole HTTP surface plus what must be released on shutdown.
type server struct {
	http.Handler
	closers []func()
}

func (s *server) Close() {
	for _, c := range s.closers {
		c()
	}
}

// newServer wires every component from the configuration. It makes no
// network call: keys and discovery documents are fetched on first use, so
// the process answers its first request within milliseconds
// (docs/architecture.md §10.3, §14).
func newServer(cfg config.Config, opts options) (*server, error) {
	opts, err := opts.withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	obo, err := newOBO(cfg, opts)
	if err != nil {
		return nil, err
	}
	s := &server{}
	a, err := s.newAuth(cfg, opts, obo)
	if err != nil {
		s.Close()
		return nil, err
	}
	mcpSrv, reg, err := mcpserver.New(mcpserver.Options{
		Name: "entra-mcp-functions", Version: version,
		Graph: &graph.Client{BaseURL: cfg.GraphBaseURL, HTTPClient: opts.HTTPClient},
		Tools: tools.Options{
			BaseScope:  cfg.MCPScope,
			Scopes:     cfg.ToolScopes,
			Upstream:   tools.OBO{Exchange: obo, Assertion: a.assertion},
			HTTPClient: opts.HTTPClient,
			Logger:     opts.Logger,
			Observe:    opts.Telemetry.ToolObserver(),
		},
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	if a.server != nil {
		// Before the first request: the metadata and consent pages read it.
		a.server.Options.Scopes = issuedScopes(cfg, reg)
	}
	mux := newMux(endpoints{
		prm: resource.MetadataHandler(resource.Metadata{
			Resource:             cfg.ResourceURL(),
			AuthorizationServers: a.servers,
			ScopesSupported:      cfg.ScopesSupported(),
			ResourceName:         cfg.ResourceName,
		}),
		mcp: mcpHandler(cfg, mcpSrv, reg, a, opts),
		// Before the token is looked at: a foreign page learns nothing.
		mcpCORS: cors.Listed{Origins: cfg.AllowedOrigins, Refuse: http.HandlerFunc(mcpserver.RefuseOrigin)},
		healthz: healthz(cfg),
		as:      a.server,
	})
	// Every request with a body gets BodyTimeout to deliver it (package
	// reqbody); requests without one, such as GET /mcp, get no deadline.
	// Telemetry.Handler returns its argument when telemetry is off.
	s.Handler = opts.Telemetry.Handler(reqlog.Middleware(opts.Logger, reqbody.Deadline(opts.BodyTimeout)(mux)), routeOf(mux))
	return s, nil
}

// routeOf names the route a request matches, for the request metrics:
// the pattern ("POST /mcp"), or "unmatched" for what only the 404 and 405
// answers catch.
func routeOf(mux *http.ServeMux) func(*http.Request) string {
	return func(r *http.Request) string {
		_, p := mux.Handler(r)
		if p == "/" || !strings.Contains(p, " ") {
			return "unmatched"
		}
		return p
	}
}

// withDefaults fills in what the zero options leave out.
func (opts options) withDefaults(cfg config.Config) (options, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Logger = slog.New(reqlog.ContextHandler{Handler: opts.Telemetry.LogHandler(opts.Logger.Handler())})
	if opts.HTTPClient == nil {
		c, err := entra.NewHTTPClient(cfg.UpstreamCAFile)
		if err != nil {
			return opts, err
		}
		opts.HTTPClient = c
	}
	if opts.Telemetry.Enabled() {
		// A copy: the caller's client stays as it was.
		c := *opts.HTTPClient
		c.Transport = opts.Telemetry.UpstreamTransport(transportOf(c.Transport))
		opts.HTTPClient = &c
	}
	return opts, nil
}

// modeAuth is what the mode decides (docs/architecture.md §9.1): who verifies
// the tokens /mcp receives, what stands for the user at Entra when a tool
// calls On-Behalf-Of, which authorization servers the PRM names, and the
// authorization server itself in mode proxy.
type modeAuth struct {
	verify    resource.Verifier
	assertion tools.AssertionFunc
	servers   []string
	server    *oauth.Handler // nil in mode entra
	// revoked reports whether the caller's grant is gone (mode proxy); nil
	// in mode entra, where Entra's tokens end only by expiring.
	revoked func(context.Context, *resource.TokenInfo) bool
}

// newAuth builds the modeAuth of cfg's mode; s closes what it starts.
func (s *server) newAuth(cfg config.Config, opts options, obo *entra.OBO) (modeAuth, error) {
	if cfg.Mode == config.ModeEntra {
		v := &entra.Verifier{
			AuthorityHost: cfg.AuthorityHost,
			TenantID:      cfg.TenantID,
			Audiences:     []string{cfg.ClientID, cfg.AppIDURI},
			HTTPClient:    opts.HTTPClient,
			Now:           opts.Clock,
			Leeway:        time.Minute,
		}
		s.closers = append(s.closers, v.Close)
		// The bearer token is itself the Entra token On-Behalf-Of takes.
		return modeAuth{verify: v.Verify, assertion: tools.BearerAssertion, servers: []string{v.Issuer()}}, nil
	}
	as, closers, err := newAuthServer(cfg, opts, obo.ClientAssertion)
	s.closers = append(s.closers, closers...)
	if err != nil {
		return modeAuth{}, err
	}
	return modeAuth{
		verify: as.VerifyAccessToken,
		assertion: func(ctx context.Context, caller *resource.TokenInfo) (string, time.Time, error) {
			// The client's token is ours and never leaves this server; the
			// grant's stored Entra token (refreshed when expired) stands
			// for the user.
			return as.UserAssertion(ctx, caller.GrantID)
		},
		servers: []string{cfg.PublicBaseURL},
		server:  as,
		revoked: func(ctx context.Context, caller *resource.TokenInfo) bool {
			return as.GrantRevoked(ctx, caller.GrantID)
		},
	}, nil
}

// mcpHandler is the one place the /mcp handler chain is built: every
// request must carry a valid bearer token (RFC 6750, with the RFC 9728
// challenge), then a tools/call must carry the scopes of its tool (the
// step-up challenge, mcpserver.StepUp), then mcpserver.Handler runs the
// JSON-RPC call (the lean path for the stateless POSTs of every call,
// mcp-go's streamable HTTP transport for the rest) and ends an answer that
// streams once its token expires or its grant is revoked. The Origin check
// comes before all of it (routes.go); both StepUp and Handler bound the
// body by MCP_MAX_BODY_BYTES.
func mcpHandler(cfg config.Config, mcpSrv *mcpgo.MCPServer, reg *tools.Registry, a modeAuth, opts options) http.Handler {
	challenge := resource.Challenge{
		ResourceMetadataURL: cfg.ResourceMetadataURL(),
		Scopes:              cfg.RequiredScopes(),
		ScopeMatches:        scopeMatcher(cfg),
	}
	ended := func(ctx context.Context) bool {
		caller, ok := resource.TokenInfoFrom(ctx)
		return !ok || !opts.Clock().Before(caller.Expiry) || (a.revoked != nil && a.revoked(ctx, caller))
	}
	mcp := mcpserver.NewHandler(mcpSrv, reg, mcpserver.HandlerOptions{
		BehindProxy: cfg.BehindHost, MaxBody: cfg.MCPMaxBody, Logger: opts.Logger,
		Ended: ended, RecheckEvery: oauth.GrantCheckInterval,
	})
	return resource.RequireBearer(a.verify, challenge, opts.Logger)(
		mcpserver.StepUp(scopePolicy(cfg, reg), challenge, cfg.MCPMaxBody, opts.Logger)(mcp))
}

// newOBO is the On-Behalf-Of client tools get downstream tokens from. In
// Azure the app registration's federated credential trusts the managed
// identity, whose token is the client assertion; no secret exists there.
func newOBO(cfg config.Config, opts options) (*entra.OBO, error) {
	obo := &entra.OBO{
		AuthorityHost: cfg.AuthorityHost,
		TenantID:      cfg.TenantID,
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		HTTPClient:    opts.HTTPClient,
		Now:           opts.Clock,
	}
	if cfg.Mode == config.ModeProxy {
		// The administrator lands on /callback, which says what happened
		// (oauth.Handler.Callback); mode entra has no such page.
		obo.AdminConsentRedirectURL = cfg.PublicBaseURL + "/callback"
	}
	if cfg.ManagedIdentityClientID != "" {
		var err error
		obo.ClientSecret = ""
		obo.ClientAssertion, err = entra.ManagedIdentityAssertion(cfg.ManagedIdentityClientID, opts.HTTPClient)
		if err != nil {
			return nil, fmt.Errorf("managed identity: %w", err)
		}
	}
	return obo, nil
}

// healthz answers GET and HEAD /healthz for operators: the mode and
// version, nothing secret, never cached.
func healthz(cfg config.Config) http.Handler {
	body, _ := json.Marshal(map[string]string{"status": "ok", "mode": string(cfg.Mode), "version": version})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
}

func transportOf(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}
