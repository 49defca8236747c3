//! `vigie dev`: the whole platform in one process, for anyone who wants to
//! try it. SQLite files under the data directory, events delivered in-process
//! from the outbox (same guarantees as JetStream), and a local development
//! identity that is only safe on the loopback interface — unless an OIDC
//! issuer is configured (`--oidc-issuer`, `--oidc-audience`), which then
//! replaces the development identity and allows any listen address.

use std::sync::Arc;

use anyhow::Context;
use tokio::task::JoinSet;
use vigie_facilitation::app::FacilitationApp;
use vigie_facilitation::service as facilitation;
use vigie_inventory::app::{ImportPhase, Inventory};
use vigie_inventory::service as inventory;
use vigie_inventory_set::generate::{generate, GenerateParams};
use vigie_platform::auth::{AuthLayer, DevIssuer};
use vigie_platform::db::Db;
use vigie_platform::events::{Relay, REPLAY_POLL_INTERVAL};
use vigie_platform::service::EmbeddedBuses;
use vigie_platform::{grpc, shutdown};
use vigie_training::app::TrainingApp;
use vigie_training::service as training;

use super::transport::limited;
use crate::cli::{AuthMode, DevArgs};
use crate::config::{Overrides, VigieConfig};
use crate::i18n::Lang;
use vigie_platform::telemetry::Telemetry;

/// Structures in the demo federation: enough to see every band, small enough
/// to load in a blink.
const DEMO_STRUCTURES: usize = 60;
const DEMO_SEED: u64 = 2026;
/// The region `vigie dev` publishes for when `[federation] region` is unset.
const DEMO_REGION: &str = "demo";

