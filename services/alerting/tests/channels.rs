//! Integration tests of the delivery channels against real servers on
//! loopback: a real SMTP server process (`vigie_testkit::SmtpServer`,
//! Python's aiosmtpd) for email, and a real hyper HTTP server started by each
//! test for webhooks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use chrono::{NaiveDate, NaiveTime};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use vigie_alerting::channels::address::{AddressPolicy, Cidr};
use vigie_alerting::channels::email::{OutgoingEmail, SmtpConfig, SmtpMailer};
use vigie_alerting::channels::links::{AckAction, LinkSigner};
use vigie_alerting::channels::webhook::{verify_signature, WebhookSender, ADDRESS_REFUSED};
use vigie_alerting::channels::SendError;
use vigie_alerting_domain::message::{render_digest, AckLinks, Digest, DigestItem, Notice};
use vigie_alerting_domain::model::StageKind;
use vigie_testkit::{SmtpServer, SmtpServerOptions};

// ---------------------------------------------------------------- email

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "Vigie <alertes@vigie.example>".into(),
        starttls: false,
        username: None,
        password: None,
        timeout: Duration::from_secs(5),
        ..SmtpConfig::default()
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A digest as the reminder planner would build it, with real signed links.
fn digest() -> Digest {
    let signer = LinkSigner::new(b"a link secret of thirty-two bytes");
    let link = |action| {
        format!(
            "https://vigie.example/ack/{}",
            signer.ack_token("S000003", "aides-territoires:1234", action)
        )
    };
    Digest {
        recipient_name: "Hélène Lefèvre".into(),
        local_date: date(2027, 3, 7),
        items: vec![DigestItem {
            structure_name: "Les Amis du Quai".into(),
            call_title: "Fonds <script>alert(1)</script> & vie associative".into(),
            stage_kind: StageKind::Submission,
            deadline_date: date(2027, 3, 14),
            deadline_time: NaiveTime::from_hms_opt(12, 0, 0),
            timezone: chrono_tz::Europe::Paris,
            days_left: 7,
            late: true,
            url: "https://aides-territoires.beta.gouv.fr/aides/fdva/".into(),
            escalation: Some("spof".into()),
            ack_links: AckLinks {
                submitted: link(AckAction::Submitted),
                in_progress: link(AckAction::InProgress),
                not_concerned: link(AckAction::NotConcerned),
            },
        }],
        duties: Vec::new(),
        notices: vec![Notice::Cancelled {
            structure_name: "Coop Bois".into(),
            call_title: "Appel retiré".into(),
            url: "https://aides.example/retire".into(),
        }],
        unsubscribe_url: format!(
            "https://vigie.example/unsubscribe/{}",
            signer.unsubscribe_token("P000003-1")
        ),
    }
}

