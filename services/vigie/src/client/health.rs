//! `vigie health`: asks a server's `grpc.health.v1` whether it serves. The
//! exit code is the answer, for container health checks (the image has no
//! shell and no grpcurl) and scripts; Kubernetes uses its native gRPC probe.

use std::time::Duration;

use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::i18n::Lang;

/// Succeeds when the server (or `service` on it) answers `SERVING` within
/// `timeout_seconds`.
///
/// # Errors
/// The server is unreachable, too slow, or does not serve (the status is named).
pub async fn check(endpoint: &str, service: Option<&str>, timeout_seconds: u64, lang: Lang) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(timeout_seconds.max(1));
    let request = HealthCheckRequest {
        service: service.unwrap_or_default().to_owned(),
    };
    let asked = async {
        let channel = super::connect(endpoint, lang).await?;
        HealthClient::new(channel)
            .check(request)
            .await
            .map_err(|status| super::status_error(status, lang))
    };
    let answer = tokio::time::timeout(timeout, asked).await.map_err(|_| {
        anyhow::anyhow!(
            "{endpoint} : {} {timeout_seconds} s",
            lang.pick("pas de réponse en", "no answer within")
        )
    })??;
    let status = answer.into_inner().status();
    if status == ServingStatus::Serving {
        println!("{}", lang.pick("en service", "serving"));
        return Ok(());
    }
    anyhow::bail!(
        "{endpoint} : {} ({})",
        lang.pick("le serveur ne sert pas", "the server is not serving"),
        status.as_str_name()
    )
}
