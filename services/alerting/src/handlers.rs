//! The read model of structures, fed by the inventory's events: the
//! alerting service matches calls against it and finds the recipients of
//! reminders in it (the holders of `funding_applications` and the director).
//!
//! [`PersonErasures`] applies `person.erased`: the person leaves the read
//! model, and the send log, messages and unsubscriptions keep a pseudonym
//! instead of their id and no address or name.

use async_trait::async_trait;
use prost::Message;
use sqlx::{Any, Transaction};
use vigie_inventory_readmodel::{apply_person_erased, pseudonym, ReadModelTables, PERSON_ERASED};
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::events::v1::{PersonErased, StructureInventoried};

use crate::storage::{self, StructureRow};

/// Type (and subject) of the inventory's erasure event.
pub const PERSON_ERASED_TYPE: &str = PERSON_ERASED;
/// Type (and subject) of the inventory snapshot event.
pub const STRUCTURE_INVENTORIED: &str = "vigie.inventory.structure.inventoried.v1";

fn transient(error: impl Into<anyhow::Error>) -> HandlerError {
    HandlerError::Transient(error.into())
}

/// Keeps `al_structures` and `al_people` up to date.
pub struct InventoryReadModel;

#[async_trait]
impl EventHandler for InventoryReadModel {
    fn name(&self) -> &str {
        "alerting-inventory"
    }

    fn event_types(&self) -> Vec<String> {
        vec![STRUCTURE_INVENTORIED.to_owned()]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        if envelope.event_type != STRUCTURE_INVENTORIED {
            return Ok(());
        }
        let event = StructureInventoried::decode(envelope.payload.clone())
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable StructureInventoried: {error}")))?;
        let structure = event
            .structure
            .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("StructureInventoried without a structure")))?;
        let version = i64::try_from(structure.version).unwrap_or(i64::MAX);
        let held = storage::structure_version(tx, &structure.structure_id)
            .await
            .map_err(transient)?;
        if held.is_some_and(|held| held >= version) {
            return Ok(()); // stale or replayed snapshot
        }
        let row = StructureRow {
            structure_id: structure.structure_id.clone(),
            network_id: structure.network.clone(),
            legal_form: structure.legal_form.clone(),
            commune_insee: structure.commune_insee.clone(),
            department_code: structure.department_code.clone(),
            region_code: structure.region_code.clone(),
            version,
            snapshot: structure.encode_to_vec(),
        };
        let people: Vec<String> = structure.people.iter().map(|p| p.person_id.clone()).collect();
        storage::save_structure(tx, &row, &people).await.map_err(transient)
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
pub struct PersonErasures;

#[async_trait]
impl EventHandler for PersonErasures {
    fn name(&self) -> &str {
        "alerting-erasures"
    }

    fn event_types(&self) -> Vec<String> {
        vec![PERSON_ERASED.to_owned()]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        if envelope.event_type != PERSON_ERASED {
            return Ok(());
        }
        let event = PersonErased::decode(envelope.payload.clone())
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable PersonErased: {error}")))?;
        let recipient = format!("person:{}", event.person_id);
        let alias = format!("person:{}", pseudonym(&event.person_id));
        // Recipient ids embed the person id; messages keep no address, name or body.
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
             last_error = CASE WHEN status = 'pending' THEN 'personne effacée' ELSE last_error END \
             WHERE person_id = $2",
        )
        .bind(alias)
        .bind(event.person_id.clone())
        .execute(&mut **tx)
        .await
        .map_err(transient)?;
        apply_person_erased(tx, envelope, &TABLES).await
    }
}