fn outgoing(message_id: &str, to: &str) -> OutgoingEmail {
    let digest = digest();
    let rendered = render_digest(&digest);
    OutgoingEmail {
        message_id: message_id.into(),
        to: to.into(),
        to_name: digest.recipient_name.clone(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        list_unsubscribe: digest.unsubscribe_url,
    }
}

#[tokio::test]
async fn a_digest_is_delivered_with_both_parts_and_its_headers() {
    let server = SmtpServer::start().await.unwrap();
    let mailer = SmtpMailer::new(config(server.port())).unwrap();
    let mail = outgoing("r-1.2027-03-07@vigie.example", "helene@asso.example");
    mailer.send(&mail).await.unwrap();

    let received = server.messages().unwrap();
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got.to, ["helene@asso.example"]);
    assert_eq!(got.mail_from, "alertes@vigie.example");
    assert_eq!(got.message_id.as_deref(), Some("<r-1.2027-03-07@vigie.example>"));
    assert_eq!(got.subject.as_deref(), Some(mail.subject.as_str()));
    assert!(mail.subject.starts_with("Vigie — 1 échéance de financement à venir"));
    assert_eq!(got.header("From"), Some("Vigie <alertes@vigie.example>"));
    assert_eq!(got.header("To"), Some("Hélène Lefèvre <helene@asso.example>"));
    assert_eq!(
        got.header("List-Unsubscribe"),
        Some(format!("<{}>", mail.list_unsubscribe).as_str())
    );
    assert_eq!(got.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    assert_eq!(got.header("Auto-Submitted"), Some("auto-generated"));
    assert!(got.header("Date").is_some());
    assert!(got.header("Content-Type").unwrap().starts_with("multipart/alternative"));

    // Both parts, UTF-8, decoded back to exactly what was rendered.
    let types: Vec<&str> = got.parts.iter().map(|part| part.content_type.as_str()).collect();
    assert_eq!(types, ["text/plain", "text/html"]);
    assert!(got.parts.iter().all(|part| part.charset == "utf-8"));
    assert_eq!(got.text().unwrap().replace("\r\n", "\n"), mail.text);
    assert_eq!(got.html().unwrap().replace("\r\n", "\n"), mail.html);
    let text = got.text().unwrap();
    assert!(text.contains("Bonjour Hélène Lefèvre,"), "{text}");
    assert!(text.contains("à 12:00 (Europe/Paris) — J-7"), "{text}");
    assert!(text.contains("Rappel envoyé en retard"), "{text}");
    assert!(text.contains("une seule personne sait déposer ce dossier"), "{text}");
    let html = got.html().unwrap();
    assert!(
        html.contains("Fonds &lt;script&gt;alert(1)&lt;/script&gt; &amp; vie associative"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    // No line of the raw message exceeds the RFC 5322 limit.
    assert!(got.raw.lines().all(|line| line.len() <= 998));
}

#[tokio::test]
async fn a_refusal_is_transient_and_the_retry_keeps_the_message_id() {
    let server = SmtpServer::start().await.unwrap();
    let mailer = SmtpMailer::new(config(server.port())).unwrap();
    let mail = outgoing("r-2@vigie.example", "helene@asso.example");
    server.refuse_next(1).unwrap();

    let error = mailer.send(&mail).await.unwrap_err();
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("451"), "{error}");
    assert!(server.messages().unwrap().is_empty());
    assert_eq!(server.pending_refusals().unwrap(), 0);

    mailer.send(&mail).await.unwrap();
    let received = server.messages().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message_id.as_deref(), Some("<r-2@vigie.example>"));
}

#[tokio::test]
async fn a_rejected_recipient_is_permanent() {
    let server = SmtpServer::start().await.unwrap();
    let mailer = SmtpMailer::new(config(server.port())).unwrap();
    server.reject_recipient("parti@asso.example").unwrap();

    let error = mailer
        .send(&outgoing("r-3@vigie.example", "parti@asso.example"))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
    assert!(error.to_string().contains("550"), "{error}");
    assert!(server.messages().unwrap().is_empty());

    // Others still receive theirs.
    mailer
        .send(&outgoing("r-4@vigie.example", "reste@asso.example"))
        .await
        .unwrap();
    assert_eq!(server.messages_to("reste@asso.example").unwrap().len(), 1);
}

#[tokio::test]
async fn an_invalid_address_is_permanent_without_contacting_the_server() {
    let server = SmtpServer::start().await.unwrap();
    let mailer = SmtpMailer::new(config(server.port())).unwrap();
    let error = mailer
        .send(&outgoing("r-5@vigie.example", "pas une adresse"))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
    assert!(server.messages().unwrap().is_empty());
}

#[tokio::test]
async fn a_server_down_is_transient_and_the_send_succeeds_once_it_is_back() {
    let mut server = SmtpServer::start().await.unwrap();
    let mailer = SmtpMailer::new(config(server.port())).unwrap();
    let mail = outgoing("r-6@vigie.example", "helene@asso.example");
    server.stop().await;

    let error = mailer.send(&mail).await.unwrap_err();
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");

    server.restart().await.unwrap();
    mailer.send(&mail).await.unwrap();
    let received = server.messages().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message_id.as_deref(), Some("<r-6@vigie.example>"));
}

#[tokio::test]
async fn messages_in_a_row_reuse_one_pooled_connection() {
    let server = SmtpServer::start().await.unwrap();
    let mailer = SmtpMailer::new(config(server.port())).unwrap();
    let before = server.connections().unwrap();
    for i in 0..20 {
        mailer
            .send(&outgoing(&format!("r-pool-{i}@vigie.example"), "helene@asso.example"))
            .await
            .unwrap();
    }
    let opened = server.connections().unwrap() - before;
    // One connection per message before pooling: 20.
    assert_eq!(opened, 1, "{opened} connections for 20 messages");
    assert_eq!(mailer.parked_connections(), 1);
    // Nor a round trip to check the connection before each (lettre's NOOP
    // was one in five).
    assert_eq!(server.noops().unwrap(), 0);
    let received = server.messages().unwrap();
    assert_eq!(received.len(), 20);
    for (i, mail) in received.iter().enumerate() {
        assert_eq!(
            mail.message_id.as_deref(),
            Some(format!("<r-pool-{i}@vigie.example>").as_str())
        );
    }
}

