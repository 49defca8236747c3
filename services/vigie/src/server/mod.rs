//! Server commands: `vigie dev` (everything in one process) and `vigie serve`
//! (one service, production adapters). Both run the same service code; only
//! the adapters differ (SQLite + in-process events, or PostgreSQL + NATS).

pub mod dev;
pub mod serve;

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vigie_facilitation::app::FacilitationApp;
use vigie_facilitation::service as facilitation;
use vigie_inventory::app::{system_clock, Inventory};
use vigie_inventory::service as inventory;
use vigie_platform::auth::{AuthLayer, OidcConfig, OidcValidator};
use vigie_platform::db::Db;
use vigie_training::app::TrainingApp;
use vigie_training::service as training;

use crate::cli::AuthMode;
use crate::config::VigieConfig;
use crate::i18n::Lang;

/// Builds the inventory application over a migrated database and starts its
/// background re-assessment in `tasks`.
///
/// # Errors
/// Migration failures.
pub async fn start_inventory(
    db: Db,
    config: &VigieConfig,
    relay: Arc<Notify>,
    tasks: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Inventory> {
    inventory::migrate(&db).await?;
    let app = inventory::application(db, config.fragility.params(), system_clock(), relay);
    tasks.spawn(inventory::run_reassessment(app.clone(), shutdown.clone()));
    Ok(app)
}

/// Builds the training application over a migrated database.
///
/// # Errors
/// Migration failures.
pub async fn start_training(db: Db, config: &VigieConfig, relay: Arc<Notify>) -> anyhow::Result<TrainingApp> {
    training::migrate(&db).await?;
    Ok(training::application(
        db,
        config.fragility.params(),
        system_clock(),
        relay,
    ))
}

/// Builds the facilitation application over a migrated database and starts
/// its periodic escalation of unanswered offers in `tasks`.
///
/// # Errors
/// Migration failures.
pub async fn start_facilitation(
    db: Db,
    config: &VigieConfig,
    relay: Arc<Notify>,
    tasks: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) -> anyhow::Result<FacilitationApp> {
    facilitation::migrate(&db).await?;
    let app = facilitation::application(db, vigie_facilitation::app::system_clock(), relay)
        .with_escalation_delay(config.facilitation.escalation_delay());
    tasks.spawn(facilitation::run_escalation(
        app.clone(),
        facilitation::ESCALATION_CHECK_INTERVAL,
        shutdown.clone(),
    ));
    Ok(app)
}

/// The OIDC authentication of `config`, when an issuer is configured:
/// discovers the issuer and loads its keys before anything is served.
/// `None` when neither `oidc_issuer` nor `oidc_audience` is set (and `auth`
/// is not `oidc`).
///
/// # Errors
/// Only one of issuer and audience, `auth = oidc` without them, or an issuer
/// that cannot be reached or answers nonsense.
pub async fn oidc(config: &VigieConfig, lang: Lang) -> anyhow::Result<Option<AuthLayer>> {
    let (issuer, audience) = match (&config.oidc_issuer, &config.oidc_audience) {
        (Some(issuer), Some(audience)) => (issuer, audience),
        (None, None) if config.auth != Some(AuthMode::Oidc) => return Ok(None),
        _ => anyhow::bail!(
            "{}",
            lang.pick(
                "l'authentification OIDC demande --oidc-issuer et --oidc-audience (ou VIGIE_OIDC_ISSUER et VIGIE_OIDC_AUDIENCE), p. ex. --oidc-issuer https://keycloak.example/realms/vigie --oidc-audience vigie",
                "OIDC authentication needs --oidc-issuer and --oidc-audience (or VIGIE_OIDC_ISSUER and VIGIE_OIDC_AUDIENCE), e.g. --oidc-issuer https://keycloak.example/realms/vigie --oidc-audience vigie"
            )
        ),
    };
    let validator = OidcValidator::discover(OidcConfig::new(issuer.as_str(), audience.as_str()))
        .await
        .map_err(|error| match lang {
            Lang::Fr => anyhow::anyhow!(
                "émetteur OIDC {issuer} injoignable ou invalide ({error}).\n  Vérifiez --oidc-issuer / VIGIE_OIDC_ISSUER (l'URL exacte du royaume, telle que dans `iss`, sans « / » final) et que le fournisseur d'identité répond sur {issuer}/.well-known/openid-configuration."
            ),
            Lang::En => anyhow::anyhow!(
                "OIDC issuer {issuer} unreachable or invalid ({error}).\n  Check --oidc-issuer / VIGIE_OIDC_ISSUER (the exact realm URL, as in `iss`, no trailing `/`) and that the identity provider answers on {issuer}/.well-known/openid-configuration."
            ),
        })?;
    tracing::info!(%issuer, %audience, "OIDC authentication: every call needs a valid access token");
    Ok(Some(AuthLayer::oidc(validator)))
}

/// Waits for background tasks after shutdown, logging any that panicked.
pub async fn join_all(mut tasks: JoinSet<()>) {
    while let Some(result) = tasks.join_next().await {
        if let Err(error) = result {
            tracing::error!(%error, "background task failed");
        }
    }
}
