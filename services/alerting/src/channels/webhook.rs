//! Signed webhooks: a JSON body POSTed to a URL chosen by the network, signed
//! with HMAC-SHA256 so the receiver can check it comes from Vigie.
//!
//! Each request carries:
//! - `Content-Type: application/json`;
//! - `X-Vigie-Delivery: <id>`: the delivery id, the same on every retry of a
//!   delivery, so receivers can drop duplicates;
//! - `X-Vigie-Timestamp: <unix seconds>`: when this attempt was signed;
//! - `X-Vigie-Signature: sha256=<hex>`: HMAC-SHA256 with the shared secret of
//!   the bytes `<timestamp>.<body>` ([`signature`]).
//!
//! Receivers check it with [`verify_signature`] (constant time) and should
//! refuse timestamps too far from their clock (5 minutes, say) to stop
//! replays. A 2xx answer is a delivery; 408, 429, 5xx, connection errors and
//! timeouts are [`SendError::Transient`] (retried after [`backoff`]); any
//! other status (3xx, 4xx) is [`SendError::Permanent`]: redirects are not
//! followed, the URL must be fixed.
//!
//! Only public addresses are reached unless the operator allows more
//! ([`super::address`]): an IP literal is checked before anything else, a
//! name by the connector's resolver, and the connection goes to the checked
//! addresses only. A refusal is permanent, reported to the tenant as
//! [`ADDRESS_REFUSED`] while the log keeps the detail.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ring::hmac;
use vigie_platform::net::is_loopback_host as is_loopback;

use super::address::{AddressPolicy, AddressRefused, CheckedResolver};
use super::SendError;

/// What the tenant (the send log, the RPC that sets a webhook) is told when
/// a webhook's address is refused; the detail goes to the log only.
pub const ADDRESS_REFUSED: &str = "adresse de webhook refusée";

/// First retry delay.
const BACKOFF_BASE: Duration = Duration::from_secs(30);
/// Longest retry delay.
const BACKOFF_CAP: Duration = Duration::from_secs(6 * 3600);

/// Sends signed webhooks over HTTPS (rustls, Mozilla roots) or plain HTTP.
///
/// Plain HTTP is accepted only to loopback addresses (tests, a receiver on
/// the same host) unless [`allow_plain_http`](WebhookSender::allow_plain_http)
/// is set.
#[derive(Clone)]
pub struct WebhookSender {
    client: Client<HttpsConnector<HttpConnector<CheckedResolver>>, Full<Bytes>>,
    timeout: Duration,
    allow_http: bool,
    addresses: Arc<AddressPolicy>,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender")
            .field("timeout", &self.timeout)
            .field("allow_http", &self.allow_http)
            .field("addresses", &self.addresses)
            .finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// A sender whose every request (connection included) is bounded by
    /// `timeout`, to public addresses only.
    ///
    /// # Errors
    /// The TLS client cannot be set up.
    pub fn new(timeout: Duration) -> anyhow::Result<WebhookSender> {
        Self::with_addresses(timeout, AddressPolicy::public_only())
    }

    /// A sender to the addresses `addresses` accepts.
    ///
    /// # Errors
    /// The TLS client cannot be set up.
    pub fn with_addresses(timeout: Duration, addresses: AddressPolicy) -> anyhow::Result<WebhookSender> {
        let addresses = Arc::new(addresses);
        let mut http = HttpConnector::new_with_resolver(CheckedResolver::new(addresses.clone()));
        http.set_connect_timeout(Some(timeout));
        let connector = vigie_platform::https::https_connector(http)?;
        Ok(WebhookSender {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
            allow_http: false,
            addresses,
        })
    }

    /// The addresses this sender may reach.
    pub fn addresses(&self) -> &AddressPolicy {
        &self.addresses
    }

