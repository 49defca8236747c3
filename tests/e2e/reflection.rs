//! gRPC reflection answers in both versions: `v1`, and `v1alpha` for the
//! clients that only speak it (Python grpcio's reflection client, older
//! grpcurl and GUI clients).

use anyhow::{ensure, Context, Result};
use tokio_stream::StreamExt;
use vigie_e2e::VigieServer;

#[tokio::test]
async fn both_reflection_versions_list_the_services() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().context("path")?.to_owned();
    let server = VigieServer::dev(&data, &[], &[]).await?;
    let channel = tonic::transport::Endpoint::from_shared(server.endpoint.clone())?
        .connect()
        .await?;

    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as AlphaClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest as AlphaRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse as AlphaResponse;
    let request = tonic_reflection::pb::v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(AlphaRequest::ListServices(String::new())),
    };
    let mut answers = AlphaClient::new(channel.clone())
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await?
        .into_inner();
    let answer = answers.next().await.context("no v1alpha answer")??;
    let Some(AlphaResponse::ListServicesResponse(list)) = answer.message_response else {
        anyhow::bail!("unexpected v1alpha answer {answer:?}");
    };
    let alpha: Vec<String> = list.service.into_iter().map(|s| s.name).collect();

    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await?
        .into_inner();
    let answer = answers.next().await.context("no v1 answer")??;
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        anyhow::bail!("unexpected v1 answer {answer:?}");
    };
    let v1: Vec<String> = list.service.into_iter().map(|s| s.name).collect();

    for name in [
        "vigie.inventory.v1.InventoryService",
        "vigie.alerting.v1.AlertingService",
        "vigie.federation.v1.FederationService",
    ] {
        ensure!(
            alpha.iter().any(|s| s == name),
            "{name} missing from v1alpha: {alpha:?}"
        );
        ensure!(v1.iter().any(|s| s == name), "{name} missing from v1: {v1:?}");
    }
    Ok(())
}
