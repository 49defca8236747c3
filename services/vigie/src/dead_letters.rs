//! `vigie events dead-letters list|replay`: the operator's view of events a
//! consumer gave up on, and the way to re-deliver one once the cause is
//! fixed.
//!
//! Two stores, one command:
//! - distributed (`--nats-url`): the `VIGIE_DEADLETTER` stream, read and
//!   replayed directly with the operator's NATS access
//!   (`vigie_platform::events::jetstream::dead_letters`);
//! - embedded (`--data-dir`): the `vigie_dead_letters` table of each
//!   service's SQLite file. A replay is a request written in the file; the
//!   running `vigie dev` performs it within a second, and this command waits
//!   for the outcome (`vigie_platform::events::dead_letters`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use vigie_platform::db::Db;
use vigie_platform::events::{self, dead_letters, jetstream, DeadLetter};

use crate::cli::{DeadLetterStore, Format, NatsArgs};
use crate::i18n::Lang;
use crate::output::Listing;

/// The SQLite files of `vigie dev`, one per service.
const SERVICES: [&str; 4] = ["inventory", "training", "facilitation", "alerting"];

/// Lists every dead letter of the store.
///
/// # Errors
/// NATS unreachable, a data directory without Vigie files, an unreadable
/// file.
pub async fn list(store: &DeadLetterStore, format: Format, lang: Lang) -> anyhow::Result<()> {
    let letters = match &store.nats_url {
        Some(url) => jetstream::dead_letters::list(&connect(url, &store.nats, lang).await?).await?,
        None => {
            let mut letters = Vec::new();
            for (db, location) in open_data_dir(&data_dir(store), lang).await? {
                letters.extend(dead_letters::list(&db, &location).await?);
            }
            letters
        }
    };
    print(&letters, format, lang)
}

/// Re-delivers the dead letter of `consumer` for `event_id`.
///
/// # Errors
/// No such dead letter; NATS unreachable; in embedded mode, no running
/// `vigie dev` performed the replay within `wait` seconds, or the consumer
/// failed again.
pub async fn replay(
    store: &DeadLetterStore,
    consumer: &str,
    event_id: &str,
    wait: u64,
    lang: Lang,
) -> anyhow::Result<()> {
    if let Some(url) = &store.nats_url {
        let js = connect(url, &store.nats, lang).await?;
        let letter = jetstream::dead_letters::replay(&js, consumer, event_id).await?;
        println!(
            "{} {} ({}) → {consumer}",
            lang.pick(
                "relivré, retiré des lettres mortes :",
                "re-delivered, removed from the dead letters:"
            ),
            event_id,
            letter.event_type
        );
        return Ok(());
    }
    let id = uuid::Uuid::parse_str(event_id).with_context(|| {
        format!(
            "{} {event_id:?}",
            lang.pick("identifiant d'événement invalide", "invalid event id")
        )
    })?;
    for (db, location) in open_data_dir(&data_dir(store), lang).await? {
        let Some(before) = dead_letters::find(&db, &location, consumer, id).await? else {
            continue;
        };
        dead_letters::request_replay(&db, consumer, id).await?;
        return await_replay(&db, &location, consumer, id, before.deliveries, wait, lang).await;
    }
    anyhow::bail!(
        "{} {consumer} / {event_id}",
        lang.pick("aucune lettre morte pour", "no dead letter for")
    )
}

