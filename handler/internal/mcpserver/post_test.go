package mcpserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

// sameAnswer sends the request req builds to h and to its transport alone
// and requires equal status, headers and body; lean says which path h must
// take. It returns h's answer.
func sameAnswer(t *testing.T, h *Handler, lean bool, req func() *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	r := req()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.leanRequest(r.Header, body, nil); got != lean {
		t.Fatalf("leanRequest = %v, want %v", got, lean)
	}
	// The same decision on StepUp's decode of the body, when it makes one.
	var pre message
	calledTools(body, &pre)
	if got := h.leanRequest(r.Header, body, &pre); got != lean {
		t.Fatalf("leanRequest on StepUp's decode (%v) = %v, want %v", pre.state, got, lean)
	}
	want, got := httptest.NewRecorder(), httptest.NewRecorder()
	h.transport.ServeHTTP(want, req())
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
	return got
}

func post(ctx context.Context, ctype, body string, hdr map[string]string) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body)).WithContext(ctx)
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		r.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return r
	}
}

func toolsCall(id any, tool string, args string) string {
	params := `{"name":"` + tool + `"}`
	if args != "" {
		params = `{"name":"` + tool + `","arguments":` + args + `}`
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%v,"method":"tools/call","params":%s}`, id, params)
}

// Every tool of the server takes the lean path, whatever it answers, and
// answers byte for byte as mcp-go's transport: the emulator behind real
// On-Behalf-Of and Graph, every test user, good and bad arguments,
// consent missing, and (below) Graph down.
func TestHandlerAnswersAsTheTransportForEveryTool(t *testing.T) {
	f := newFixture(t, "")
	h := NewHandler(f.srv, f.reg, HandlerOptions{BehindProxy: true, Ended: stillAuthorized})
	const json = "application/json"
	tests := []struct {
		tool, user, args string
	}{
		{"whoami", adele, ""},
		{"whoami", megan, "{}"},
		{"whoami", nestor, ""}, // consent missing: an error result
		{"whoami", adele, `{"extra":1}`},
		{"auth_info", adele, ""},
		{"auth_info", nestor, "{}"},
		{"auth_info", adele, `"not an object"`},
		{"recent_mail", adele, ""},
		{"recent_mail", adele, `{"count":2}`},
		{"recent_mail", megan, ""},  // Mail.Read consent missing
		{"recent_mail", nestor, ""}, // no consent at all
		{"recent_mail", adele, `{"count":0}`},
		{"recent_mail", adele, `{"count":26}`},
		{"recent_mail", adele, `{"count":"ten"}`},
		{"recent_mail", adele, `{"folder":"inbox"}`},
	}
	covered := map[string]bool{}
	for i, tt := range tests {
		covered[tt.tool] = true
		t.Run(tt.tool+" as "+tt.user+" "+tt.args, func(t *testing.T) {
			sameAnswer(t, h, true, post(f.as(t, tt.user), json, toolsCall(i, tt.tool, tt.args), nil))
		})
	}
	for _, d := range Tools(nil) {
		if !covered[d.Name()] {
			t.Errorf("tool %s is not covered", d.Name())
		}
	}

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	g := newFixture(t, down.URL)
	gh := NewHandler(g.srv, g.reg, HandlerOptions{BehindProxy: true, Ended: stillAuthorized})
	for _, name := range []string{"whoami", "recent_mail"} {
		t.Run(name+" with Graph down", func(t *testing.T) {
			sameAnswer(t, gh, true, post(g.as(t, adele), json, toolsCall(`"g"`, name, ""), nil))
		})
	}
}

// The protocol around the tools: what the lean path takes (tools/list,
// ping, a kit tool that streams notifications as SSE) and what it leaves to
// the transport (every malformed or other-era request, and tools not built
// with the kit), all answered as the transport answers.
func TestHandlerAnswersAsTheTransport(t *testing.T) {
	core := server.NewMCPServer("t", "1", server.WithToolCapabilities(false))
	notify := tools.New(tools.Tool[struct{}, struct {
		Done bool `json:"done"`
	}]{
		Name: "notify", Description: "Sends three log notifications.", Hints: tools.Hints{ReadOnly: true, Idempotent: true},
		Run: func(ctx context.Context, _ *tools.Call, _ struct{}) (struct {
			Done bool `json:"done"`
		}, error) {
			srv := server.ServerFromContext(ctx)
			for i := range 3 {
				if err := srv.SendNotificationToClient(ctx, "notifications/message", map[string]any{"level": "info", "data": i}); err != nil {
					return struct {
						Done bool `json:"done"`
					}{}, err
				}
				time.Sleep(20 * time.Millisecond) // the forwarder writes it before the next
			}
			return struct {
				Done bool `json:"done"`
			}{true}, nil
		},
	})
	reg, err := tools.Register(core, tools.Options{BaseScope: "mcp:tools", Scopes: []config.ToolScope{{Name: "mcp:tools"}}}, authInfo(), notify)
	if err != nil {
		t.Fatal(err)
	}
	// Not built with the kit: it might use what only the transport offers.
	core.AddTool(mcp.NewTool("other"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText("other"), nil
	})
	h := NewHandler(core, reg, HandlerOptions{BehindProxy: true, Ended: stillAuthorized})
	ctx := resource.WithTokenInfo(context.Background(), &resource.TokenInfo{Subject: "u1", Name: "Adele Vance", ClientID: "c",
		Scopes: []string{"mcp:tools"}, Issuer: "https://mcp.example", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})

	const json = "application/json"
	call := toolsCall(7, "auth_info", "{}")
	for _, tc := range []struct {
		name, ctype, body string
		hdr               map[string]string
		lean              bool
	}{
		{"a kit tool that streams notifications: SSE", json, toolsCall(2, "notify", ""), nil, true},
		{"tools/list", json, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, nil, true},
		{"ping", json, `{"jsonrpc":"2.0","id":0,"method":"ping"}`, nil, true},
		{"content type with parameters", "application/json; charset=utf-8", call, nil, true},
		{"protocol version header", json, call, map[string]string{"Mcp-Protocol-Version": "2025-06-18"}, true},
		{"unknown tool", json, toolsCall(1, "nope", ""), nil, false},
		{"a tool not built with the kit", json, toolsCall(1, "other", ""), nil, false},
		{"no params", json, `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, nil, false},
		{"initialize", json, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, nil, false},
		{"notification", json, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, nil, false},
		{"null id", json, `{"jsonrpc":"2.0","id":null,"method":"ping"}`, nil, false},
		{"a response", json, `{"jsonrpc":"2.0","id":1,"result":{}}`, nil, false},
		{"a batch", json, `[` + call + `]`, nil, false},
		{"not JSON", json, `{"jsonrpc":`, nil, false},
		{"JSON-RPC 1.0", json, `{"jsonrpc":"1.0","id":1,"method":"ping"}`, nil, false},
		{"wrong content type", "text/plain", call, nil, false},
		{"no content type", "", call, nil, false},
		{"unknown protocol version", json, call, map[string]string{"Mcp-Protocol-Version": "1999-01-01"}, false},
		{"modern protocol", json, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
			map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}, false},
		{"_meta with a progress token", json, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"notify","_meta":{"progressToken":"p"}}}`, nil, false},
		{"session id", json, call, map[string]string{"Mcp-Session-Id": "mcp-session-x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sameAnswer(t, h, tc.lean, post(ctx, tc.ctype, tc.body, tc.hdr))
			if strings.HasPrefix(tc.name, "a kit tool that streams") && strings.Count(got.Body.String(), "event: message") != 4 {
				t.Errorf("want 3 notifications and the result as SSE events:\n%s", got.Body)
			}
		})
	}
}

// GET goes to the transport, which offers no stream (405); and where its
// DNS-rebinding guard is on (the handler by itself on loopback), every
// request goes through it, lean ones included.
func TestHandlerLeavesEverythingElseToTheTransport(t *testing.T) {
	core, reg, err := New(Options{Name: "t", Version: "1", Tools: tools.Options{BaseScope: "mcp:tools",
		Scopes: []config.ToolScope{{Name: "mcp:tools"}, {Name: "mail.read"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, guarded := range []bool{false, true} {
		h := NewHandler(core, reg, HandlerOptions{BehindProxy: !guarded})
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

// stillAuthorized is the Ended of a caller whose authorization holds: the
// handler as deployed, wrapping every answer in its stream guard.
func stillAuthorized(context.Context) bool { return false }
