//! From what the OpenTelemetry SDK collected to [`Family`]s.
//!
//! Monotonic sums are counters, other sums and gauges are gauges, explicit
//! bucket histograms are histograms. Exponential histograms are left out
//! (no Vigie instrument uses them, and the text format has no such type).

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};

use super::text::{label_name, metric_name, Family, Kind, Sample};

/// The families of everything in `metrics`, in collection order.
pub fn families(metrics: &ResourceMetrics) -> Vec<Family> {
    metrics
        .scope_metrics()
        .flat_map(|scope| scope.metrics())
        .filter_map(family)
        .collect()
}

fn family(metric: &Metric) -> Option<Family> {
    match metric.data() {
        AggregatedMetrics::F64(data) => family_of(metric, data),
        AggregatedMetrics::U64(data) => family_of(metric, data),
        AggregatedMetrics::I64(data) => family_of(metric, data),
    }
}

/// The numbers the SDK records, as the `f64` of the text format.
trait Number: Copy {
    fn as_f64(self) -> f64;
}

impl Number for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}

impl Number for u64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Number for i64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

fn family_of<T: Number>(metric: &Metric, data: &MetricData<T>) -> Option<Family> {
    let (kind, samples) = match data {
        MetricData::Gauge(gauge) => (
            Kind::Gauge,
            gauge
                .data_points()
                .map(|point| Sample::Value {
                    labels: labels(point.attributes()),
                    value: point.value().as_f64(),
                })
                .collect(),
        ),
        MetricData::Sum(sum) => (
            if sum.is_monotonic() { Kind::Counter } else { Kind::Gauge },
            sum.data_points()
                .map(|point| Sample::Value {
                    labels: labels(point.attributes()),
                    value: point.value().as_f64(),
                })
                .collect(),
        ),
        MetricData::Histogram(histogram) => (
            Kind::Histogram,
            histogram
                .data_points()
                .map(|point| Sample::Histogram {
                    labels: labels(point.attributes()),
                    bounds: point.bounds().collect(),
                    counts: point.bucket_counts().collect(),
                    sum: point.sum().as_f64(),
                    count: point.count(),
                })
                .collect(),
        ),
        MetricData::ExponentialHistogram(_) => return None,
    };
    Some(Family {
        name: metric_name(metric.name(), metric.unit(), kind),
        help: metric.description().to_owned(),
        kind,
        samples,
    })
}

/// Labels sorted by name, so a series always prints the same way.
fn labels<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = attributes
        .map(|kv| (label_name(kv.key.as_str()), kv.value.as_str().into_owned()))
        .collect();
    labels.sort();
    labels
}
