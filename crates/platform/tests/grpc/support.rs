//! A server on a free loopback port, and three small services written by
//! hand: `Big` answers as many bytes as asked (message size limits), `Gate`
//! answers only when the test opens it (concurrency and time bounds),
//! `Refuse` refuses with a status as long as asked (statuses' size).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;
use vigie_platform::auth::AuthLayer;
use vigie_platform::grpc::{self, GrpcLimits, ServeOptions};
use vigie_platform::words::{words, IntoStatus, Words};

/// A running server, stopped on drop.
pub struct Server {
    /// `127.0.0.1:PORT`.
    pub addr: std::net::SocketAddr,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn http(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn https(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serves `routes` with `options` on a free loopback port. The socket is
/// bound before this returns, so clients may connect at once.
pub async fn serve(routes: Routes, options: ServeOptions) -> Server {
    vigie_testkit::init_test_logging();
    let listener = grpc::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let served = [Big::NAME, Gate::NAME, Refuse::NAME];
    let task = tokio::spawn({
        let stop = stop.clone();
        async move {
            grpc::serve(listener, routes, &served, AuthLayer::dev(), options, stop)
                .await
                .unwrap();
        }
    });
    Server {
        addr,
        stop,
        task: Some(task),
    }
}

/// A hand-written test service: how it answers one HTTP request.
pub trait Answer: Clone + Send + Sync + 'static {
    /// The response to `request`.
    fn answer(self, request: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>>;
}

/// Serves an [`Answer`] as a `tower::Service` under its gRPC name: the
/// plumbing (always ready, a boxed future that cannot fail) is the same for
/// every test service, so it is written once here.
#[derive(Clone)]
pub struct Unary<S>(pub S);

impl<S: NamedService> NamedService for Unary<S> {
    const NAME: &'static str = S::NAME;
}

impl<S: Answer> tower::Service<http::Request<Body>> for Unary<S> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let answer = self.0.clone().answer(request);
        Box::pin(async move { Ok(answer.await) })
    }
}

/// Answers `n` bytes for a request `n` (`/vigie.test.Big/Get`), within the
/// message size limits of `limits`, as the generated servers do with them.
#[derive(Clone)]
pub struct Big {
    pub limits: GrpcLimits,
}

impl NamedService for Big {
    const NAME: &'static str = "vigie.test.Big";
}

impl Answer for Big {
    fn answer(self, request: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>> {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<Vec<u8>, u32>::default())
                .apply_max_message_size_config(
                    Some(self.limits.max_request_bytes),
                    Some(self.limits.max_response_bytes),
                );
            let answer = tower::service_fn(|request: Request<u32>| async move {
                Ok::<_, Status>(Response::new(vec![b'v'; request.into_inner() as usize]))
            });
            grpc.unary(answer, request).await
        })
    }
}

/// Calls `Big` for `n` bytes, reading answers up to `max_response` bytes.
pub async fn get_big(channel: Channel, n: u32, max_response: Option<usize>) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    if let Some(max) = max_response {
        grpc = grpc.max_decoding_message_size(max);
    }
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static("/vigie.test.Big/Get");
    grpc.unary(Request::new(n), path, ProstCodec::<u32, Vec<u8>>::default())
        .await
        .map(Response::into_inner)
}

/// Answers each request once the test adds a permit; tells when a request
/// has arrived.
#[derive(Clone)]
pub struct Gate {
    pub permits: Arc<Semaphore>,
    pub arrived: Arc<Notify>,
}

impl Gate {
    /// A closed gate.
    pub fn closed() -> Self {
        Gate {
            permits: Arc::new(Semaphore::new(0)),
            arrived: Arc::new(Notify::new()),
        }
    }
}

impl NamedService for Gate {
    const NAME: &'static str = "vigie.test.Gate";
}

impl Answer for Gate {
    fn answer(self, request: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>> {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<u32, u32>::default());
            let answer = tower::service_fn(move |request: Request<u32>| {
                let gate = self.clone();
                async move {
                    gate.arrived.notify_one();
                    let permit = gate.permits.acquire().await.map_err(|_| Status::internal("closed"))?;
                    permit.forget();
                    Ok::<_, Status>(Response::new(request.into_inner()))
                }
            });
            grpc.unary(answer, request).await
        })
    }
}

/// Calls `Gate`.
pub async fn pass_gate(channel: Channel) -> Result<u32, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static("/vigie.test.Gate/Pass");
    grpc.unary(Request::new(7_u32), path, ProstCodec::<u32, u32>::default())
        .await
        .map(Response::into_inner)
}

/// The health status of the server's `Big` service over `channel`.
pub async fn health(channel: Channel) -> Result<i32, Status> {
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    let response = client
        .check(tonic_health::pb::HealthCheckRequest {
            service: Big::NAME.to_owned(),
        })
        .await?;
    Ok(response.into_inner().status)
}

/// `SERVING` in `grpc.health.v1`.
pub const SERVING: i32 = 1;

/// Refuses every request `n` as a service's handler would, with [`Words`]:
/// `/vigie.test.Refuse/Lines` names `n` bad rows of a file, one a line;
/// `/vigie.test.Refuse/Echo` names an identifier of `n` letters.
#[derive(Clone)]
pub struct Refuse;

impl NamedService for Refuse {
    const NAME: &'static str = "vigie.test.Refuse";
}

impl Answer for Refuse {
    fn answer(self, request: http::Request<Body>) -> BoxFuture<'static, http::Response<Body>> {
        let lines = request.uri().path().ends_with("/Lines");
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<u32, u32>::default());
            let answer = tower::service_fn(move |request: Request<u32>| async move {
                let n = request.into_inner() as usize;
                let words = if lines {
                    let rows: Vec<Words> = (1..=n)
                        .map(|i| {
                            words!(
                                "personnes.csv:{i}: âge « deux cents » invalide",
                                "people.csv:{i}: invalid age “deux cents”"
                            )
                        })
                        .collect();
                    Words::lines(&rows)
                } else {
                    let id = "é".repeat(n);
                    words!("structure « {id} » introuvable", "structure “{id}” not found")
                };
                Err::<Response<u32>, Status>(words.into_status(tonic::Code::InvalidArgument))
            });
            grpc.unary(answer, request).await
        })
    }
}

/// The status `Refuse` answers at `path` (`Lines` or `Echo`) for `n`.
pub async fn refused(channel: Channel, path: &'static str, n: u32) -> Status {
    let mut grpc = tonic::client::Grpc::new(channel);
    if let Err(error) = grpc.ready().await {
        return Status::unavailable(error.to_string());
    }
    let path = http::uri::PathAndQuery::from_static(path);
    match grpc
        .unary(Request::new(n), path, ProstCodec::<u32, u32>::default())
        .await
    {
        Ok(answer) => Status::ok(format!("answered {}", answer.into_inner())),
        Err(status) => status,
    }
}

/// Routes with the three test services.
pub fn routes(limits: &GrpcLimits, gate: Gate) -> Routes {
    Routes::new(Unary(Big { limits: limits.clone() }))
        .add_service(Unary(gate))
        .add_service(Unary(Refuse))
}
