package mcpserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// The lean path answers byte for byte as mcp-go's transport: every request
// below is sent to Handler and to the transport alone, and status, headers
// and body must be equal. lean says which path the request must take;
// everything not lean is the transport's anyway, and is here to show the
// fallback leaves it alone.
func TestHandlerAnswersAsTheTransport(t *testing.T) {
	leanTools["notify"] = true // a test tool that streams: lean only here
	t.Cleanup(func() { delete(leanTools, "notify") })
	core := New(Options{Name: "t", Version: "1", Logger: slog.New(slog.DiscardHandler),
		Profiles: profilesByName{"Adele Vance": {ID: "u1", DisplayName: "Adele Vance", Mail: "adele@contoso.example"}}})
	core.AddTool(mcp.NewTool("notify"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		srv := server.ServerFromContext(ctx)
		for i := range 3 {
			if err := srv.SendNotificationToClient(ctx, "notifications/message", map[string]any{"level": "info", "data": i}); err != nil {
				return nil, err
			}
			time.Sleep(20 * time.Millisecond) // the forwarder writes it before the next
		}
		return mcp.NewToolResultText("done"), nil
	})
	core.AddTool(mcp.NewTool("other"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText("other"), nil
	})
	h := NewHandler(core, true, slog.New(slog.DiscardHandler))
	transport := h.transport
	caller := &resource.TokenInfo{Subject: "u1", Name: "Adele Vance", ClientID: "c", Scopes: []string{"mcp:tools"},
		Issuer: "https://mcp.example", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}

	const json = "application/json"
	call := func(args string) string {
		return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"auth_info","arguments":` + args + `}}`
	}
	for _, tc := range []struct {
		name, ctype, body string
		hdr               map[string]string
		lean              bool
	}{
		{"tools/call auth_info", json, call("{}"), nil, true},
		{"tools/call whoami", json, `{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"whoami"}}`, nil, true},
		{"a tool that streams notifications: SSE", json, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"notify"}}`, nil, true},
		{"tools/list", json, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, nil, true},
		{"ping", json, `{"jsonrpc":"2.0","id":0,"method":"ping"}`, nil, true},
		{"content type with parameters", "application/json; charset=utf-8", call("{}"), nil, true},
		{"protocol version header", json, call("{}"), map[string]string{"Mcp-Protocol-Version": "2025-06-18"}, true},
		{"arguments of the wrong type", json, call(`"x"`), nil, true},
		{"unknown tool", json, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}`, nil, false},
		{"a tool not on the lean list", json, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"other"}}`, nil, false},
		{"no params", json, `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, nil, false},
		{"initialize", json, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, nil, false},
		{"notification", json, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, nil, false},
		{"null id", json, `{"jsonrpc":"2.0","id":null,"method":"ping"}`, nil, false},
		{"a response", json, `{"jsonrpc":"2.0","id":1,"result":{}}`, nil, false},
		{"a batch", json, `[` + call("{}") + `]`, nil, false},
		{"not JSON", json, `{"jsonrpc":`, nil, false},
		{"JSON-RPC 1.0", json, `{"jsonrpc":"1.0","id":1,"method":"ping"}`, nil, false},
		{"wrong content type", "text/plain", call("{}"), nil, false},
		{"no content type", "", call("{}"), nil, false},
		{"unknown protocol version", json, call("{}"), map[string]string{"Mcp-Protocol-Version": "1999-01-01"}, false},
		{"modern protocol", json, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
			map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}, false},
		{"_meta with a progress token", json, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"notify","_meta":{"progressToken":"p"}}}`, nil, false},
		{"session id", json, call("{}"), map[string]string{"Mcp-Session-Id": "mcp-session-x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(tc.body))
				if tc.ctype != "" {
					r.Header.Set("Content-Type", tc.ctype)
				}
				r.Header.Set("Accept", "application/json, text/event-stream")
				for k, v := range tc.hdr {
					r.Header.Set(k, v)
				}
				return r.WithContext(resource.WithTokenInfo(r.Context(), caller))
			}
			if got := leanRequest(req().Header, []byte(tc.body)); got != tc.lean {
				t.Fatalf("leanRequest = %v, want %v", got, tc.lean)
			}
			want, got := httptest.NewRecorder(), httptest.NewRecorder()
			transport.ServeHTTP(want, req())
			h.ServeHTTP(got, req())
			if got.Code != want.Code {
				t.Errorf("status %d, transport %d", got.Code, want.Code)
			}
			if d := cmp.Diff(want.Header(), got.Header()); d != "" {
				t.Errorf("headers (-transport +handler):\n%s", d)
			}
			if d := cmp.Diff(want.Body.String(), got.Body.String()); d != "" {
				t.Errorf("body (-transport +handler):\n%s", d)
			}
			if tc.name == "a tool that streams notifications: SSE" && strings.Count(got.Body.String(), "event: message") != 4 {
				t.Errorf("want 3 notifications and the result as SSE events:\n%s", got.Body)
			}
		})
	}
}

// GET goes to the transport, which offers no stream (405); and where its
// DNS-rebinding guard is on (the handler by itself on loopback), every
// request goes through it, lean ones included.
func TestHandlerLeavesEverythingElseToTheTransport(t *testing.T) {
	core := New(Options{Name: "t", Version: "1", Logger: slog.New(slog.DiscardHandler), Profiles: profilesByName{}})
	for _, guarded := range []bool{false, true} {
		h := NewHandler(core, !guarded, slog.New(slog.DiscardHandler))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/mcp", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("guarded %v: GET = %d, want the transport's 405", guarded, rec.Code)
		}
		// Guarded: a rebinding Host over loopback is refused by the transport.
		r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Host = "evil.example"
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7071}))
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if want := map[bool]int{false: 200, true: 403}[guarded]; rec.Code != want {
			t.Errorf("guarded %v: ping with a foreign Host = %d, want %d", guarded, rec.Code, want)
		}
	}
}

// profilesByName answers whoami for callers by display name.
type profilesByName map[string]graph.Profile

func (p profilesByName) Me(_ context.Context, c *resource.TokenInfo) (graph.Profile, error) {
	if pr, ok := p[c.Name]; ok {
		return pr, nil
	}
	return graph.Profile{}, errors.New("no profile")
}
