//! Email over an encrypted, authenticated link, against a real SMTP server
//! (`vigie_testkit::SmtpServer`, aiosmtpd) serving a certificate from a CA
//! made by the test: implicit TLS (SMTPS) and STARTTLS deliver with AUTH; a
//! certificate from another CA is refused; a password without TLS is refused before any
//! connection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use vigie_alerting::channels::email::{OutgoingEmail, SmtpConfig, SmtpMailer, SmtpTls};
use vigie_testkit::{SmtpServer, SmtpServerOptions, SmtpServerTls, TestCa};

const USER: &str = "alertes";
const PASSWORD: &str = "s3cret, \"quoted\" & long";

fn mail(id: &str) -> OutgoingEmail {
    OutgoingEmail {
        message_id: format!("{id}@vigie.example"),
        to: "helene@asso.example".into(),
        to_name: "Hélène".into(),
        subject: "Vigie — test TLS".into(),
        text: "Bonjour".into(),
        html: "<p>Bonjour</p>".into(),
        list_unsubscribe: "https://vigie.example/u/T".into(),
    }
}

async fn server(ca: &mut TestCa, implicit: bool) -> SmtpServer {
    let cert = ca.issue(&["localhost", "127.0.0.1"]).unwrap();
    SmtpServer::start_with(SmtpServerOptions {
        tls: Some(SmtpServerTls {
            cert: cert.cert,
            key: cert.key,
            implicit,
        }),
        auth: Some((USER.into(), PASSWORD.into())),
        ..SmtpServerOptions::default()
    })
    .await
    .unwrap()
}

fn config(server: &SmtpServer, tls: SmtpTls, ca: &TestCa) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: server.port(),
        from: "Vigie <alertes@vigie.example>".into(),
        tls: Some(tls),
        ca_cert: Some(ca.ca_file()),
        username: Some(USER.into()),
        password: Some(PASSWORD.into()),
        timeout: Duration::from_secs(10),
        ..SmtpConfig::default()
    }
}

#[tokio::test]
async fn implicit_tls_delivers_with_authentication() {
    let mut ca = TestCa::new("vigie test smtp CA").unwrap();
    let server = server(&mut ca, true).await;
    let mailer = SmtpMailer::new(config(&server, SmtpTls::Implicit, &ca)).unwrap();
    mailer.send(&mail("implicit-1")).await.unwrap();
    let received = server.messages().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message_id.as_deref(), Some("<implicit-1@vigie.example>"));
}

#[tokio::test]
async fn starttls_delivers_with_authentication() {
    let mut ca = TestCa::new("vigie test smtp CA").unwrap();
    let server = server(&mut ca, false).await;
    let mailer = SmtpMailer::new(config(&server, SmtpTls::Starttls, &ca)).unwrap();
    mailer.send(&mail("starttls-1")).await.unwrap();
    assert_eq!(server.messages().unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_ca_delivers_nothing() {
    let mut ca = TestCa::new("vigie test smtp CA").unwrap();
    let stranger = TestCa::new("someone else's CA").unwrap();
    let server = server(&mut ca, true).await;
    let wrong_ca = SmtpMailer::new(config(&server, SmtpTls::Implicit, &stranger)).unwrap();
    assert!(wrong_ca.send(&mail("wrong-ca")).await.is_err());
    assert!(server.messages().unwrap().is_empty());
}

#[tokio::test]
async fn a_password_without_tls_is_refused_before_any_connection() {
    // A cleartext server: nothing must reach it.
    let server = SmtpServer::start().await.unwrap();
    let plain = SmtpConfig {
        host: "127.0.0.1".into(),
        port: server.port(),
        username: Some(USER.into()),
        password: Some(PASSWORD.into()),
        ..SmtpConfig::default()
    };
    let error = SmtpMailer::new(plain).unwrap_err().to_string();
    assert!(error.contains("authentification sans TLS refusée"), "{error}");
    assert!(!error.contains(PASSWORD), "{error}");
    assert!(server.messages().unwrap().is_empty());
}
