//! The one way a service builds an outbound HTTP client: OIDC discovery and
//! keys, token exchanges, webhooks, funding-call sources.
//!
//! TLS is rustls with the `ring` provider and the Mozilla roots of
//! `webpki-roots` (never the process-wide default provider, which may be
//! unset), HTTP/1.1, `TCP_NODELAY` on (a request body written in two parts
//! must not wait 40 ms for a delayed ACK). The connector speaks `https` and
//! `http`: whether a URL may use plain HTTP (loopback only, or never) is
//! checked by each caller before the request, with the reason in its own
//! words.

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// `http` (a TCP connector, with the caller's resolver) wrapped in TLS.
///
/// # Errors
/// The TLS configuration cannot be built (no usable protocol version).
pub fn https_connector<R>(mut http: HttpConnector<R>) -> Result<HttpsConnector<HttpConnector<R>>, rustls::Error> {
    http.enforce_http(false);
    http.set_nodelay(true);
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

/// A client with the system resolver, sending bodies of type `B`.
///
/// # Errors
/// As [`https_connector`].
pub fn https_client<B>() -> Result<Client<HttpsConnector<HttpConnector>, B>, rustls::Error>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    Ok(Client::builder(TokioExecutor::new()).build(https_connector(HttpConnector::new())?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::Empty;

    /// A real exchange on loopback: the client reaches a plain HTTP server
    /// (the callers' URL checks decide when that is allowed).
    #[tokio::test]
    async fn the_client_reaches_a_loopback_server() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await.unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut socket, b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
        });
        let client = https_client::<Empty<Bytes>>().unwrap();
        let response = client
            .request(
                hyper::Request::get(format!("http://{address}/"))
                    .body(Empty::new())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        server.await.unwrap();
    }
}
