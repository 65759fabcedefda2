package tools_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

func run[In, Out any](context.Context, *tools.Call, In) (Out, error) {
	var zero Out
	return zero, nil
}

var readOnly = tools.Hints{ReadOnly: true, Idempotent: true}

// TestNewRefuses: definition mistakes are reported by Register, each
// naming the tool.
func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		def  tools.Def
		want string
	}{
		{"bad name", tools.New(tools.Tool[probeIn, probeOut]{Name: "has space", Description: "d", Hints: readOnly, Run: run[probeIn, probeOut]}), "the name must be"},
		{"no description", tools.New(tools.Tool[probeIn, probeOut]{Name: "x", Hints: readOnly, Run: run[probeIn, probeOut]}), "no description"},
		{"no Run", tools.New(tools.Tool[probeIn, probeOut]{Name: "x", Description: "d", Hints: readOnly}), "no Run"},
		{"read-only and destructive", tools.New(tools.Tool[probeIn, probeOut]{Name: "x", Description: "d", Hints: tools.Hints{ReadOnly: true, Destructive: true, Idempotent: true}, Run: run[probeIn, probeOut]}), "hints contradict"},
		{"read-only but not idempotent", tools.New(tools.Tool[probeIn, probeOut]{Name: "x", Description: "d", Hints: tools.Hints{ReadOnly: true}, Run: run[probeIn, probeOut]}), "hints contradict"},
		{"output not an object", tools.New(tools.Tool[probeIn, []string]{Name: "x", Description: "d", Hints: readOnly, Run: run[probeIn, []string]}), "output schema: []string is not a struct"},
		{"input not an object", tools.New(tools.Tool[string, probeOut]{Name: "x", Description: "d", Hints: readOnly, Run: run[string, probeOut]}), "input schema: string is not a struct"},
		{"input schema not JSON", tools.New(tools.Tool[probeIn, probeOut]{Name: "x", Description: "d", Hints: readOnly, InputSchema: "{", Run: run[probeIn, probeOut]}), "InputSchema is not JSON Schema"},
		{"input schema with other fields", tools.New(tools.Tool[probeIn, probeOut]{Name: "x", Description: "d", Hints: readOnly, Run: run[probeIn, probeOut],
			InputSchema: `{"type":"object","properties":{"txt":{"type":"string"}}}`}), `InputSchema has properties ["txt"] but tools_test.probeIn has JSON fields ["text"]`},
		{"scope not configured", tools.New(tools.Tool[probeIn, probeOut]{Name: "x", Description: "d", Hints: readOnly, Scopes: []string{"files.read"}, Run: run[probeIn, probeOut]}), `tool "x" needs scope "files.read", which TOOL_SCOPES does not define`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tools.Register(server.NewMCPServer("t", "1"), tools.Options{BaseScope: "mcp:tools", Scopes: scopes}, tt.def)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Register error %v, want %q", err, tt.want)
			}
		})
	}
	ok := tools.New(tools.Tool[probeIn, probeOut]{Name: "x", Description: "d", Hints: readOnly, Run: run[probeIn, probeOut]})
	_, err := tools.Register(server.NewMCPServer("t", "1"), tools.Options{BaseScope: "mcp:tools", Scopes: scopes}, ok, ok, tests[0].def)
	if err == nil || !strings.Contains(err.Error(), `tool "x" is registered twice`) || !strings.Contains(err.Error(), "the name must be") {
		t.Fatalf("every problem at once: %v", err)
	}
}

