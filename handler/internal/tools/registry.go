package tools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// Options are what every tool shares.
type Options struct {
	BaseScope string             // MCP_SCOPE: every token for /mcp carries it
	Scopes    []config.ToolScope // TOOL_SCOPES
	Upstream  Upstream           // On-Behalf-Of
	// HTTPClient serves Call.GetJSON; it must have a timeout. Nil: one
	// with a 30 s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Observe, when set, is told of every call: the tool, its outcome
	// (ok, error, consent_required, interaction_required) and how long it
	// ran (the metrics of package telemetry).
	Observe func(ctx context.Context, tool, outcome string, elapsed time.Duration)
}

// registered is a tool with what Register worked out for it.
type registered struct {
	def        Def
	required   []string // base scope + declared scopes
	allowed    []string // the Entra permissions those scopes map to
	downstream []string // OnBehalfOf's default: the permissions of the tool's own scopes
}

// Registry answers questions about the registered tools: which scopes a
// tool needs (the step-up challenge's scope), which tools a scope unlocks
// (what a consent page says about it).
type Registry struct {
	base   string
	scopes []config.ToolScope
	tools  []*registered
}

// ScopeUse is a configured scope, its Entra permissions and the tools that
// need it.
type ScopeUse struct {
	config.ToolScope
	Tools []string
}

// Register checks defs against opts and adds them to s. Every problem is
// reported at once: a definition error, a scope missing from TOOL_SCOPES,
// a name used twice.
func Register(s *server.MCPServer, opts Options, defs ...Def) (*Registry, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	reg := &Registry{base: opts.BaseScope, scopes: opts.Scopes}
	var errs []error
	for _, d := range defs {
		r, err := reg.check(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reg.tools = append(reg.tools, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, r := range reg.tools {
		s.AddTool(r.def.tool, r.handler(opts))
	}
	return reg, nil
}

func (reg *Registry) check(d Def) (*registered, error) {
	if d.err != nil {
		return nil, d.err
	}
	if slices.ContainsFunc(reg.tools, func(r *registered) bool { return r.def.Name() == d.Name() }) {
		return nil, fmt.Errorf("tool %q is registered twice", d.Name())
	}
	r := &registered{def: d, required: []string{reg.base}}
	own := d.scopes
	if len(own) == 0 {
		own = []string{reg.base}
	}
	resources := map[string]bool{}
	for _, name := range slices.Concat(r.required, d.scopes) {
		sc, ok := findScope(reg.scopes, name)
		if !ok {
			return nil, fmt.Errorf("tool %q needs scope %q, which %s does not define", d.Name(), name, config.EnvToolScopes)
		}
		if !slices.Contains(r.required, name) {
			r.required = append(r.required, name)
		}
		r.allowed = append(r.allowed, sc.Permissions...)
		if slices.Contains(own, name) && len(sc.Permissions) > 0 {
			r.downstream = append(r.downstream, sc.Permissions...)
			resources[strings.ToLower(sc.Resource())] = true
		}
	}
	if len(resources) > 1 {
		r.downstream = nil // OnBehalfOf must then be told which permissions
	}
	return r, nil
}

func findScope(scopes []config.ToolScope, name string) (config.ToolScope, bool) {
	i := slices.IndexFunc(scopes, func(s config.ToolScope) bool { return s.Name == name })
	if i < 0 {
		return config.ToolScope{}, false
	}
	return scopes[i], true
}

// handler is the mcp-go handler for the tool: it builds the Call from the
// verified token and turns Run's outcome into the result.
func (r *registered) handler(opts Options) server.ToolHandlerFunc {
	logger := opts.Logger.With("tool", r.def.Name())
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		log := slog.New(boundHandler{logger.Handler(), ctx})
		info, ok := resource.TokenInfoFrom(ctx)
		if !ok {
			// Unreachable behind the bearer middleware; say so if it is not.
			log.ErrorContext(ctx, "tool called without a verified token")
			return mcp.NewToolResultError("Not signed in."), nil
		}
		c := &Call{Caller: callerOf(info), Log: log, tool: r, token: info, upstream: opts.Upstream, http: opts.HTTPClient}
		if opts.Observe == nil {
			out, err := r.def.run(ctx, c, req)
			return r.result(ctx, log, out, err), nil
		}
		start := time.Now()
		out, err := r.def.run(ctx, c, req)
		opts.Observe(ctx, r.def.Name(), outcome(err), time.Since(start))
		return r.result(ctx, log, out, err), nil
	}
}

// RequiredScopes returns the scopes a token needs to call tool: the base
// scope and the tool's own.
func (reg *Registry) RequiredScopes(tool string) ([]string, bool) {
	for _, r := range reg.tools {
		if r.def.Name() == tool {
			return slices.Clone(r.required), true
		}
	}
	return nil, false
}

// Scopes lists every configured scope, base first, with the tools that
// need it (every tool needs the base scope).
func (reg *Registry) Scopes() []ScopeUse {
	out := make([]ScopeUse, 0, len(reg.scopes))
	for _, s := range reg.scopes {
		u := ScopeUse{ToolScope: s}
		for _, r := range reg.tools {
			if slices.Contains(r.required, s.Name) {
				u.Tools = append(u.Tools, r.def.Name())
			}
		}
		out = append(out, u)
	}
	return out
}

// Tools returns the registered tools' definitions, in registration order.
func (reg *Registry) Tools() []Def {
	out := make([]Def, 0, len(reg.tools))
	for _, r := range reg.tools {
		out = append(out, r.def)
	}
	return out
}

// outcome classifies a tool's result for Observe.
func outcome(err error) string {
	var consent *ConsentRequiredError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &consent) && consent.SignInAgain:
		return "interaction_required"
	case errors.As(err, &consent):
		return "consent_required"
	}
	return "error"
}
