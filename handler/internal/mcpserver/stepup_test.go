package mcpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/reqbody"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

const prm = "https://mcp.example/.well-known/oauth-protected-resource/mcp"

// policy is the default configuration's: whoami and auth_info need the
// base scope, recent_mail also mail.read; calendar needs calendars.read.
var policy = ScopePolicy{
	Known: []string{"mcp:tools", "mail.read", "calendars.read"},
	Required: func(tool string) ([]string, bool) {
		switch tool {
		case "whoami", "auth_info":
			return []string{"mcp:tools"}, true
		case "recent_mail":
			return []string{"mcp:tools", "mail.read"}, true
		case "next_meetings":
			return []string{"mcp:tools", "calendars.read"}, true
		}
		return nil, false
	},
}

func call(tool string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
}

// TestStepUp: a tools/call whose tool needs a scope the token lacks gets
// 403 insufficient_scope before the tool runs, naming what the token has
// plus what the tool needs; everything else reaches the transport with
// its body intact.
func TestStepUp(t *testing.T) {
	ch := resource.Challenge{ResourceMetadataURL: prm, Scopes: []string{"mcp:tools"}}
	tests := []struct {
		name    string
		granted []string
		method  string
		body    string
		want    int    // 200: passed on
		scope   string // the challenge's scope on 403
	}{
		{"tools/list lists every tool", []string{"mcp:tools"}, "POST", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, 200, ""},
		{"initialize", []string{"mcp:tools"}, "POST", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}`, 200, ""},
		{"a tool of the base scope", []string{"mcp:tools", "offline_access"}, "POST", call("whoami"), 200, ""},
		{"recent_mail without mail.read", []string{"mcp:tools", "offline_access"}, "POST", call("recent_mail"), 403, "mcp:tools mail.read"},
		{"recent_mail with mail.read", []string{"mail.read", "mcp:tools"}, "POST", call("recent_mail"), 200, ""},
		{"the challenge keeps what the token has", []string{"mcp:tools", "mail.read"}, "POST", call("next_meetings"), 403, "mcp:tools mail.read calendars.read"},
		{"an unknown tool is mcp-go's to refuse", []string{"mcp:tools"}, "POST", call("no_such_tool"), 200, ""},
		{"method spelled with JSON escapes", []string{"mcp:tools"}, "POST",
			`{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"recent\u005fmail"}}`, 403, "mcp:tools mail.read"},
		{"keys in another case (encoding/json matches them, as mcp-go does)", []string{"mcp:tools"}, "POST",
			`{"jsonrpc":"2.0","id":1,"Method":"tools/call","PARAMS":{"Name":"recent_mail"}}`, 403, "mcp:tools mail.read"},
		{"the last of duplicate keys", []string{"mcp:tools"}, "POST",
			`{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"whoami","name":"recent_mail"}}`, 403, "mcp:tools mail.read"},
		{"a batch with one call that needs more", []string{"mcp:tools"}, "POST",
			`[` + call("whoami") + `,` + call("recent_mail") + `]`, 403, "mcp:tools mail.read"},
		{"params before method", []string{"mcp:tools"}, "POST",
			`{"params":{"name":"recent_mail"},"jsonrpc":"2.0","id":1,"method":"tools/call"}`, 403, "mcp:tools mail.read"},
		{"not JSON: mcp-go answers the parse error", []string{"mcp:tools"}, "POST", `{"method":"tools/call"`, 200, ""},
		{"DELETE has no body to inspect", []string{"mcp:tools"}, "DELETE", "", 200, ""},
		{"a token with every scope is not inspected", []string{"mcp:tools", "mail.read", "calendars.read"}, "POST", `not even JSON`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = io.ReadAll(r.Body)
			})
			h := StepUp(policy, ch, 0, slog.New(slog.DiscardHandler))(next)
			r := httptest.NewRequest(tt.method, "/mcp", strings.NewReader(tt.body))
			r = r.WithContext(resource.WithTokenInfo(r.Context(), &resource.TokenInfo{Subject: "u", Scopes: tt.granted}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d; %s", w.Code, tt.want, w.Body)
			}
			if tt.want == http.StatusForbidden {
				want := `Bearer error="insufficient_scope", resource_metadata="` + prm + `", scope="` + tt.scope + `"`
				if h := w.Header().Get("WWW-Authenticate"); h != want {
					t.Errorf("WWW-Authenticate = %s\nwant %s", h, want)
				}
				if got != nil {
					t.Error("the transport was called")
				}
				return
			}
			if string(got) != tt.body {
				t.Errorf("the transport read %q, want the body unchanged", got)
			}
		})
	}
}

// failingReader yields prefix, then err.
type failingReader struct {
	prefix io.Reader
	err    error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if n, _ := f.prefix.Read(p); n > 0 {
		return n, nil
	}
	return 0, f.err
}

// TestStepUpReadErrors: StepUp reads the body as Handler does (the 413 of
// MCP_MAX_BODY_BYTES is TestBodyLimit's): a body that does not arrive in
// time (package reqbody) gets 408 with a JSON-RPC error, before the
// transport; any other read error reaches the transport after the same
// bytes, for mcp-go to refuse.
func TestStepUpReadErrors(t *testing.T) {
	ch := resource.Challenge{ResourceMetadataURL: prm}
	for _, tt := range []struct {
		name   string
		err    error
		status int // 0: passed on
	}{
		{"too slow", fmt.Errorf("%w (10s): i/o timeout", reqbody.ErrTimeout), http.StatusRequestTimeout},
		{"client gone", io.ErrUnexpectedEOF, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			var gotErr error
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, gotErr = io.ReadAll(r.Body) })
			h := StepUp(policy, ch, 0, slog.New(slog.DiscardHandler))(next)
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call",`
			r := httptest.NewRequest("POST", "/mcp", &failingReader{strings.NewReader(body), tt.err})
			r = r.WithContext(resource.WithTokenInfo(r.Context(), &resource.TokenInfo{Scopes: []string{"mcp:tools"}}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tt.status != 0 {
				if w.Code != tt.status || !strings.Contains(w.Body.String(), `"jsonrpc":"2.0","id":null,"error":{"code":-32600`) || got != nil {
					t.Errorf("%d %s (transport called: %v), want %d with a JSON-RPC error", w.Code, w.Body, got != nil, tt.status)
				}
				return
			}
			if string(got) != body || !errors.Is(gotErr, tt.err) {
				t.Errorf("the transport read %q, %v; want %q, %v", got, gotErr, body, tt.err)
			}
		})
	}
}

