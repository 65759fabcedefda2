// Package telemetry is the handler's OpenTelemetry tracing: a server span
// per request that continues the W3C traceparent the caller sent (API
// Management and the Functions host send one; W3C Trace Context), and a
// client span for every call to Entra, Microsoft Graph and Table Storage,
// exported over OTLP/HTTP.
//
// It is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set, and off means
// absent: no exporter, no goroutine, no wrapper around any handler or
// transport, so neither the start nor a request pays for it. Attributes
// name clients, grant references and OAuth error codes, never a token, a
// code, a key or a URL query (Table Storage keys are cut out of the URLs
// its spans record).
package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is the handler's tracer provider, or nothing: the zero value and
// a nil *Tracing are off, and every method then returns what it was given.
type Tracing struct {
	tp    *sdktrace.TracerProvider
	props propagation.TextMapPropagator
}

// Options configure Start.
type Options struct {
	// Endpoint is OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL;
	// spans go to Endpoint + "/v1/traces" (OTLP/HTTP, protobuf). Empty:
	// tracing is off.
	Endpoint string
	// Headers is OTEL_EXPORTER_OTLP_HEADERS ("key=value,…"): a
	// collector's API key, say.
	Headers     string
	ServiceName string // service.name; default "entra-mcp-functions"
	Version     string // service.version
}

// Start sets up tracing, or returns nil when opts.Endpoint is empty. It
// makes no network call: the exporter (otlp.go) connects when it first
// sends.
func Start(opts Options) (*Tracing, error) {
	if opts.Endpoint == "" {
		return nil, nil
	}
	exp, err := newExporter(opts.Endpoint, opts.Headers)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	name := opts.ServiceName
	if name == "" {
		name = "entra-mcp-functions"
	}
	res := resource.NewSchemaless(semconv.ServiceName(name), semconv.ServiceVersion(opts.Version))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithResource(res),
		// Follow the caller's sampling decision (API Management's, the
		// host's); sample what starts here.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	)
	return &Tracing{tp: tp, props: propagation.TraceContext{}}, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.tp != nil }

// Shutdown flushes the spans not yet exported.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// Handler wraps the whole HTTP surface: one server span per request,
// child of the incoming traceparent, named by method and path (paths here
// hold no identifiers; queries are never recorded).
func (t *Tracing) Handler(next http.Handler) http.Handler {
	return t.ServerHandler(next, func(r *http.Request) string { return r.Method + " " + r.URL.Path })
}

// ServerHandler is Handler with the span's name chosen by name.
func (t *Tracing) ServerHandler(next http.Handler, name func(*http.Request) string) http.Handler {
	if !t.Enabled() {
		return next
	}
	return otelhttp.NewHandler(next, "server",
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.props),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return name(r) }),
	)
}

// ClientTransport wraps base: a client span per request, named by name,
// and the traceparent sent along. The span records the request's URL, so
// use it only where URLs hold no secret (TableTransport is for those that
// do).
func (t *Tracing) ClientTransport(base http.RoundTripper, name func(*http.Request) string) http.RoundTripper {
	if !t.Enabled() {
		return base
	}
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.props),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return name(r) }),
	)
}

// Peer names the service a client span calls, from the request: Microsoft
// Graph (/v1.0/…, /beta/…), the managed identity endpoint, or Entra ID.
// Locally the emulator serves all three on one host, so the path decides.
func Peer(r *http.Request) string {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/v1.0/"), strings.HasPrefix(p, "/beta/"):
		return "graph"
	case strings.HasPrefix(p, "/msi/"), strings.HasPrefix(p, "/metadata/identity/"):
		return "managed-identity"
	}
	return "entra"
}

// UpstreamTransport wraps the transport of the Entra and Graph client: a
// client span per call ("entra POST /<tenant>/oauth2/v2.0/token", "graph
// GET /v1.0/me"), and the traceparent sent along. Their URLs carry no
// secret (tokens and codes travel in bodies and headers).
func (t *Tracing) UpstreamTransport(base http.RoundTripper) http.RoundTripper {
	return t.ClientTransport(base, func(r *http.Request) string { return Peer(r) + " " + r.Method + " " + r.URL.Path })
}

// Span returns the request's span if it is recording, else nil. Callers
// build attributes only when it is not nil, so with tracing off this costs
// a context lookup and no allocation.
func Span(ctx context.Context) trace.Span {
	if s := trace.SpanFromContext(ctx); s.IsRecording() {
		return s
	}
	return nil
}

// Client is the attribute naming an OAuth client; Grant names a grant by
// its reference (package audit), never its id; Error an OAuth error code.
func Client(id string) attribute.KeyValue  { return attribute.String("oauth.client_id", id) }
func Grant(ref string) attribute.KeyValue  { return attribute.String("oauth.grant", ref) }
func Error(code string) attribute.KeyValue { return attribute.String("oauth.error", code) }
