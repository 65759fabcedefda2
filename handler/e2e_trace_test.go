package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/otlprecv"
)

// traceparent returns a fresh W3C traceparent (version 00, sampled) and
// its trace and parent ids, as API Management sends one.
func traceparent(t *testing.T) (header, traceID, parentID string) {
	t.Helper()
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	traceID, parentID = hex.EncodeToString(b[:16]), hex.EncodeToString(b[16:])
	return "00-" + traceID + "-" + parentID + "-01", traceID, parentID
}

// headerTransport adds a traceparent to the requests for one path.
type headerTransport struct {
	base   http.RoundTripper
	path   string
	header string
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == h.path {
		r = r.Clone(r.Context())
		r.Header.Set("Traceparent", h.header)
	}
	return h.base.RoundTrip(r)
}

// waitSpans waits until the receiver holds spans of trace that satisfy
// done (the SDKs export in batches), and returns the trace's spans.
func waitSpans(t *testing.T, recv *otlprecv.Receiver, traceID string, done func([]otlprecv.Span) bool) []otlprecv.Span {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var spans []otlprecv.Span
		for _, s := range recv.Spans() {
			if s.TraceID == traceID {
				spans = append(spans, s)
			}
		}
		if done(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			for _, s := range spans {
				t.Log(s)
			}
			t.Fatalf("trace %s incomplete after 15 s (%d spans)", traceID, len(spans))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// spanNamed returns the first span whose name starts with prefix.
func spanNamed(spans []otlprecv.Span, service, prefix string) (otlprecv.Span, bool) {
	for _, s := range spans {
		if s.Service == service && strings.HasPrefix(s.Name, prefix) {
			return s, true
		}
	}
	return otlprecv.Span{}, false
}

// TestOneSignInIsOneTrace: with OTEL_EXPORTER_OTLP_ENDPOINT set (and
// host.json's telemetryMode OpenTelemetry), the sign-in's return from
// Entra, carrying the traceparent API Management would send, is one trace
// across funchost and the handler: the host's invocation span continues
// the caller's, the handler's server span is the child of the host's
// forwarding span, and the Entra and Table Storage calls are children of
// the handler's span. A tool call's Graph and On-Behalf-Of calls are in
// its trace too. No span carries a code, a token or a Table key, and the
// handler's log lines carry the trace id. The metrics (requests by route
// and status, upstream calls, audit events, tool calls) reach the same
// endpoint.
func TestOneSignInIsOneTrace(t *testing.T) {
	recv := &otlprecv.Receiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	storage := storageEnv(t)
	onTables := storage != nil // in memory there are no Table Storage calls
	st := startStack(t, "proxy", append(storage, "OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL)...)

	c := registerClient(t, st, "http://127.0.0.1:53682/callback")
	b := newBrowser(t, st)
	tp, traceID, parentID := traceparent(t)
	b.http.Transport = headerTransport{base: b.http.Transport, path: "/callback", header: tp}
	code := b.authorize(c, c.authorizeURL(st, nil), "AdeleV@contoso.example").Get("code")
	tok := c.redeem(t, st, code)
	if tok.Status != 200 {
		t.Fatalf("token: %+v", tok)
	}

	checkSignInTrace(t, recv, traceID, parentID, onTables)
	checkToolTrace(t, recv, st, c, tok.AccessToken)
	checkSpansHoldNo(t, recv.Spans(), []string{code, tok.AccessToken, tok.RefreshToken})
	if !strings.Contains(st.Logs.String(), "trace_id="+traceID) {
		t.Errorf("no handler log line carries trace_id=%s", traceID)
	}

	// Metrics go to the same endpoint; stopping the handler flushes them.
	if err := st.host.Close(); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		metric string
		attrs  map[string]string
	}{
		{"http.server.request.duration", map[string]string{"http.route": "GET /callback", "http.response.status_code": "302"}},
		{"http.server.request.duration", map[string]string{"http.route": "POST /mcp", "http.response.status_code": "200"}},
		{"http.client.request.duration", map[string]string{"peer.service": "entra"}},
		{"http.client.request.duration", map[string]string{"peer.service": "graph"}},
		{"mcp.audit.events", map[string]string{"event": "signin.completed"}},
		{"mcp.audit.events", map[string]string{"event": "tokens.issued"}},
		{"mcp.tool.calls", map[string]string{"tool": "whoami", "outcome": "ok"}},
	} {
		if !hasPoint(recv.Points(), w.metric, w.attrs) {
			t.Errorf("no %s point with %v from the handler", w.metric, w.attrs)
		}
	}
	if onTables && !hasPoint(recv.Points(), "http.client.request.duration", map[string]string{"peer.service": "table"}) {
		t.Error("no Table Storage call metric")
	}
}

func hasPoint(points []otlprecv.Point, metric string, attrs map[string]string) bool {
	for _, p := range points {
		if p.Metric != metric || p.Service != "entra-mcp-functions" || p.Value < 1 {
			continue
		}
		ok := true
		for k, v := range attrs {
			ok = ok && p.Attrs[k] == v
		}
		if ok {
			return true
		}
	}
	return false
}

func hasEvent(s otlprecv.Span, name string) bool {
	for _, e := range s.Events {
		if e.Name == name {
			return true
		}
	}
	return false
}

func checkSpansHoldNo(t *testing.T, spans []otlprecv.Span, secrets []string) {
	t.Helper()
	for _, s := range spans {
		all := s.String()
		for _, e := range s.Events {
			for k, v := range e.Attrs {
				all += " " + k + "=" + v
			}
		}
		for _, secret := range secrets {
			if secret != "" && strings.Contains(all, secret) {
				t.Errorf("span %q holds a secret (%.10s…)", s.Name, secret)
			}
		}
	}
}

// checkSignInTrace: the host's invocation span continues the caller's
// traceparent, the handler's span is the child of the host's forwarding
// span, and every Entra and Table Storage span is the handler's child.
func checkSignInTrace(t *testing.T, recv *otlprecv.Receiver, traceID, parentID string, onTables bool) {
	t.Helper()
	spans := waitSpans(t, recv, traceID, func(s []otlprecv.Span) bool {
		_, entra := spanNamed(s, "entra-mcp-functions", "entra POST")
		_, table := spanNamed(s, "entra-mcp-functions", "table ")
		_, host := spanNamed(s, "functions-host", "Function.callback")
		return entra && (table || !onTables) && host
	})
	host, _ := spanNamed(spans, "functions-host", "Function.callback")
	forward, okF := spanNamed(spans, "functions-host", "forward GET /callback")
	handler, okH := spanNamed(spans, "entra-mcp-functions", "GET /callback")
	switch {
	case host.ParentID != parentID:
		t.Errorf("the host's span does not continue the incoming traceparent: parent %s, want %s", host.ParentID, parentID)
	case !okF || forward.ParentID != host.SpanID:
		t.Errorf("no forwarding span under the host's span: %v", forward)
	case !okH || handler.ParentID != forward.SpanID:
		t.Errorf("the handler's span is not the child of the host's forwarding span: %v", handler)
	}
	var entra, table int
	for _, s := range spans {
		if s.Service != "entra-mcp-functions" || s.SpanID == handler.SpanID {
			continue
		}
		if s.ParentID != handler.SpanID {
			t.Errorf("span %q is not under the handler's request span", s.Name)
		}
		switch {
		case strings.HasPrefix(s.Name, "entra "):
			entra++
		case strings.HasPrefix(s.Name, "table "):
			table++
			u, _ := url.PathUnescape(s.Attrs["url.full"])
			if strings.Contains(u, "?") || (strings.Contains(u, "RowKey=") && !strings.Contains(u, "RowKey='…'")) {
				t.Errorf("a Table span records keys or a query: %s", u)
			}
		}
	}
	if entra == 0 || (table == 0 && onTables) {
		t.Errorf("spans under the handler's: %d Entra, %d Table; want both", entra, table)
	}
	if !hasEvent(handler, "audit signin.completed") {
		t.Errorf("the handler's span has no signin.completed event: %v", handler.Events)
	}
}

// checkToolTrace calls whoami with a traceparent: its trace holds the
// On-Behalf-Of exchange at Entra and the Graph call, both under the
// tools/call request's span, which names the client and the grant.
func checkToolTrace(t *testing.T, recv *otlprecv.Receiver, st *stack, c oauthClient, accessToken string) {
	t.Helper()
	tp, traceID, _ := traceparent(t)
	ctx := context.Background()
	mc, err := client.NewStreamableHttpClient(st.BaseURL+"/mcp", transport.WithHTTPHeaders(map[string]string{
		"Authorization": "Bearer " + accessToken, "Traceparent": tp}))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	if err := mc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "trace-test", Version: "1"}
	if _, err := mc.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	if res, err := mc.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "whoami"}}); err != nil || res.IsError {
		t.Fatalf("whoami: %v %v", err, res)
	}
	spans := waitSpans(t, recv, traceID, func(s []otlprecv.Span) bool {
		_, graph := spanNamed(s, "entra-mcp-functions", "graph GET /v1.0/me")
		return graph
	})
	graph, _ := spanNamed(spans, "entra-mcp-functions", "graph GET /v1.0/me")
	var call otlprecv.Span
	obo := false
	for _, s := range spans {
		if s.SpanID == graph.ParentID {
			call = s
		}
	}
	for _, s := range spans {
		obo = obo || (strings.HasPrefix(s.Name, "entra POST") && s.ParentID == call.SpanID)
	}
	switch {
	case call.Name != "POST /mcp":
		t.Errorf("the Graph span's parent is %q, want the tools/call request's span", call.Name)
	case call.Attrs["oauth.client_id"] != c.ID || len(call.Attrs["oauth.grant"]) != 16:
		t.Errorf("the /mcp span does not name the client and grant: %v", call.Attrs)
	case !obo:
		t.Error("no On-Behalf-Of span at Entra under the tools/call request's span")
	}
}
