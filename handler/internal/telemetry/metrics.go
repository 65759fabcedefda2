package telemetry

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// The handler's own metrics, beside what otelhttp records
// (http.server.request.duration by http.route and status;
// http.client.request.duration by peer.service, status and error.type for
// Entra, Graph and Table Storage):
//
//   - mcp.audit.events: one per audit event, by event (token issuance,
//     refresh, reuse detection, sign-in, revocation…), with stage, error
//     and aadsts for upstream errors and by for revocations;
//   - mcp.tool.calls and mcp.tool.duration: tool calls by tool and outcome
//     (ok, error, consent_required, interaction_required).
type meters struct {
	mp       *sdkmetric.MeterProvider
	audit    metric.Int64Counter
	tools    metric.Int64Counter
	toolTime metric.Float64Histogram
}

func newMeters(exp sdkmetric.Exporter, res *resource.Resource, every time.Duration) (*meters, error) {
	if every <= 0 {
		every = time.Minute
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(every))),
		sdkmetric.WithResource(res),
	)
	meter := mp.Meter("github.com/azure-mcp/entra-mcp-functions/handler")
	m := &meters{mp: mp}
	var err error
	if m.audit, err = meter.Int64Counter("mcp.audit.events", metric.WithDescription("Audit events, by event"), metric.WithUnit("{event}")); err != nil {
		return nil, err
	}
	if m.tools, err = meter.Int64Counter("mcp.tool.calls", metric.WithDescription("Tool calls, by tool and outcome"), metric.WithUnit("{call}")); err != nil {
		return nil, err
	}
	if m.toolTime, err = meter.Float64Histogram("mcp.tool.duration", metric.WithDescription("Tool call duration"), metric.WithUnit("s")); err != nil {
		return nil, err
	}
	return m, nil
}

// auditDimensions are the audit fields that become metric attributes: few
// values each, none identifying a person or a client.
var auditDimensions = map[string]bool{"event": true, "stage": true, "error": true, "aadsts": true, "by": true}

// LogHandler counts the audit events logged through h (package audit
// writes each as a record with msg "audit"); with metrics off it is h.
func (t *Telemetry) LogHandler(h slog.Handler) slog.Handler {
	if t == nil || t.m == nil {
		return h
	}
	return auditCounter{h, t.m}
}

type auditCounter struct {
	slog.Handler
	m *meters
}

func (a auditCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "audit" {
		var kv []attribute.KeyValue
		r.Attrs(func(at slog.Attr) bool {
			if auditDimensions[at.Key] {
				kv = append(kv, attribute.String(at.Key, at.Value.String()))
			}
			return true
		})
		a.m.audit.Add(ctx, 1, metric.WithAttributes(kv...))
	}
	return a.Handler.Handle(ctx, r)
}

func (a auditCounter) WithAttrs(as []slog.Attr) slog.Handler {
	return auditCounter{a.Handler.WithAttrs(as), a.m}
}

func (a auditCounter) WithGroup(name string) slog.Handler {
	return auditCounter{a.Handler.WithGroup(name), a.m}
}

// ToolObserver records tool calls; nil with metrics off (the tool kit then
// does not even read the clock).
func (t *Telemetry) ToolObserver() func(ctx context.Context, tool, outcome string, elapsed time.Duration) {
	if t == nil || t.m == nil {
		return nil
	}
	return func(ctx context.Context, tool, outcome string, elapsed time.Duration) {
		set := metric.WithAttributes(attribute.String("tool", tool), attribute.String("outcome", outcome))
		t.m.tools.Add(ctx, 1, set)
		t.m.toolTime.Record(ctx, elapsed.Seconds(), set)
	}
}