/// Runs until Ctrl-C.
///
/// # Errors
/// Invalid configuration, a non-loopback address, an unusable data directory
/// or port.
pub async fn run(args: DevArgs, lang: Lang, telemetry: &mut Telemetry) -> anyhow::Result<()> {
    let overrides = Overrides {
        data_dir: args.data_dir.clone(),
        ..super::server_overrides(&args.server)
    };
    let config = VigieConfig::load(args.server.config.as_deref(), &overrides)?;
    let oidc_configured =
        config.oidc_issuer.is_some() || config.oidc_audience.is_some() || config.auth == Some(AuthMode::Oidc);
    if !oidc_configured && !config.listen.ip().is_loopback() {
        anyhow::bail!(
            "{}",
            lang.pick(
                "vigie dev n'écoute que sur la boucle locale (127.0.0.1 ou ::1) : son identité de développement n'authentifie personne.\n  Pour un serveur accessible sur le réseau, configurez OIDC (--oidc-issuer et --oidc-audience) ou utilisez `vigie serve`.",
                "vigie dev only listens on loopback (127.0.0.1 or ::1): its development identity authenticates nobody.\n  For a server reachable over the network, configure OIDC (--oidc-issuer and --oidc-audience) or use `vigie serve`."
            )
        );
    }
    // Without OIDC, the development identity — and the issuer of the demo
    // profiles' tokens, which the same layer verifies (the console's sign-in).
    let (auth, issuer) = match super::oidc(&config, lang).await? {
        Some(oidc) => (oidc, None),
        None => {
            tracing::warn!("development mode: local identity, no authentication — loopback only");
            let issuer = Arc::new(DevIssuer::new().map_err(|error| anyhow::anyhow!("{error}"))?);
            (AuthLayer::dev_with_issuer(issuer.clone()), Some(issuer))
        }
    };
    // TLS files are read and checked before anything is created.
    let grpc_options = super::transport::grpc_options(&config, lang)?;
    let limits = grpc_options.limits.clone();

    super::create_private_dir(&config.data_dir).with_context(|| {
        format!(
            "{} {}",
            lang.pick("création du répertoire de données", "creating the data directory"),
            config.data_dir.display()
        )
    })?;
    let pseudonyms = super::pseudonym_key(&config, true)?;
    // One SQLite file per service: each owns its data, as in production.
    let sqlite = |name: &str| format!("sqlite://{}", config.data_dir.join(format!("{name}.sqlite")).display());
    let inventory_db = Db::connect(&sqlite("inventory")).await?;
    let training_db = Db::connect(&sqlite("training")).await?;
    let facilitation_db = Db::connect(&sqlite("facilitation")).await?;
    let alerting_db = Db::connect(&sqlite("alerting")).await?;
    let federation_db = Db::connect(&sqlite("federation")).await?;

    let stop = shutdown::on_signal();
    let mut tasks = JoinSet::new();
    // Before anything creates an instrument (relays, consumers, gRPC layer).
    super::metrics::start(&config, telemetry, &mut tasks, &stop, "vigie dev", lang).await?;
    // Outbox backlog gauges, sampled only when metrics go somewhere.
    let metrics_enabled = telemetry.metrics_enabled();
    let sampled = |relay: Relay, service: &str| {
        if metrics_enabled {
            relay.with_metrics_name(service)
        } else {
            relay
        }
    };
    // Each service's outbox is relayed to its own in-process bus; the
    // consumers of the others, registered on the buses of the producers
    // they listen to, apply its events in their own database with their own
    // inbox. The federation's snapshots stay in this process: the publisher
    // writes its own region's national view itself (docs/federation.md).
    let buses = EmbeddedBuses::new([
        inventory::NAME,
        training::NAME,
        facilitation::NAME,
        vigie_alerting::service::NAME,
        vigie_federation::service::NAME,
    ]);
    let relay = |db: &Db, service: &str| -> anyhow::Result<Relay> {
        let bus = buses
            .bus(service)
            .with_context(|| format!("no in-process bus for {service}"))?;
        Ok(sampled(Relay::new(db.clone(), Arc::new(bus.publisher())), service))
    };
    let inventory_relay = relay(&inventory_db, inventory::NAME)?;
    let training_relay = relay(&training_db, training::NAME)?;
    let facilitation_relay = relay(&facilitation_db, facilitation::NAME)?;
    let alerting_relay = relay(&alerting_db, vigie_alerting::service::NAME)?;
    let federation_relay = relay(&federation_db, vigie_federation::service::NAME)?;
    let app = super::start_inventory(inventory_db.clone(), &config, inventory_relay.notifier()).await?;
    let training_app = super::start_training(training_db.clone(), &config, training_relay.notifier()).await?;
    let facilitation_app =
        super::start_facilitation(facilitation_db.clone(), &config, facilitation_relay.notifier()).await?;
    let (alerting_app, alerting_loops) = super::start_alerting(
        alerting_db.clone(),
        &config,
        super::alerting_secret(&config, true)?,
        Some(config.data_dir.join("mails")),
        alerting_relay.notifier(),
        &mut tasks,
        &stop,
    )
    .await?;
    let federation_app = super::start_federation(
        federation_db.clone(),
        &config,
        Some(DEMO_REGION),
        federation_relay.notifier(),
    )
    .await?;
    // Each service describes its consumers and loops; every consumer is
    // registered, before the relays start, on the buses of the producers it
    // listens to.
    let mut services = [
        inventory::describe(&inventory_db, &app),
        training::describe(&training_db, &pseudonyms),
        facilitation::describe(&facilitation_db, &facilitation_app, &pseudonyms),
        vigie_alerting::service::describe(
            &alerting_db,
            &pseudonyms,
            Some(config.data_dir.join("mails")),
            Some(alerting_loops),
        ),
        // A few structures: publish often, so the demo's roll-up follows edits.
        vigie_federation::service::describe(
            &federation_db,
            &federation_app,
            Some(
                config
                    .federation
                    .check_interval()
                    .min(std::time::Duration::from_secs(5)),
            ),
        ),
    ];
    for service in &mut services {
        buses.register(service)?;
        service.spawn_loops(&mut tasks, &stop);
    }
    tasks.spawn(inventory_relay.run(stop.clone()));
    tasks.spawn(training_relay.run(stop.clone()));
    tasks.spawn(facilitation_relay.run(stop.clone()));
    tasks.spawn(alerting_relay.run(stop.clone()));
    tasks.spawn(federation_relay.run(stop.clone()));
    // Dead letters replayed on request (`vigie events dead-letters replay`).
    for (_, bus) in buses.iter() {
        tasks.spawn(bus.clone().run_replays(REPLAY_POLL_INTERVAL, stop.clone()));
    }

    if args.demo {
        load_demo(
            &app,
            &training_app,
            &facilitation_app,
            &alerting_app,
            // Where reminders are written, unless an SMTP relay sends them.
            config
                .alerting
                .smtp
                .is_none()
                .then(|| config.data_dir.join("mails"))
                .as_deref(),
            lang,
        )
        .await?;
    }

    let listener = grpc::bind(config.listen).await.with_context(|| {
        lang.pick(
            "le port est-il déjà pris ? essayez --listen 127.0.0.1:50052",
            "is the port taken? try --listen 127.0.0.1:50052",
        )
        .to_owned()
    })?;
    let addr = listener.local_addr()?;
    let endpoint = super::transport::endpoint(addr, &grpc_options);
    // The console, bound now so that its address comes first in the banner.
    let console = match (issuer, &config.oidc_issuer, &args.oidc_client_id) {
        _ if grpc_options.tls.is_some() => None,
        (Some(issuer), _, _) => {
            let bound = super::console::bind(args.console_listen, issuer, lang).await?;
            eprintln!(
                "{} http://{} {}",
                lang.pick("Console :", "Console:"),
                bound.addr,
                lang.pick(
                    "— ouvrez-la dans un navigateur et choisissez un profil de démonstration.",
                    "— open it in a browser and choose a demo profile."
                )
            );
            Some(bound)
        }
        // With OIDC and the console's client: sign-in at the issuer.
        (None, Some(oidc_issuer), Some(client_id)) => {
            let bound = super::console::bind_oidc(
                args.console_listen,
                oidc_issuer,
                client_id,
                config.oidc_audience.as_deref(),
                args.oidc_client_secret_file.as_deref(),
                lang,
            )
            .await?;
            eprintln!(
                "{} http://{} {}",
                lang.pick("Console :", "Console:"),
                bound.addr,
                lang.pick(
                    "— ouvrez-la dans un navigateur ; la connexion se fait auprès de l'émetteur OIDC.",
                    "— open it in a browser; you sign in with the OIDC issuer."
                )
            );
            Some(bound)
        }
        _ => None,
    };
    if console.is_none() {
        eprintln!(
            "{}",
            lang.pick(
                "Console : désactivée (avec TLS, ou avec OIDC sans --oidc-client-id). Avec OIDC, donnez --oidc-client-id (client vigie-console), ou lancez la console à part : vigie serve console (docs/console.md).",
                "Console: disabled (with TLS, or with OIDC without --oidc-client-id). With OIDC, give --oidc-client-id (client vigie-console), or run the console on its own: vigie serve console (docs/console.md)."
            )
        );
    }
    if let Some(bound) = console {
        super::console::serve(bound, &endpoint, &mut tasks, &stop)?;
    }
    match lang {
        Lang::Fr => eprintln!(
            "Vigie (mode local) est prêt sur {endpoint} — données dans {}.\n  Essayez, dans un autre terminal :\n    vigie inventory fragility{}\n    vigie inventory rollup --by network{}\n    vigie training plan --structure S000004{}\n    vigie facilitation proposals{}\n    vigie calls list --closing-within 30{}\n    vigie alerts log{}\n    vigie federation rollup{}{}\n  Ctrl-C pour arrêter.",
            config.data_dir.display(), endpoint_flag(&endpoint), endpoint_flag(&endpoint), endpoint_flag(&endpoint), endpoint_flag(&endpoint),
            endpoint_flag(&endpoint), endpoint_flag(&endpoint), endpoint_flag(&endpoint), mails_note(&config, lang)
        ),
        Lang::En => eprintln!(
            "Vigie (local mode) is ready on {endpoint} — data in {}.\n  Try, in another terminal:\n    vigie inventory fragility{}\n    vigie inventory rollup --by network{}\n    vigie training plan --structure S000004{}\n    vigie facilitation proposals{}\n    vigie calls list --closing-within 30{}\n    vigie alerts log{}\n    vigie federation rollup{}{}\n  Ctrl-C to stop.",
            config.data_dir.display(), endpoint_flag(&endpoint), endpoint_flag(&endpoint), endpoint_flag(&endpoint), endpoint_flag(&endpoint),
            endpoint_flag(&endpoint), endpoint_flag(&endpoint), endpoint_flag(&endpoint), mails_note(&config, lang)
        ),
    }
    let routes = tonic::service::Routes::new(limited!(inventory::grpc(app), limits))
        .add_service(limited!(training::grpc(training_app), limits))
        .add_service(limited!(facilitation::grpc(facilitation_app), limits))
        .add_service(limited!(vigie_alerting::service::grpc(alerting_app), limits))
        .add_service(limited!(vigie_federation::service::grpc(federation_app), limits));
    let served: Vec<_> = services.iter().map(|service| service.grpc_service).collect();
    super::serve_until_stopped(listener, routes, &served, auth, grpc_options, stop, tasks).await
}

