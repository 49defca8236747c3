//! Server commands: `vigie dev` (everything in one process) and `vigie serve`
//! (one service, production adapters). Both run the same service code; only
//! the adapters differ (SQLite + in-process events, or PostgreSQL + NATS).

mod console;
pub mod dev;
mod metrics;
mod national;
pub mod serve;
mod transport;

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

use crate::cli::{AuthMode, ServerArgs};
use crate::config::{Overrides, VigieConfig};
use crate::i18n::Lang;

/// Builds the inventory application over a migrated database (its
/// re-assessment loop is in its description).
///
/// # Errors
/// Migration failures.
pub async fn start_inventory(db: Db, config: &VigieConfig, relay: Arc<Notify>) -> anyhow::Result<Inventory> {
    inventory::migrate(&db).await?;
    Ok(
        inventory::application(db, config.fragility.params(), system_clock(), relay)
            .with_read_staleness(std::time::Duration::from_millis(config.inventory.read_staleness_ms)),
    )
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

/// Builds the facilitation application over a migrated database (its
/// escalation loop is in its description).
///
/// # Errors
/// Migration failures.
pub async fn start_facilitation(db: Db, config: &VigieConfig, relay: Arc<Notify>) -> anyhow::Result<FacilitationApp> {
    facilitation::migrate(&db).await?;
    Ok(
        facilitation::application(db, vigie_facilitation::app::system_clock(), relay)
            .with_escalation_delay(config.facilitation.escalation_delay()),
    )
}

/// Builds the federation application over a migrated database (the
/// regional publisher is in its description).
///
/// # Errors
/// Migration failures, an invalid `[federation]` configuration.
pub async fn start_federation(
    db: Db,
    config: &VigieConfig,
    default_region: Option<&str>,
    relay: Arc<Notify>,
) -> anyhow::Result<vigie_federation::app::FederationApp> {
    let settings = config
        .federation
        .settings(default_region)
        .map_err(|e| anyhow::anyhow!(e))?;
    vigie_federation::service::migrate(&db).await?;
    Ok(vigie_federation::service::application(
        db,
        settings,
        vigie_federation::app::system_now(),
        relay,
    ))
}

/// What the flags every server takes (`vigie dev` and `vigie serve`)
/// override in the configuration.
fn server_overrides(server: &ServerArgs) -> Overrides {
    Overrides {
        listen: server.listen,
        oidc_issuer: server.oidc_issuer.clone(),
        oidc_audience: server.oidc_audience.clone(),
        tls_cert: server.tls_cert.clone(),
        tls_key: server.tls_key.clone(),
        tls_client_ca: server.tls_client_ca.clone(),
        metrics_listen: server.metrics_listen,
        ..Overrides::default()
    }
}

/// The alerting service's signing secret: the configured one, else (in
/// `vigie dev` only) one generated once and kept in the data directory.
///
/// # Errors
/// No secret configured in production, or the file cannot be read or written.
pub fn alerting_secret(config: &VigieConfig, generate_in_data_dir: bool) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.alerting.link_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    if !generate_in_data_dir {
        anyhow::bail!(
            "alerting.link_secret (ou VIGIE_ALERTING='{{link_secret=\"…\"}}') est requis : au moins 32 caractères aléatoires, gardés secrets (ils signent les liens des rappels et les URL des calendriers)"
        );
    }
    dev_secret(&config.data_dir.join("alerting-link-secret"))
}

/// The key of the pseudonyms that replace erased people's ids: the
/// configured `pseudonym_secret`, else (in `vigie dev` only) one generated
/// once and kept in the data directory (`pseudonym-secret`, mode 0600).
///
/// # Errors
/// No secret configured in production, or the file cannot be read or written.
pub fn pseudonym_key(
    config: &VigieConfig,
    generate_in_data_dir: bool,
) -> anyhow::Result<vigie_training::erasure::PseudonymKey> {
    if let Some(secret) = &config.pseudonym_secret {
        return Ok(vigie_training::erasure::PseudonymKey::new(secret.as_bytes()));
    }
    if !generate_in_data_dir {
        anyhow::bail!(
            "pseudonym_secret (ou VIGIE_PSEUDONYM_SECRET) est requis : au moins 32 caractères aléatoires, les mêmes pour tous les services, gardés secrets (ils rendent les pseudonymes des personnes effacées impossibles à recalculer)"
        );
    }
    let secret = dev_secret(&config.data_dir.join("pseudonym-secret"))?;
    Ok(vigie_training::erasure::PseudonymKey::new(&secret))
}

