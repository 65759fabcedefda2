package mcpserver

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// BehindProxy says requests arrive through the Functions host's
	// forwarder (see the DNS-rebinding guard in NewHandler).
	BehindProxy bool
	// MaxBody bounds a POST body; a larger one is answered 413 before any
	// of it reaches mcp-go. 0 means DefaultMaxBody.
	MaxBody int64
	// Ended reports whether the authorization of the caller in ctx has
	// ended: grant revoked, token expired. A response that has become a
	// stream (SSE, while a tool sends notifications) is checked every
	// RecheckEvery and ended when it has; see streamGuard. Nil: never.
	Ended        func(ctx context.Context) bool
	RecheckEvery time.Duration
	Logger       *slog.Logger
}

// Handler serves the MCP endpoint. The stateless POSTs clients send on
// every call (tools/call of a tool built with the kit in package tools,
// tools/list, ping, protocol versions before 2026-07-28) go straight to the
// server core (MCPServer.HandleMessage) in one pass, and everything else
// through mcp-go's streamable HTTP transport, unchanged. Either way the
// body is read here first, bounded (mcp-go reads whatever it is given
// whole, into memory).
//
// Which tools may take the lean path is decided by how they were built, not
// by name: a tool registered through tools.Register sees only its Call
// (caller, logger, On-Behalf-Of, GetJSON) and answers through its result.
// It sends no server-to-client request (elicitation, sampling, roots),
// which only mcp-go's transport can route, and reads no HTTP header, which
// mcp-go hands to tools through a context key of its own. A tool added to
// the core any other way goes through the transport.
//
// mcp-go's transport builds, for each stateless POST, a session with four
// buffered channels (~9 KB) and decodes the body twice before the core
// decodes it again; BENCHMARKS.md has the cost in CPU per request and
// throughput. The lean path makes the same checks the transport makes for
// these requests (content type, protocol version header; session and
// protocol-era cases fall back), answers exactly as it would (JSON, or SSE
// once a tool sends a notification), and is held to it by a differential
// test against the transport.
type Handler struct {
	core      *server.MCPServer
	transport *server.StreamableHTTPServer
	versions  []string
	lean      bool
	kitTools  map[string]bool // the tools reg registered on core
	limit     bodyLimit
	ended     func(context.Context) bool
	every     time.Duration
}

// NewHandler serves core over streamable HTTP; reg is the registry
// tools.Register returned for core (New returns both).
func NewHandler(core *server.MCPServer, reg *tools.Registry, o HandlerOptions) *Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	transport := server.NewStreamableHTTPServer(core,
		// Stateless: any instance serves any request (Flex Consumption scales
		// out; MCP 2026-07-28 drops sessions altogether).
		server.WithStateLess(true),
		// mcp-go answers 403 to a non-loopback Host on a loopback listener
		// (DNS-rebinding guard). Behind the Functions host the forwarder
		// keeps the public Host while connecting over loopback, so the guard
		// would refuse every real request; there, APIM and the host are the
		// only way in. Run by itself on loopback, the guard stays on.
		server.WithDisableLocalhostProtection(o.BehindProxy),
		// No standalone GET stream (405, as the streamable HTTP transport
		// allows). Stateless, mcp-go registers every GET stream under the
		// empty session id, which is also every POST's: one client's open
		// GET would receive the notifications (and server requests) of
		// every other client's tool calls. A tool's notifications still
		// reach its own caller, on the POST's SSE response.
		server.WithDisableStreaming(true),
		server.WithStreamableHTTPLogger(o.Logger),
	)
	kit := map[string]bool{}
	for _, d := range reg.Tools() {
		kit[d.Name()] = true
	}
	return &Handler{
		core:      core,
		transport: transport,
		versions:  server.FilterSupportedVersions(transport),
		// The guard lives in the transport: while it is on, every request
		// goes there.
		lean:     o.BehindProxy,
		kitTools: kit,
		limit:    newBodyLimit(o.MaxBody),
		ended:    o.Ended,
		every:    cmp.Or(o.RecheckEvery, 2*time.Second),
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Body == nil {
		h.transport.ServeHTTP(w, r)
		return
	}
	var pre *message // StepUp's decode of the body, if it made one
	if rb, ok := r.Body.(*readBody); ok {
		pre = &rb.msg
	}
	body, err := h.limit.read(w, r)
	if errors.Is(err, errAnswered) {
		return
	}
	flusher, canStream := w.(http.Flusher)
	ctx := r.Context()
	if h.ended != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		sw := &streamWriter{ResponseWriter: w, guard: streamGuard{ctx: ctx, cancel: cancel, ended: h.ended, every: h.every}}
		w, flusher = sw, sw
	}
	if err != nil || !h.lean || !canStream || !h.leanRequest(r.Header, body, pre) {
		// mcp-go reads the same bytes (and the same read error) and
		// decides; nothing has been written yet.
		r = r.WithContext(ctx)
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		h.transport.ServeHTTP(w, r)
		return
	}
	h.serveLean(ctx, w, flusher, body)
}

// RefuseOrigin answers a request to /mcp from a browser origin that
// ALLOWED_ORIGINS does not list: 403 with a JSON-RPC error without an id
// (MCP 2025-11-25, basic/transports: servers must validate Origin and
// answer 403 when it is present and invalid). API Management's /mcp
// policies answer the same bytes at the edge.
func RefuseOrigin(w http.ResponseWriter, _ *http.Request) {
	WriteError(w, http.StatusForbidden, mcp.INVALID_REQUEST, "This origin may not call the MCP endpoint.")
}

// WriteError answers with a JSON-RPC error response that has no id, as the
// streamable HTTP transport allows for requests refused before their
// message is read (MCP 2025-11-25, basic/transports).
func WriteError(w http.ResponseWriter, status, code int, message string) {
	type rpcError struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(struct {
		JSONRPC string   `json:"jsonrpc"`
		ID      any      `json:"id"`
		Error   rpcError `json:"error"`
	}{mcp.JSONRPC_VERSION, nil, rpcError{code, message}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n')) // the client is gone if this fails
}

// streamGuard ends a response that has become a stream once the caller's
// authorization has ended. The server offers no standalone GET stream
// (405), and a POST answers with JSON unless its tool sends notifications,
// when the answer becomes an SSE stream that lasts as long as the tool
// runs. Every request's token is checked when it arrives; a stream would
// otherwise go on after its grant was revoked (issue 8, item 18). So from
// the first flush (the first event) the guard checks ended every interval
// and, once it reports true, cancels the request's context: the tool is
// cancelled, the answer ends, and the client must come back with a token,
// which gets 401.
type streamGuard struct {
	ctx    context.Context
	cancel context.CancelFunc
	ended  func(context.Context) bool
	every  time.Duration
	once   sync.Once
}

func (g *streamGuard) streaming() {
	g.once.Do(func() { go g.watch() })
}

func (g *streamGuard) watch() {
	t := time.NewTicker(g.every)
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-t.C:
			if g.ended(g.ctx) {
				g.cancel()
				return
			}
		}
	}
}

// streamWriter starts its guard on the first flush: only streamed answers
// flush.
type streamWriter struct {
	http.ResponseWriter
	guard streamGuard
}

func (w *streamWriter) Flush() {
	w.guard.streaming()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
