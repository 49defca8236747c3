//! The authentication layer of every gRPC server.
//!
//! [`AuthLayer`] reads `authorization: Bearer <token>`, validates the token
//! and inserts the caller's [`Principal`] into the request extensions, where
//! handlers find it with [`principal`]. A missing or invalid token is
//! answered `UNAUTHENTICATED` (grpc-status 16) with no message: the cause is
//! logged at debug level, never sent. The gRPC health and reflection services
//! stay open (load balancers and `grpcurl` call them without a token).

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::{Layer, Service};

use super::dev_issuer::DevIssuer;
use super::oidc::{OidcValidator, TokenError};
use super::principal::Principal;

/// The services reachable without a token, by default.
pub const OPEN_SERVICES: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// How callers are identified.
#[derive(Clone, Debug)]
pub enum Authenticator {
    /// Bearer access tokens validated against an OIDC issuer.
    Oidc(Arc<OidcValidator>),
    /// `vigie dev`: every request is [`Principal::dev`], no token read.
    /// Only for a loopback listener.
    DevIdentity,
    /// `vigie dev` with its console: a request without a token is
    /// [`Principal::dev`] (the CLI); a request with one is the demo profile
    /// the [`DevIssuer`] signed it for, and an invalid one is refused (never
    /// the all-powerful identity). Only for a loopback listener.
    DevIssued(Arc<DevIssuer>),
}

/// Adds authentication to a service (see the module documentation).
#[derive(Clone, Debug)]
pub struct AuthLayer {
    authenticator: Authenticator,
    open: Arc<Vec<String>>,
}

impl AuthLayer {
    /// Authenticates with `authenticator`; [`OPEN_SERVICES`] stay open.
    pub fn new(authenticator: Authenticator) -> Self {
        AuthLayer {
            authenticator,
            open: Arc::new(OPEN_SERVICES.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    /// OIDC access tokens.
    pub fn oidc(validator: Arc<OidcValidator>) -> Self {
        Self::new(Authenticator::Oidc(validator))
    }

    /// The local development identity (`vigie dev`).
    pub fn dev() -> Self {
        Self::new(Authenticator::DevIdentity)
    }

    /// The local development identity, and the demo profiles' tokens of
    /// `issuer` (`vigie dev` with its console).
    pub fn dev_with_issuer(issuer: Arc<DevIssuer>) -> Self {
        Self::new(Authenticator::DevIssued(issuer))
    }

    /// Replaces the services reachable without a token (fully qualified gRPC
    /// service names).
    #[must_use]
    pub fn with_open_services(mut self, services: &[&str]) -> Self {
        self.open = Arc::new(services.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    fn is_open(&self, path: &str) -> bool {
        self.open.iter().any(|service| {
            path.strip_prefix('/')
                .and_then(|p| p.strip_prefix(service.as_str()))
                .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            layer: self.clone(),
        }
    }
}

/// The authenticating service.
#[derive(Clone, Debug)]
pub struct Auth<S> {
    inner: S,
    layer: AuthLayer,
}

impl<S, B, R> Service<http::Request<B>> for Auth<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone is not ready; the one that was polled serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if self.layer.is_open(request.uri().path()) {
            return Box::pin(inner.call(request));
        }
        let authenticator = self.layer.authenticator.clone();
        Box::pin(async move {
            let outcome = match &authenticator {
                Authenticator::DevIdentity => Ok(Principal::dev()),
                Authenticator::DevIssued(issuer) => match bearer(request.headers()) {
                    Some(token) => issuer.verify(token),
                    None => Ok(Principal::dev()),
                },
                Authenticator::Oidc(validator) => match bearer(request.headers()) {
                    Some(token) => validator.validate(token).await,
                    None => Err(TokenError::Missing),
                },
            };
            match outcome {
                Ok(principal) => {
                    request.extensions_mut().insert(principal);
                    inner.call(request).await
                }
                Err(error) => {
                    tracing::debug!(%error, path = request.uri().path(), "request refused: unauthenticated");
                    Ok(unauthenticated())
                }
            }
        })
    }
}

/// The token of an `authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A trailers-only gRPC answer `UNAUTHENTICATED` without message or details.
fn unauthenticated<R: Default>() -> http::Response<R> {
    let mut response = http::Response::new(R::default());
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", http::HeaderValue::from_static("16"));
    response
}

/// The caller of `request`, inserted by [`AuthLayer`].
///
/// # Errors
/// `UNAUTHENTICATED` (without detail) when the service is not behind the layer
/// or the method is one of the open services: a server bug, logged as an error.
#[allow(clippy::result_large_err)]
pub fn principal<T>(request: &tonic::Request<T>) -> Result<&Principal, tonic::Status> {
    request.extensions().get::<Principal>().ok_or_else(|| {
        tracing::error!("no principal on the request: is the service behind AuthLayer?");
        tonic::Status::unauthenticated("")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn request(path: &str, authorization: Option<&str>) -> http::Request<()> {
        let mut builder = http::Request::builder().uri(path);
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        builder.body(()).unwrap_or_default()
    }

    /// Answers with the principal's subject, or `-` when there is none.
    async fn echo(request: http::Request<()>) -> Result<http::Response<String>, Infallible> {
        let subject = request
            .extensions()
            .get::<Principal>()
            .map_or_else(|| "-".to_owned(), |p| p.subject.clone());
        Ok(http::Response::new(subject))
    }

    #[tokio::test]
    async fn dev_identity_is_all_powerful_and_open_services_get_no_principal() {
        let mut service = AuthLayer::dev().layer(tower::service_fn(echo));
        let response = service
            .call(request("/vigie.inventory.v1.InventoryService/Get", None))
            .await;
        let response = response.unwrap_or_else(|never| match never {});
        assert_eq!(response.body(), "vigie-dev");
        let response = service.call(request("/grpc.health.v1.Health/Check", None)).await;
        let response = response.unwrap_or_else(|never| match never {});
        assert_eq!(response.body(), "-");
        assert_eq!(Principal::dev().roles.len(), 6);
    }

    #[test]
    fn open_paths_match_whole_service_names() {
        let layer = AuthLayer::dev();
        assert!(layer.is_open("/grpc.health.v1.Health/Check"));
        assert!(layer.is_open("/grpc.health.v1.Health/Watch"));
        assert!(layer.is_open("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
        assert!(!layer.is_open("/grpc.health.v1.HealthX/Check"));
        assert!(!layer.is_open("/grpc.health.v1.Health"));
        assert!(!layer.is_open("/vigie.inventory.v1.InventoryService/Get"));
        assert!(!layer.with_open_services(&[]).is_open("/grpc.health.v1.Health/Check"));
    }

    #[test]
    fn bearer_scheme_is_required() {
        let headers = |value: &str| {
            let mut map = http::HeaderMap::new();
            if let Ok(value) = http::HeaderValue::from_str(value) {
                map.insert(http::header::AUTHORIZATION, value);
            }
            map
        };
        assert_eq!(bearer(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("Basic abc")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&headers("Bearerabc")), None);
        assert_eq!(bearer(&http::HeaderMap::new()), None);
    }
}