/// Where reminders go without an SMTP relay (nothing when one is configured).
fn mails_note(config: &VigieConfig, lang: Lang) -> String {
    if config.alerting.smtp.is_some() {
        return String::new();
    }
    let dir = config.data_dir.join("mails");
    match lang {
        Lang::Fr => format!("   (courriels écrits dans {})", dir.display()),
        Lang::En => format!("   (emails written to {})", dir.display()),
    }
}

fn endpoint_flag(endpoint: &str) -> String {
    if endpoint == "http://127.0.0.1:50051" {
        String::new()
    } else {
        format!(" --endpoint {endpoint}")
    }
}

/// Loads a generated demo federation, unless the inventory already has data
/// (a restart keeps what the user did).
async fn load_demo(
    app: &Inventory,
    training_app: &TrainingApp,
    facilitation_app: &FacilitationApp,
    alerting_app: &vigie_alerting::app::AlertingApp,
    mail_dir: Option<&std::path::Path>,
    lang: Lang,
) -> anyhow::Result<()> {
    // The ids alone: an instance of any size answers in one light query.
    if !app
        .listed_in(None, &vigie_platform::auth::Visibility::All)
        .await?
        .is_empty()
    {
        eprintln!(
            "{}",
            lang.pick(
                "Données existantes conservées (démo déjà chargée).",
                "Existing data kept (demo already loaded)."
            )
        );
        return Ok(());
    }
    let set = generate(GenerateParams {
        structures: DEMO_STRUCTURES,
        seed: DEMO_SEED,
        today: app.today(),
    });
    let report = app.import(set.to_files()?, |_: ImportPhase, _, _| {}).await?;
    match lang {
        Lang::Fr => eprintln!(
            "Fédération de démonstration chargée : {} structures, {} personnes.",
            report.structures, report.people
        ),
        Lang::En => eprintln!(
            "Demo federation loaded: {} structures, {} people.",
            report.structures, report.people
        ),
    }
    let (trainings, sessions) = training_app
        .import_catalog(vigie_training::demo::catalogue(app.today()))
        .await?;
    match lang {
        Lang::Fr => eprintln!("Catalogue de démonstration chargé : {trainings} formations, {sessions} sessions."),
        Lang::En => eprintln!("Demo catalogue loaded: {trainings} trainings, {sessions} sessions."),
    }
    let places: Vec<(String, String)> = set
        .inventories
        .iter()
        .map(|i| (i.structure.network.clone(), i.structure.department_code.clone()))
        .collect();
    let facilitators = facilitation_app
        .import_facilitators(&vigie_facilitation::demo::facilitators(&places, app.today()))
        .await?;
    match lang {
        Lang::Fr => eprintln!("Facilitateurs de démonstration chargés : {facilitators} conseillers numériques."),
        Lang::En => eprintln!("Demo facilitators loaded: {facilitators} digital advisers."),
    }
    // Each demo network has a referent, so escalations (and the co-submission
    // proposals they open in facilitation) show in the demo.
    let mut networks: Vec<&str> = set.inventories.iter().map(|i| i.structure.network.as_str()).collect();
    networks.sort_unstable();
    networks.dedup();
    for network in networks {
        alerting_app
            .set_network_policy(&vigie_alerting::app::PolicyInput {
                network: network.to_owned(),
                referent_name: format!("Référent·e {network}"),
                referent_email: format!("referent@{network}.example.org"),
                ..vigie_alerting::app::PolicyInput::default()
            })
            .await?;
    }
    let calls = alerting_app
        .import_file(
            "aides-territoires",
            vigie_alerting::demo::DEMO_FILE,
            &vigie_alerting::demo::aides_territoires_page(app.today()),
        )
        .await?;
    let sent = match (mail_dir, lang) {
        (Some(dir), Lang::Fr) => format!("les rappels (courriels) sont écrits dans {}", dir.display()),
        (Some(dir), Lang::En) => format!("reminder emails are written to {}", dir.display()),
        (None, Lang::Fr) => "les rappels partent par le relais SMTP configuré".to_owned(),
        (None, Lang::En) => "reminders go out through the configured SMTP relay".to_owned(),
    };
    match lang {
        Lang::Fr => eprintln!(
            "Appels à projets de démonstration chargés : {} appels ; {sent}.",
            calls.calls
        ),
        Lang::En => eprintln!("Demo project calls loaded: {} calls; {sent}.", calls.calls),
    }
    load_demo_grants(alerting_app, &set, lang).await?;
    Ok(())
}

