//! `vigie serve <service>`: one service per process, on PostgreSQL and NATS
//! JetStream, as deployed in production.

use std::sync::Arc;

use anyhow::Context;
use tokio::task::JoinSet;
use vigie_facilitation::service as facilitation;
use vigie_inventory::service as inventory;
use vigie_platform::auth::AuthLayer;
use vigie_platform::db::Db;
use vigie_platform::events::Consumer;
use vigie_platform::events::{jetstream, JetStreamPublisher, Relay};
use vigie_platform::{grpc, redact, shutdown};
use vigie_training::service as training;

use super::transport::limited;
use crate::cli::{AuthMode, ServeArgs, ServiceName};
use crate::config::{Overrides, VigieConfig};
use crate::i18n::Lang;
use vigie_platform::telemetry::Telemetry;

/// Runs one service until SIGTERM or Ctrl-C.
///
/// # Errors
/// Missing settings, an unreachable database or NATS server, a taken port.
pub async fn run(args: ServeArgs, lang: Lang, telemetry: &mut Telemetry) -> anyhow::Result<()> {
    if args.service == ServiceName::Console {
        // A client of the services: no database, no NATS, no gRPC server.
        return super::console::run_serve(&args, lang).await;
    }
    let overrides = Overrides {
        database_url: args.database_url.clone(),
        nats_url: args.nats_url.clone(),
        nats_creds: args.nats.nats_creds.clone(),
        nats_nkey: args.nats.nats_nkey.clone(),
        nats_tls_ca: args.nats.nats_tls_ca.clone(),
        nats_tls_cert: args.nats.nats_tls_cert.clone(),
        nats_tls_key: args.nats.nats_tls_key.clone(),
        nats_require_tls: args.nats.nats_require_tls.then_some(true),
        auth: args.auth,
        ..super::server_overrides(&args.server)
    };
    let config = VigieConfig::load(args.server.config.as_deref(), &overrides)?;
    if args.national && !matches!(args.service, ServiceName::Federation) {
        anyhow::bail!(
            "{}",
            lang.pick(
                "--national ne s'emploie qu'avec « vigie serve federation »",
                "--national only goes with `vigie serve federation`"
            )
        );
    }
    if matches!(args.service, ServiceName::Alerting) {
        // Links and calendar URLs are capabilities: never in cleartext off loopback.
        vigie_alerting::public_url::check_for_serve(&config.alerting.public_url()).map_err(|e| anyhow::anyhow!(e))?;
    }
    let Some(database_url) = config.database_url.clone() else {
        anyhow::bail!(
            "{}",
            lang.pick(
                "--database-url (ou VIGIE_DATABASE_URL) est requis",
                "--database-url (or VIGIE_DATABASE_URL) is required"
            )
        );
    };
    let Some(nats_url) = config.nats_url.clone() else {
        anyhow::bail!(
            "{}",
            lang.pick(
                "--nats-url (ou VIGIE_NATS_URL) est requis",
                "--nats-url (or VIGIE_NATS_URL) is required"
            )
        );
    };
    // Before any connection: a wrong issuer fails fast, and nothing is served
    // without its keys.
    let auth = match config.auth {
        Some(AuthMode::Oidc) => super::oidc(&config, lang)
            .await?
            .context("OIDC non configuré")?,
        Some(AuthMode::None) => {
            if config.oidc_issuer.is_some() || config.oidc_audience.is_some() {
                anyhow::bail!(
                    "{}",
                    lang.pick(
                        "--auth none contredit --oidc-issuer / --oidc-audience (ou VIGIE_OIDC_*) : choisissez --auth oidc, ou retirez l'émetteur",
                        "--auth none contradicts --oidc-issuer / --oidc-audience (or VIGIE_OIDC_*): choose --auth oidc, or remove the issuer"
                    )
                );
            }
            tracing::warn!(
                "authentication disabled (--auth none): every caller is trusted; use only behind a trusted network"
            );
            // Every call runs as the all-powerful local principal.
            AuthLayer::dev()
        }
        None => anyhow::bail!(
            "{}",
            lang.pick(
                "choisissez l'authentification : --auth oidc --oidc-issuer URL --oidc-audience AUDIENCE (ou VIGIE_AUTH, VIGIE_OIDC_ISSUER, VIGIE_OIDC_AUDIENCE), ou --auth none, explicitement, derrière un réseau de confiance",
                "choose authentication: --auth oidc --oidc-issuer URL --oidc-audience AUDIENCE (or VIGIE_AUTH, VIGIE_OIDC_ISSUER, VIGIE_OIDC_AUDIENCE), or --auth none, explicitly, behind a trusted network"
            )
        ),
    };

    // TLS files are read and checked before anything connects.
    let grpc_options = super::transport::grpc_options(&config, lang)?;
    let limits = grpc_options.limits.clone();

    // Services that pseudonymise erased people need the deployment's key.
    let pseudonyms = match args.service {
        ServiceName::Inventory | ServiceName::Federation => None,
        _ => Some(super::pseudonym_key(&config, false)?),
    };
    let pseudonym_key = move || pseudonyms.clone().context("pseudonym_secret");

    if let Some(weak) =
        vigie_platform::db::transport::weakness(&database_url, std::env::var("PGSSLMODE").ok().as_deref())
    {
        // Loud but not fatal: the operator may know the network is private.
        eprintln!("{}", weak.french());
    }
    let db = Db::connect(&database_url).await.with_context(|| {
        format!(
            "{} {}",
            lang.pick("connexion à PostgreSQL", "connecting to PostgreSQL"),
            redact::url(&database_url)
        )
    })?;
    let js = jetstream::connect_with(
        &nats_url,
        &format!("vigie-{}", args.service.name()),
        &config.nats_security(),
    )
    .await
    .with_context(|| {
        format!(
            "{} {}",
            lang.pick("connexion à NATS", "connecting to NATS"),
            redact::url(&nats_url)
        )
    })?;

    let stop = shutdown::on_signal();
    let mut tasks = JoinSet::new();
    // Before anything creates an instrument (relay, consumers, gRPC layer).
    super::metrics::start(
        &config,
        telemetry,
        &mut tasks,
        &stop,
        &format!("vigie serve {}", args.service.name()),
        lang,
    )
    .await?;
    if args.national {
        // The national hub holds only the sourced stream of the regions'
        // snapshots (docs/federation.md).
        super::national::ensure_streams(&js, &config, lang).await?;
    }
    let mut relay = Relay::new(db.clone(), Arc::new(JetStreamPublisher::new(js.clone())));
    if telemetry.metrics_enabled() {
        // Outbox backlog gauges, sampled only when metrics go somewhere.
        relay = relay.with_metrics_name(args.service.name());
    }
    // The service describes its consumers; each runs as a JetStream durable
    // consumer of its name (docs/events.md).
    let (mut service, routes) = match args.service {
        ServiceName::Inventory => {
            let app = super::start_inventory(db.clone(), &config, relay.notifier()).await?;
            (
                inventory::describe(&db, &app),
                tonic::service::Routes::new(limited!(inventory::grpc(app), limits)),
            )
        }
        ServiceName::Training => {
            let app = super::start_training(db.clone(), &config, relay.notifier()).await?;
            (
                training::describe(&db, &pseudonym_key()?),
                tonic::service::Routes::new(limited!(training::grpc(app), limits)),
            )
        }
        ServiceName::Facilitation => {
            let app = super::start_facilitation(db.clone(), &config, relay.notifier()).await?;
            (
                facilitation::describe(&db, &app, &pseudonym_key()?),
                tonic::service::Routes::new(limited!(facilitation::grpc(app), limits)),
            )
        }
        ServiceName::Alerting => {
            let (app, loops) = super::start_alerting(
                db.clone(),
                &config,
                super::alerting_secret(&config, false)?,
                None,
                relay.notifier(),
                &mut tasks,
                &stop,
            )
            .await?;
            (
                vigie_alerting::service::describe(&db, &pseudonym_key()?, None, Some(loops)),
                tonic::service::Routes::new(limited!(vigie_alerting::service::grpc(app), limits)),
            )
        }
        ServiceName::Federation if args.national => {
            let app = super::start_federation(db.clone(), &config, Some("national"), relay.notifier()).await?;
            if telemetry.metrics_enabled() {
                tasks.spawn(vigie_federation::metrics::run_sampler(app.clone(), stop.clone()));
            }
            (
                vigie_federation::service::describe_national(&db, &app),
                tonic::service::Routes::new(limited!(vigie_federation::service::grpc(app), limits)),
            )
        }
        ServiceName::Federation => {
            let app = super::start_federation(db.clone(), &config, None, relay.notifier()).await?;
            super::national::link_region(&config, &app.settings().region, lang).await?;
            (
                vigie_federation::service::describe(&db, &app, Some(config.federation.check_interval())),
                tonic::service::Routes::new(limited!(vigie_federation::service::grpc(app), limits)),
            )
        }
        // Served by `console::run_serve` above, before anything connects.
        ServiceName::Console => anyhow::bail!("vigie serve console"),
    };
    if !args.national {
        // A service creates the stream it publishes to and those its
        // consumers read, as its description names them (idempotent), so
        // services can start in any order: created when missing, with the
        // configured retention; an existing stream is never modified
        // (docs/events.md, « Streams and retention »).
        let retention = config.events.stream_settings();
        for stream in std::iter::once(service.name.to_owned()).chain(service.producers()) {
            jetstream::ensure_stream_with(&js, &stream, &retention).await?;
        }
    }
    for consumer in &service.consumers {
        if args.national {
            // The national hub reads the stream that sources every region.
            tasks.spawn(super::national::consume(
                js.clone(),
                consumer.clone(),
                super::national::regions(&config),
                stop.clone(),
            ));
        } else {
            tasks.spawn(consume(js.clone(), consumer.clone(), stop.clone()));
        }
    }
    service.spawn_loops(&mut tasks, &stop);
    tasks.spawn(relay.run(stop.clone()));
    let listener = grpc::bind(config.listen).await?;
    // One plain line for operators and scripts, whatever the log level.
    eprintln!(
        "vigie serve {}: {} {}",
        args.service.name(),
        lang.pick("à l'écoute sur", "listening on"),
        super::transport::endpoint(listener.local_addr()?, &grpc_options)
    );
    super::serve_until_stopped(
        listener,
        routes,
        &[service.grpc_service],
        auth,
        grpc_options,
        stop,
        tasks,
    )
    .await
}

/// Runs a durable JetStream consumer until shutdown, logging a failure
/// (the consumer retries transient errors itself).
async fn consume(js: async_nats::jetstream::Context, consumer: Consumer, stop: tokio_util::sync::CancellationToken) {
    if let Err(error) = jetstream::run_jetstream_consumers(js, consumer, Default::default(), stop).await {
        tracing::error!(%error, "event consumer stopped");
    }
}
