//! Fetching a document (an RSS or Atom feed) over HTTP(S).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};

/// Largest document read.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Bound on the whole fetch.
const TIMEOUT: Duration = Duration::from_secs(60);

/// GETs `url` and returns its body (2xx only).
///
/// # Errors
/// An invalid URL, a connection failure, a timeout, a non-2xx status or a body over 32 MiB.
pub async fn fetch_bytes(url: &str) -> anyhow::Result<Vec<u8>> {
    let client = vigie_platform::https::https_client::<Empty<Bytes>>()?;
    let request = hyper::Request::get(url)
        .header("user-agent", "vigie-alerting")
        .body(Empty::new())?;
    let response = tokio::time::timeout(TIMEOUT, client.request(request))
        .await
        .map_err(|_| anyhow::anyhow!("délai dépassé pour {url}"))??;
    let status = response.status();
    if !status.is_success() {
        anyhow::bail!("{url} a répondu {status}");
    }
    let body = tokio::time::timeout(TIMEOUT, Limited::new(response.into_body(), MAX_BYTES).collect())
        .await
        .map_err(|_| anyhow::anyhow!("délai dépassé pour {url}"))?
        .map_err(|e| anyhow::anyhow!("lecture de {url} : {e}"))?;
    Ok(body.to_bytes().to_vec())
}