// FuzzCalledTools holds calledTools to mcp-go: whatever tools/call mcp-go
// would dispatch from a body (its base message's method, then
// CallToolRequest's params.name, both with encoding/json), calledTools
// names that tool, so no call reaches a tool unchecked.
func FuzzCalledTools(f *testing.F) {
	for _, s := range []string{
		call("recent_mail"),
		`{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"recent\u005fmail"}}`,
		`{"METHOD":"tools/call","Params":{"NAME":"x"}}`,
		`{"method":"tools/list","method":"tools/call","params":{"name":"a","name":"b"}}`,
		`[` + call("a") + `]`,
		` {"method" : "tools/call" , "params" : {"name":"a"} } `,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var base struct {
			Method mcp.MCPMethod `json:"method"`
		}
		if json.Unmarshal([]byte(body), &base) != nil || base.Method != mcp.MethodToolsCall {
			return
		}
		var req mcp.CallToolRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return
		}
		if got := calledTools([]byte(body), new(message)); !slices.Contains(got, req.Params.Name) {
			t.Fatalf("mcp-go calls %q, calledTools found %q", req.Params.Name, got)
		}
	})
}

// BenchmarkStepUp is the layer's cost per tools/call of a base-scope tool
// with a base-scope token (the body read and decoded, then passed on), and
// with a token that has every scope (not read).
func BenchmarkStepUp(b *testing.B) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.ReadAll(r.Body) }) // as mcp-go reads it
	h := StepUp(policy, resource.Challenge{ResourceMetadataURL: prm}, 0, slog.New(slog.DiscardHandler))(next)
	body := call("auth_info")
	for _, tt := range []struct {
		name   string
		scopes []string
	}{{"base-scope token", []string{"mcp:tools"}}, {"every scope", policy.Known}} {
		b.Run(tt.name, func(b *testing.B) {
			info := &resource.TokenInfo{Scopes: tt.scopes}
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("POST", "/mcp", strings.NewReader(body))
				r = r.WithContext(resource.WithTokenInfo(r.Context(), info))
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
}