    /// Accepts plain `http://` URLs to any host (trusted networks only).
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// POSTs `body` to `url`, signed with `secret`, now.
    ///
    /// # Errors
    /// See the module's documentation for what is transient or permanent; an
    /// invalid or refused URL is permanent.
    pub async fn send(&self, url: &str, secret: &[u8], delivery_id: &str, body: &[u8]) -> Result<(), SendError> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default();
        self.send_at(url, secret, delivery_id, body, timestamp).await
    }

    /// As [`send`](WebhookSender::send), signed with the given Unix timestamp.
    ///
    /// # Errors
    /// As [`send`](WebhookSender::send).
    pub async fn send_at(
        &self,
        url: &str,
        secret: &[u8],
        delivery_id: &str,
        body: &[u8],
        timestamp: u64,
    ) -> Result<(), SendError> {
        let uri = check_url(url, self.allow_http)?;
        // An IP literal never reaches the resolver: checked here.
        if let Some(ip) = uri
            .host()
            .and_then(|h| h.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok())
        {
            if let Err(class) = self.addresses.check(ip) {
                return Err(refused(&AddressRefused {
                    host: ip.to_string(),
                    address: ip,
                    class,
                }));
            }
        }

        // What the send log and the tenant see: the URL without its password.
        let url = &vigie_platform::redact::url(url);
        let timestamp = timestamp.to_string();
        let request = http::Request::post(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, "Vigie-Webhook/1")
            .header("x-vigie-delivery", delivery_id)
            .header("x-vigie-timestamp", timestamp.as_str())
            .header("x-vigie-signature", signature(secret, &timestamp, body))
            .body(Full::new(Bytes::copy_from_slice(body)))
            .map_err(|error| SendError::Permanent(format!("requête invalide vers {url} : {error}")))?;
        let response = match tokio::time::timeout(self.timeout, self.client.request(request)).await {
            Err(_) => {
                return Err(SendError::Transient(format!(
                    "{url} n'a pas répondu en {:?}",
                    self.timeout
                )))
            }
            Ok(Err(error)) => {
                if let Some(refusal) = refusal_in(&error) {
                    return Err(refused(refusal));
                }
                return Err(SendError::Transient(format!(
                    "requête vers {url} : {}",
                    crate::error::one_line(&error)
                )));
            }
            Ok(Ok(response)) => response,
        };
        classify(url, response.status())
    }
}

/// The permanent error of a refused address: generic for the tenant, detailed in the log.
fn refused(refusal: &AddressRefused) -> SendError {
    tracing::warn!(host = %refusal.host, address = %refusal.address, class = %refusal.class, "webhook address refused");
    SendError::Permanent(ADDRESS_REFUSED.to_owned())
}

/// The resolver's refusal among the causes of a client error.
fn refusal_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a AddressRefused> {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(refusal) = cause.downcast_ref::<AddressRefused>() {
            return Some(refusal);
        }
        source = cause.source();
    }
    None
}

/// Checks, before it is stored, that a webhook URL may be used: an IP
/// literal or the addresses its name resolves to now must be accepted by
/// `addresses` (checked again at each send, the name may change). A name
/// that does not resolve now is accepted (the send will tell).
///
/// # Errors
/// [`AddressRefused`] (its display is the detail for the log).
pub async fn check_webhook_address(url: &str, addresses: &AddressPolicy) -> Result<(), AddressRefused> {
    let Some(host) = url.parse::<http::Uri>().ok().and_then(|u| u.host().map(str::to_owned)) else {
        return Ok(());
    };
    match super::address::resolve(&host).await {
        Ok(ips) => super::address::check_all(addresses, &host, &ips),
        Err(error) => {
            tracing::info!(%host, %error, "webhook host does not resolve now; checked again at send time");
            Ok(())
        }
    }
}

/// The outcome of an answer's status.
fn classify(url: &str, status: http::StatusCode) -> Result<(), SendError> {
    if status.is_success() {
        Ok(())
    } else if status == http::StatusCode::REQUEST_TIMEOUT
        || status == http::StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        Err(SendError::Transient(format!("{url} a répondu {status}")))
    } else {
        Err(SendError::Permanent(format!("{url} a répondu {status}")))
    }
}

/// The URL must be absolute `https`, or `http` to a loopback address (or any
/// host when plain HTTP is allowed).
fn check_url(url: &str, allow_http: bool) -> Result<http::Uri, SendError> {
    let refused = |why: &str| {
        SendError::Permanent(format!(
            "URL de webhook {:?} refusée : {why}",
            vigie_platform::redact::url(url)
        ))
    };
    let uri: http::Uri = url.parse().map_err(|_| refused("URL illisible"))?;
    let host = uri.host().ok_or_else(|| refused("pas d'hôte"))?;
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if allow_http || is_loopback(host) => Ok(uri),
        Some("http") => Err(refused(
            "http n'est accepté que vers la machine locale ; utilisez https",
        )),
        _ => Err(refused("seuls https et http sont acceptés")),
    }
}

