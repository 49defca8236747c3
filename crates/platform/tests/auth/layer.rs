//! The layer's open services and the development identity.

use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tonic::Request;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use vigie_platform::auth::{AuthLayer, Principal, Role};

use crate::support::{channel, issuer_and_validator, Server};

#[tokio::test]
async fn health_and_reflection_stay_open_without_a_token() {
    let (_issuer, validator) = issuer_and_validator().await;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("vigie.test.v1.Protected", tonic_health::ServingStatus::Serving)
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    let router = tonic::transport::Server::builder()
        .layer(AuthLayer::oidc(validator))
        .add_service(health)
        .add_service(reflection);
    tokio::spawn(router.serve_with_incoming_shutdown(TcpListenerStream::new(listener), stop.cancelled_owned()));

    let mut client = HealthClient::new(channel(addr).await);
    for authorization in [None, Some("Bearer not-a-token")] {
        let mut request = Request::new(HealthCheckRequest {
            service: "vigie.test.v1.Protected".into(),
        });
        if let Some(value) = authorization {
            request.metadata_mut().insert("authorization", value.parse().unwrap());
        }
        let response = client.check(request).await.unwrap().into_inner();
        assert_eq!(response.status, ServingStatus::Serving as i32, "{authorization:?}");
    }

    let mut reflection = ServerReflectionClient::new(channel(addr).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("unexpected answer {answer:?}");
    };
    assert!(
        list.service.iter().any(|s| s.name == "grpc.health.v1.Health"),
        "{list:?}"
    );
}

#[tokio::test]
async fn a_handler_behind_an_open_path_gets_no_principal() {
    let (issuer, validator) = issuer_and_validator().await;
    // `Server::protected` removes the open services; here the default keeps
    // Health open, so the recording handler finds no principal, even with a
    // valid token, and `principal()` answers UNAUTHENTICATED.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    let router = tonic::transport::Server::builder()
        .layer(AuthLayer::oidc(validator))
        .add_service(tonic_health::pb::health_server::HealthServer::new(
            crate::support::WhoAmI::default(),
        ));
    tokio::spawn(router.serve_with_incoming_shutdown(TcpListenerStream::new(listener), stop.cancelled_owned()));
    let mut client = HealthClient::new(channel(addr).await);
    let mut request = Request::new(HealthCheckRequest::default());
    let token = issuer.token().sign().unwrap();
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let status = client.check(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert_eq!(status.message(), "");
}

#[tokio::test]
async fn the_dev_identity_needs_no_token_and_holds_every_role() {
    let server = Server::protected(AuthLayer::dev()).await;
    let principal = server.call(None).await.unwrap();
    assert_eq!(principal, Principal::dev());
    for role in Role::ALL {
        assert!(principal.has_role(role), "{role}");
    }
}

#[tokio::test]
async fn the_dev_issuer_signs_in_demo_profiles_and_refuses_any_other_token() {
    use std::sync::Arc;
    use std::time::Duration;
    use vigie_platform::auth::{DevIssuer, Scope};

    let issuer = Arc::new(DevIssuer::new().unwrap());
    let server = Server::protected(AuthLayer::dev_with_issuer(issuer.clone())).await;
    // No token: the CLI of `vigie dev`, all-powerful as before.
    assert_eq!(server.call(None).await.unwrap(), Principal::dev());
    // A profile's token: exactly that profile.
    let director = issuer.issue(
        "direction-S000004",
        &[Role::StructureManager],
        &["/networks/n1/structures/S000004".to_owned()],
        Duration::from_secs(60),
    );
    let principal = server.call(Some(&director)).await.unwrap();
    assert_eq!(principal.subject, "direction-S000004");
    assert_eq!(
        principal.roles.iter().copied().collect::<Vec<_>>(),
        vec![Role::StructureManager]
    );
    assert_eq!(
        principal.scopes,
        vec![Scope::Structure {
            network: "n1".to_owned(),
            structure: "S000004".to_owned()
        }]
    );
    // A token of another process, an expired one, garbage: refused, never
    // the all-powerful identity.
    let other = DevIssuer::new()
        .unwrap()
        .issue("x", &[Role::FederationAdmin], &[], Duration::from_secs(60));
    let expired = issuer.issue("x", &[Role::FederationAdmin], &[], Duration::ZERO);
    for token in [other.as_str(), expired.as_str(), "garbage"] {
        let status = server.call(Some(token)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{token:.20}");
    }
}