#[tokio::test]
async fn a_relay_without_smtputf8_refuses_a_non_ascii_address_at_once_and_keeps_its_connection() {
    let server = SmtpServer::start_with(SmtpServerOptions {
        without_smtputf8: true,
        ..SmtpServerOptions::default()
    })
    .await
    .unwrap();
    let before = server.connections().unwrap();
    // A parked connection: the refusal comes before any command, the
    // connection is parked again and serves the next message.
    let mailer = SmtpMailer::new(config(server.port())).unwrap();
    mailer
        .send(&outgoing("r-u1@vigie.example", "helene@asso.example"))
        .await
        .unwrap();
    let error = mailer
        .send(&outgoing("r-u2@vigie.example", "hélène@asso.example"))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
    assert_eq!(mailer.parked_connections(), 1);
    mailer
        .send(&outgoing("r-u3@vigie.example", "helene@asso.example"))
        .await
        .unwrap();
    assert_eq!(server.connections().unwrap() - before, 1);
    // A new connection whose first message is refused so is kept too.
    let fresh = SmtpMailer::new(config(server.port())).unwrap();
    let error = fresh
        .send(&outgoing("r-u4@vigie.example", "hélène@asso.example"))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
    assert_eq!(fresh.parked_connections(), 1);
    let ids: Vec<Option<String>> = server.messages().unwrap().into_iter().map(|m| m.message_id).collect();
    assert_eq!(
        ids,
        [
            Some("<r-u1@vigie.example>".to_owned()),
            Some("<r-u3@vigie.example>".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_refused_recipient_fails_alone_and_a_connection_broken_by_a_restart_is_replaced() {
    let mut server = SmtpServer::start().await.unwrap();
    server.reject_recipient("parti@asso.example").unwrap();
    let mailer = SmtpMailer::new(config(server.port())).unwrap();
    mailer
        .send(&outgoing("r-a@vigie.example", "helene@asso.example"))
        .await
        .unwrap();
    let error = mailer
        .send(&outgoing("r-b@vigie.example", "parti@asso.example"))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
    mailer
        .send(&outgoing("r-c@vigie.example", "marc@asso.example"))
        .await
        .unwrap();
    // The parked connection dies with the server; the next send's first
    // command fails on it, and the message goes over a new one instead of
    // failing.
    server.restart().await.unwrap();
    let before = server.connections().unwrap();
    mailer
        .send(&outgoing("r-d@vigie.example", "helene@asso.example"))
        .await
        .unwrap();
    assert_eq!(server.connections().unwrap() - before, 1);
    let ids: Vec<String> = server
        .messages()
        .unwrap()
        .into_iter()
        .map(|m| m.message_id.unwrap_or_default())
        .collect();
    assert_eq!(
        ids,
        ["<r-a@vigie.example>", "<r-c@vigie.example>", "<r-d@vigie.example>"]
    );
}

#[tokio::test]
async fn a_send_cut_by_a_slow_server_does_not_leave_its_replies_to_the_next_message() {
    let server = SmtpServer::start().await.unwrap();
    let mailer = SmtpMailer::new(SmtpConfig {
        timeout: Duration::from_millis(400),
        ..config(server.port())
    })
    .unwrap();
    mailer
        .send(&outgoing("r-s1@vigie.example", "helene@asso.example"))
        .await
        .unwrap();
    server.delay_data(Duration::from_millis(2_500)).unwrap();
    let error = mailer
        .send(&outgoing("r-s2@vigie.example", "helene@asso.example"))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
    assert_eq!(mailer.parked_connections(), 0, "the cut connection is not parked");
    server.delay_data(Duration::ZERO).unwrap();
    // A fresh connection: the late `250` of r-s2 is not read as r-s3's answer.
    mailer
        .send(&outgoing("r-s3@vigie.example", "marc@asso.example"))
        .await
        .unwrap();
    let to_marc = server.messages_to("marc@asso.example").unwrap();
    assert_eq!(to_marc.len(), 1);
    assert_eq!(to_marc[0].message_id.as_deref(), Some("<r-s3@vigie.example>"));
}

#[tokio::test]
async fn a_silent_server_is_a_transient_timeout() {
    // Accepts connections and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            connections.push(stream);
        }
    });
    let mailer = SmtpMailer::new(SmtpConfig {
        timeout: Duration::from_millis(500),
        ..config(port)
    })
    .unwrap();
    let started = std::time::Instant::now();
    let error = mailer
        .send(&outgoing("r-7@vigie.example", "helene@asso.example"))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    held.abort();
}

// ---------------------------------------------------------------- webhooks

/// A request as the receiver saw it.
#[derive(Debug)]
struct Received {
    method: http::Method,
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

/// A real HTTP server on a free loopback port: records every request and
/// answers with the next queued status (200 once the queue is empty), or
/// never answers when `silent`.
struct Receiver {
    url: String,
    requests: mpsc::UnboundedReceiver<Received>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(silent: bool) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/vigie", listener.local_addr().unwrap());
        let (sender, requests) = mpsc::unbounded_channel();
        let statuses: Arc<Mutex<VecDeque<u16>>> = Arc::default();
        let queue = statuses.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sender = sender.clone();
                let queue = queue.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: hyper::Request<Incoming>| {
                        let sender = sender.clone();
                        let queue = queue.clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.map(|body| body.to_bytes()).unwrap_or_default();
                            let _ = sender.send(Received {
                                method: parts.method,
                                path: parts.uri.path().to_owned(),
                                headers: parts.headers,
                                body,
                            });
                            if silent {
                                std::future::pending::<()>().await;
                            }
                            let status = queue.lock().unwrap().pop_front().unwrap_or(200);
                            let response = hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from_static(b"{}")))
                                .unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver {
            url,
            requests,
            statuses,
            task,
        }
    }

    fn answer(&self, statuses: &[u16]) {
        self.statuses.lock().unwrap().extend(statuses);
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.requests.recv())
            .await
            .unwrap()
            .unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const SECRET: &[u8] = b"the network's webhook secret";

/// A sender allowed to reach the loopback receivers of these tests.
fn loopback_sender(timeout: Duration) -> anyhow::Result<WebhookSender> {
    WebhookSender::with_addresses(timeout, AddressPolicy::allow_all())
}
const BODY: &[u8] = br#"{"type":"reminder","structure_id":"S000003","call_title":"FDVA","days_left":7}"#;

fn header<'a>(request: &'a Received, name: &str) -> &'a str {
    request.headers.get(name).unwrap().to_str().unwrap()
}

