//! The bounds of a server: message sizes, requests in flight, time per
//! request.

use std::time::Duration;

use tonic::Code;
use vigie_platform::grpc::client::{self, ClientOptions};
use vigie_platform::grpc::{GrpcLimits, ServeOptions, CLIENT_MAX_RESPONSE_BYTES};

use crate::support::{self, Gate};

const MIB: u32 = 1024 * 1024;

async fn plain_server(limits: GrpcLimits, gate: Gate) -> support::Server {
    let routes = support::routes(&limits, gate);
    support::serve(routes, ServeOptions { tls: None, limits }).await
}

#[tokio::test]
async fn an_answer_above_the_old_4_mib_passes_with_the_raised_limit() {
    let server = plain_server(GrpcLimits::default(), Gate::closed()).await;
    let channel = client::connect(&server.http(), &ClientOptions::default())
        .await
        .unwrap();
    let answer = support::get_big(channel.clone(), 6 * MIB, Some(CLIENT_MAX_RESPONSE_BYTES))
        .await
        .unwrap();
    assert_eq!(answer.len(), 6 * MIB as usize);
    // tonic's default client limit (4 MiB) is what failed before.
    let old = support::get_big(channel, 6 * MIB, None).await.unwrap_err();
    assert!(old.message().contains("too large"), "{old:?}");
}

#[tokio::test]
async fn an_answer_above_the_servers_limit_is_refused_not_sent() {
    let limits = GrpcLimits {
        max_response_bytes: MIB as usize,
        ..GrpcLimits::default()
    };
    let server = plain_server(limits, Gate::closed()).await;
    let channel = client::connect(&server.http(), &ClientOptions::default())
        .await
        .unwrap();
    let status = support::get_big(channel.clone(), 2 * MIB, Some(CLIENT_MAX_RESPONSE_BYTES))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    // The server is still there.
    assert_eq!(support::get_big(channel, 1000, None).await.unwrap().len(), 1000);
}

#[tokio::test]
async fn requests_above_the_concurrency_limit_are_refused_at_once() {
    let limits = GrpcLimits {
        max_concurrent_requests: 1,
        ..GrpcLimits::default()
    };
    let gate = Gate::closed();
    let server = plain_server(limits, gate.clone()).await;
    let first_channel = client::connect(&server.http(), &ClientOptions::default())
        .await
        .unwrap();
    let first = tokio::spawn(support::pass_gate(first_channel));
    gate.arrived.notified().await;
    // Another connection: the bound is the server's, not the connection's.
    let second_channel = client::connect(&server.http(), &ClientOptions::default())
        .await
        .unwrap();
    // Refused at once: without the bound it would wait at the closed gate.
    let refused = tokio::time::timeout(Duration::from_secs(10), support::pass_gate(second_channel.clone()))
        .await
        .expect("refused at once, not queued")
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    gate.permits.add_permits(2);
    assert_eq!(first.await.unwrap().unwrap(), 7);
    // Once the first is answered, the next one passes.
    assert_eq!(support::pass_gate(second_channel).await.unwrap(), 7);
}

#[tokio::test]
async fn a_request_past_its_time_is_cancelled() {
    let limits = GrpcLimits {
        request_timeout_seconds: 1,
        ..GrpcLimits::default()
    };
    let server = plain_server(limits, Gate::closed()).await;
    let channel = client::connect(&server.http(), &ClientOptions::default())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let status = support::pass_gate(channel).await.unwrap_err();
    assert_eq!(status.code(), Code::Cancelled, "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
}