/// A secret of `vigie dev` kept in the file `path` of its data directory:
/// read when it holds at least 32 bytes, else 32 random bytes written there
/// in hexadecimal (mode 0600), so it survives restarts.
///
/// # Errors
/// No system randomness, or the file cannot be written.
fn dev_secret(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(secret) = std::fs::read(path) {
        if secret.len() >= 32 {
            return Ok(secret);
        }
    }
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| anyhow::anyhow!("générateur aléatoire du système indisponible"))?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, secret.as_bytes())?;
    Ok(secret.into_bytes())
}

/// Creates the data directory of `vigie dev` (and its parents) with mode
/// 0700: it holds personal data and secrets. An existing directory keeps
/// its mode.
///
/// # Errors
/// When the directory cannot be created.
pub fn create_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes)?;
    Ok(())
}

/// Builds the alerting application over a migrated database and starts its
/// HTTP endpoints in `tasks`; returns it with its loops (dispatcher and
/// scheduled fetches), for its description. Without an SMTP relay, emails
/// are written under `mail_dir` (`vigie dev`).
///
/// # Errors
/// Migration failures, a taken HTTP port, an invalid SMTP or TLS setup.
pub async fn start_alerting(
    db: Db,
    config: &VigieConfig,
    link_secret: Vec<u8>,
    mail_dir: Option<std::path::PathBuf>,
    relay: Arc<Notify>,
    tasks: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) -> anyhow::Result<(vigie_alerting::app::AlertingApp, vigie_alerting::service::Loops)> {
    use vigie_alerting::delivery::{Channels, Mailbox};
    use vigie_alerting::service as alerting;
    alerting::migrate(&db).await?;
    // The default port may be taken (several trial instances): then any free
    // port, whose address the links and calendar URLs carry.
    let configured = config.alerting.http_listen;
    let listener = match vigie_alerting::http::bind(configured).await {
        Ok(listener) => listener,
        Err(error) if configured == crate::config::AlertingConfig::default().http_listen => {
            tracing::warn!(%error, "alerting HTTP port {configured} taken, using a free port");
            vigie_alerting::http::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .map_err(|e| anyhow::anyhow!("HTTP des alertes : {e}"))?
        }
        Err(error) => anyhow::bail!("HTTP des alertes sur {configured} : {error}"),
    };
    let mut settings = config.alerting.settings(link_secret);
    if config.alerting.public_url.is_none() {
        settings.public_url = format!("http://{}", listener.local_addr()?);
    }
    let webhook_addresses = config.alerting.webhook_addresses().map_err(anyhow::Error::msg)?;
    // The same fragility parameters as the inventory's: reminders go to
    // the people the index counts as holders.
    let app = vigie_alerting::app::AlertingApp::new(db, settings, relay)
        .with_fragility(config.fragility.params())
        .with_lease(config.alerting.lease())
        .with_webhook_addresses(webhook_addresses.clone());
    let mailbox = match (&config.alerting.smtp, mail_dir) {
        (Some(smtp), _) => Mailbox::Smtp(Box::new(vigie_alerting::channels::email::SmtpMailer::new(
            smtp.clone(),
        )?)),
        (None, Some(dir)) => Mailbox::Directory(dir),
        (None, None) => anyhow::bail!(
            "alerting.smtp est requis pour envoyer les rappels (hôte, port, expéditeur ; voir docs/operations.md)"
        ),
    };
    let webhooks = vigie_alerting::channels::webhook::WebhookSender::with_addresses(
        std::time::Duration::from_secs(15),
        webhook_addresses,
    )?
    .allow_plain_http(config.alerting.allow_plain_http_webhooks);
    tasks.spawn(vigie_alerting::http::serve(listener, app.clone(), shutdown.clone()));
    let loops = alerting::Loops {
        app: app.clone(),
        transport: Box::new(Channels::new(mailbox, webhooks)),
        dispatch_every: std::time::Duration::from_secs(config.alerting.dispatch_interval_seconds),
        fetch_every: std::time::Duration::from_secs(config.alerting.fetch_interval_hours.saturating_mul(3600)),
    };
    Ok((app, loops))
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

/// Serves `routes` until `stop`, then stops the background `tasks` and
/// waits for them: how `vigie dev` and `vigie serve` end.
///
/// # Errors
/// The gRPC server's failure (the tasks are then left to the runtime).
pub async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    routes: tonic::service::Routes,
    served: &[&str],
    auth: AuthLayer,
    options: vigie_platform::grpc::ServeOptions,
    stop: CancellationToken,
    tasks: JoinSet<()>,
) -> anyhow::Result<()> {
    vigie_platform::grpc::serve(listener, routes, served, auth, options, stop.clone()).await?;
    stop.cancel();
    join_all(tasks).await;
    Ok(())
}

/// Waits for background tasks after shutdown, logging any that panicked.
pub async fn join_all(mut tasks: JoinSet<()>) {
    while let Some(result) = tasks.join_next().await {
        if let Err(error) = result {
            tracing::error!(%error, "background task failed");
        }
    }
}