#[tokio::test]
async fn a_webhook_is_posted_signed() {
    let mut receiver = Receiver::start(false).await;
    let sender = loopback_sender(Duration::from_secs(5)).unwrap();
    sender.send(&receiver.url, SECRET, "d-1", BODY).await.unwrap();

    let request = receiver.next().await;
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.path, "/hooks/vigie");
    assert_eq!(request.body.as_ref(), BODY);
    assert_eq!(header(&request, "content-type"), "application/json");
    assert_eq!(header(&request, "x-vigie-delivery"), "d-1");
    let timestamp = header(&request, "x-vigie-timestamp");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(now.abs_diff(timestamp.parse::<u64>().unwrap()) < 60, "{timestamp}");
    let signature = header(&request, "x-vigie-signature");
    assert!(signature.starts_with("sha256="), "{signature}");
    assert!(verify_signature(SECRET, timestamp, &request.body, signature));
    assert!(!verify_signature(
        b"another secret",
        timestamp,
        &request.body,
        signature
    ));
    assert!(!verify_signature(SECRET, timestamp, b"{}", signature));
}

#[tokio::test]
async fn a_503_is_transient_and_the_retry_carries_the_same_delivery_id() {
    let mut receiver = Receiver::start(false).await;
    receiver.answer(&[503, 429]);
    let sender = loopback_sender(Duration::from_secs(5)).unwrap();

    let error = sender.send(&receiver.url, SECRET, "d-2", BODY).await.unwrap_err();
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
    assert!(error.to_string().contains("503"), "{error}");
    let error = sender.send(&receiver.url, SECRET, "d-2", BODY).await.unwrap_err();
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
    sender.send(&receiver.url, SECRET, "d-2", BODY).await.unwrap();

    for _ in 0..3 {
        let request = receiver.next().await;
        assert_eq!(header(&request, "x-vigie-delivery"), "d-2");
        assert!(verify_signature(
            SECRET,
            header(&request, "x-vigie-timestamp"),
            &request.body,
            header(&request, "x-vigie-signature")
        ));
    }
}

#[tokio::test]
async fn a_400_is_permanent() {
    let mut receiver = Receiver::start(false).await;
    receiver.answer(&[400]);
    let sender = loopback_sender(Duration::from_secs(5)).unwrap();
    let error = sender.send(&receiver.url, SECRET, "d-3", BODY).await.unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
    assert!(error.to_string().contains("400"), "{error}");
    receiver.next().await;
}

