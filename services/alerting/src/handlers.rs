//! The read model of structures, fed by the inventory's events: the
//! alerting service matches calls against it and finds the recipients of
//! reminders in it (the holders of `funding_applications` and the director).
//!
//! [`PersonErasures`] applies `person.erased`: the person leaves the read
//! model, and the send log, messages and unsubscriptions keep a pseudonym
//! instead of their id and no address, name or delivery error; once
//! committed, the `.eml` files of their messages (`vigie dev` without SMTP)
//! are removed and the SQLite WAL is checkpointed.

use async_trait::async_trait;
use prost::Message;
use sqlx::{Any, AnyConnection, Transaction};
use std::path::PathBuf;

use vigie_inventory_readmodel::{
    apply_person_erased, checkpoint_after_erasure, BatchChanges, NewSnapshot, PseudonymKey, ReadModelTables,
    SnapshotReadModel, StructureStore, PERSON_ERASED,
};
use vigie_platform::db::Db;
use vigie_platform::event_types;
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::events::v1::PersonErased;

use crate::storage::{self, StructureRow};

/// Type (and subject) of the inventory's erasure event.
pub const PERSON_ERASED_TYPE: &str = PERSON_ERASED;
/// Type (and subject) of the inventory snapshot event, for the callers that
/// match on strings (the read-model kernel's name, as training's).
pub use vigie_inventory_readmodel::STRUCTURE_INVENTORIED;

fn transient(error: impl Into<anyhow::Error>) -> HandlerError {
    HandlerError::Transient(error.into())
}

/// Keeps `al_structures` and `al_people` up to date.
pub type InventoryReadModel = SnapshotReadModel<AlertingStructures>;

/// The alerting service's copy of the inventory's structures: where calls
/// are matched (legal form, commune, department, region) and reminders find
/// their recipients.
#[derive(Debug, Default, Clone, Copy)]
pub struct AlertingStructures;

#[async_trait]
impl StructureStore for AlertingStructures {
    const CONSUMER: &'static str = "alerting-inventory";
    const TABLES: ReadModelTables = TABLES;

    async fn save(conn: &mut AnyConnection, changes: &BatchChanges) -> Result<(), HandlerError> {
        let rows: Vec<StructureRow> = changes
            .structures
            .iter()
            .map(|NewSnapshot { structure, version }| StructureRow {
                structure_id: structure.structure_id.clone(),
                network_id: structure.network.clone(),
                legal_form: structure.legal_form.clone(),
                commune_insee: structure.commune_insee.clone(),
                department_code: structure.department_code.clone(),
                region_code: structure.region_code.clone(),
                version: *version,
                snapshot: structure.encode_to_vec(),
            })
            .collect();
        storage::save_structures(conn, &rows, changes).await.map_err(transient)
    }
}

/// This service's read-model tables.
const TABLES: ReadModelTables = ReadModelTables {
    people: "al_people",
    structures: "al_structures",
    pseudonymised: &[
        ("al_send_log", "person_id"),
        ("al_messages", "person_id"),
        ("al_unsubscribed", "person_id"),
    ],
};

/// Applies `person.erased` to this service's tables.
pub struct PersonErasures {
    key: PseudonymKey,
    mail_dir: Option<PathBuf>,
}

impl PersonErasures {
    /// The handler, pseudonymising with `key`; `mail_dir` is the directory
    /// of `.eml` files when emails are written there instead of sent.
    pub fn new(key: PseudonymKey, mail_dir: Option<PathBuf>) -> Self {
        PersonErasures { key, mail_dir }
    }

    /// Removes the `.eml` files of the erased person's messages (found by
    /// their pseudonym, after the commit); a file already gone is fine.
    async fn remove_mail_files(&self, db: &Db, envelope: &Envelope) -> anyhow::Result<()> {
        let Some(dir) = &self.mail_dir else {
            return Ok(());
        };
        let event = PersonErased::decode(envelope.payload.clone())?;
        let rows = sqlx::query("SELECT message_id FROM al_messages WHERE person_id = $1 AND channel = 'email'")
            .bind(self.key.pseudonym(&event.person_id))
            .fetch_all(db.pool())
            .await?;
        for row in rows {
            let message_id: String = sqlx::Row::try_get(&row, "message_id")?;
            let file = dir.join(format!("{}.eml", crate::delivery::eml_file_stem(&message_id)));
            match tokio::fs::remove_file(&file).await {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl EventHandler for PersonErasures {
    fn name(&self) -> &str {
        "alerting-erasures"
    }

    fn event_types(&self) -> Vec<String> {
        event_types![PersonErased]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        if !envelope.is::<PersonErased>() {
            return Ok(());
        }
        let event = envelope.decode::<PersonErased>()?;
        let recipient = format!("person:{}", event.person_id);
        let alias = format!("person:{}", self.key.pseudonym(&event.person_id));
        // Recipient ids embed the person id; messages keep no address, name,
        // body or delivery error (an SMTP error quotes the address).
        for sql in [
            "UPDATE al_send_log SET recipient = $1 WHERE recipient = $2",
            "UPDATE al_unsubscribed SET recipient = $1 WHERE recipient = $2",
        ] {
            sqlx::query(sql)
                .bind(alias.clone())
                .bind(recipient.clone())
                .execute(&mut **tx)
                .await
                .map_err(transient)?;
        }
        sqlx::query(
            "UPDATE al_messages SET recipient = $1, address = '', subject = '', body_text = '', body_html = '', \
             status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END, \
             last_error = CASE WHEN status = 'pending' THEN 'personne effacée' \
             WHEN last_error <> '' THEN 'détail effacé avec la personne' ELSE '' END \
             WHERE person_id = $2",
        )
        .bind(alias)
        .bind(event.person_id.clone())
        .execute(&mut **tx)
        .await
        .map_err(transient)?;
        apply_person_erased(tx, envelope, &TABLES, &self.key).await
    }

    async fn after_commit(&self, db: &Db, envelope: &Envelope) {
        if let Err(error) = self.remove_mail_files(db, envelope).await {
            tracing::warn!(consumer = self.name(), error = %error, "removing the mail files of an erased person failed");
        }
        checkpoint_after_erasure(db, self.name()).await;
    }
}
