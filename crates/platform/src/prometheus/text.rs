//! The Prometheus text exposition format (version 0.0.4), from plain data.
//!
//! Pure: [`render`] turns [`Family`]s into the body of a `/metrics` answer,
//! and [`metric_name`] turns an OpenTelemetry instrument name and unit into
//! the name Prometheus users expect (`vigie.outbox.lag` in seconds →
//! `vigie_outbox_lag_seconds`, the counter `vigie.events.dead_letters` →
//! `vigie_events_dead_letters_total`). Kept apart from the SDK types so every
//! rule of the format is unit-tested on values a test can write.

use std::fmt::Write as _;

/// Content type of the body [`render`] produces.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a family measures, as Prometheus types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (resets when the process restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Cumulative buckets, sum and count.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One point of a family: its labels and value(s).
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    /// A counter or gauge value.
    Value {
        /// Label names (already valid) and values.
        labels: Vec<(String, String)>,
        /// The value.
        value: f64,
    },
    /// A histogram: `counts[i]` observations fell in `(bounds[i-1], bounds[i]]`
    /// (not cumulative: [`render`] accumulates), the last one above every bound.
    Histogram {
        /// Label names (already valid) and values.
        labels: Vec<(String, String)>,
        /// Upper bounds of the buckets, increasing.
        bounds: Vec<f64>,
        /// Observations per bucket: one more than `bounds`.
        counts: Vec<u64>,
        /// Sum of the observations.
        sum: f64,
        /// Number of observations.
        count: u64,
    },
}

/// A metric family: one `# HELP`, one `# TYPE` and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Prometheus name (see [`metric_name`]).
    pub name: String,
    /// Help text (escaped by [`render`]).
    pub help: String,
    /// Type.
    pub kind: Kind,
    /// Points.
    pub samples: Vec<Sample>,
}

/// The Prometheus name of an OpenTelemetry instrument: characters outside
/// `[a-zA-Z0-9_:]` become `_`, the unit is appended as a word (`s` →
/// `_seconds`, `ms` → `_milliseconds`, `By` → `_bytes`; annotations such as
/// `{event}` and the unit `1` add nothing), and counters end with `_total`.
/// A suffix already present is not repeated.
pub fn metric_name(otel_name: &str, unit: &str, kind: Kind) -> String {
    let mut name = sanitize(otel_name, true);
    if let Some(suffix) = unit_suffix(unit) {
        if !name.ends_with(&format!("_{suffix}")) {
            name.push('_');
            name.push_str(suffix);
        }
    }
    if kind == Kind::Counter && !name.ends_with("_total") {
        name.push_str("_total");
    }
    name
}

/// A valid label name for an attribute key (`rpc.method` → `rpc_method`).
pub fn label_name(key: &str) -> String {
    sanitize(key, false)
}

fn unit_suffix(unit: &str) -> Option<&'static str> {
    match unit {
        "s" => Some("seconds"),
        "ms" => Some("milliseconds"),
        "us" => Some("microseconds"),
        "ns" => Some("nanoseconds"),
        "By" => Some("bytes"),
        "%" => Some("percent"),
        _ => None,
    }
}

/// Replaces what a name may not hold with `_`, and prefixes `_` when it
/// would start with a digit (or is empty). Colons are kept in metric names
/// only (they are reserved for recording rules in label names).
fn sanitize(raw: &str, colons: bool) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The exposition of `families`, one block per family, in the order given.
/// Families sharing a name are merged into the first one (its help and type
/// win), as the format allows a name only once.
pub fn render(families: &[Family]) -> String {
    let mut merged: Vec<Family> = Vec::new();
    for family in families {
        match merged.iter_mut().find(|f| f.name == family.name) {
            Some(existing) if existing.kind == family.kind => existing.samples.extend(family.samples.iter().cloned()),
            Some(_) => {} // Same name, another type: cannot be exposed together.
            None => merged.push(family.clone()),
        }
    }
    let mut out = String::new();
    for family in &merged {
        if !family.help.is_empty() {
            let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(&family.help));
        }
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.as_str());
        for sample in &family.samples {
            match sample {
                Sample::Value { labels, value } => {
                    line(&mut out, &family.name, labels, None, &number(*value));
                }
                Sample::Histogram {
                    labels,
                    bounds,
                    counts,
                    sum,
                    count,
                } => {
                    let bucket = format!("{}_bucket", family.name);
                    let mut cumulative = 0u64;
                    for (bound, in_bucket) in bounds.iter().zip(counts) {
                        cumulative += in_bucket;
                        line(
                            &mut out,
                            &bucket,
                            labels,
                            Some(&number(*bound)),
                            &cumulative.to_string(),
                        );
                    }
                    line(&mut out, &bucket, labels, Some("+Inf"), &count.to_string());
                    line(&mut out, &format!("{}_sum", family.name), labels, None, &number(*sum));
                    line(
                        &mut out,
                        &format!("{}_count", family.name),
                        labels,
                        None,
                        &count.to_string(),
                    );
                }
            }
        }
    }
    out
}

fn line(out: &mut String, name: &str, labels: &[(String, String)], le: Option<&str>, value: &str) {
    out.push_str(name);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (key, val) in labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(le.map(|le| ("le", le)))
        {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "{key}=\"{}\"", escape_label(val));
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(value);
    out.push('\n');
}

/// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        value.to_string()
    }
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn names_follow_prometheus_conventions() {
        assert_eq!(
            metric_name("vigie.outbox.lag", "s", Kind::Gauge),
            "vigie_outbox_lag_seconds"
        );
        assert_eq!(
            metric_name("vigie.outbox.pending", "{event}", Kind::Gauge),
            "vigie_outbox_pending"
        );
        assert_eq!(
            metric_name("vigie.events.dead_letters", "", Kind::Counter),
            "vigie_events_dead_letters_total"
        );
        assert_eq!(
            metric_name("vigie.rpc.duration", "s", Kind::Histogram),
            "vigie_rpc_duration_seconds"
        );
        // No repeated suffix.
        assert_eq!(metric_name("jobs_total", "", Kind::Counter), "jobs_total");
        assert_eq!(metric_name("wait_seconds", "s", Kind::Gauge), "wait_seconds");
        assert_eq!(metric_name("size", "By", Kind::Gauge), "size_bytes");
        assert_eq!(metric_name("ratio", "1", Kind::Gauge), "ratio");
        // Invalid characters and a leading digit.
        assert_eq!(
            metric_name("http.server/req-count", "", Kind::Gauge),
            "http_server_req_count"
        );
        assert_eq!(metric_name("9lives", "", Kind::Gauge), "_9lives");
        assert_eq!(metric_name("a:b", "", Kind::Gauge), "a:b");
        assert_eq!(label_name("rpc.method"), "rpc_method");
        assert_eq!(label_name("a:b"), "a_b");
        assert_eq!(label_name(""), "_");
    }

    #[test]
    fn counters_and_gauges_render_with_help_type_and_labels() {
        let text = render(&[
            Family {
                name: "vigie_events_dead_letters_total".into(),
                help: "Events stored as dead letters".into(),
                kind: Kind::Counter,
                samples: vec![
                    Sample::Value {
                        labels: labels(&[("consumer", "inventory-training")]),
                        value: 3.0,
                    },
                    Sample::Value {
                        labels: labels(&[("consumer", "training-inventory")]),
                        value: 1.0,
                    },
                ],
            },
            Family {
                name: "vigie_outbox_lag_seconds".into(),
                help: String::new(),
                kind: Kind::Gauge,
                samples: vec![Sample::Value {
                    labels: Vec::new(),
                    value: 0.25,
                }],
            },
        ]);
        assert_eq!(
            text,
            "# HELP vigie_events_dead_letters_total Events stored as dead letters\n\
             # TYPE vigie_events_dead_letters_total counter\n\
             vigie_events_dead_letters_total{consumer=\"inventory-training\"} 3\n\
             vigie_events_dead_letters_total{consumer=\"training-inventory\"} 1\n\
             # TYPE vigie_outbox_lag_seconds gauge\n\
             vigie_outbox_lag_seconds 0.25\n"
        );
    }

    #[test]
    fn histograms_have_cumulative_buckets_inf_sum_and_count() {
        let text = render(&[Family {
            name: "vigie_rpc_duration_seconds".into(),
            help: "Duration".into(),
            kind: Kind::Histogram,
            samples: vec![Sample::Histogram {
                labels: labels(&[("rpc_method", "/a.B/C")]),
                bounds: vec![0.005, 0.01, 0.5],
                counts: vec![2, 0, 3, 1],
                sum: 2.125,
                count: 6,
            }],
        }]);
        assert_eq!(
            text,
            "# HELP vigie_rpc_duration_seconds Duration\n\
             # TYPE vigie_rpc_duration_seconds histogram\n\
             vigie_rpc_duration_seconds_bucket{rpc_method=\"/a.B/C\",le=\"0.005\"} 2\n\
             vigie_rpc_duration_seconds_bucket{rpc_method=\"/a.B/C\",le=\"0.01\"} 2\n\
             vigie_rpc_duration_seconds_bucket{rpc_method=\"/a.B/C\",le=\"0.5\"} 5\n\
             vigie_rpc_duration_seconds_bucket{rpc_method=\"/a.B/C\",le=\"+Inf\"} 6\n\
             vigie_rpc_duration_seconds_sum{rpc_method=\"/a.B/C\"} 2.125\n\
             vigie_rpc_duration_seconds_count{rpc_method=\"/a.B/C\"} 6\n"
        );
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        let text = render(&[Family {
            name: "x".into(),
            help: "a \\ b\nc".into(),
            kind: Kind::Gauge,
            samples: vec![Sample::Value {
                labels: labels(&[("reason", "say \"hi\"\\\n")]),
                value: f64::NAN,
            }],
        }]);
        assert_eq!(
            text,
            "# HELP x a \\\\ b\\nc\n# TYPE x gauge\nx{reason=\"say \\\"hi\\\"\\\\\\n\"} NaN\n"
        );
    }

    #[test]
    fn special_and_large_values() {
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(1e20), "100000000000000000000");
        assert_eq!(number(0.1), "0.1");
    }

    #[test]
    fn families_with_one_name_are_merged() {
        let family = |value: f64, kind| Family {
            name: "n".into(),
            help: format!("h{value}"),
            kind,
            samples: vec![Sample::Value {
                labels: labels(&[("k", &value.to_string())]),
                value,
            }],
        };
        let text = render(&[
            family(1.0, Kind::Gauge),
            family(2.0, Kind::Gauge),
            family(3.0, Kind::Counter),
        ]);
        assert_eq!(text, "# HELP n h1\n# TYPE n gauge\nn{k=\"1\"} 1\nn{k=\"2\"} 2\n");
    }
}
