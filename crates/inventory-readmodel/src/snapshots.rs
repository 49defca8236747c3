//! Batches of `structure.inventoried`: what a read model must write.
//!
//! Applied one by one, an event whose version is newer than the stored one
//! replaces the structure's snapshot, removes the people the read model
//! placed in that structure and places the snapshot's people there (a person
//! who moved leaves their previous structure). [`batch_changes`] computes
//! the end state of a whole batch in memory — from the versions held (one
//! `SELECT … IN (…)`) and the people concerned (two more) — so that a
//! consumer writes it with a few multi-row statements, with exactly the
//! effect of applying the events one by one.

use std::collections::{HashMap, HashSet};

use sqlx::{AnyConnection, Row};
use vigie_platform::db::multi_row::{execute_for_keys, fetch_for_keys, insert_rows, Value};
use vigie_platform::events::{Envelope, Event, HandlerError};
use vigie_proto::events::v1::StructureInventoried;
use vigie_proto::inventory::v1 as pb;

use crate::ReadModelTables;

/// Type (and subject) of the inventory snapshot event: [`StructureInventoried`]'s [`Event::TYPE`], named here
/// for the callers that match on strings.
pub const STRUCTURE_INVENTORIED: &str = StructureInventoried::TYPE;

/// A snapshot to store, with its version as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSnapshot {
    /// The structure as the event carried it.
    pub structure: pb::Structure,
    /// Its version.
    pub version: i64,
}

/// Where a person ends up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The person.
    pub person_id: String,
    /// Their structure.
    pub structure_id: String,
    /// The network of the snapshot that placed them.
    pub network_id: String,
}

/// The writes of a batch: upsert `structures`, delete the rows of
/// `removed`, upsert `placed` (each person once).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchChanges {
    /// Each changed structure's newest snapshot, in the order of the events.
    pub structures: Vec<NewSnapshot>,
    /// People who leave the read model.
    pub removed: Vec<String>,
    /// People placed (again) in a structure.
    pub placed: Vec<Placement>,
}

/// Decodes one `structure.inventoried` payload.
///
/// # Errors
/// [`HandlerError::Permanent`] when it does not decode or has no structure.
pub fn decode_inventoried(envelope: &Envelope) -> Result<NewSnapshot, HandlerError> {
    let event = envelope.decode::<StructureInventoried>()?;
    let structure = event
        .structure
        .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("StructureInventoried without a structure")))?;
    let version = i64::try_from(structure.version).unwrap_or(i64::MAX);
    Ok(NewSnapshot { structure, version })
}

/// What applying the `structure.inventoried` events among `envelopes` one by
/// one, in order, would change in `tables` (`structures`: `structure_id`,
/// `version`; `people`: `person_id`, `structure_id`); other events are
/// ignored.
///
/// # Errors
/// [`HandlerError::Permanent`] when an event does not decode (the consumer
/// then applies the batch one by one to set it aside);
/// [`HandlerError::Transient`] on a database error.
pub async fn batch_changes(
    conn: &mut AnyConnection,
    envelopes: &[&Envelope],
    tables: &ReadModelTables,
) -> Result<BatchChanges, HandlerError> {
    let mut snapshots = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        if envelope.event_type == STRUCTURE_INVENTORIED {
            snapshots.push(decode_inventoried(envelope)?);
        }
    }
    let ids = distinct(snapshots.iter().map(|s| s.structure.structure_id.as_str()));
    let mut held: HashMap<String, i64> = HashMap::with_capacity(ids.len());
    let head = format!(
        "SELECT structure_id, version FROM {} WHERE structure_id IN",
        tables.structures
    );
    for row in fetch_for_keys(conn, &head, &ids)
        .await
        .map_err(HandlerError::transient)?
    {
        held.insert(
            row.try_get(0).map_err(HandlerError::transient)?,
            row.try_get(1).map_err(HandlerError::transient)?,
        );
    }
    // The structures the read model holds already: only they can have
    // people rows (a person's row is written with their structure's, in one
    // transaction, and no structure row is ever deleted).
    let known: HashSet<String> = held.keys().cloned().collect();
    // The events that would apply: newer than what is held when they come.
    let applied: Vec<NewSnapshot> = snapshots
        .into_iter()
        .filter(|snapshot| {
            let held = held.entry(snapshot.structure.structure_id.clone()).or_insert(i64::MIN);
            let newer = snapshot.version > *held;
            if newer {
                *held = snapshot.version;
            }
            newer
        })
        .collect();
    if applied.is_empty() {
        return Ok(BatchChanges::default());
    }
    let mut people = People::load(conn, &applied, &known, tables).await?;
    for (index, snapshot) in applied.iter().enumerate() {
        people.apply(index, snapshot);
    }
    Ok(people.changes(applied))
}

