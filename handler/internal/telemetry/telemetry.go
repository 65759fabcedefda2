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
	"errors"
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

// Telemetry is the handler's tracer and meter providers, or nothing: a nil
// *Telemetry is off, and every method then returns what it was given.
type Telemetry struct {
	tp    *sdktrace.TracerProvider
	props propagation.TextMapPropagator
	m     *meters // nil unless Options.Metrics
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
	// Metrics adds OpenTelemetry metrics (metrics.go), exported to the same
	// endpoint every MetricInterval (default 60 s) and at Shutdown.
	Metrics        bool
	MetricInterval time.Duration
	Version        string // service.version
}

// Start sets up tracing, or returns nil when opts.Endpoint is empty. It
// makes no network call: the exporter (otlp.go) connects when it first
// sends.
func Start(opts Options) (*Telemetry, error) {
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
	t := &Telemetry{tp: tp, props: propagation.TraceContext{}}
	if opts.Metrics {
		if t.m, err = newMeters(metricExporter{exp}, res, opts.MetricInterval); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Telemetry) Enabled() bool { return t != nil && t.tp != nil }

// Shutdown flushes the spans not yet exported.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	err := t.tp.Shutdown(ctx)
	if t.m != nil {
		err = errors.Join(err, t.m.mp.Shutdown(ctx))
	}
	return err
}

// Handler wraps the whole HTTP surface: one server span per request,
// child of the incoming traceparent, named by method and path (paths here
// hold no identifiers; queries are never recorded).
// route, when not nil, names the route a request matches for the request
// metrics (http.route: "POST /mcp", or "unmatched"), so junk paths do not
// become metric series.
func (t *Telemetry) Handler(next http.Handler, route func(*http.Request) string) http.Handler {
	return t.ServerHandler(next, func(r *http.Request) string { return r.Method + " " + r.URL.Path }, route)
}

// ServerHandler is Handler with the span's name chosen by name.
func (t *Telemetry) ServerHandler(next http.Handler, name, route func(*http.Request) string) http.Handler {
	if !t.Enabled() {
		return next
	}
	opts := []otelhttp.Option{
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.props),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return name(r) }),
	}
	if t.m != nil {
		opts = append(opts, otelhttp.WithMeterProvider(t.m.mp))
		if route != nil {
			// otelhttp puts a Labeler in the request's context; what is
			// added to it becomes attributes of the request metrics.
			inner := next
			next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				l, _ := otelhttp.LabelerFromContext(r.Context())
				l.Add(attribute.String("http.route", route(r)))
				inner.ServeHTTP(w, r)
			})
		}
	}
	return otelhttp.NewHandler(next, "server", opts...)
}

// ClientTransport wraps base: a client span per request, named by name,
// and the traceparent sent along. The span records the request's URL, so
// use it only where URLs hold no secret (TableTransport is for those that
// do).
// With metrics on, the calls' durations and outcomes (status, error.type)
// are recorded too, with peer.service from peer.
func (t *Telemetry) ClientTransport(base http.RoundTripper, name, peer func(*http.Request) string) http.RoundTripper {
	if !t.Enabled() {
		return base
	}
	opts := []otelhttp.Option{
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.props),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return name(r) }),
	}
	if t.m == nil {
		return otelhttp.NewTransport(base, opts...)
	}
	traced := otelhttp.NewTransport(base, append(opts, otelhttp.WithMeterProvider(t.m.mp))...)
	// The client Labeler in the request's context gives the call metrics
	// their peer.service.
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		l := &otelhttp.Labeler{}
		l.Add(attribute.String("peer.service", peer(r)))
		return traced.RoundTrip(r.WithContext(otelhttp.ContextWithClientLabeler(r.Context(), l)))
	})
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
func (t *Telemetry) UpstreamTransport(base http.RoundTripper) http.RoundTripper {
	return t.ClientTransport(base, func(r *http.Request) string { return Peer(r) + " " + r.Method + " " + r.URL.Path }, Peer)
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