// TestSchemasAndHints: tools/list shows plain JSON Schema types (never
// ["null", ...]), date-times as such, and all four hints.
func TestSchemasAndHints(t *testing.T) {
	def := tools.New(tools.Tool[probeIn, probeOut]{Name: "probe", Title: "Probe", Description: "d",
		Hints: tools.Hints{OpenWorld: true, Destructive: true}, Run: run[probeIn, probeOut]})
	b, err := json.Marshal(def.MCPTool())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Title        string          `json:"title"`
		InputSchema  json.RawMessage `json:"inputSchema"`
		OutputSchema json.RawMessage `json:"outputSchema"`
		Annotations  map[string]any  `json:"annotations"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if s := string(got.OutputSchema); s != `{"type":"object","properties":{"echo":{"type":"string"},"words":{"type":"array","items":{"type":"string"}},"at":{"type":"string","format":"date-time"},"note":{"type":"string"}},"required":["echo","words","at"],"additionalProperties":false}` {
		t.Errorf("output schema %s", s)
	}
	if s := string(got.InputSchema); s != `{"type":"object","properties":{"text":{"type":"string"}},"additionalProperties":false}` {
		t.Errorf("input schema %s", s)
	}
	want := map[string]any{"title": "Probe", "readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": true}
	for k, v := range want {
		if got.Annotations[k] != v {
			t.Errorf("annotations.%s = %v, want %v (all: %v)", k, got.Annotations[k], v, got.Annotations)
		}
	}
	if got.Title != "Probe" {
		t.Errorf("title %q", got.Title)
	}
}

// TestRegistryScopes: what the authorization server asks of the registry.
func TestRegistryScopes(t *testing.T) {
	mail := tools.New(tools.Tool[probeIn, probeOut]{Name: "mail", Description: "d", Hints: readOnly, Scopes: []string{"mail.read"}, Run: run[probeIn, probeOut]})
	plain := tools.New(tools.Tool[probeIn, probeOut]{Name: "plain", Description: "d", Hints: readOnly, Run: run[probeIn, probeOut]})
	reg, err := tools.Register(server.NewMCPServer("t", "1"), tools.Options{BaseScope: "mcp:tools", Scopes: scopes}, mail, plain)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := reg.RequiredScopes("mail"); !ok || strings.Join(s, " ") != "mcp:tools mail.read" {
		t.Errorf("RequiredScopes(mail) = %v %v", s, ok)
	}
	if s, _ := reg.RequiredScopes("plain"); strings.Join(s, " ") != "mcp:tools" {
		t.Errorf("RequiredScopes(plain) = %v", s)
	}
	if _, ok := reg.RequiredScopes("nope"); ok {
		t.Error("RequiredScopes(nope) found")
	}
	var lines []string
	for _, u := range reg.Scopes() {
		lines = append(lines, u.Name+"="+strings.Join(u.Permissions, ",")+" for "+strings.Join(u.Tools, ","))
	}
	if got := strings.Join(lines, "; "); got != "mcp:tools=https://graph.microsoft.com/User.Read for mail,plain; mail.read=https://graph.microsoft.com/Mail.Read for mail; orders.read=api://orders/Orders.Read for " {
		t.Errorf("Scopes() = %s", got)
	}
}

// TestDescribe: what the consent page says each scope lets an app do.
func TestDescribe(t *testing.T) {
	def := func(name, title string, scopes ...string) tools.Def {
		return tools.New(tools.Tool[probeIn, probeOut]{Name: name, Title: title, Description: "d", Hints: readOnly, Scopes: scopes, Run: run[probeIn, probeOut]})
	}
	all := append(slices.Clone(scopes),
		config.ToolScope{Name: "files", Permissions: []string{"https://graph.microsoft.com/Files.Read", "https://graph.microsoft.com/Sites.Read.All"}},
		config.ToolScope{Name: "odd", Permissions: []string{"https://graph.microsoft.com/Odd.Permission"}},
		config.ToolScope{Name: "none"})
	reg, err := tools.Register(server.NewMCPServer("t", "1"), tools.Options{BaseScope: "mcp:tools", Scopes: all},
		def("whoami", "Who am I"), def("mail", "Recent mail", "mail.read"), def("orders", "My orders", "orders.read"),
		def("files", "Files"), def("docs", "Documents", "files"), def("sheets", "Sheets", "files"), def("odd", "Odd", "odd"))
	if err != nil {
		t.Fatal(err)
	}
	for scope, want := range map[string]string{
		"mcp:tools":   "use the tools of Contoso MCP as you (Who am I, Files); they may read your profile through Microsoft Graph (User.Read)",
		"mail.read":   "use Recent mail as you; it may read your mail through Microsoft Graph (Mail.Read)",
		"orders.read": "use My orders as you; it may call api://orders as you (Orders.Read)",
		"files":       "use Documents, Sheets as you; they may read your files and read items in all SharePoint sites you can access through Microsoft Graph (Files.Read, Sites.Read.All)",
		"odd":         "use Odd as you; it may use Microsoft Graph as you (Odd.Permission)",
		"none":        "use tools of Contoso MCP that need none, as you",
		"unknown":     "unknown",
	} {
		if got := reg.Describe(scope, "Contoso MCP"); got != want {
			t.Errorf("Describe(%s) =\n%s\nwant\n%s", scope, got, want)
		}
	}
}
