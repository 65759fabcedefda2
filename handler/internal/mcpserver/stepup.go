package mcpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// ScopePolicy says which scopes each tool needs, in the form challenges
// name them (mode proxy: our scope names; mode entra: the app's Entra
// scopes, api://<app>/<name>).
type ScopePolicy struct {
	// Known are every configured scope, base scope first: the order
	// challenges list them in.
	Known []string
	// Required returns the scopes a token needs to call tool, the base
	// scope included; ok is false for a tool that does not exist (mcp-go
	// then answers the call with an error; no tool runs).
	Required func(tool string) (scopes []string, ok bool)
}

// StepUp refuses, before any tool runs, a tools/call for a tool whose
// scopes the caller's token lacks: 403 with error="insufficient_scope" and
// the scope the client should ask for in its next authorization request
// (MCP 2025-11-25, "Scope Challenge Handling"; RFC 6750 §3.1). That scope
// is the union of what the token already carries and what the tool needs,
// as 2025-11-25 recommends: clients that replace their scope with the
// challenge's (the TypeScript SDK does) keep what they had, and clients
// that accumulate scopes (MCP 2026-07-28) ask for the same set. tools/list
// and every other method pass: a client sees every tool and learns what
// one needs when it calls it.
//
// It sits behind resource.RequireBearer, which put the verified token in
// the request's context, and in front of Handler, to which it hands the
// body it read unchanged (Handler does not read it again). It reads the
// body under Handler's limit, maxBody (MCP_MAX_BODY_BYTES; 0 means
// DefaultMaxBody), and answers a body too large (413) or too slow (408,
// package reqbody) exactly as Handler does.
func StepUp(p ScopePolicy, ch resource.Challenge, maxBody int64, logger *slog.Logger) func(http.Handler) http.Handler {
	limit := newBodyLimit(maxBody)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info, ok := resource.TokenInfoFrom(r.Context())
			// A token with every configured scope can call every tool: no
			// need to read the body.
			if r.Method != http.MethodPost || r.Body == nil || !ok || len(ch.Missing(info.Scopes, p.Known)) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			body, err := limit.read(w, r)
			if errors.Is(err, errAnswered) {
				return
			}
			// The next handler reads the same bytes, and the same read error
			// (a disconnect): mcp-go refuses a body it cannot read whole, so
			// no tool runs on a partial one.
			rb := newReadBody(body, err)
			r.Body = rb
			tools := calledTools(body, &rb.msg)
			var required []string
			for _, t := range tools {
				need, known := p.Required(t)
				if known && len(ch.Missing(info.Scopes, need)) > 0 {
					required = append(required, need...)
				}
			}
			if len(required) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			scope := p.challengeScope(ch, info.Scopes, required)
			logger.InfoContext(r.Context(), "tools/call needs a wider scope: step-up challenge",
				"tools", tools, "granted", info.Scopes, "challenge_scope", strings.Join(scope, " "))
			ch.Forbid(w, scope, "calling "+strings.Join(tools, ", ")+" needs scope "+strings.Join(required, " "))
		})
	}
}

// challengeScope is every known scope the token carries or the call
// needs, in configuration order (base first), then anything required that
// is not configured.
func (p ScopePolicy) challengeScope(ch resource.Challenge, granted, required []string) []string {
	var out []string
	for _, k := range p.Known {
		if slices.Contains(required, k) || ch.Grants(granted, k) {
			out = append(out, k)
		}
	}
	for _, r := range required {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// calledTools returns the names of the tools a JSON-RPC message, or batch
// of messages, calls. It decodes with encoding/json, as mcp-go does, so
// both read the same method and name (case-insensitive keys, the last of
// duplicate keys). A message either cannot read is not a call mcp-go
// would run, so it names no tool here. A body that is one message it
// decodes into single, for Handler to reuse.
func calledTools(body []byte, single *message) []string {
	// The cheap path: without a backslash no JSON string can spell
	// tools/call in escapes, so a body that does not contain it literally
	// calls no tool.
	if bytes.IndexByte(body, '\\') < 0 && !bytes.Contains(body, []byte("tools/call")) {
		return nil
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		if single.decode(body) && single.Method == "tools/call" {
			return []string{single.Params.Name}
		}
		return nil
	}
	var msgs []json.RawMessage
	if json.Unmarshal(body, &msgs) != nil {
		return nil
	}
	var names []string
	for _, raw := range msgs {
		var m message
		if m.decode(raw) && m.Method == "tools/call" && !slices.Contains(names, m.Params.Name) {
			names = append(names, m.Params.Name)
		}
	}
	return names
}
