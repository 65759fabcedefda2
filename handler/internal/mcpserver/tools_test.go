package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools/toolstest"
)

const (
	adele  = "AdeleV@contoso.example"  // consented to User.Read and Mail.Read
	megan  = "MeganB@contoso.example"  // User.Read only
	nestor = "NestorW@contoso.example" // no consent at all
)

// fixture is the server wired as in mode entra against the Entra emulator:
// real On-Behalf-Of, real Graph client, the emulator's Graph.
type fixture struct {
	emu  *entraemu.Emulator
	srv  *server.MCPServer
	reg  *tools.Registry
	logs *bytes.Buffer
}

func newFixture(t *testing.T, graphBase string) *fixture {
	t.Helper()
	e := entraemu.NewTestServer(t, nil)
	if graphBase == "" {
		graphBase = e.BaseURL()
	}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{config.EnvTenantID: entraemu.DevTenantID, config.EnvClientID: entraemu.DevAppClientID, config.EnvClientSecret: "x"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	srv, reg, err := New(Options{
		Name: "t", Version: "1",
		Graph: &graph.Client{BaseURL: graphBase, HTTPClient: e.Client()},
		Tools: tools.Options{
			BaseScope: cfg.MCPScope, Scopes: cfg.ToolScopes,
			Upstream: tools.OBO{Assertion: tools.BearerAssertion, Exchange: &entra.OBO{
				AuthorityHost: e.BaseURL(), TenantID: entraemu.DevTenantID, ClientID: entraemu.DevAppClientID,
				ClientSecret: entraemu.DevAppClientSecret, HTTPClient: e.Client(),
			}},
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: e, srv: srv, reg: reg, logs: logs}
}

// as returns a context carrying upn's verified Entra token, as the bearer
// middleware leaves it in mode entra.
func (f *fixture) as(t *testing.T, upn string) context.Context {
	t.Helper()
	u, ok := f.emu.User(upn)
	if !ok {
		t.Fatalf("no user %s", upn)
	}
	tok, err := f.emu.SignToken(f.emu.DefaultAccessTokenClaims(u, entraemu.DevPublicClientID))
	if err != nil {
		t.Fatal(err)
	}
	return resource.WithTokenInfo(context.Background(), &resource.TokenInfo{
		Subject: u.OID, Name: u.DisplayName, Username: u.UPN, TenantID: entraemu.DevTenantID, ClientID: entraemu.DevPublicClientID,
		Scopes: []string{"user_impersonation"}, Issuer: f.emu.Issuer(), Expiry: time.Now().Add(time.Hour).Truncate(time.Second), Assertion: tok,
	})
}

// TestEveryResultConforms calls every tool as every test user, with good
// and bad arguments, and holds each result to the tool's declared output
// schema with a JSON Schema validator: success carries valid
// structuredContent, errors (consent missing, bad input) carry text only.
func TestEveryResultConforms(t *testing.T) {
	f := newFixture(t, "")
	list := map[string]mcp.Tool{}
	for _, d := range Tools(nil) {
		list[d.Name()] = d.MCPTool()
	}
	tests := []struct {
		tool, user string
		args       any
		wantErr    bool
		want       []string // in the text
	}{
		{"whoami", adele, nil, false, []string{`"displayName":"Adele Vance"`, `"jobTitle":"Retail Manager"`}},
		{"whoami", megan, nil, false, []string{`"displayName":"Megan Bowen"`}},
		{"whoami", nestor, nil, true, []string{"Who am I needs your consent to https://graph.microsoft.com/User.Read", "/v2.0/adminconsent?client_id=" + entraemu.DevAppClientID}},
		{"auth_info", adele, nil, false, []string{`"subject":"a0a0a0a0-0000-4000-8000-000000000001"`, `"scopes":["user_impersonation"]`}},
		{"auth_info", nestor, map[string]any{}, false, []string{`"name":"Nestor Wilke"`}},
		{"recent_mail", adele, nil, false, []string{`"subject":"Quarterly retail review","from":"Megan Bowen","fromAddress":"MeganB@contoso.example","receivedDateTime":"2026-05-04T09:12:00Z"`}},
		{"recent_mail", adele, map[string]any{"count": 2}, false, []string{`"subject":"Store opening checklist"`}},
		{"recent_mail", megan, nil, true, []string{"Recent mail needs your consent to https://graph.microsoft.com/Mail.Read", "Sign in to this server again", "adminconsent"}},
		{"recent_mail", nestor, nil, true, []string{"needs your consent"}},
		{"recent_mail", adele, map[string]any{"count": 0}, true, []string{"count"}},
		{"recent_mail", adele, map[string]any{"count": 26}, true, []string{"count"}},
		{"recent_mail", adele, map[string]any{"count": "ten"}, true, []string{"count"}},
		{"recent_mail", adele, map[string]any{"folder": "inbox"}, true, []string{"folder"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s as %s %v", tt.tool, tt.user, tt.args), func(t *testing.T) {
			res, err := toolstest.CallTool(f.as(t, tt.user), f.srv, tt.tool, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if err := toolstest.CheckResult(list[tt.tool], res); err != nil {
				t.Errorf("result does not conform to %s's declared schema: %v\n%s", tt.tool, err, testutil.ToolText(res))
			}
			if res.IsError != tt.wantErr {
				t.Errorf("isError = %v, want %v: %s", res.IsError, tt.wantErr, testutil.ToolText(res))
			}
			for _, w := range tt.want {
				if !strings.Contains(testutil.ToolText(res), w) {
					t.Errorf("text %q lacks %q", testutil.ToolText(res), w)
				}
			}
		})
	}
	if got := f.logs.String(); !strings.Contains(got, `msg=audit tool=whoami event=upstream.error stage=obo`) || !strings.Contains(got, `msg=audit tool=recent_mail event=upstream.error stage=obo`) {
		t.Errorf("the consent-required paths left no log line:\n%s", got)
	}
}

// TestGraphFailure: a Graph outage is an error result saying so, without
// Graph's message.
func TestGraphFailure(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":"serviceNotAvailable","message":"secret detail"}}`))
	}))
	defer down.Close()
	f := newFixture(t, down.URL)
	for _, d := range []tools.Def{whoami(nil), recentMail(nil)} {
		name := d.Name()
		res, err := toolstest.CallTool(f.as(t, adele), f.srv, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := toolstest.CheckResult(d.MCPTool(), res); err != nil {
			t.Errorf("%s: the result does not conform: %v", name, err)
		}
		got := testutil.ToolText(res)
		if !res.IsError || !strings.Contains(got, "Microsoft Graph answered 503 serviceNotAvailable.") || strings.Contains(got, "secret detail") {
			t.Errorf("%s: %v %q", name, res.IsError, got)
		}
	}
}

// TestToolDefinitions: annotations say what each tool does, deliberately.
func TestToolDefinitions(t *testing.T) {
	type hints struct{ ReadOnly, Destructive, Idempotent, OpenWorld bool }
	want := map[string]struct {
		hints  hints
		scopes string
	}{
		"whoami":      {hints{true, false, true, true}, ""},
		"auth_info":   {hints{true, false, true, false}, ""},
		"recent_mail": {hints{true, false, true, true}, "mail.read"},
	}
	defs := Tools(nil)
	if len(defs) != len(want) {
		t.Fatalf("%d tools, want %d", len(defs), len(want))
	}
	for _, d := range defs {
		w, ok := want[d.Name()]
		if !ok {
			t.Errorf("unexpected tool %s", d.Name())
			continue
		}
		a := d.MCPTool().Annotations
		if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
			t.Fatalf("%s: a hint is unset: %+v", d.Name(), a)
		}
		if got := (hints{*a.ReadOnlyHint, *a.DestructiveHint, *a.IdempotentHint, *a.OpenWorldHint}); got != w.hints {
			t.Errorf("%s hints %+v, want %+v", d.Name(), got, w.hints)
		}
		if got := strings.Join(d.Scopes(), " "); got != w.scopes {
			t.Errorf("%s scopes %q, want %q", d.Name(), got, w.scopes)
		}
		b, _ := json.Marshal(d.MCPTool())
		if strings.Contains(string(b), `"null"`) {
			t.Errorf("%s: a schema admits null (a portability problem for clients): %s", d.Name(), b)
		}
	}
	var in struct {
		Properties struct {
			Count struct{ Minimum, Maximum, Default int } `json:"count"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(recentMail(nil).MCPTool().RawInputSchema, &in)
	if c := in.Properties.Count; c.Minimum != 1 || c.Maximum != maxMailCount || c.Default != defaultMailCount {
		t.Errorf("recent_mail count schema %+v, want 1..%d default %d", c, maxMailCount, defaultMailCount)
	}
}

// TestNewNeedsEveryScope: a tool's scope missing from TOOL_SCOPES stops the
// server at start, naming tool and scope.
func TestNewNeedsEveryScope(t *testing.T) {
	_, _, err := New(Options{Tools: tools.Options{BaseScope: "mcp:tools", Scopes: []config.ToolScope{{Name: "mcp:tools"}}}})
	if err == nil || !strings.Contains(err.Error(), `tool "recent_mail" needs scope "mail.read", which TOOL_SCOPES does not define`) {
		t.Fatalf("New = %v", err)
	}
}
