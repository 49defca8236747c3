//! `vigie admin …`: operator commands that work on a service's own database,
//! beside the running service (docs/operations.md, « Runbook »).
//!
//! `resync` appends the current snapshots of the inventory to its outbox;
//! the service's relay (which polls the outbox every second, whoever wrote
//! it) publishes them, to JetStream or to the in-process consumers of
//! `vigie dev`. Why the database rather than an RPC: the operator who
//! restores a backup holds the database credentials anyway (the same trust
//! as `pg_dump`), the command works while the service is stopped (the rows
//! go out at its next start), needs no new authorisation rule, and both
//! runtime modes share one code path — the inventory's own use case, so
//! the events are exactly those a change would publish.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use tokio::sync::Notify;
use vigie_inventory::app::{system_clock, Versions};
use vigie_inventory::service as inventory;
use vigie_platform::db::Db;
use vigie_platform::redact;

use crate::config::{Overrides, VigieConfig};
use crate::i18n::Lang;

/// `vigie admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Republie l'état courant (instantanés `structure.inventoried` et `fragility_assessed`) par la boîte d'envoi du service,
    /// pour qu'un consommateur ajouté après coup, ou restauré, rattrape son retard. Sans danger : les consommateurs
    /// appliquent un même état deux fois sans effet.
    Resync(ResyncArgs),
}

/// `vigie admin resync`.
#[derive(Debug, Args)]
pub struct ResyncArgs {
    /// Service dont l'état est republié (seul l'inventaire publie des instantanés d'état).
    #[arg(long, value_enum, default_value_t)]
    pub service: SnapshotService,
    /// Seulement cette structure (répétable). Défaut : toutes.
    #[arg(long = "structure", value_name = "ID")]
    pub structures: Vec<String>,
    /// Mode distribué : base PostgreSQL du service, p. ex. postgres://vigie@db/vigie_inventory.
    #[arg(long, env = "VIGIE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Mode local (`vigie dev`) : répertoire des données SQLite (défaut : ./vigie-data), utilisé sans --database-url.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Après la restauration de l'inventaire depuis une sauvegarde plus ancienne que ses consommateurs : donne à chaque
    /// structure une version plus grande que toutes les précédentes, pour que l'état restauré l'emporte partout.
    /// À lancer service d'inventaire arrêté.
    #[arg(long)]
    pub new_versions: bool,
    /// Fichier de configuration TOML du service (paramètres de fragilité), comme pour `vigie serve`.
    #[arg(long, env = "VIGIE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Services whose events are state transfers that a resync can restate.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum SnapshotService {
    /// Inventaire : `structure.inventoried` et `structure.fragility_assessed` de chaque structure.
    #[default]
    Inventory,
}

/// Runs an admin command.
///
/// # Errors
/// See each command.
pub async fn run(command: AdminCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        AdminCommand::Resync(args) => resync(args, lang).await,
    }
}

/// Appends the current state of the chosen structures to the inventory's
/// outbox.
///
/// # Errors
/// Invalid configuration, a database that cannot be opened or has no
/// inventory schema, an unknown structure (nothing appended).
async fn resync(args: ResyncArgs, lang: Lang) -> anyhow::Result<()> {
    let SnapshotService::Inventory = args.service;
    let overrides = Overrides {
        database_url: args.database_url.clone(),
        data_dir: args.data_dir.clone(),
        ..Overrides::default()
    };
    let config = VigieConfig::load(args.config.as_deref(), &overrides)?;
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => {
            let path = config.data_dir.join(format!("{}.sqlite", inventory::NAME));
            // Never create an empty database by mistake: the file must be
            // one `vigie dev` already made.
            if !path.is_file() {
                anyhow::bail!(
                    "{} {} {}",
                    lang.pick("aucune base d'inventaire :", "no inventory database:"),
                    path.display(),
                    lang.pick(
                        "(indiquez --data-dir, ou --database-url en mode distribué)",
                        "(give --data-dir, or --database-url in distributed mode)"
                    )
                );
            }
            format!("sqlite://{}", path.display())
        }
    };
    let db = Db::connect(&url).await.with_context(|| {
        format!(
            "{} {}",
            lang.pick("connexion à la base", "connecting to the database"),
            redact::url(&url)
        )
    })?;
    // No migration here: the service migrates its own database at start; a
    // newer CLI must not change the schema under an older running service.
    let app = inventory::application(db, config.fragility.params(), system_clock(), Arc::new(Notify::new()));
    let versions = if args.new_versions {
        Versions::Supersede
    } else {
        Versions::Keep
    };
    let appended = match app.resync(&args.structures, versions).await {
        Ok(appended) => appended,
        Err(error @ vigie_inventory::error::InventoryError::NotFound(_)) => {
            anyhow::bail!("{} {error}", lang.pick("rien n'est republié :", "nothing republished:"))
        }
        Err(error) => {
            return Err(anyhow::Error::new(error).context(lang.pick(
                "resynchronisation impossible (le service a-t-il démarré au moins une fois sur cette base ?)",
                "resync failed (has the service started at least once on this database?)",
            )))
        }
    };
    println!(
        "{} {} {} {} {}",
        lang.pick("resynchronisation :", "resync:"),
        appended.inventoried,
        lang.pick("instantanés et", "snapshots and"),
        appended.assessed,
        lang.pick(
            "évaluations ajoutés à la boîte d'envoi ; le service les publie dans la seconde (ou à son prochain démarrage).",
            "assessments appended to the outbox; the service publishes them within a second (or at its next start)."
        )
    );
    Ok(())
}
