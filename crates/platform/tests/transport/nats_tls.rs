//! NATS with TLS (private CA, mutual TLS) and nkey users: the right settings
//! connect, publish and consume; missing or wrong ones are refused, and a
//! client that asks for TLS never talks to a cleartext server.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use vigie_platform::events::jetstream::{connect_with, ensure_stream, NatsConnectError, NatsSecurity};
use vigie_testkit::{NatsOperator, NatsServer, NatsServerConfig, NatsServerTls, TestCa};

/// Connects with `security`, bounded in time (a refusal must be prompt).
async fn connect(url: &str, security: &NatsSecurity) -> Result<jetstream::Context, NatsConnectError> {
    tokio::time::timeout(
        Duration::from_secs(20),
        connect_with(url, "vigie-transport-tests", security),
    )
    .await
    .expect("connection attempt bounded")
}

/// Publishes one event to the inventory stream and reads it back through a
/// durable pull consumer.
async fn publish_and_consume(js: &jetstream::Context) {
    ensure_stream(js, "inventory").await.unwrap();
    js.publish("vigie.inventory.tls.probe.v1", "over tls".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let stream = js.get_stream("VIGIE_INVENTORY").await.unwrap();
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some("transport-test".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.fetch().max_messages(1).messages().await.unwrap();
    let message = messages.next().await.expect("one message").unwrap();
    assert_eq!(message.payload.as_ref(), b"over tls");
    message.ack().await.unwrap();
}

async fn tls_server(ca: &mut TestCa, verify: bool) -> NatsServer {
    let cert = ca.issue(&["localhost", "127.0.0.1"]).unwrap();
    NatsServer::start_with(NatsServerConfig {
        tls: Some(NatsServerTls {
            cert: cert.cert,
            key: cert.key,
            ca: Some(ca.ca_file()),
            verify,
        }),
        ..NatsServerConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn tls_with_the_right_ca_publishes_and_consumes() {
    vigie_testkit::init_test_logging();
    let mut ca = TestCa::new("vigie test nats CA").unwrap();
    let server = tls_server(&mut ca, false).await;
    let security = NatsSecurity {
        tls_ca: Some(ca.ca_file()),
        ..NatsSecurity::default()
    };
    let js = connect(&server.url(), &security).await.unwrap();
    publish_and_consume(&js).await;
    // `tls://` with the CA works the same way.
    let url = format!("tls://localhost:{}", server.port());
    let js = connect(&url, &security).await.unwrap();
    ensure_stream(&js, "inventory").await.unwrap();
}

#[tokio::test]
async fn tls_with_another_ca_or_without_ca_is_refused() {
    vigie_testkit::init_test_logging();
    let mut ca = TestCa::new("vigie test nats CA").unwrap();
    let stranger = TestCa::new("someone else's CA").unwrap();
    let server = tls_server(&mut ca, false).await;
    let wrong = NatsSecurity {
        tls_ca: Some(stranger.ca_file()),
        ..NatsSecurity::default()
    };
    assert!(connect(&server.url(), &wrong).await.is_err());
    // No CA: the system roots do not know the test CA.
    assert!(connect(&server.url(), &NatsSecurity::default()).await.is_err());
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate() {
    vigie_testkit::init_test_logging();
    let mut ca = TestCa::new("vigie test nats CA").unwrap();
    let server = tls_server(&mut ca, true).await;
    let client = ca.issue(&["vigie-inventory"]).unwrap();
    let without = NatsSecurity {
        tls_ca: Some(ca.ca_file()),
        ..NatsSecurity::default()
    };
    assert!(connect(&server.url(), &without).await.is_err());
    let with = NatsSecurity {
        tls_cert: Some(client.cert),
        tls_key: Some(client.key),
        ..without
    };
    let js = connect(&server.url(), &with).await.unwrap();
    publish_and_consume(&js).await;
}

#[tokio::test]
async fn asking_for_tls_refuses_a_cleartext_server() {
    vigie_testkit::init_test_logging();
    let ca = TestCa::new("vigie test nats CA").unwrap();
    let server = NatsServer::start().await;
    for security in [
        NatsSecurity {
            require_tls: true,
            ..NatsSecurity::default()
        },
        NatsSecurity {
            tls_ca: Some(ca.ca_file()),
            ..NatsSecurity::default()
        },
    ] {
        assert!(connect(&server.url(), &security).await.is_err(), "{security:?}");
    }
    let url = format!("tls://127.0.0.1:{}", server.port());
    assert!(connect(&url, &NatsSecurity::default()).await.is_err());
    // The control case: the same server in cleartext, as asked.
    assert!(connect(&server.url(), &NatsSecurity::default()).await.is_ok());
}

#[tokio::test]
async fn nkey_users_need_their_seed() {
    vigie_testkit::init_test_logging();
    let user = nkeys::KeyPair::new_user();
    let server = NatsServer::start_with(NatsServerConfig {
        nkey_users: vec![user.public_key()],
        ..NatsServerConfig::default()
    })
    .await
    .unwrap();
    assert!(connect(&server.url(), &NatsSecurity::default()).await.is_err());
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.nk");
    std::fs::write(&other, nkeys::KeyPair::new_user().seed().unwrap()).unwrap();
    let other = NatsSecurity {
        nkey: Some(other),
        ..NatsSecurity::default()
    };
    assert!(connect(&server.url(), &other).await.is_err());
    let seed = dir.path().join("vigie.nk");
    std::fs::write(&seed, format!("# vigie inventory\n{}\n", user.seed().unwrap())).unwrap();
    let security = NatsSecurity {
        nkey: Some(seed),
        ..NatsSecurity::default()
    };
    let js = connect(&server.url(), &security).await.unwrap();
    publish_and_consume(&js).await;
}

#[tokio::test]
async fn unusable_settings_are_reported_before_connecting() {
    let missing = NatsSecurity {
        nkey: Some("/nonexistent/vigie.nk".into()),
        ..NatsSecurity::default()
    };
    let error = connect("nats://127.0.0.1:1", &missing).await.unwrap_err();
    assert!(matches!(error, NatsConnectError::Security(_)), "{error:?}");
    let half = NatsSecurity {
        tls_cert: Some("cert.pem".into()),
        ..NatsSecurity::default()
    };
    let error = connect("nats://127.0.0.1:1", &half).await.unwrap_err();
    assert!(matches!(error, NatsConnectError::Security(_)), "{error:?}");
}

#[tokio::test]
async fn a_credentials_file_lets_its_user_in() {
    vigie_testkit::init_test_logging();
    let operator = NatsOperator::new().unwrap();
    let server = NatsServer::start_with(NatsServerConfig {
        extra: operator.server_config(),
        ..NatsServerConfig::default()
    })
    .await
    .unwrap();
    assert!(connect(&server.url(), &NatsSecurity::default()).await.is_err());
    // A user of an account the server does not know.
    let dir = tempfile::tempdir().unwrap();
    let stranger = dir.path().join("stranger.creds");
    std::fs::write(&stranger, NatsOperator::new().unwrap().user_creds("stranger").unwrap()).unwrap();
    let stranger = NatsSecurity {
        creds: Some(stranger),
        ..NatsSecurity::default()
    };
    assert!(connect(&server.url(), &stranger).await.is_err());
    let creds = dir.path().join("inventory.creds");
    std::fs::write(&creds, operator.user_creds("vigie-inventory").unwrap()).unwrap();
    let security = NatsSecurity {
        creds: Some(creds),
        ..NatsSecurity::default()
    };
    let js = connect(&server.url(), &security).await.unwrap_or_else(|e| {
        panic!(
            "{e:?}\n{}",
            std::fs::read_to_string(server.log_file()).unwrap_or_default()
        )
    });
    publish_and_consume(&js).await;
}