/// Longest wait for the alerting read model to know the demo structures
/// (it follows the inventory's events; a few seconds in practice).
const DEMO_GRANTS_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Loads the demo grants (`vigie_alerting::demo::grants_sheet`) through the
/// grants import, once the alerting read model knows the structures they
/// are for, so that « Subventions » shows applications, grants and a duty
/// at risk at first try. Idempotent as the import; a wait that runs out
/// leaves the grants out with a warning (the rest of the demo works).
async fn load_demo_grants(
    alerting_app: &vigie_alerting::app::AlertingApp,
    set: &vigie_inventory_set::generate::GeneratedSet,
    lang: Lang,
) -> anyhow::Result<()> {
    let today = alerting_app.today();
    let structures: Vec<vigie_alerting::demo::DemoStructure> = set
        .inventories
        .iter()
        .map(|i| vigie_alerting::demo::DemoStructure {
            id: i.structure.id.clone(),
            network: i.structure.network.clone(),
            reporting_holders: reporting_holders(i, today),
        })
        .collect();
    let sheet = vigie_alerting::demo::grants_sheet(&structures, today);
    let named = vigie_alerting::demo::grant_structures(&structures);
    let mut needed: Vec<(String, String)> = structures
        .iter()
        .filter(|s| named.contains(&s.id))
        .map(|s| (s.network.clone(), s.id.clone()))
        .collect();
    let deadline = tokio::time::Instant::now() + DEMO_GRANTS_WAIT;
    while !needed.is_empty() {
        let mut known = std::collections::HashSet::new();
        let mut networks: Vec<&str> = needed.iter().map(|(n, _)| n.as_str()).collect();
        networks.sort_unstable();
        networks.dedup();
        for network in networks {
            known.extend(alerting_app.structures_of_network(network).await?);
        }
        needed.retain(|(_, id)| !known.contains(id));
        if needed.is_empty() {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            tracing::warn!(
                missing = needed.len(),
                "demo grants not loaded: structures unknown to alerting"
            );
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let report = alerting_app
        .import_grants(
            &vigie_alerting::app::GrantImportInput {
                filename: vigie_alerting::demo::DEMO_GRANTS_FILE.to_owned(),
                content: sheet,
                dry_run: false,
                network: String::new(),
            },
            &|_, _| true,
        )
        .await?;
    if let Some((position, message)) = report.problems.first() {
        anyhow::bail!("demo grants refused: {position}: {message}");
    }
    match lang {
        Lang::Fr => eprintln!(
            "Subventions de démonstration chargées : {} candidatures et décisions.",
            report.created
        ),
        Lang::En => eprintln!("Demo grants loaded: {} applications and decisions.", report.created),
    }
    Ok(())
}

/// People who hold `funder_reporting` in a demo structure, by alerting's
/// rule (level 3 or more, practised within a year, not gone). Only picks
/// the structure of the demo's duty at risk: should alerting count one
/// fewer, 0 holders puts it at risk as well.
fn reporting_holders(inventory: &vigie_fragility_model::model::StructureInventory, today: chrono::NaiveDate) -> usize {
    let staying = |person: &str| {
        inventory
            .people
            .iter()
            .any(|p| p.id == person && p.end_date.is_none_or(|end| end > today))
    };
    inventory
        .holdings
        .iter()
        .filter(|h| h.function == vigie_alerting_domain::grants::remind::REPORTING_FUNCTION)
        .filter(|h| h.level >= 3 && h.last_practised.is_some_and(|d| (today - d).num_days() <= 365))
        .filter(|h| staying(&h.person_id))
        .count()
}
