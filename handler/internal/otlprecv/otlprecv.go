// Package otlprecv is a small OTLP/HTTP receiver for tests and local runs
// (scripts/dev.sh): it accepts what an OpenTelemetry SDK exports to
// <endpoint>/v1/traces and /v1/metrics (protobuf, optionally gzip: the OTLP
// specification's "OTLP/HTTP" binary encoding), keeps the spans and the
// metric points and can print one line per span. It is not a collector: no
// JSON encoding, no logs (answered 404), no retries to ask for. Never
// linked into the handler.
package otlprecv

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one received span, flattened.
type Span struct {
	Service  string // resource attribute service.name
	TraceID  string // hex
	SpanID   string
	ParentID string // "" for a root span
	Name     string
	Kind     string // SPAN_KIND_SERVER, SPAN_KIND_CLIENT, …
	Attrs    map[string]string
	Events   []Event
	Start    time.Time
	End      time.Time
}

// Event is a span event (an audit event on a request span, say).
type Event struct {
	Name  string
	Attrs map[string]string
}

// Receiver is an http.Handler for POST /v1/traces.
type Receiver struct {
	// Out, when set, gets one line per span as it arrives.
	Out io.Writer

	mu     sync.Mutex
	spans  []Span
	points []Point
}

// Point is one received metric data point: a sum's or gauge's value, or a
// histogram's count.
type Point struct {
	Service string
	Metric  string
	Attrs   map[string]string
	Value   float64
}

// ServeHTTP decodes one export request.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || (r.URL.Path != "/v1/traces" && r.URL.Path != "/v1/metrics") {
		http.Error(w, "otlprecv: only POST /v1/traces and /v1/metrics (protobuf) are modelled", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, "otlprecv: only application/x-protobuf is modelled, not "+ct, http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, 16<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/v1/metrics" {
		rc.metrics(w, b)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, "otlprecv: "+err.Error(), http.StatusBadRequest)
		return
	}
	spans := flatten(&req)
	rc.mu.Lock()
	rc.spans = append(rc.spans, spans...)
	rc.mu.Unlock()
	if rc.Out != nil {
		for _, s := range spans {
			_, _ = fmt.Fprintln(rc.Out, s) // a terminal; nothing to do if it fails
		}
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func flatten(req *coltracepb.ExportTraceServiceRequest) []Span {
	var out []Span
	for _, rs := range req.GetResourceSpans() {
		service := attrs(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := Span{
					Service: service, TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
					ParentID: hex.EncodeToString(s.GetParentSpanId()), Name: s.GetName(), Kind: s.GetKind().String(),
					Attrs: attrs(s.GetAttributes()),
					Start: time.Unix(0, int64(s.GetStartTimeUnixNano())), End: time.Unix(0, int64(s.GetEndTimeUnixNano())),
				}
				for _, e := range s.GetEvents() {
					sp.Events = append(sp.Events, Event{Name: e.GetName(), Attrs: attrs(e.GetAttributes())})
				}
				out = append(out, sp)
			}
		}
	}
	return out
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = fmt.Sprint(x.IntValue)
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = fmt.Sprint(x.BoolValue)
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = fmt.Sprint(x.DoubleValue)
		default:
			m[kv.GetKey()] = v.String()
		}
	}
	return m
}

// Spans returns every span received so far.
func (rc *Receiver) Spans() []Span {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Span(nil), rc.spans...)
}

// String is the line Out gets: service, trace and span ids, parent, name,
// and the attributes in key order.
func (s Span) String() string {
	keys := make([]string, 0, len(s.Attrs))
	for k := range s.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s trace=%s span=%s parent=%s %q %s", s.Service, s.TraceID, s.SpanID, orDash(s.ParentID), s.Name, s.End.Sub(s.Start).Round(time.Microsecond))
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, s.Attrs[k])
	}
	for _, e := range s.Events {
		fmt.Fprintf(&b, " event=%q", e.Name)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (rc *Receiver) metrics(w http.ResponseWriter, b []byte) {
	var req colmetricspb.ExportMetricsServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, "otlprecv: "+err.Error(), http.StatusBadRequest)
		return
	}
	var pts []Point
	for _, rm := range req.GetResourceMetrics() {
		service := attrs(rm.GetResource().GetAttributes())["service.name"]
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				add := func(kvs []*commonpb.KeyValue, v float64) {
					pts = append(pts, Point{Service: service, Metric: m.GetName(), Attrs: attrs(kvs), Value: v})
				}
				for _, dp := range append(m.GetSum().GetDataPoints(), m.GetGauge().GetDataPoints()...) {
					v := dp.GetAsDouble()
					if _, ok := dp.GetValue().(*metricspb.NumberDataPoint_AsInt); ok {
						v = float64(dp.GetAsInt())
					}
					add(dp.GetAttributes(), v)
				}
				for _, dp := range m.GetHistogram().GetDataPoints() {
					add(dp.GetAttributes(), float64(dp.GetCount()))
				}
			}
		}
	}
	rc.mu.Lock()
	rc.points = append(rc.points, pts...)
	rc.mu.Unlock()
	out, _ := proto.Marshal(&colmetricspb.ExportMetricsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// Points returns every metric point received so far (cumulative metrics
// repeat in each export: the last one of a series is its total).
func (rc *Receiver) Points() []Point {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Point(nil), rc.points...)
}
