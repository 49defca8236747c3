//! TLS on both ends: the CA decides, `https://` never downgrades, mutual TLS
//! refuses a client without certificate, and bad files stop the server at
//! start.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::metadata::MetadataValue;
use vigie_platform::grpc::client::{self, ClientError, ClientOptions};
use vigie_platform::grpc::tls::{ClientTlsFiles, ServerTlsFiles, TlsError};
use vigie_platform::grpc::{GrpcLimits, ServeOptions, ServerTls};
use vigie_testkit::{TestCa, TestPki};

use crate::support::{self, Gate, SERVING};

const HANDSHAKE: Duration = Duration::from_secs(10);

fn pki() -> (tempfile::TempDir, TestPki) {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestCa::new("Vigie test CA").unwrap().write(dir.path()).unwrap();
    (dir, pki)
}

fn server_tls(pki: &TestPki, mutual: bool) -> ServerTls {
    let files = ServerTlsFiles {
        cert: pki.server.cert.clone(),
        key: pki.server.key.clone(),
        client_ca: mutual.then(|| pki.ca.clone()),
    };
    ServerTls::load(&files, HANDSHAKE).unwrap()
}

async fn tls_server(pki: &TestPki, mutual: bool) -> support::Server {
    let limits = GrpcLimits::default();
    let options = ServeOptions {
        tls: Some(server_tls(pki, mutual)),
        limits: limits.clone(),
    };
    support::serve(support::routes(&limits, Gate::closed()), options).await
}

fn trusting(pki: &TestPki) -> ClientOptions {
    ClientOptions {
        tls: ClientTlsFiles {
            ca_cert: Some(pki.ca.clone()),
            ..ClientTlsFiles::default()
        },
        credentials: true,
    }
}

#[tokio::test]
async fn a_call_over_tls_succeeds_with_the_ca() {
    let (_dir, pki) = pki();
    let server = tls_server(&pki, false).await;
    let channel = client::connect(&server.https(), &trusting(&pki)).await.unwrap();
    assert_eq!(support::health(channel).await.unwrap(), SERVING);
}

#[tokio::test]
async fn a_client_without_the_ca_is_refused_with_a_clear_reason() {
    let (_dir, pki) = pki();
    let server = tls_server(&pki, false).await;
    // System and public roots only: the test CA is unknown.
    let error = client::connect(&server.https(), &ClientOptions::default())
        .await
        .unwrap_err();
    let ClientError::Connect { source, .. } = &error else {
        panic!("expected a connection error, got {error}");
    };
    let reason = client::tls_failure(source).expect("a TLS failure");
    assert!(reason.contains("--ca-cert"), "{reason}");
    // Another CA does not help either.
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestCa::new("Another CA").unwrap().write(other_dir.path()).unwrap();
    assert!(client::connect(&server.https(), &trusting(&other)).await.is_err());
}

#[tokio::test]
async fn https_to_a_plaintext_server_fails_without_downgrade() {
    let (_dir, pki) = pki();
    let limits = GrpcLimits::default();
    let plain = support::serve(support::routes(&limits, Gate::closed()), ServeOptions::default()).await;
    // The same server answers in cleartext…
    let channel = client::connect(&plain.http(), &ClientOptions::default()).await.unwrap();
    assert_eq!(support::health(channel).await.unwrap(), SERVING);
    // …but https:// never falls back to it.
    let error = client::connect(&plain.https(), &trusting(&pki)).await.unwrap_err();
    let ClientError::Connect { source, .. } = &error else {
        panic!("expected a connection error, got {error}");
    };
    assert!(client::tls_failure(source).is_some(), "{error}");
}

/// What a plain TCP server receives from a client asked to call
/// `https://…` with a bearer token.
#[tokio::test]
async fn the_token_is_never_sent_in_cleartext_to_https() {
    let (_dir, pki) = pki();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut first = vec![0_u8; 64 * 1024];
        let n = socket.read(&mut first).await.unwrap();
        first.truncate(n);
        // Not TLS: the client must give up, not retry in cleartext.
        let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut rest)).await;
        first.extend(rest);
        first
    });
    let channel = client::endpoint(&format!("https://{addr}"), &trusting(&pki))
        .unwrap()
        .connect_lazy();
    let mut request = tonic::Request::new(tonic_health::pb::HealthCheckRequest::default());
    let token: MetadataValue<_> = "Bearer secret-token-123".parse().unwrap();
    request.metadata_mut().insert("authorization", token);
    let result = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(request)
        .await;
    assert!(result.is_err());
    let bytes = received.await.unwrap();
    assert_eq!(bytes.first(), Some(&0x16), "a TLS handshake record, not h2c");
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("PRI * HTTP/2.0"), "HTTP/2 in cleartext was sent");
    assert!(!text.contains("secret-token-123"));
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_certificate() {
    let (_dir, pki) = pki();
    let server = tls_server(&pki, true).await;
    // TLS 1.3: the refusal may come with the handshake or with the first call.
    let without = async {
        let channel = client::connect(&server.https(), &trusting(&pki)).await?;
        support::health(channel)
            .await
            .map_err(|status| ClientError::InvalidEndpoint(status.to_string()))
    };
    assert!(without.await.is_err());

    let mut with = trusting(&pki);
    with.tls.client_cert = Some(pki.client.cert.clone());
    with.tls.client_key = Some(pki.client.key.clone());
    let channel = client::connect(&server.https(), &with).await.unwrap();
    assert_eq!(support::health(channel).await.unwrap(), SERVING);

    // A certificate from another CA is refused too.
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestCa::new("Another CA").unwrap().write(other_dir.path()).unwrap();
    let mut foreign = trusting(&pki);
    foreign.tls.client_cert = Some(other.client.cert.clone());
    foreign.tls.client_key = Some(other.client.key.clone());
    let refused = async {
        let channel = client::connect(&server.https(), &foreign).await?;
        support::health(channel)
            .await
            .map_err(|status| ClientError::InvalidEndpoint(status.to_string()))
    };
    assert!(refused.await.is_err());
}

#[test]
fn bad_files_stop_the_server_at_start() {
    let (dir, pki) = pki();
    let load = |cert: &std::path::Path, key: &std::path::Path| {
        ServerTls::load(
            &ServerTlsFiles {
                cert: cert.to_owned(),
                key: key.to_owned(),
                client_ca: None,
            },
            HANDSHAKE,
        )
    };
    let missing = dir.path().join("missing.pem");
    assert!(matches!(load(&missing, &pki.server.key), Err(TlsError::Read { .. })));
    // A key file given as certificate, a certificate given as key.
    assert!(matches!(
        load(&pki.server.key, &pki.server.key),
        Err(TlsError::NoCertificate { .. })
    ));
    assert!(matches!(
        load(&pki.server.cert, &pki.server.cert),
        Err(TlsError::NoKey { .. })
    ));
    // The client's key with the server's certificate.
    let error = load(&pki.server.cert, &pki.client.key).unwrap_err();
    assert!(matches!(error, TlsError::KeyMismatch { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("ne correspond pas"), "{message}");
    assert!(!message.contains("PRIVATE KEY"), "never the key itself: {message}");
    // A broken client CA.
    let broken = ServerTls::load(
        &ServerTlsFiles {
            cert: pki.server.cert.clone(),
            key: pki.server.key.clone(),
            client_ca: Some(pki.server.key.clone()),
        },
        HANDSHAKE,
    );
    assert!(matches!(broken, Err(TlsError::NoCertificate { .. })));
    assert!(load(&pki.server.cert, &pki.server.key).is_ok());
}
