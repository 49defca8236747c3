//! A protected gRPC server (a `grpc.health.v1.Health` implementation that
//! records the caller's principal, with no open service) and its client.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use vigie_platform::auth::{self, AuthLayer, OidcConfig, OidcValidator, Principal};
use vigie_testkit::OidcIssuer;

/// The API audience the tests configure.
pub const AUDIENCE: &str = "vigie-api";

/// An issuer and a validator configured for it with the defaults.
pub async fn issuer_and_validator() -> (OidcIssuer, Arc<OidcValidator>) {
    issuer_and_validator_with(|_| {}).await
}

/// An issuer and a validator whose default configuration `adjust` changed.
pub async fn issuer_and_validator_with(adjust: impl FnOnce(&mut OidcConfig)) -> (OidcIssuer, Arc<OidcValidator>) {
    vigie_testkit::init_test_logging();
    let issuer = OidcIssuer::start(AUDIENCE).await.unwrap();
    let mut config = OidcConfig::new(issuer.issuer(), AUDIENCE);
    adjust(&mut config);
    let validator = OidcValidator::discover(config).await.unwrap();
    (issuer, validator)
}

/// Records the principal of each call it serves.
#[derive(Default, Clone)]
pub struct WhoAmI {
    seen: Arc<Mutex<Vec<Principal>>>,
}

#[tonic::async_trait]
impl Health for WhoAmI {
    async fn check(&self, request: Request<HealthCheckRequest>) -> Result<Response<HealthCheckResponse>, Status> {
        let principal = auth::principal(&request)?.clone();
        self.seen.lock().unwrap().push(principal);
        Ok(Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }

    type WatchStream = tokio_stream::Empty<Result<HealthCheckResponse, Status>>;

    async fn watch(&self, _: Request<HealthCheckRequest>) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("watch"))
    }
}

/// A tonic server on a free loopback port, stopped on drop.
pub struct Server {
    pub addr: SocketAddr,
    pub who: WhoAmI,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Server {
    /// Serves [`WhoAmI`] behind `layer` with no open service.
    pub async fn protected(layer: AuthLayer) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let who = WhoAmI::default();
        let stop = CancellationToken::new();
        let router = tonic::transport::Server::builder()
            .layer(layer.with_open_services(&[]))
            .add_service(HealthServer::new(who.clone()));
        tokio::spawn(
            router.serve_with_incoming_shutdown(TcpListenerStream::new(listener), stop.clone().cancelled_owned()),
        );
        Server { addr, who, stop }
    }

    /// Calls `Check` with `authorization: Bearer <token>` (no metadata when
    /// `None`) and returns the principal the handler saw.
    pub async fn call(&self, token: Option<&str>) -> Result<Principal, Status> {
        self.call_with_header(token.map(|t| format!("Bearer {t}"))).await
    }

    /// Calls `Check` with this exact `authorization` value.
    pub async fn call_with_header(&self, authorization: Option<String>) -> Result<Principal, Status> {
        let mut client = HealthClient::new(channel(self.addr).await);
        let mut request = Request::new(HealthCheckRequest::default());
        if let Some(value) = authorization {
            request.metadata_mut().insert("authorization", value.parse().unwrap());
        }
        let before = self.who.seen.lock().unwrap().len();
        client.check(request).await?;
        let seen = self.who.seen.lock().unwrap();
        assert_eq!(seen.len(), before + 1, "the handler ran once");
        Ok(seen.last().cloned().unwrap())
    }
}

/// A client channel to `addr` (the server's port is bound: no waiting).
pub async fn channel(addr: SocketAddr) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Asserts a refusal is `UNAUTHENTICATED` with no message, no details and no
/// `grpc-message`.
pub fn assert_unauthenticated(result: Result<Principal, Status>) {
    let status = match result {
        Ok(principal) => panic!("accepted as {principal:?}"),
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(status.message(), "", "no detail leaked");
    assert!(status.details().is_empty(), "no details leaked");
    assert!(status.metadata().get("grpc-message").is_none(), "no grpc-message");
}
