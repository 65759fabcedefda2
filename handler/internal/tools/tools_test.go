package tools_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools/toolstest"
)

type probeIn struct {
	Text string `json:"text,omitempty"`
}

type probeOut struct {
	Echo  string    `json:"echo"`
	Words []string  `json:"words"`
	At    time.Time `json:"at"`
	Note  *string   `json:"note,omitempty"`
}

var scopes = []config.ToolScope{
	{Name: "mcp:tools", Permissions: []string{"https://graph.microsoft.com/User.Read"}},
	{Name: "mail.read", Permissions: []string{"https://graph.microsoft.com/Mail.Read"}},
	{Name: "orders.read", Permissions: []string{"api://orders/Orders.Read"}},
}

// upstream records what it was asked and answers with err, or a token.
type upstream struct {
	mu    sync.Mutex
	asked [][]string
	err   error
}

func (u *upstream) Token(_ context.Context, _ *resource.TokenInfo, s []string) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.asked = append(u.asked, s)
	return "tok", u.err
}

// logRecords collects log records with the request id their context
// carried.
type logRecords struct {
	mu   sync.Mutex
	recs []string
}

type requestIDKey struct{}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(ctx context.Context, r slog.Record) error {
	id, _ := ctx.Value(requestIDKey{}).(string)
	var attrs []string
	r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a.String()); return true })
	l.mu.Lock()
	l.recs = append(l.recs, fmt.Sprintf("%s %s request_id=%s %s", r.Level, r.Message, id, strings.Join(attrs, " ")))
	l.mu.Unlock()
	return nil
}
func (l *logRecords) WithAttrs(a []slog.Attr) slog.Handler { return withAttrs{l, a} }
func (l *logRecords) WithGroup(string) slog.Handler        { return l }

type withAttrs struct {
	*logRecords
	a []slog.Attr
}

func (w withAttrs) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(w.a...)
	return w.logRecords.Handle(ctx, r)
}

func (l *logRecords) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.recs, "\n")
}

// serve registers def on a fresh server.
func serve(t *testing.T, up tools.Upstream, logs *logRecords, defs ...tools.Def) *server.MCPServer {
	t.Helper()
	s := server.NewMCPServer("t", "1", server.WithInputSchemaValidation())
	if _, err := tools.Register(s, tools.Options{BaseScope: "mcp:tools", Scopes: scopes, Upstream: up, Logger: slog.New(logs)}, defs...); err != nil {
		t.Fatal(err)
	}
	return s
}

func callerCtx() context.Context {
	ctx := context.WithValue(context.Background(), requestIDKey{}, "req-1")
	return resource.WithTokenInfo(ctx, &resource.TokenInfo{Subject: "u1", Name: "Adele", Scopes: []string{"mcp:tools"}, GrantID: "g1"})
}