/// The people concerned by a batch, as the events leave them.
struct People {
    /// Person → their structure and the index of the applied snapshot that
    /// placed them there (`None`: before the batch); `None`: not in the read
    /// model.
    placement: HashMap<String, Option<(String, Option<usize>)>>,
    /// Structure → the people placed there.
    members: HashMap<String, HashSet<String>>,
    /// People whose row changes.
    touched: HashSet<String>,
}

impl People {
    /// The current placement of everyone in the structures of `applied` or
    /// named by them. Only the `known` structures are looked up for their
    /// members: a first import's batches, all of new structures, skip that
    /// statement.
    async fn load(
        conn: &mut AnyConnection,
        applied: &[NewSnapshot],
        known: &HashSet<String>,
        tables: &ReadModelTables,
    ) -> Result<People, HandlerError> {
        let structures = distinct(
            applied
                .iter()
                .map(|s| s.structure.structure_id.as_str())
                .filter(|id| known.contains(*id)),
        );
        let named = distinct(
            applied
                .iter()
                .flat_map(|s| s.structure.people.iter().map(|p| p.person_id.as_str())),
        );
        let mut people = People {
            placement: HashMap::new(),
            members: HashMap::new(),
            touched: HashSet::new(),
        };
        for (column, keys) in [("structure_id", &structures), ("person_id", &named)] {
            let head = format!(
                "SELECT person_id, structure_id FROM {} WHERE {column} IN",
                tables.people
            );
            for row in fetch_for_keys(conn, &head, keys)
                .await
                .map_err(HandlerError::transient)?
            {
                let person: String = row.try_get(0).map_err(HandlerError::transient)?;
                let structure: String = row.try_get(1).map_err(HandlerError::transient)?;
                people
                    .members
                    .entry(structure.clone())
                    .or_default()
                    .insert(person.clone());
                people.placement.insert(person, Some((structure, None)));
            }
        }
        Ok(people)
    }

    /// Applies the `index`-th applied snapshot: its structure's people leave
    /// it, the snapshot's people are placed there.
    fn apply(&mut self, index: usize, snapshot: &NewSnapshot) {
        let structure = &snapshot.structure.structure_id;
        for person in self.members.remove(structure).unwrap_or_default() {
            self.placement.insert(person.clone(), None);
            self.touched.insert(person);
        }
        for person in &snapshot.structure.people {
            let id = &person.person_id;
            if let Some(Some((previous, _))) = self.placement.get(id) {
                if let Some(members) = self.members.get_mut(previous) {
                    members.remove(id);
                }
            }
            self.members.entry(structure.clone()).or_default().insert(id.clone());
            self.placement
                .insert(id.clone(), Some((structure.clone(), Some(index))));
            self.touched.insert(id.clone());
        }
    }

