package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
)

// metricExporter sends metrics over OTLP/HTTP (POST <endpoint>/v1/metrics),
// for the reason otlp.go gives; MetricsData has the same field 1
// (resource_metrics) as ExportMetricsServiceRequest. Cumulative
// temporality and the SDK's default aggregations (sums, explicit-bucket
// histograms), which every OTLP backend accepts.
type metricExporter struct{ *exporter }

var _ sdkmetric.Exporter = metricExporter{}

func (metricExporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DefaultTemporalitySelector(k)
}

func (metricExporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}

func (e metricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	out := &metricspb.ResourceMetrics{
		Resource: &resourcepb.Resource{Attributes: keyValues(rm.Resource.Attributes())}, SchemaUrl: rm.Resource.SchemaURL(),
	}
	for _, sm := range rm.ScopeMetrics {
		ps := &metricspb.ScopeMetrics{Scope: &commonpb.InstrumentationScope{Name: sm.Scope.Name, Version: sm.Scope.Version}, SchemaUrl: sm.Scope.SchemaURL}
		for _, m := range sm.Metrics {
			if pm := encodeMetric(m); pm != nil {
				ps.Metrics = append(ps.Metrics, pm)
			}
		}
		out.ScopeMetrics = append(out.ScopeMetrics, ps)
	}
	return e.send(ctx, "/v1/metrics", &metricspb.MetricsData{ResourceMetrics: []*metricspb.ResourceMetrics{out}})
}

func (metricExporter) ForceFlush(context.Context) error { return nil }

// encodeMetric encodes the aggregations the SDK produces with the default
// selectors; others (exponential histograms, summaries) are not produced
// here and are dropped.
func encodeMetric(m metricdata.Metrics) *metricspb.Metric {
	pm := &metricspb.Metric{Name: m.Name, Description: m.Description, Unit: m.Unit}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		pm.Data = &metricspb.Metric_Sum{Sum: &metricspb.Sum{DataPoints: numbers(d.DataPoints), AggregationTemporality: temporality(d.Temporality), IsMonotonic: d.IsMonotonic}}
	case metricdata.Sum[float64]:
		pm.Data = &metricspb.Metric_Sum{Sum: &metricspb.Sum{DataPoints: numbers(d.DataPoints), AggregationTemporality: temporality(d.Temporality), IsMonotonic: d.IsMonotonic}}
	case metricdata.Gauge[int64]:
		pm.Data = &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: numbers(d.DataPoints)}}
	case metricdata.Gauge[float64]:
		pm.Data = &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: numbers(d.DataPoints)}}
	case metricdata.Histogram[int64]:
		pm.Data = &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{DataPoints: histogram(d.DataPoints), AggregationTemporality: temporality(d.Temporality)}}
	case metricdata.Histogram[float64]:
		pm.Data = &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{DataPoints: histogram(d.DataPoints), AggregationTemporality: temporality(d.Temporality)}}
	default:
		return nil
	}
	return pm
}

func numbers[N int64 | float64](dps []metricdata.DataPoint[N]) []*metricspb.NumberDataPoint {
	out := make([]*metricspb.NumberDataPoint, 0, len(dps))
	for _, dp := range dps {
		p := &metricspb.NumberDataPoint{Attributes: setValues(dp.Attributes),
			StartTimeUnixNano: uint64(dp.StartTime.UnixNano()), TimeUnixNano: uint64(dp.Time.UnixNano())}
		switch v := any(dp.Value).(type) {
		case int64:
			p.Value = &metricspb.NumberDataPoint_AsInt{AsInt: v}
		case float64:
			p.Value = &metricspb.NumberDataPoint_AsDouble{AsDouble: v}
		}
		out = append(out, p)
	}
	return out
}

func histogram[N int64 | float64](dps []metricdata.HistogramDataPoint[N]) []*metricspb.HistogramDataPoint {
	out := make([]*metricspb.HistogramDataPoint, 0, len(dps))
	for _, dp := range dps {
		sum := float64(dp.Sum)
		p := &metricspb.HistogramDataPoint{Attributes: setValues(dp.Attributes),
			StartTimeUnixNano: uint64(dp.StartTime.UnixNano()), TimeUnixNano: uint64(dp.Time.UnixNano()),
			Count: dp.Count, Sum: &sum, BucketCounts: dp.BucketCounts, ExplicitBounds: dp.Bounds}
		if v, ok := dp.Min.Value(); ok {
			f := float64(v)
			p.Min = &f
		}
		if v, ok := dp.Max.Value(); ok {
			f := float64(v)
			p.Max = &f
		}
		out = append(out, p)
	}
	return out
}

func temporality(t metricdata.Temporality) metricspb.AggregationTemporality {
	if t == metricdata.DeltaTemporality {
		return metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA
	}
	return metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE
}

func setValues(s attribute.Set) []*commonpb.KeyValue { return keyValues(s.ToSlice()) }