// TestResults: every way a tool can end gives a result that conforms to
// the tool's output schema (as clients check it), says what happened in
// words, and leaves one log line with the request id.
func TestResults(t *testing.T) {
	consentURL := "https://login.example/t/v2.0/adminconsent?client_id=c&scope=https%3A%2F%2Fgraph.microsoft.com%2FMail.Read"
	tests := []struct {
		name     string
		upErr    error
		run      func(ctx context.Context, c *tools.Call, in probeIn) (probeOut, error)
		args     any
		wantErr  bool
		wantText []string
		wantLog  string
		wantObo  string // the permissions OnBehalfOf asked for
	}{
		{name: "success", run: func(ctx context.Context, c *tools.Call, in probeIn) (probeOut, error) {
			return probeOut{Echo: in.Text + " " + c.Caller.Name, Words: []string{}, At: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)}, nil
		}, args: map[string]any{"text": "hi"}, wantText: []string{`{"echo":"hi Adele","words":[],"at":"2026-05-04T00:00:00Z"}`}},
		{name: "default On-Behalf-Of scopes are the tool's own", run: obo(), wantText: []string{`"echo":"tok"`}, wantObo: "https://graph.microsoft.com/Mail.Read"},
		{name: "named permission of the base scope", run: obo("https://graph.microsoft.com/User.Read"), wantObo: "https://graph.microsoft.com/User.Read"},
		{name: "consent missing", upErr: &entra.ConsentRequiredError{URL: consentURL, Scopes: []string{"https://graph.microsoft.com/Mail.Read"}}, run: obo(),
			wantErr: true, wantText: []string{"Probe needs your consent to https://graph.microsoft.com/Mail.Read", "(AADSTS65001)", "Sign in to this server again", consentURL},
			wantLog: "INFO audit request_id=req-1 event=upstream.error stage=obo client_id= error=consent_required aadsts=AADSTS65001", wantObo: "https://graph.microsoft.com/Mail.Read"},
		{name: "interaction required", upErr: &entra.InteractionRequiredError{Detail: "AADSTS50079"}, run: obo(),
			wantErr: true, wantText: []string{"sign in again", "multi-factor", "(AADSTS50079)"}, wantLog: "INFO audit request_id=req-1 event=upstream.error stage=obo client_id= error=interaction_required aadsts=AADSTS50079"},
		{name: "sign-in ended", upErr: fmt.Errorf("%w: refresh refused", resource.ErrInvalidToken), run: obo(),
			wantErr: true, wantText: []string{"Your sign-in has ended"}, wantLog: "INFO tool: the sign-in behind the token has ended request_id=req-1"},
		{name: "permission outside the tool's scopes", run: obo("api://orders/Orders.Read"),
			wantErr: true, wantText: []string{"Probe is misconfigured"}, wantLog: "ERROR tool misused OnBehalfOf request_id=req-1"},
		{name: "own error text", run: fail(tools.Errorf("No message with id %q.", "x")),
			wantErr: true, wantText: []string{`No message with id "x".`}, wantLog: "DEBUG tool refused request_id=req-1"},
		{name: "Graph error", run: fail(&graph.Error{Status: 503, Code: "serviceNotAvailable", Message: "secret detail"}),
			wantErr: true, wantText: []string{"Probe could not finish: Microsoft Graph answered 503 serviceNotAvailable."}, wantLog: "WARN tool: downstream call failed request_id=req-1"},
		{name: "API error", run: fail(&tools.HTTPError{Status: 502, Host: "orders.example"}),
			wantErr: true, wantText: []string{"orders.example answered 502 Bad Gateway."}, wantLog: "WARN tool: downstream call failed request_id=req-1"},
		{name: "timeout", run: fail(fmt.Errorf("get: %w", context.DeadlineExceeded)),
			wantErr: true, wantText: []string{"timed out"}, wantLog: "WARN tool timed out request_id=req-1"},
		{name: "anything else stays in the log", run: fail(errors.New("secret detail")),
			wantErr: true, wantText: []string{"Probe failed on the server; try again later."}, wantLog: "ERROR tool failed request_id=req-1"},
		{name: "invalid arguments", run: fail(nil), args: map[string]any{"text": 42}, wantErr: true, wantText: []string{"text"}},
		{name: "unknown argument", run: fail(nil), args: map[string]any{"other": "x"}, wantErr: true, wantText: []string{"other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &upstream{err: tt.upErr}
			logs := &logRecords{}
			def := tools.New(tools.Tool[probeIn, probeOut]{
				Name: "probe", Title: "Probe", Description: "Tests the kit.", Scopes: []string{"mail.read"},
				Hints: tools.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}, Run: tt.run,
			})
			res, err := toolstest.CallTool(callerCtx(), serve(t, up, logs, def), "probe", tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if err := toolstest.CheckResult(def.MCPTool(), res); err != nil {
				t.Errorf("result does not conform: %v\n%+v", err, res)
			}
			got := testutil.ToolText(res)
			if res.IsError != tt.wantErr {
				t.Errorf("isError = %v, want %v: %s", res.IsError, tt.wantErr, got)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(got, w) {
					t.Errorf("text %q lacks %q", got, w)
				}
			}
			if strings.Contains(got, "secret detail") {
				t.Errorf("upstream detail reached the result: %q", got)
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs)
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), "tool=probe") {
				t.Errorf("log lines do not name the tool:\n%s", logs)
			}
			if tt.wantObo != "" && (len(up.asked) != 1 || strings.Join(up.asked[0], " ") != tt.wantObo) {
				t.Errorf("On-Behalf-Of asked for %v, want %s", up.asked, tt.wantObo)
			}
		})
	}
}