    fn changes(self, applied: Vec<NewSnapshot>) -> BatchChanges {
        let mut removed = Vec::new();
        let mut placed = Vec::new();
        for person in self.touched {
            match &self.placement[&person] {
                None => removed.push(person),
                Some((structure_id, placer)) => {
                    // Every touched person still placed was placed by the batch.
                    let network_id = placer.map_or_else(String::new, |i| applied[i].structure.network.clone());
                    placed.push(Placement {
                        person_id: person,
                        structure_id: structure_id.clone(),
                        network_id,
                    });
                }
            }
        }
        removed.sort_unstable();
        placed.sort_unstable_by(|a, b| a.person_id.cmp(&b.person_id));
        // The newest snapshot of each structure, in the order of the events.
        let mut newest: HashMap<String, usize> = HashMap::new();
        for (index, snapshot) in applied.iter().enumerate() {
            newest.insert(snapshot.structure.structure_id.clone(), index);
        }
        let mut last: Vec<usize> = newest.into_values().collect();
        last.sort_unstable();
        let mut applied: Vec<Option<NewSnapshot>> = applied.into_iter().map(Some).collect();
        let structures = last.into_iter().filter_map(|index| applied[index].take()).collect();
        BatchChanges {
            structures,
            removed,
            placed,
        }
    }
}

/// The distinct `values`, in their first order.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(*v)).map(str::to_owned).collect()
}

/// Where one service stores its read model of the snapshots: its
/// structures table and columns (`structure_id` first, in the order of the
/// values given to [`write_batch`]) and its people table, whose columns are
/// `person_id`, `structure_id` and, with `people_network`, `network_id`.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotTables {
    /// The structures table.
    pub structures: &'static str,
    /// Its columns, the key first.
    pub structure_columns: &'static [&'static str],
    /// The people table.
    pub people: &'static str,
    /// Whether the people table also keeps the snapshot's network.
    pub people_network: bool,
}

/// Writes a batch's end state ([`batch_changes`]) into a service's read
/// model with a few multi-row statements whatever the batch's size: the
/// `structures` rows upserted by their key, the people of `changes.removed`
/// deleted, those of `changes.placed` upserted (a person who moved leaves
/// their previous structure).
///
/// # Errors
/// The database's.
pub async fn write_batch(
    conn: &mut AnyConnection,
    tables: &SnapshotTables,
    structures: Vec<Vec<Value>>,
    changes: &BatchChanges,
) -> Result<(), sqlx::Error> {
    insert_rows(
        conn,
        tables.structures,
        tables.structure_columns,
        &upsert_tail(tables.structure_columns),
        structures,
    )
    .await?;
    execute_for_keys(
        conn,
        &format!("DELETE FROM {} WHERE person_id IN", tables.people),
        &changes.removed,
    )
    .await?;
    let people_columns: &[&str] = if tables.people_network {
        &["person_id", "structure_id", "network_id"]
    } else {
        &["person_id", "structure_id"]
    };
    let people: Vec<Vec<Value>> = changes
        .placed
        .iter()
        .map(|p| {
            let mut row = vec![Value::from(p.person_id.as_str()), Value::from(p.structure_id.as_str())];
            if tables.people_network {
                row.push(Value::from(p.network_id.as_str()));
            }
            row
        })
        .collect();
    insert_rows(
        conn,
        tables.people,
        people_columns,
        &upsert_tail(people_columns),
        people,
    )
    .await
}

/// `ON CONFLICT (key) DO UPDATE SET c = excluded.c, …` for the other columns.
fn upsert_tail(columns: &[&str]) -> String {
    let (key, rest) = columns.split_first().unwrap_or((&"", &[]));
    let set: Vec<String> = rest.iter().map(|c| format!("{c} = excluded.{c}")).collect();
    format!("ON CONFLICT ({key}) DO UPDATE SET {}", set.join(", "))
}

#[cfg(test)]
mod tests {
    use super::upsert_tail;

    #[test]
    fn the_upsert_updates_every_column_but_the_key() {
        assert_eq!(
            upsert_tail(&["person_id", "structure_id", "network_id"]),
            "ON CONFLICT (person_id) DO UPDATE SET structure_id = excluded.structure_id, network_id = excluded.network_id"
        );
    }
}