/// The `X-Vigie-Signature` value: `sha256=` and the lower-case hex of
/// HMAC-SHA256(`secret`, `<timestamp>.<body>`).
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, &signed_bytes(timestamp, body));
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for byte in tag.as_ref() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn signed_bytes(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + 1 + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    message
}

/// Whether `header` (the `X-Vigie-Signature` value) is the signature of
/// `<timestamp>.<body>` with `secret`, `timestamp` being the
/// `X-Vigie-Timestamp` value as received. The comparison is constant-time.
/// Checking that the timestamp is recent is left to the receiver.
pub fn verify_signature(secret: &[u8], timestamp: &str, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(tag) = decode_hex(hex) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, &signed_bytes(timestamp, body), &tag).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
    hex.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// The delay before retry number `attempt` of a delivery (1 for the first
/// retry; 0 counts as 1): 30 s, doubling at each attempt (1 min, 2 min, 4 min,
/// 8 min…), capped at 6 hours (reached at the 11th retry). Deterministic:
/// callers that retry many deliveries at once may add jitter.
pub fn backoff(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(20);
    BACKOFF_BASE.saturating_mul(1 << doublings).min(BACKOFF_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_30_seconds_up_to_6_hours() {
        assert_eq!(backoff(0), Duration::from_secs(30));
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(120));
        assert_eq!(backoff(10), Duration::from_secs(30 * 512));
        assert_eq!(backoff(11), Duration::from_secs(6 * 3600));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(6 * 3600));
        for attempt in 1..40 {
            assert!(backoff(attempt + 1) >= backoff(attempt));
        }
    }

    #[test]
    fn signatures_verify_only_with_the_same_secret_timestamp_and_body() {
        let header = signature(b"secret", "1700000000", b"{\"a\":1}");
        assert!(header.starts_with("sha256="));
        assert_eq!(header.len(), 7 + 64);
        assert!(verify_signature(b"secret", "1700000000", b"{\"a\":1}", &header));
        assert!(verify_signature(
            b"secret",
            "1700000000",
            b"{\"a\":1}",
            &header.to_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(!verify_signature(b"other", "1700000000", b"{\"a\":1}", &header));
        assert!(!verify_signature(b"secret", "1700000001", b"{\"a\":1}", &header));
        assert!(!verify_signature(b"secret", "1700000000", b"{\"a\":2}", &header));
        assert!(!verify_signature(
            b"secret",
            "1700000000",
            b"{\"a\":1}",
            &header[..header.len() - 2]
        ));
        assert!(!verify_signature(b"secret", "1700000000", b"{\"a\":1}", "sha256=zz"));
        assert!(!verify_signature(
            b"secret",
            "1700000000",
            b"{\"a\":1}",
            &header.replace("sha256=", "sha1=")
        ));
    }

    #[test]
    fn matches_an_independent_implementation() {
        // Python: hmac.new(b"secret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        assert_eq!(
            signature(b"secret", "1700000000", b"{\"a\":1}"),
            "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn urls() {
        assert!(check_url("https://hooks.example/vigie", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook", false).is_ok());
        assert!(check_url("http://[::1]:8080/hook", false).is_ok());
        assert!(check_url("http://localhost/hook", false).is_ok());
        assert!(matches!(
            check_url("http://hooks.example/vigie", false),
            Err(SendError::Permanent(_))
        ));
        assert!(check_url("http://hooks.example/vigie", true).is_ok());
        assert!(matches!(
            check_url("ftp://hooks.example/", true),
            Err(SendError::Permanent(_))
        ));
        assert!(matches!(check_url("/relative", true), Err(SendError::Permanent(_))));
    }

    #[test]
    fn statuses() {
        use http::StatusCode;
        assert!(classify("u", StatusCode::OK).is_ok());
        assert!(classify("u", StatusCode::NO_CONTENT).is_ok());
        for transient in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(transient).unwrap();
            assert!(
                matches!(classify("u", status), Err(SendError::Transient(_))),
                "{status}"
            );
        }
        for permanent in [301, 400, 401, 403, 404, 410, 422] {
            let status = StatusCode::from_u16(permanent).unwrap();
            assert!(
                matches!(classify("u", status), Err(SendError::Permanent(_))),
                "{status}"
            );
        }
    }
}