// obo makes a Run that gets a token for perms and echoes it.
func obo(perms ...string) func(ctx context.Context, c *tools.Call, in probeIn) (probeOut, error) {
	return func(ctx context.Context, c *tools.Call, in probeIn) (probeOut, error) {
		tok, err := c.OnBehalfOf(ctx, perms...)
		if err != nil {
			return probeOut{}, err
		}
		c.Log.Info("got a token") // without a context: the request id must still come along
		return probeOut{Echo: tok, Words: []string{}}, nil
	}
}

func fail(err error) func(context.Context, *tools.Call, probeIn) (probeOut, error) {
	return func(context.Context, *tools.Call, probeIn) (probeOut, error) { return probeOut{}, err }
}

// TestOnBehalfOfNeedsPermissionsAcrossResources: a tool whose scopes map
// to two resources must name the permissions it wants.
func TestOnBehalfOfNeedsPermissionsAcrossResources(t *testing.T) {
	logs := &logRecords{}
	up := &upstream{}
	def := func(perms ...string) tools.Def {
		return tools.New(tools.Tool[probeIn, probeOut]{Name: "probe", Description: "d", Hints: readOnly, Scopes: []string{"mail.read", "orders.read"}, Run: obo(perms...)})
	}
	res, err := toolstest.CallTool(callerCtx(), serve(t, up, logs, def()), "probe", nil)
	if err != nil || !res.IsError || !strings.Contains(testutil.ToolText(res), "misconfigured") || len(up.asked) != 0 {
		t.Fatalf("without permissions: %v %+v, asked %v", err, res, up.asked)
	}
	res, err = toolstest.CallTool(callerCtx(), serve(t, up, logs, def("api://orders/Orders.Read")), "probe", nil)
	if err != nil || res.IsError || len(up.asked) != 1 || up.asked[0][0] != "api://orders/Orders.Read" {
		t.Fatalf("with a named permission: %v %+v, asked %v", err, res, up.asked)
	}
}

// TestWithoutCaller: behind the bearer middleware there is always a
// caller; if not, the tool does not run.
func TestWithoutCaller(t *testing.T) {
	logs := &logRecords{}
	ran := false
	def := tools.New(tools.Tool[probeIn, probeOut]{Name: "probe", Description: "d", Hints: readOnly,
		Run: func(context.Context, *tools.Call, probeIn) (probeOut, error) {
			ran = true
			return probeOut{Words: []string{}}, nil
		}})
	res, err := toolstest.CallTool(context.Background(), serve(t, &upstream{}, logs, def), "probe", nil)
	if err != nil || !res.IsError || ran || toolstest.CheckResult(def.MCPTool(), res) != nil || !strings.Contains(logs.String(), "ERROR tool called without a verified token") {
		t.Fatalf("%v %+v ran=%v\n%s", err, res, ran, logs)
	}
}

// TestLogWithoutContext: Call.Log carries the request id and tool even
// when the tool logs without a context.
func TestLogWithoutContext(t *testing.T) {
	logs := &logRecords{}
	def := tools.New(tools.Tool[probeIn, probeOut]{Name: "probe", Description: "d", Hints: tools.Hints{ReadOnly: true, Idempotent: true}, Run: obo()})
	if _, err := toolstest.CallTool(callerCtx(), serve(t, &upstream{}, logs, def), "probe", nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "INFO got a token request_id=req-1 tool=probe") {
		t.Fatalf("log:\n%s", logs)
	}
}
