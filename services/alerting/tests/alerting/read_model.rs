//! The read model of structures fed by batches (`Consumer::process_batch`,
//! multi-row statements): the same end state as the events applied one by
//! one with plain statements (the handler before batches, kept here as the
//! reference), on both backends.

use std::sync::Arc;

use anyhow::Result;
use prost::Message;
use sqlx::Row;
use vigie_alerting::handlers::InventoryReadModel;
use vigie_inventory_readmodel::decode_inventoried;
use vigie_platform::events::{Consumer, Envelope, Outcome};
use vigie_testkit::ContractHarness;

use crate::harness::{structure_event, Harness, PersonSpec};

const PEOPLE: [&str; 20] = [
    "P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11", "P12", "P13", "P14", "P15", "P16", "P17",
    "P18", "P19",
];

fn person(id: &str) -> PersonSpec<'_> {
    PersonSpec::staying(id, "employee", 1)
}

/// Snapshots of 6 structures with versions out of order, repeated and
/// stale, people moving between them (a fixed pseudo-random sequence).
fn events() -> Vec<Envelope> {
    let mut seed: u64 = 14;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    (0..600)
        .map(|i| {
            let structure = format!("S{}", next(6));
            // Versions mostly rising, often repeated or stale.
            let version = i / 10 + next(8);
            let people: Vec<PersonSpec<'_>> = (0..next(5))
                .map(|_| person(PEOPLE[usize::try_from(next(20)).unwrap_or(0)]))
                .collect();
            structure_event(&structure, "reseau-bretagne", "35238", "53", &people, version)
        })
        .collect()
}

type State = (Vec<(String, i64, Vec<u8>)>, Vec<(String, String)>);

async fn state(harness: &Harness) -> Result<State> {
    let structures = sqlx::query("SELECT structure_id, version, snapshot FROM al_structures ORDER BY structure_id")
        .fetch_all(harness.db.pool())
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect::<Result<_>>()?;
    let people = sqlx::query("SELECT person_id, structure_id FROM al_people ORDER BY person_id")
        .fetch_all(harness.db.pool())
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_>>()?;
    Ok((structures, people))
}

/// The reference: one event, one statement at a time — skip a snapshot not
/// newer than the one held, else store it, remove the structure's people and
/// place the snapshot's (a person who moved leaves their previous structure).
async fn apply_one(harness: &Harness, envelope: &Envelope) -> Result<()> {
    let snapshot = decode_inventoried(envelope).map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = snapshot.structure.structure_id.clone();
    let mut tx = harness.db.begin().await?;
    let held: Option<i64> = sqlx::query("SELECT version FROM al_structures WHERE structure_id = $1")
        .bind(id.clone())
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.get(0));
    if held.is_some_and(|held| held >= snapshot.version) {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO al_structures (structure_id, network_id, legal_form, commune_insee, department_code, \
         region_code, version, snapshot) VALUES ($1, '', '', '', '', '', $2, $3) \
         ON CONFLICT (structure_id) DO UPDATE SET version = excluded.version, snapshot = excluded.snapshot",
    )
    .bind(id.clone())
    .bind(snapshot.version)
    .bind(snapshot.structure.encode_to_vec())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM al_people WHERE structure_id = $1")
        .bind(id.clone())
        .execute(&mut *tx)
        .await?;
    for person in &snapshot.structure.people {
        sqlx::query(
            "INSERT INTO al_people (person_id, structure_id) VALUES ($1, $2) \
             ON CONFLICT (person_id) DO UPDATE SET structure_id = excluded.structure_id",
        )
        .bind(person.person_id.clone())
        .bind(id.clone())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn batches_leave_the_read_model_as_one_by_one(one_by_one: Harness, batched: Harness) -> Result<()> {
    let events = events();
    for envelope in &events {
        apply_one(&one_by_one, envelope).await?;
    }
    let consumer = Consumer::new(batched.db.clone(), Arc::new(InventoryReadModel::default()));
    for chunk in events.chunks(37) {
        for result in consumer.process_batch(chunk).await {
            assert_eq!(result?, Outcome::Applied);
        }
    }
    let expected = state(&one_by_one).await?;
    assert_eq!(expected.0.len(), 6, "every structure stored");
    assert!(!expected.1.is_empty(), "people placed");
    assert_eq!(state(&batched).await?, expected);
    Ok(())
}

async fn stale_versions_inside_one_batch_keep_the_newest(harness: Harness) -> Result<()> {
    harness
        .feed(&structure_event(
            "S1",
            "reseau-bretagne",
            "35238",
            "53",
            &[person("P0")],
            2,
        ))
        .await?;
    let batch = [
        structure_event("S1", "reseau-bretagne", "35238", "53", &[person("P1")], 4),
        structure_event("S1", "reseau-bretagne", "35238", "53", &[person("P2")], 1),
        structure_event("S1", "reseau-bretagne", "35238", "53", &[person("P3")], 4),
        structure_event("S1", "reseau-bretagne", "35238", "53", &[person("P4")], 3),
    ];
    let consumer = Consumer::new(harness.db.clone(), Arc::new(InventoryReadModel::default()));
    for result in consumer.process_batch(&batch).await {
        result?;
    }
    let (structures, people) = state(&harness).await?;
    assert_eq!(structures.len(), 1);
    assert_eq!(structures[0].1, 4, "the newest version");
    assert_eq!(
        people,
        [("P1".to_owned(), "S1".to_owned())],
        "the first snapshot of the newest version"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_batches_leave_the_read_model_as_one_by_one() -> Result<()> {
    batches_leave_the_read_model_as_one_by_one(Harness::sqlite().await?, Harness::sqlite().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_batches_leave_the_read_model_as_one_by_one() -> Result<()> {
    batches_leave_the_read_model_as_one_by_one(Harness::postgres().await?, Harness::postgres().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_stale_versions_inside_one_batch_keep_the_newest() -> Result<()> {
    stale_versions_inside_one_batch_keep_the_newest(Harness::sqlite().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stale_versions_inside_one_batch_keep_the_newest() -> Result<()> {
    stale_versions_inside_one_batch_keep_the_newest(Harness::postgres().await?).await
}
