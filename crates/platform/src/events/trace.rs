//! W3C trace context across the outbox and the broker.
//!
//! The `traceparent` of the `outbox.append` span that appends an event is
//! stored with the outbox row; the relay publishes in a child span of it and sends that
//! span's `traceparent` header; the consumer runs its handler in a child of
//! the received context. One trace thus spans gRPC → outbox → NATS →
//! consumer, even across the relay's asynchronous hop. Without an
//! OpenTelemetry layer installed, all of this is a no-op.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const TRACEPARENT: &str = "traceparent";

/// The `traceparent` of `span`, if it belongs to a valid trace.
pub(crate) fn traceparent_of(span: &Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// Makes `span` a child of the remote context described by `traceparent`.
pub(crate) fn set_parent(span: &Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    if context.span().span_context().is_valid() {
        // Fails only when no OpenTelemetry layer is installed: nothing to link.
        let _ = span.set_parent(context);
    }
}

/// Whether `value` has the shape of a W3C `traceparent`
/// (`vv-<32 hex>-<16 hex>-<2 hex>`).
pub(crate) fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| s.len() == len && s.chars().all(|c| c.is_ascii_hexdigit());
    parts.len() >= 4 && hex(parts[0], 2) && hex(parts[1], 32) && hex(parts[2], 16) && hex(parts[3], 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_traceparents() {
        assert!(is_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(!is_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
        assert!(!is_traceparent("garbage"));
    }

    #[test]
    fn no_traceparent_without_an_opentelemetry_layer() {
        let span = tracing::info_span!("test");
        assert_eq!(traceparent_of(&span), None);
    }
}
