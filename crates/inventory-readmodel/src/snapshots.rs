//! Batches of `structure.inventoried`: which snapshots a read model must
//! store.
//!
//! Applied one by one, each event replaces the stored snapshot when its
//! version is newer. Over a batch the same result comes from keeping the
//! newest snapshot of each structure in the batch, dropping those not newer
//! than the stored one (one `SELECT … IN (…)`), and writing the rest in the
//! order of their events (so that a person in two of them ends where the
//! later one puts them, as one by one).

use std::collections::HashMap;

use prost::Message;
use sqlx::{AnyConnection, Row};
use vigie_platform::db::multi_row::for_keys;
use vigie_platform::events::{Envelope, HandlerError};
use vigie_proto::events::v1::StructureInventoried;
use vigie_proto::inventory::v1 as pb;

/// Type (and subject) of the inventory snapshot event.
pub const STRUCTURE_INVENTORIED: &str = "vigie.inventory.structure.inventoried.v1";

/// A snapshot to store, with its version as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSnapshot {
    /// The structure as the event carried it.
    pub structure: pb::Structure,
    /// Its version.
    pub version: i64,
}

/// Decodes one `structure.inventoried` payload.
///
/// # Errors
/// [`HandlerError::Permanent`] when it does not decode or has no structure.
pub fn decode_inventoried(envelope: &Envelope) -> Result<NewSnapshot, HandlerError> {
    let event = StructureInventoried::decode(envelope.payload.clone())
        .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable StructureInventoried: {error}")))?;
    let structure = event
        .structure
        .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("StructureInventoried without a structure")))?;
    let version = i64::try_from(structure.version).unwrap_or(i64::MAX);
    Ok(NewSnapshot { structure, version })
}

/// The snapshots of the `structure.inventoried` events among `envelopes`
/// that applying them one by one would store last: per structure, the newest
/// of the batch (the first of equal versions), if newer than the version
/// held in `structures_table` (`structure_id`, `version` columns); in the
/// order of the events that carried them.
///
/// # Errors
/// [`HandlerError::Permanent`] when an event does not decode (the consumer
/// then applies the batch one by one to set it aside);
/// [`HandlerError::Transient`] on a database error.
pub async fn newer_snapshots(
    conn: &mut AnyConnection,
    envelopes: &[&Envelope],
    structures_table: &str,
) -> Result<Vec<NewSnapshot>, HandlerError> {
    // Per structure: (position of the event, snapshot).
    let mut newest: HashMap<String, (usize, NewSnapshot)> = HashMap::new();
    for (position, envelope) in envelopes.iter().enumerate() {
        if envelope.event_type != STRUCTURE_INVENTORIED {
            continue;
        }
        let snapshot = decode_inventoried(envelope)?;
        match newest.get(&snapshot.structure.structure_id) {
            Some((_, kept)) if kept.version >= snapshot.version => {}
            _ => {
                newest.insert(snapshot.structure.structure_id.clone(), (position, snapshot));
            }
        }
    }
    let ids: Vec<String> = newest.keys().cloned().collect();
    let held = for_keys(
        conn,
        &format!("SELECT structure_id, version FROM {structures_table} WHERE structure_id"),
        &ids,
    )
    .await
    .map_err(HandlerError::transient)?;
    for row in held {
        let id: String = row.try_get(0).map_err(HandlerError::transient)?;
        let version: i64 = row.try_get(1).map_err(HandlerError::transient)?;
        if newest.get(&id).is_some_and(|(_, kept)| kept.version <= version) {
            newest.remove(&id); // stale or replayed snapshot
        }
    }
    let mut kept: Vec<(usize, NewSnapshot)> = newest.into_values().collect();
    kept.sort_unstable_by_key(|(position, _)| *position);
    Ok(kept.into_iter().map(|(_, snapshot)| snapshot).collect())
}

/// The people of `snapshots` as `(person_id, structure)` pairs, each person
/// once, where the last snapshot naming them puts them (as applying them in
/// order would).
pub fn people_placement(snapshots: &[NewSnapshot]) -> Vec<(String, &NewSnapshot)> {
    let mut placed: HashMap<&str, usize> = HashMap::new();
    for (index, snapshot) in snapshots.iter().enumerate() {
        for person in &snapshot.structure.people {
            placed.insert(person.person_id.as_str(), index);
        }
    }
    let mut pairs: Vec<(String, &NewSnapshot)> = placed
        .into_iter()
        .map(|(person, index)| (person.to_owned(), &snapshots[index]))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    pairs
}