#[tokio::test]
async fn an_unreachable_or_silent_receiver_is_transient() {
    let sender = loopback_sender(Duration::from_millis(500)).unwrap();

    // Nobody listens on this port any more.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = sender
        .send(&format!("http://127.0.0.1:{port}/hook"), SECRET, "d-4", BODY)
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");

    let mut receiver = Receiver::start(true).await;
    let error = sender.send(&receiver.url, SECRET, "d-5", BODY).await.unwrap_err();
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
    receiver.next().await;
}

#[tokio::test]
async fn plain_http_to_another_host_is_refused_for_good() {
    let sender = WebhookSender::new(Duration::from_secs(1)).unwrap();
    let error = sender
        .send("http://hooks.example/vigie", SECRET, "d-6", BODY)
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
}

// ---------------------------------------------------------------- webhook addresses

/// A loopback listener that must see no connection.
fn untouched_listener(address: &str) -> Option<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(address).ok()?;
    listener.set_nonblocking(true).unwrap();
    Some(listener)
}

/// No connection reached `listener` (a completed TCP connect is in its
/// accept queue before the client can do anything else).
fn assert_untouched(listener: &std::net::TcpListener) {
    match listener.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a connection was made: {other:?}"),
    }
}

fn assert_refused(error: SendError) {
    assert_eq!(error, SendError::Permanent(ADDRESS_REFUSED.to_owned()));
}

#[tokio::test]
async fn webhooks_to_loopback_private_and_metadata_addresses_are_refused_without_connecting() {
    let sender = WebhookSender::new(Duration::from_secs(2))
        .unwrap()
        .allow_plain_http(true);
    let v4 = untouched_listener("127.0.0.1:0").unwrap();
    let port = v4.local_addr().unwrap().port();
    let mut urls = vec![
        format!("http://127.0.0.1:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        // No traffic may leave loopback: these are refused before any connect.
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "https://10.0.0.1/hook".to_owned(),
        "https://192.168.1.1/hook".to_owned(),
        "https://100.64.0.1/hook".to_owned(),
        "https://0.0.0.0/hook".to_owned(),
        "https://[fd00:ec2::254]/latest".to_owned(),
        "https://[fe80::1]/hook".to_owned(),
        "https://[2002:7f00:1::1]/hook".to_owned(),
        "https://[64:ff9b::a9fe:a9fe]/hook".to_owned(),
    ];
    let v6 = untouched_listener("[::1]:0");
    if let Some(v6) = &v6 {
        urls.push(format!("http://[::1]:{}/hook", v6.local_addr().unwrap().port()));
    }
    for url in &urls {
        let started = std::time::Instant::now();
        let error = sender.send(url, SECRET, "d-ssrf", BODY).await.unwrap_err();
        assert_refused(error);
        assert!(started.elapsed() < Duration::from_secs(1), "{url}: refused at once");
    }
    assert_untouched(&v4);
    if let Some(v6) = &v6 {
        assert_untouched(v6);
    }
}

#[tokio::test]
async fn webhooks_to_loopback_go_through_when_the_operator_allows_them() {
    // Every address.
    let mut receiver = Receiver::start(false).await;
    let sender = WebhookSender::with_addresses(Duration::from_secs(5), AddressPolicy::allow_all()).unwrap();
    sender.send(&receiver.url, SECRET, "d-a", BODY).await.unwrap();
    assert_eq!(header(&receiver.next().await, "x-vigie-delivery"), "d-a");
    // An allow-list of networks, by address and by name.
    let networks: Vec<Cidr> = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
    let sender = WebhookSender::with_addresses(
        Duration::from_secs(5),
        AddressPolicy::public_only().with_allowed(networks),
    )
    .unwrap();
    sender.send(&receiver.url, SECRET, "d-b", BODY).await.unwrap();
    assert_eq!(header(&receiver.next().await, "x-vigie-delivery"), "d-b");
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    sender.send(&by_name, SECRET, "d-c", BODY).await.unwrap();
    assert_eq!(header(&receiver.next().await, "x-vigie-delivery"), "d-c");
    // Another private network only: loopback stays refused.
    let other = AddressPolicy::public_only().with_allowed(vec!["10.0.0.0/8".parse().unwrap()]);
    let sender = WebhookSender::with_addresses(Duration::from_secs(5), other).unwrap();
    assert_refused(sender.send(&receiver.url, SECRET, "d-d", BODY).await.unwrap_err());
    assert_refused(sender.send(&by_name, SECRET, "d-e", BODY).await.unwrap_err());
}
