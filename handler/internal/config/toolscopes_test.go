package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestToolScopes(t *testing.T) {
	graph := func(p ...string) []string {
		for i := range p {
			p[i] = "https://graph.microsoft.com/" + p[i]
		}
		return p
	}
	tests := []struct {
		name string
		env  map[string]string
		want []ToolScope
		err  []string // substrings of the error, one per problem
	}{
		{name: "default follows MCP_SCOPE", env: map[string]string{EnvMCPScope: "mcp"},
			want: []ToolScope{{"mcp", graph("User.Read")}, {"mail.read", graph("Mail.Read")}}},
		{name: "own API and Graph, base moved first",
			env:  map[string]string{EnvToolScopes: "orders.read=api://contoso-orders/Orders.Read mcp:tools=https://graph.microsoft.com/User.Read,https://graph.microsoft.com/Calendars.Read"},
			want: []ToolScope{{"mcp:tools", graph("User.Read", "Calendars.Read")}, {"orders.read", []string{"api://contoso-orders/Orders.Read"}}}},
		{name: "base without downstream permissions, app id GUID resource",
			env:  map[string]string{EnvToolScopes: "mcp:tools= files.read=00000003-0000-0000-c000-000000000000/Files.Read"},
			want: []ToolScope{{Name: "mcp:tools"}, {"files.read", []string{"00000003-0000-0000-c000-000000000000/Files.Read"}}}},
		{name: "base scope missing", env: map[string]string{EnvToolScopes: "mail.read=https://graph.microsoft.com/Mail.Read"},
			err: []string{`the base scope "mcp:tools" (MCP_SCOPE) is not defined`}},
		{name: "bare permission", env: map[string]string{EnvToolScopes: "mcp:tools=User.Read"},
			err: []string{`scope "mcp:tools": permission "User.Read" must be written in full`}},
		{name: "two resources in one scope", env: map[string]string{EnvToolScopes: "mcp:tools=https://graph.microsoft.com/User.Read,api://x/y"},
			err: []string{`scope "mcp:tools" names permissions of two resources`}},
		{name: "every problem at once",
			env: map[string]string{EnvToolScopes: "mcp:tools= nonsense offline_access=https://graph.microsoft.com/User.Read mcp:tools= a\"b=api://x/y"},
			err: []string{`"nonsense" is not name=permission`, `"offline_access" is an OpenID Connect scope`, `scope "mcp:tools" is defined twice`, `"a\"b" is not a scope name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(localEnv(tt.env)))
			if len(tt.err) > 0 {
				if err == nil {
					t.Fatalf("Load() = nil error, want %q", tt.err)
				}
				for _, w := range tt.err {
					if !strings.Contains(err.Error(), "TOOL_SCOPES: "+w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, c.ToolScopes); d != "" {
				t.Errorf("ToolScopes (-want +got):\n%s", d)
			}
		})
	}
}

func TestToolScopeLookup(t *testing.T) {
	c, err := Load(env(localEnv(nil)))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := c.ToolScope("mail.read")
	if !ok || s.Resource() != "https://graph.microsoft.com" {
		t.Fatalf("ToolScope(mail.read) = %+v, %v", s, ok)
	}
	if _, ok := c.ToolScope("nope"); ok {
		t.Error("ToolScope(nope) found")
	}
	if r := (ToolScope{Name: "x"}).Resource(); r != "" {
		t.Errorf("Resource of a scope without permissions = %q", r)
	}
}
