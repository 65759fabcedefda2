package telemetry_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/otlprecv"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/telemetry"
)

type handler struct{ called *bool }

func (h handler) ServeHTTP(http.ResponseWriter, *http.Request) { *h.called = true }

type transport struct{ urls *[]string }

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	*t.urls = append(*t.urls, r.URL.String())
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// Off means absent: no tracer, and every wrapper hands back what it got.
func TestOffWrapsNothing(t *testing.T) {
	tr, err := telemetry.Start(telemetry.Options{})
	if err != nil || tr != nil || tr.Enabled() {
		t.Fatalf("Start without endpoint = %v, %v", tr, err)
	}
	called := false
	h := handler{&called}
	var urls []string
	rt := transport{&urls}
	if tr.Handler(h, nil) != http.Handler(h) || tr.UpstreamTransport(rt) != http.RoundTripper(rt) || tr.TableTransport(rt) != http.RoundTripper(rt) {
		t.Error("a wrapper was added with tracing off")
	}
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestBadSettings(t *testing.T) {
	for _, o := range []telemetry.Options{
		{Endpoint: "ftp://collector"},
		{Endpoint: "http://collector:4318", Headers: "no-equals-sign"},
		{Endpoint: "http://collector:4318", Headers: "k=%zz"},
	} {
		if _, err := telemetry.Start(o); err == nil {
			t.Errorf("Start(%+v) accepted", o)
		}
	}
}

// collector is an OTLP receiver that also remembers the headers it got.
type collector struct {
	otlprecv.Receiver
	mu     sync.Mutex
	header http.Header
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.header = r.Header.Clone()
	c.mu.Unlock()
	c.Receiver.ServeHTTP(w, r)
}

// A request with a traceparent gets a server span under it, the calls it
// makes get client spans under that, the collector receives them over
// OTLP/HTTP with the configured headers, and Table Storage keys and queries
// never reach a span while the real URL still reaches the service.
func TestSpansReachTheCollector(t *testing.T) {
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	tr, err := telemetry.Start(telemetry.Options{Endpoint: srv.URL, Headers: "api-key=s%3Dcret", ServiceName: "test-svc", Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	var upstreamURLs, tableURLs []string
	upstream := &http.Client{Transport: tr.UpstreamTransport(transport{&upstreamURLs})}
	table := &http.Client{Transport: tr.TableTransport(transport{&tableURLs})}
	const rowURL = "http://127.0.0.1:10002/devstoreaccount1/oauthstate(PartitionKey='grant',RowKey='the-grant-id')?$select=ID"
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := telemetry.Span(r.Context()); s != nil {
			s.SetAttributes(telemetry.Client("client-1"))
		}
		log := slog.New(tr.LogHandler(slog.DiscardHandler))
		// Written whatever the level, as audit events are.
		audit.Log(r.Context(), log, audit.UpstreamError, slog.String("stage", "callback"), slog.String("aadsts", "AADSTS65004"), slog.String("client_id", "client-1"))
		tr.ToolObserver()(r.Context(), "whoami", "ok", 3*time.Millisecond)
		for _, c := range []struct {
			cl *http.Client
			u  string
		}{{upstream, "https://login.example/tenant/oauth2/v2.0/token"}, {upstream, "https://graph.example/v1.0/me"}, {table, rowURL}} {
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, c.u, nil)
			resp, err := c.cl.Do(req)
			if err != nil {
				t.Error(err)
				continue
			}
			resp.Body.Close()
		}
	}), func(*http.Request) string { return "GET /callback" })
	req := httptest.NewRequest(http.MethodGet, "/callback?code=secret-code&state=s", nil)
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}

	if got := col.header.Get("Api-Key"); got != "s=cret" {
		t.Errorf("export header api-key = %q", got)
	}
	if len(tableURLs) != 1 || tableURLs[0] != mustParse(t, rowURL).String() {
		t.Errorf("Table Storage got %q, want the real URL", tableURLs)
	}
	spans := col.Spans()
	byName := map[string]otlprecv.Span{}
	for _, s := range spans {
		byName[s.Name] = s
		if strings.Contains(s.String(), "the-grant-id") || strings.Contains(s.String(), "secret-code") || strings.Contains(s.String(), "select") {
			t.Errorf("span %q records a key, a code or a query: %s", s.Name, s)
		}
	}
	server, ok := byName["GET /callback"]
	if !ok || server.TraceID != "0af7651916cd43dd8448eb211c80319c" || server.ParentID != "b7ad6b7169203331" ||
		server.Service != "test-svc" || server.Kind != "SPAN_KIND_SERVER" || server.Attrs["oauth.client_id"] != "client-1" {
		t.Fatalf("server span: %+v (all: %v)", server, spans)
	}
	for _, name := range []string{"entra GET /tenant/oauth2/v2.0/token", "graph GET /v1.0/me", "table GET"} {
		s, ok := byName[name]
		if !ok || s.ParentID != server.SpanID || s.Kind != "SPAN_KIND_CLIENT" {
			t.Errorf("client span %q: %+v", name, s)
		}
	}

	// Metrics, flushed by Shutdown: requests by route and status, upstream
	// calls by peer, audit events by event (no client id: not a
	// dimension), tool calls by tool and outcome.
	want := []struct {
		metric string
		attrs  map[string]string
	}{
		{"http.server.request.duration", map[string]string{"http.route": "GET /callback", "http.response.status_code": "200"}},
		{"http.client.request.duration", map[string]string{"peer.service": "entra"}},
		{"http.client.request.duration", map[string]string{"peer.service": "graph"}},
		{"http.client.request.duration", map[string]string{"peer.service": "table"}},
		{"mcp.audit.events", map[string]string{"event": "upstream.error", "stage": "callback", "aadsts": "AADSTS65004"}},
		{"mcp.tool.calls", map[string]string{"tool": "whoami", "outcome": "ok"}},
		{"mcp.tool.duration", map[string]string{"tool": "whoami", "outcome": "ok"}},
	}
	points := col.Points()
	for _, w := range want {
		found := false
		for _, p := range points {
			if p.Metric == w.metric && p.Service == "test-svc" && p.Value == 1 && subset(w.attrs, p.Attrs) {
				found = true
				if _, leaked := p.Attrs["client_id"]; leaked {
					t.Errorf("%s has a client_id dimension", p.Metric)
				}
			}
		}
		if !found {
			t.Errorf("no %s point with %v = 1; got %+v", w.metric, w.attrs, points)
		}
	}
}

func subset(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func mustParse(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
