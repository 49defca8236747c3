//! Webhooks through the application: deliveries grouped and signed per
//! network (two networks may configure one URL), and addresses checked when
//! a network sets its webhook.

use std::convert::Infallible;

use anyhow::{ensure, Context as _, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use vigie_alerting::app::PolicyInput;
use vigie_alerting::channels::webhook::{verify_signature, ADDRESS_REFUSED};
use vigie_alerting::error::AlertingError;
use vigie_testkit::SmtpServer;

use crate::harness::{aid, structure_event, Harness, PersonSpec};
use crate::scenarios::channels;

/// A request's headers and body.
type Request = (http::HeaderMap, Bytes);

/// A real HTTP server on loopback answering 200 and recording each request.
async fn receiver() -> Result<(String, mpsc::UnboundedReceiver<Request>, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    let (sender, requests) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let sender = sender.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let _ = sender.send((parts.headers, body));
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"{}"))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((url, requests, task))
}

fn policy(network: &str, url: &str, secret: &str) -> PolicyInput {
    PolicyInput {
        network: network.to_owned(),
        offsets_days: Vec::new(),
        local_hour: String::new(),
        timezone: String::new(),
        referent_name: String::new(),
        referent_email: String::new(),
        webhook_url: url.to_owned(),
        webhook_secret: secret.to_owned(),
        draft_days: None,
    }
}

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

pub async fn two_networks_on_one_webhook_url_get_their_own_deliveries_and_secrets(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    let (url, mut requests, task) = receiver().await?;
    let secrets = [
        ("reseau-a", "secret du réseau A, assez long"),
        ("reseau-b", "secret du réseau B, assez long"),
    ];
    for (i, (network, secret)) in secrets.iter().enumerate() {
        h.feed(&structure_event(
            &format!("S{i}"),
            network,
            "35238",
            "53",
            &[PersonSpec::sole_holder(&format!("P{i}"))],
            1,
        ))
        .await?;
        h.app.set_network_policy(&policy(network, &url, secret)).await?;
    }
    h.import(&[aid(1, "Bretagne", "Région", "2027-03-14")]).await?;
    h.pass_at("2027-03-07 08:05", &transport).await?;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (headers, body) = tokio::time::timeout(std::time::Duration::from_secs(10), requests.recv())
            .await?
            .context("receiver stopped")?;
        let json: serde_json::Value = serde_json::from_slice(&body)?;
        let network = json["network"].as_str().unwrap_or_default().to_owned();
        let (own, other) = if network == "reseau-a" {
            (secrets[0].1, secrets[1].1)
        } else {
            (secrets[1].1, secrets[0].1)
        };
        let (timestamp, signature) = (
            header(&headers, "x-vigie-timestamp"),
            header(&headers, "x-vigie-signature"),
        );
        ensure!(
            verify_signature(own.as_bytes(), timestamp, &body, signature),
            "{network}: signed with its secret"
        );
        ensure!(
            !verify_signature(other.as_bytes(), timestamp, &body, signature),
            "{network}: not the other's"
        );
        let structures: Vec<&str> = json["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|i| i["structure_id"].as_str()).collect())
            .unwrap_or_default();
        let own_structure = if network == "reseau-a" { "S0" } else { "S1" };
        ensure!(
            !structures.is_empty() && structures.iter().all(|s| *s == own_structure),
            "{network}: only its structures: {structures:?}"
        );
        seen.push((network, header(&headers, "x-vigie-delivery").to_owned()));
    }
    task.abort();
    seen.sort();
    ensure!(
        seen[0].0 == "reseau-a" && seen[1].0 == "reseau-b" && seen[0].1 != seen[1].1,
        "one delivery per network: {seen:?}"
    );
    let log = h.app.send_log(None, 100).await?;
    ensure!(
        log.iter()
            .filter(|e| e.row.channel == "webhook")
            .all(|e| e.status == "sent"),
        "{log:?}"
    );
    Ok(())
}

pub async fn a_webhook_to_a_private_address_is_refused_when_set(h: Harness) -> Result<()> {
    let strict = h.public_webhooks_only();
    let secret = "un secret assez long pour un webhook";
    for url in [
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://localhost/hook",
    ] {
        match strict.set_network_policy(&policy("reseau-a", url, secret)).await {
            Err(AlertingError::Invalid(message)) => {
                ensure!(message == ADDRESS_REFUSED, "{url}: a generic message, got {message:?}")
            }
            other => anyhow::bail!("{url}: expected a refusal, got {other:?}"),
        }
    }
    ensure!(h.count("al_policies").await? == 0, "nothing stored");
    // Allowed by the operator (the harness's default application).
    h.app
        .set_network_policy(&policy("reseau-a", "https://127.0.0.1/hook", secret))
        .await?;
    // A public address or a name that does not resolve now (checked at send time).
    strict
        .set_network_policy(&policy("reseau-b", "https://93.184.215.14/hook", secret))
        .await?;
    strict
        .set_network_policy(&policy("reseau-c", "https://hooks.invalid/hook", secret))
        .await?;
    ensure!(h.count("al_policies").await? == 3);
    Ok(())
}