/// Polls the dead letter until the running server replayed it.
async fn await_replay(
    db: &Db,
    location: &str,
    consumer: &str,
    id: uuid::Uuid,
    deliveries_before: i64,
    wait: u64,
    lang: Lang,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        match dead_letters::find(db, location, consumer, id).await? {
            None => {
                println!(
                    "{} {id} → {consumer}",
                    lang.pick(
                        "relivré et appliqué, retiré des lettres mortes :",
                        "re-delivered and applied, removed from the dead letters:"
                    )
                );
                return Ok(());
            }
            Some(letter) if letter.replay_requested_at.is_none() && letter.deliveries > deliveries_before => {
                anyhow::bail!(
                    "{} {}",
                    lang.pick(
                        "le consommateur a de nouveau refusé l'événement, qui reste en lettre morte :",
                        "the consumer refused the event again; it stays a dead letter:"
                    ),
                    letter.error
                );
            }
            Some(_) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "{}",
                lang.pick(
                    "rejeu demandé, mais pas encore effectué : `vigie dev` tourne-t-il sur ce répertoire ? Il le fera à son prochain démarrage.",
                    "replay requested but not done yet: is `vigie dev` running on this directory? It will do it at its next start."
                )
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn data_dir(store: &DeadLetterStore) -> PathBuf {
    store.data_dir.clone().unwrap_or_else(|| PathBuf::from("vigie-data"))
}

/// Connects with the operator's NATS credentials and TLS settings, the same
/// flags as `vigie serve` (a `tls://` URL or a CA imposes TLS).
async fn connect(url: &str, nats: &NatsArgs, lang: Lang) -> anyhow::Result<async_nats::jetstream::Context> {
    let security = jetstream::NatsSecurity {
        creds: nats.nats_creds.clone(),
        nkey: nats.nats_nkey.clone(),
        tls_ca: nats.nats_tls_ca.clone(),
        tls_cert: nats.nats_tls_cert.clone(),
        tls_key: nats.nats_tls_key.clone(),
        require_tls: nats.nats_require_tls,
    };
    jetstream::connect_with(url, "vigie-cli", &security)
        .await
        .with_context(|| {
            format!(
                "{} {}",
                lang.pick("connexion à NATS", "connecting to NATS"),
                vigie_platform::redact::url(url)
            )
        })
}

/// The services' databases present in `dir`, with their path.
async fn open_data_dir(dir: &Path, lang: Lang) -> anyhow::Result<Vec<(Db, String)>> {
    let mut databases = Vec::new();
    for service in SERVICES {
        let path = dir.join(format!("{service}.sqlite"));
        if !path.is_file() {
            continue;
        }
        let location = path.display().to_string();
        let db = Db::connect(&format!("sqlite://{location}"))
            .await
            .with_context(|| format!("{} {location}", lang.pick("ouverture de", "opening")))?;
        // Same migrations as the server (a no-op when it already ran them).
        db.migrate("events", events::MIGRATIONS).await?;
        databases.push((db, location));
    }
    if databases.is_empty() {
        anyhow::bail!(
            "{} {} {}",
            lang.pick("aucune base Vigie dans", "no Vigie database in"),
            dir.display(),
            lang.pick(
                "(indiquez --data-dir, ou --nats-url en mode distribué)",
                "(give --data-dir, or --nats-url in distributed mode)"
            )
        );
    }
    Ok(databases)
}

fn print(letters: &[DeadLetter], format: Format, lang: Lang) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        // The JSON is the platform's `DeadLetter` as serde writes it (its
        // field order, `replay_requested_at` included), not a listing.
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, letters)?;
            writeln!(out)?;
        }
        Format::Table if letters.is_empty() => {
            writeln!(out, "{}", lang.pick("Aucune lettre morte.", "No dead letters."))?;
        }
        Format::Table | Format::Csv => listing().write(letters, format, lang, &mut out)?,
    }
    Ok(())
}

/// The columns of `dead-letters list` (CSV keys, table titles).
fn listing<'a>() -> Listing<'a, DeadLetter> {
    Listing::new()
        .column("subject", ("sujet", "subject"), |l: &DeadLetter| l.subject.clone())
        .column("type", ("type", "type"), |l: &DeadLetter| l.event_type.clone())
        .column("id", ("id", "id"), |l: &DeadLetter| {
            l.event_id.clone().unwrap_or_default()
        })
        .showing(|l: &DeadLetter| l.event_id.clone().unwrap_or_else(|| "—".to_owned()))
        .column("consumer", ("consommateur", "consumer"), |l: &DeadLetter| {
            l.consumer.clone()
        })
        .column("error", ("erreur", "error"), |l: &DeadLetter| l.error.clone())
        .column("failed_at", ("date", "time"), |l: &DeadLetter| l.failed_at.clone())
        .column("deliveries", ("livraisons", "count"), |l: &DeadLetter| l.deliveries)
        .right()
        .csv("location", |l: &DeadLetter| l.location.clone())
}
