//! The scenarios of the contract suite (backend-independent).

use anyhow::{ensure, Context, Result};
use vigie_fragility_model::fragility::{assess, Band, FragilityParams};
use vigie_fragility_model::model::{Evidence, HoldingRecord, Role, StructureInventory};
use vigie_inventory::app::{HoldingChange, ImportPhase, RollupBy, Versions};
use vigie_inventory::error::InventoryError;
use vigie_inventory::events::{FRAGILITY_ASSESSED, STRUCTURE_INVENTORIED};

use crate::harness::{set, today, Harness};

fn quiet(_: ImportPhase, _: u64, _: u64) {}

/// Imports a generated set of `n` structures; one of them that has holdings.
async fn imported_with_holdings(h: &Harness, n: usize, seed: u64) -> Result<StructureInventory> {
    let generated = set(n, seed);
    h.app.import(generated.to_files()?, quiet).await?;
    generated
        .inventories
        .into_iter()
        .find(|i| !i.holdings.is_empty())
        .context("a structure with holdings")
}

pub async fn import_stores_the_set_and_appends_events(h: Harness) -> Result<()> {
    let generated = set(30, 1);
    let report = h.app.import(generated.to_files()?, quiet).await?;
    ensure!(
        report.structures == 30 && report.created == 30 && report.updated == 0,
        "{report:?}"
    );
    let stored = h.app.structures(None).await?;
    ensure!(stored.len() == 30, "30 structures stored, got {}", stored.len());
    for (stored, expected) in stored.iter().zip(&generated.inventories) {
        let mut expected = expected.clone();
        expected.people.sort_by(|a, b| a.id.cmp(&b.id));
        expected.functions.sort_by(|a, b| a.code.cmp(&b.code));
        expected
            .holdings
            .sort_by(|a, b| (&a.person_id, &a.function).cmp(&(&b.person_id, &b.function)));
        ensure!(
            stored.inventory == expected,
            "stored inventory differs for {}",
            expected.structure.id
        );
        ensure!(stored.version == 1, "first version is 1");
    }
    ensure!(
        h.events(STRUCTURE_INVENTORIED).await? == 30,
        "one inventoried event per structure"
    );
    ensure!(
        h.events(FRAGILITY_ASSESSED).await? == 30,
        "one first assessment per structure"
    );
    ensure!(report.events == 60, "reported events {}", report.events);
    Ok(())
}

pub async fn reimporting_the_same_set_changes_nothing(h: Harness) -> Result<()> {
    let files = set(20, 2).to_files()?;
    h.app.import(files.clone(), quiet).await?;
    let before = h.app.structures(None).await?;
    let report = h.app.import(files, quiet).await?;
    ensure!(
        report.unchanged == 20 && report.created == 0 && report.updated == 0 && report.events == 0,
        "{report:?}"
    );
    ensure!(
        h.app.structures(None).await? == before,
        "a re-import changed stored data"
    );
    ensure!(h.events(STRUCTURE_INVENTORIED).await? == 20, "no new event");
    Ok(())
}

pub async fn a_changed_set_updates_in_place(h: Harness) -> Result<()> {
    let mut generated = set(10, 3);
    h.app.import(generated.to_files()?, quiet).await?;
    let target = generated.inventories[4].structure.id.clone();
    generated.inventories[4].structure.name = "Nom modifié".into();
    let report = h.app.import(generated.to_files()?, quiet).await?;
    ensure!(report.updated == 1 && report.unchanged == 9, "{report:?}");
    let stored = h.app.structure(&target).await?;
    ensure!(
        stored.inventory.structure.name == "Nom modifié" && stored.version == 2,
        "{stored:?}"
    );
    ensure!(h.app.structures(None).await?.len() == 10, "no duplicate");
    ensure!(
        h.events(STRUCTURE_INVENTORIED).await? == 11,
        "one more inventoried event"
    );
    // The name does not change the fragility: no new assessment event.
    ensure!(
        h.events(FRAGILITY_ASSESSED).await? == 10,
        "no assessment event for a rename"
    );
    Ok(())
}

pub async fn a_bad_set_changes_nothing(h: Harness) -> Result<()> {
    let generated = set(8, 4);
    h.app.import(generated.to_files()?, quiet).await?;
    let before = h.app.structures(None).await?;
    let mut files = set(8, 5).to_files()?;
    files.holdings.extend_from_slice(b"P-NOBODY,payroll,9,2026-01-01\n");
    match h.app.import(files, quiet).await {
        Err(InventoryError::Rejected(errors)) => {
            ensure!(
                errors.len() >= 2,
                "unknown person and bad level both reported: {errors:?}"
            );
            ensure!(errors.iter().all(|e| e.file == "holdings.csv"), "{errors:?}");
        }
        other => anyhow::bail!("a bad set must be rejected, got {other:?}"),
    }
    ensure!(
        h.app.structures(None).await? == before,
        "a rejected import changed data"
    );
    ensure!(
        h.events(STRUCTURE_INVENTORIED).await? == 8,
        "a rejected import appended events"
    );
    Ok(())
}

pub async fn a_person_moving_leaves_their_old_structure(h: Harness) -> Result<()> {
    let generated = set(6, 6);
    h.app.import(generated.to_files()?, quiet).await?;
    let (from, to) = (&generated.inventories[0], &generated.inventories[1]);
    let mover = from.people.first().context("structure without people")?.clone();
    let mut moved_to = to.clone();
    let mut person = mover.clone();
    person.structure_id = moved_to.structure.id.clone();
    moved_to.people.push(person);
    let only_b = vigie_inventory_set::generate::GeneratedSet {
        inventories: vec![moved_to.clone()],
    };
    let report = h.app.import(only_b.to_files()?, quiet).await?;
    ensure!(report.updated == 1, "{report:?}");
    let old = h.app.structure(&from.structure.id).await?;
    ensure!(
        !old.inventory.people.iter().any(|p| p.id == mover.id),
        "the mover is still in the old structure"
    );
    ensure!(
        !old.inventory.holdings.iter().any(|hd| hd.person_id == mover.id),
        "the mover's old holdings remain"
    );
    ensure!(old.version == 2, "the old structure's version must move");
    let new = h.app.structure(&to.structure.id).await?;
    ensure!(
        new.inventory.people.iter().any(|p| p.id == mover.id),
        "the mover did not arrive"
    );
    Ok(())
}

/// The import writes 1,000 structures at a time: a person moving between
/// structures of one set written in different batches — to an earlier batch
/// (still stored under her old structure when the new one is written) and
/// to a later one — leaves the old structure, which gets a new version.
pub async fn moves_across_the_batches_of_one_set(h: Harness) -> Result<()> {
    let mut generated = set(1_100, 8);
    h.app.import(generated.to_files()?, quiet).await?;
    let last = generated.inventories.len() - 1;
    let mut moves = Vec::new();
    for (from, to) in [(last, 0), (1, last - 1)] {
        let structure_id = generated.inventories[to].structure.id.clone();
        let from_inventory = &mut generated.inventories[from];
        let mut person = from_inventory.people.pop().context("structure without people")?;
        from_inventory.holdings.retain(|holding| holding.person_id != person.id);
        person.structure_id = structure_id;
        moves.push((person.id.clone(), from, to));
        generated.inventories[to].people.push(person);
    }
    let report = h.app.import(generated.to_files()?, quiet).await?;
    ensure!(report.updated == 4 && report.unchanged == 1_096, "{report:?}");
    for (person, from, to) in moves {
        let old = h.app.structure(&generated.inventories[from].structure.id).await?;
        ensure!(
            !old.inventory.people.iter().any(|p| p.id == person) && old.version == 2,
            "{person} still in structure {from}, or its version did not move: {}",
            old.version
        );
        let new = h.app.structure(&generated.inventories[to].structure.id).await?;
        ensure!(
            new.inventory.people.iter().any(|p| p.id == person) && new.version == 2,
            "{person} did not arrive in structure {to}"
        );
    }
    ensure!(
        h.events(STRUCTURE_INVENTORIED).await? == 1_104,
        "one more inventoried event per changed structure"
    );
    Ok(())
}

/// A coordinator imports her own network's structures; a structure of
/// another network, a structure moved in from another network or a person
/// taken from another network's structure is refused with its `FILE:LINE`,
/// and nothing changes.
pub async fn a_coordinator_imports_only_within_her_network(h: Harness) -> Result<()> {
    use vigie_inventory_set::generate::GeneratedSet;
    use vigie_inventory_set::scope::ImportScope;

    let generated = set(30, 7);
    h.app.import(generated.to_files()?, quiet).await?;
    let first = &generated.inventories[0];
    let network = first.structure.network.clone();
    let mine = ImportScope::Networks([network.clone()].into());
    let own: Vec<_> = generated
        .inventories
        .iter()
        .filter(|i| i.structure.network == network)
        .cloned()
        .collect();
    let other = generated
        .inventories
        .iter()
        .find(|i| i.structure.network != network)
        .context("one network only")?
        .clone();
    let before = h.app.structures(None).await?;
    let events = h.events(STRUCTURE_INVENTORIED).await?;

    // Her network's set, renamed: accepted.
    let mut renamed = own.clone();
    renamed[0].structure.name = format!("{} (renommée)", renamed[0].structure.name);
    let report = h
        .app
        .import_within(
            GeneratedSet {
                inventories: renamed.clone(),
            }
            .to_files()?,
            &mine,
            quiet,
        )
        .await?;
    ensure!(
        report.updated == 1 && report.unchanged as usize == own.len() - 1,
        "{report:?}"
    );

    // Each way out of her network is refused, naming its row.
    let mut stolen = other.clone();
    stolen.structure.network = network.clone();
    let mut taker = renamed[0].clone();
    let mut person = other.people.first().context("structure without people")?.clone();
    person.structure_id = taker.structure.id.clone();
    taker.people.push(person.clone());
    let attempts = [
        (vec![other.clone()], "structures.csv", 2, "est déclarée dans le réseau"),
        (vec![stolen], "structures.csv", 2, "appartient au réseau"),
        (vec![taker], "people.csv", 0, &*format!("la personne {}", person.id)),
    ];
    let after_rename = h.app.structures(None).await?;
    for (inventories, file, line, words) in attempts {
        match h
            .app
            .import_within(GeneratedSet { inventories }.to_files()?, &mine, quiet)
            .await
        {
            Err(InventoryError::Rejected(errors)) => {
                ensure!(errors.len() == 1, "{errors:?}");
                let error = &errors[0];
                ensure!(error.file == file && error.message.contains(words), "{error:?}");
                ensure!(line == 0 || error.line == line, "{error:?}");
                ensure!(error.line >= 2, "a real line: {error:?}");
            }
            other => anyhow::bail!("{words}: must be refused, got {other:?}"),
        }
    }
    ensure!(
        h.app.structures(None).await? == after_rename,
        "a refused import changed data"
    );
    ensure!(
        h.events(STRUCTURE_INVENTORIED).await? == events + 1,
        "only the accepted rename appended an event"
    );
    ensure!(before.len() == after_rename.len());
    Ok(())
}

pub async fn set_holding_recomputes_fragility_with_its_event(h: Harness) -> Result<()> {
    let generated = set(15, 7);
    h.app.import(generated.to_files()?, quiet).await?;
    // Find a SPOF or orphan function and someone who does not hold it yet.
    let params = FragilityParams::default();
    let (inv, function, person) = generated
        .inventories
        .iter()
        .find_map(|inv| {
            let a = assess(inv, today(), &params);
            let function = a.spof_functions.first().or(a.orphan_functions.first())?.clone();
            let holders = &a.functions.iter().find(|f| f.code == function)?.holders;
            let person = inv
                .people
                .iter()
                .find(|p| !holders.contains(&p.id) && p.end_date.is_none_or(|d| d > today()))?;
            Some((inv.clone(), function, person.id.clone()))
        })
        .context("no structure with a fixable function in the generated set")?;
    let before = h.app.fragility(&inv.structure.id, None).await?.1;
    let assessed_before = h.events(FRAGILITY_ASSESSED).await?;
    let holding = HoldingRecord {
        person_id: person.clone(),
        function: function.clone(),
        level: 4,
        last_practised: Some(today()),
        evidence: Evidence::Manual,
    };
    let (_, stored, after) = h
        .app
        .set_holding(HoldingChange {
            holding,
            raise_only: false,
        })
        .await?;
    ensure!(after != before, "a new holder must change the assessment");
    ensure!(!after.orphan_functions.contains(&function), "still an orphan");
    ensure!(stored.version == 2, "version bumped");
    ensure!(
        h.events(FRAGILITY_ASSESSED).await? == assessed_before + 1,
        "one assessment event"
    );
    let again = h.app.fragility(&inv.structure.id, None).await?.1;
    ensure!(again == after, "the stored state gives the returned assessment");

    let unknown = HoldingRecord {
        person_id: "P-NOBODY".into(),
        function,
        level: 3,
        last_practised: None,
        evidence: Evidence::Manual,
    };
    let result = h
        .app
        .set_holding(HoldingChange {
            holding: unknown,
            raise_only: false,
        })
        .await;
    ensure!(
        matches!(result, Err(InventoryError::NotFound(_))),
        "unknown person: {result:?}"
    );
    Ok(())
}

pub async fn raise_only_never_lowers(h: Harness) -> Result<()> {
    let generated = set(10, 8);
    h.app.import(generated.to_files()?, quiet).await?;
    let existing = generated
        .inventories
        .iter()
        .flat_map(|inv| inv.holdings.iter())
        .find(|hd| hd.level >= 3)
        .context("no holding at level 3+")?
        .clone();
    let events_before = h.events(STRUCTURE_INVENTORIED).await?;
    let lower = HoldingRecord {
        level: 1,
        evidence: Evidence::Training,
        ..existing.clone()
    };
    let (kept, _, _) = h
        .app
        .set_holding(HoldingChange {
            holding: lower,
            raise_only: true,
        })
        .await?;
    ensure!(
        kept.level == existing.level && kept.evidence == existing.evidence,
        "raise_only lowered: {kept:?}"
    );
    ensure!(
        h.events(STRUCTURE_INVENTORIED).await? == events_before,
        "no change, no event"
    );
    Ok(())
}

pub async fn reassessment_publishes_only_when_the_date_changes_a_result(h: Harness) -> Result<()> {
    let generated = set(20, 9);
    h.app.import(generated.to_files()?, quiet).await?;
    ensure!(h.app.reassess_all().await? == 0, "same day, nothing changes");
    // Two years later every fixed-term contract has ended and all practice is stale.
    let later = today() + chrono::Days::new(730);
    h.set_today(later);
    let params = FragilityParams::default();
    let expected = generated
        .inventories
        .iter()
        .filter(|inv| {
            let print = |d| {
                let a = assess(inv, d, &params);
                (a.band, a.score, a.truck_factor, a.orphan_functions, a.spof_functions)
            };
            print(today()) != print(later)
        })
        .count();
    ensure!(expected > 0, "the generated set should change over two years");
    let events = h.app.reassess_all().await?;
    ensure!(
        events as usize >= expected,
        "{events} events for {expected} changed structures"
    );
    ensure!(h.app.reassess_all().await? == 0, "a second run publishes nothing");
    Ok(())
}

pub async fn fragility_on_another_date_and_rollups(h: Harness) -> Result<()> {
    let generated = set(40, 10);
    h.app.import(generated.to_files()?, quiet).await?;
    let later = today() + chrono::Days::new(3650);
    let all = h.app.fragility_all(None, Some(later)).await?;
    ensure!(all.len() == 40, "every structure assessed");
    for (stored, assessment) in &all {
        ensure!(assessment.evaluated_on == later, "evaluated on the asked date");
        // Ten years later: nobody holds anything recent.
        ensure!(
            matches!(
                assessment.band,
                Band::Critical | Band::Unknown | Band::High | Band::Moderate
            ),
            "{:?}",
            assessment.band
        );
        let expected = assess(&stored.inventory, later, &FragilityParams::default());
        ensure!(*assessment == expected, "stored inputs reproduce the assessment");
    }
    for by in [
        RollupBy::Instance,
        RollupBy::Network,
        RollupBy::Region,
        RollupBy::Department,
    ] {
        let groups = h.app.rollup(by, None).await?;
        let total: u64 = groups.iter().map(|g| g.structures).sum();
        ensure!(total == 40, "{by:?}: {total}");
        for g in &groups {
            ensure!(
                g.unknown + g.low + g.moderate + g.high + g.critical == g.structures,
                "band counts add up"
            );
        }
    }
    let directors = generated
        .inventories
        .iter()
        .flat_map(|i| &i.people)
        .filter(|p| p.role == Role::Director)
        .count();
    ensure!(directors > 0, "generated structures have directors");
    Ok(())
}

/// Every text (or blob) value of every `inv_*` table.
async fn inventory_values(h: &Harness) -> Result<Vec<(String, Vec<u8>)>> {
    let values = vigie_testkit::scan::stored_values(h.db.pool(), "inv_%").await?;
    ensure!(values.len() > 100, "the scan read almost nothing: {}", values.len());
    Ok(values
        .into_iter()
        .map(|v| (format!("{}.{}", v.table, v.column), v.bytes))
        .collect())
}

use vigie_testkit::scan::contains;

async fn outbox_ids(h: &Harness) -> Result<std::collections::BTreeSet<String>> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT id FROM vigie_outbox")
        .fetch_all(h.db.pool())
        .await?;
    rows.iter().map(|r| Ok(r.try_get::<String, _>("id")?)).collect()
}

pub async fn erasure_forgets_the_person(h: Harness) -> Result<()> {
    use sqlx::Row;
    use vigie_inventory::events::PERSON_ERASED;
    let generated = set(10, 11);
    h.app.import(generated.to_files()?, quiet).await?;
    let (inventory, person) = generated
        .inventories
        .iter()
        .flat_map(|i| i.people.iter().map(move |p| (i, p)))
        .find(|(i, p)| p.email.is_some() && i.holdings.iter().any(|h| h.person_id == p.id))
        .context("no person with an email and a holding")?;
    let (name, email) = (person.display_name.clone(), person.email.clone().unwrap_or_default());
    let structure_id = inventory.structure.id.clone();
    let before = h.app.structure(&structure_id).await?;

    let export = h.app.export_person(&person.id).await?;
    ensure!(
        export.person.display_name == name && !export.holdings.is_empty(),
        "{export:?}"
    );
    ensure!(
        inventory_values(&h).await?.iter().any(|(_, v)| contains(v, &name)),
        "the scan does not see the name before erasure"
    );

    let ids_before = outbox_ids(&h).await?;
    let erasure = h.app.erase_person(&person.id).await?;
    ensure!(
        !erasure.already_erased && erasure.structure_id == structure_id,
        "{erasure:?}"
    );
    for (place, value) in inventory_values(&h).await? {
        ensure!(
            !contains(&value, &name) && !contains(&value, &email),
            "{place} still holds the person"
        );
    }
    let after = h.app.structure(&structure_id).await?;
    ensure!(after.version == before.version + 1, "version not bumped");
    ensure!(
        !after.inventory.people.iter().any(|p| p.id == person.id),
        "still a member"
    );
    ensure!(h.events(PERSON_ERASED).await? == 1, "one PersonErased");
    let new_rows = sqlx::query("SELECT id, event_type, payload FROM vigie_outbox")
        .fetch_all(h.db.pool())
        .await?;
    let mut appended = 0;
    for row in new_rows {
        let id: String = row.try_get("id")?;
        if ids_before.contains(&id) {
            continue;
        }
        appended += 1;
        let payload: Vec<u8> = row.try_get("payload")?;
        ensure!(
            !contains(&payload, &name) && !contains(&payload, &email),
            "event {} appended by the erasure names the person",
            row.try_get::<String, _>("event_type")?
        );
    }
    ensure!(
        appended == 3,
        "inventoried, assessed and erased expected, got {appended}"
    );
    // Earlier rows of the structure (they named the person) are gone too.
    let all = sqlx::query("SELECT payload FROM vigie_outbox")
        .fetch_all(h.db.pool())
        .await?;
    for row in all {
        let payload: Vec<u8> = row.try_get("payload")?;
        ensure!(!contains(&payload, &email), "an earlier event still holds the email");
    }

    // Idempotent: the second erasure changes nothing and appends nothing.
    let ids = outbox_ids(&h).await?;
    let again = h.app.erase_person(&person.id).await?;
    ensure!(again.already_erased && again.structure_id == structure_id, "{again:?}");
    ensure!(outbox_ids(&h).await? == ids, "a second erasure appended events");
    ensure!(
        h.app.structure(&structure_id).await?.version == after.version,
        "version moved"
    );
    // Never known: NOT_FOUND; export of an erased person: NOT_FOUND.
    ensure!(matches!(
        h.app.erase_person("never-known").await,
        Err(InventoryError::NotFound(_))
    ));
    ensure!(matches!(
        h.app.export_person(&person.id).await,
        Err(InventoryError::NotFound(_))
    ));
    Ok(())
}

/// The newest outbox row of `event_type` for `structure_id`: (event id, payload).
async fn latest_event(h: &Harness, event_type: &str, structure_id: &str) -> Result<(String, Vec<u8>)> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT id, payload FROM vigie_outbox WHERE event_type = $1 AND subject = $2 ORDER BY seq DESC LIMIT 1",
    )
    .bind(event_type.to_owned())
    .bind(structure_id.to_owned())
    .fetch_one(h.db.pool())
    .await?;
    Ok((row.try_get("id")?, row.try_get("payload")?))
}

pub async fn resync_restates_the_current_state_as_new_events(h: Harness) -> Result<()> {
    use prost::Message;
    use vigie_proto::events::v1::{FragilityAssessed, StructureInventoried};

    h.app.import(set(12, 3).to_files()?, quiet).await?;
    let inventoried = h.events(STRUCTURE_INVENTORIED).await?;
    let assessed = h.events(FRAGILITY_ASSESSED).await?;
    let first = h.app.structures(None).await?.first().cloned().context("no structure")?;
    let id = first.inventory.structure.id.clone();
    let (import_event, _) = latest_event(&h, STRUCTURE_INVENTORIED, &id).await?;

    // Everything: one snapshot and one assessment per structure, even though
    // nothing changed since the import.
    let appended = h.app.resync(&[], Versions::Keep).await?;
    ensure!(appended.inventoried == 12 && appended.assessed == 12, "{appended:?}");
    ensure!(
        h.events(STRUCTURE_INVENTORIED).await? == inventoried + 12,
        "12 new snapshots"
    );
    ensure!(
        h.events(FRAGILITY_ASSESSED).await? == assessed + 12,
        "12 new assessments"
    );

    // A new event (new id, so no deduplication drops it) with the same state
    // and the same version: applying it is idempotent.
    let (resync_event, payload) = latest_event(&h, STRUCTURE_INVENTORIED, &id).await?;
    ensure!(resync_event != import_event, "a resync appends new event ids");
    let snapshot = StructureInventoried::decode(payload.as_slice())?
        .structure
        .context("snapshot without a structure")?;
    ensure!(
        snapshot == vigie_inventory::convert::structure_to_pb(&first.inventory, first.version),
        "the snapshot is the stored state"
    );
    ensure!(
        h.app.structures(None).await?.first().map(|s| s.version) == Some(first.version),
        "versions are not changed"
    );
    let (_, payload) = latest_event(&h, FRAGILITY_ASSESSED, &id).await?;
    let restated = FragilityAssessed::decode(payload.as_slice())?;
    ensure!(
        restated.fragility.as_ref().map(|f| f.band) == Some(restated.previous_band),
        "an unchanged result is restated with its own band as the previous one"
    );

    // Chosen structures, each once; an unknown one refuses the whole resync.
    let appended = h.app.resync(&[id.clone(), id.clone()], Versions::Keep).await?;
    ensure!(appended.inventoried == 1 && appended.assessed == 1, "{appended:?}");
    let before = h.events(STRUCTURE_INVENTORIED).await?;
    let refused = h.app.resync(&[id.clone(), "inconnue".to_owned()], Versions::Keep).await;
    ensure!(
        matches!(&refused, Err(InventoryError::NotFound(what)) if what.contains("inconnue")),
        "{refused:?}"
    );
    ensure!(
        h.events(STRUCTURE_INVENTORIED).await? == before,
        "nothing appended on refusal"
    );

    // After a restore of the inventory: new versions, above any issued before,
    // carried by the snapshots; later changes keep counting from there.
    let appended = h.app.resync(std::slice::from_ref(&id), Versions::Supersede).await?;
    ensure!(appended.inventoried == 1, "{appended:?}");
    let superseded = h
        .app
        .structures(None)
        .await?
        .first()
        .map(|s| s.version)
        .unwrap_or_default();
    ensure!(
        superseded > first.version && superseded >= chrono::Utc::now().timestamp_millis() - 60_000,
        "version {superseded} after {}",
        first.version
    );
    let (_, payload) = latest_event(&h, STRUCTURE_INVENTORIED, &id).await?;
    let snapshot = StructureInventoried::decode(payload.as_slice())?
        .structure
        .context("snapshot without a structure")?;
    ensure!(
        i64::try_from(snapshot.version)? == superseded,
        "the snapshot carries the new version"
    );
    let untouched = h.app.structures(None).await?;
    ensure!(
        untouched.iter().skip(1).all(|s| s.version < superseded),
        "only the chosen structure got a new version"
    );
    Ok(())
}

/// `structure` (one statement on the read pool) returns exactly what the
/// list (four queries) returns, sees a change as soon as it is committed,
/// and reports a missing structure.
pub async fn one_structure_reads_as_the_list_does(h: Harness) -> Result<()> {
    let generated = set(30, 3);
    h.app.import(generated.to_files()?, quiet).await?;
    let all = h.app.structures(None).await?;
    ensure!(all.len() == 30, "30 structures stored");
    for listed in &all {
        let one = h.app.structure(&listed.inventory.structure.id).await?;
        ensure!(
            one == *listed,
            "structure {} differs from the list",
            listed.inventory.structure.id
        );
    }
    // A committed change is read at once, by the one-statement read too.
    let target = all
        .iter()
        .find(|s| !s.inventory.holdings.is_empty())
        .context("a structure with holdings")?;
    let mut holding = target.inventory.holdings[0].clone();
    holding.level = if holding.level == 4 { 1 } else { 4 };
    h.app
        .set_holding(HoldingChange {
            holding: holding.clone(),
            raise_only: false,
        })
        .await?;
    let after = h.app.structure(&target.inventory.structure.id).await?;
    ensure!(after.version == target.version + 1, "new version read");
    ensure!(
        after.inventory.holdings.contains(&holding),
        "the new level is read after the commit"
    );
    match h.app.structure("S-absent").await {
        Err(InventoryError::NotFound(_)) => Ok(()),
        other => anyhow::bail!("a missing structure must be NOT_FOUND, got {other:?}"),
    }
}

/// A cached read answers exactly as a cold one (the same bytes of
/// `GetFragility` and `GetStructure`, whose encoded answers are also kept,
/// and the same bytes as the generated methods build each time), and a
/// change is read at once: made by this service, or on PostgreSQL by another
/// replica writing the same database.
pub async fn cached_reads_answer_as_cold_ones(h: Harness) -> Result<()> {
    use prost::Message as _;
    use vigie_inventory::convert::date_to_pb;
    use vigie_inventory::grpc::InventoryApi;
    use vigie_platform::auth::testing::{caller, request};
    use vigie_platform::auth::{Role as Access, Scope};
    use vigie_proto::inventory::v1::inventory_service_server::InventoryService as _;
    use vigie_proto::inventory::v1::{GetFragilityRequest, GetStructureRequest};

    let target = imported_with_holdings(&h, 10, 5).await?;
    let id = target.structure.id.clone();
    let api = InventoryApi::new(h.app.clone());
    let reader = caller(Access::Facilitator, Scope::Network(target.structure.network.clone()));
    // Both single-structure answers, encoded, from `api` (which keeps its
    // answers) for a language and a date.
    let answer_of = |api: InventoryApi, lang: &'static str, at: Option<chrono::NaiveDate>| {
        let (id, reader) = (id.clone(), reader.clone());
        async move {
            let fragility = GetFragilityRequest {
                structure_id: id.clone(),
                lang: lang.to_owned(),
                at: at.map(date_to_pb),
            };
            let structure = GetStructureRequest { structure_id: id };
            // What the routed service sends, kept or built...
            let kept = (
                api.get_fragility_encoded(request(&reader, fragility.clone()))
                    .await?
                    .into_inner(),
                api.get_structure_encoded(request(&reader, structure.clone()))
                    .await?
                    .into_inner(),
            );
            // ...is what the generated methods build at every call.
            let built = (
                api.get_fragility(request(&reader, fragility))
                    .await?
                    .into_inner()
                    .encode_to_vec(),
                api.get_structure(request(&reader, structure))
                    .await?
                    .into_inner()
                    .encode_to_vec(),
            );
            ensure!(kept.0 == built.0 && kept.1 == built.1, "a kept answer is the built one");
            anyhow::Ok((kept.0.to_vec(), kept.1.to_vec()))
        }
    };
    let answer = || answer_of(api.clone(), "", None);
    // The same request to a new adapter, which has kept nothing yet.
    let cold_answer = || answer_of(InventoryApi::new(h.app.clone()), "", None);
    let cold = answer().await?;
    // The import's write connection goes back to its pool in a task of its
    // own after the commit; until it is back a read cannot be stamped (a
    // write may be under way) and is not kept. Once it is, two reads with
    // nothing written between them share one answer.
    let mut served_by_cache = false;
    for _ in 0..200 {
        if std::sync::Arc::ptr_eq(&h.app.structure_shared(&id).await?, &h.app.structure_shared(&id).await?) {
            served_by_cache = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    ensure!(
        served_by_cache,
        "a read with nothing written since is served by the cache"
    );
    ensure!(answer().await? == cold, "warm answers are the cold ones, byte for byte");
    ensure!(answer().await? == cold, "and kept answers too");
    // A kept assessment is kept for its language and its date only.
    let (english, _) = answer_of(api.clone(), "en", None).await?;
    ensure!(
        english != cold.0 && english == answer_of(InventoryApi::new(h.app.clone()), "en", None).await?.0,
        "another language is answered in it"
    );
    let later = today() + chrono::Days::new(400);
    let (future, _) = answer_of(api.clone(), "", Some(later)).await?;
    ensure!(
        future == answer_of(InventoryApi::new(h.app.clone()), "", Some(later)).await?.0,
        "another date is assessed on it"
    );

    let mut holding = target.holdings[0].clone();
    holding.level = if holding.level == 4 { 1 } else { 4 };
    let change = |holding: &HoldingRecord| HoldingChange {
        holding: holding.clone(),
        raise_only: false,
    };
    h.app.set_holding(change(&holding)).await?;
    let changed = answer().await?;
    ensure!(changed.1 != cold.1, "a change is answered at once");
    ensure!(
        changed == cold_answer().await?,
        "both answers after a change are a cold read's"
    );
    let listed = h.app.structures(None).await?;
    let uncached = listed
        .iter()
        .find(|s| s.inventory.structure.id == id)
        .context("listed")?;
    ensure!(
        h.app.structure(&id).await? == *uncached,
        "the cached read is the listed one"
    );

    if let Some(replica) = h.replica().await? {
        holding.level = if holding.level == 4 { 2 } else { 4 };
        replica.set_holding(change(&holding)).await?;
        let read = h.app.structure(&id).await?;
        ensure!(
            read.inventory.holdings.contains(&holding) && read.version == uncached.version + 1,
            "another replica's change is read at once"
        );
        let answered = answer().await?;
        ensure!(
            answered != changed && answered == cold_answer().await?,
            "and answered at once"
        );
    }
    Ok(())
}

/// With a read staleness allowed (`inventory.read_staleness_ms`), a copy
/// checked by its version on PostgreSQL is served unchecked for that long:
/// another replica's change is seen once it has passed, this service's own
/// changes at once. On SQLite the setting changes nothing (its copies are
/// exact).
pub async fn a_read_staleness_delays_only_other_replicas_changes(h: Harness) -> Result<()> {
    use std::time::Duration;

    let target = imported_with_holdings(&h, 6, 3).await?;
    let id = target.structure.id.clone();
    // Clones share one cache; only how long they trust a copy differs.
    let patient = h.app.clone().with_read_staleness(Duration::from_secs(60));
    let brief = h.app.clone().with_read_staleness(Duration::from_millis(200));
    let change = |level: u8| {
        let mut holding = target.holdings[0].clone();
        holding.level = level;
        HoldingChange {
            holding,
            raise_only: false,
        }
    };
    let has_level = |stored: &vigie_inventory::app::views::VersionedInventory, level: u8| {
        stored.inventory.holdings.iter().any(|x| {
            x.person_id == target.holdings[0].person_id && x.function == target.holdings[0].function && x.level == level
        })
    };
    let first = if target.holdings[0].level == 4 { 1 } else { 4 };
    patient.structure(&id).await?;
    patient.set_holding(change(first)).await?;
    ensure!(
        has_level(&patient.structure(&id).await?, first),
        "this service's own change is read at once, whatever the staleness allowed"
    );
    if let Some(replica) = h.replica().await? {
        let second = if first == 4 { 2 } else { 4 };
        let before = patient.structure(&id).await?;
        replica.set_holding(change(second)).await?;
        ensure!(
            patient.structure(&id).await? == before,
            "another replica's change may wait for the staleness allowed"
        );
        ensure!(
            has_level(&h.app.structure(&id).await?, second),
            "without staleness it is read at once"
        );
        patient.structure(&id).await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
        ensure!(
            has_level(&brief.structure(&id).await?, second),
            "and once the staleness has passed, with it"
        );
    }
    Ok(())
}

/// Many reads at once (their version checks coalesced on PostgreSQL) each
/// get their own structure as stored, and every read that starts after a
/// change committed by another replica sees it.
pub async fn concurrent_reads_each_see_what_was_committed_before(h: Harness) -> Result<()> {
    const READS: usize = 64;
    let target = imported_with_holdings(&h, 12, 9).await?;
    let listed = h.app.structures(None).await?;
    let ids: Vec<String> = listed.iter().map(|s| s.inventory.structure.id.clone()).collect();
    let together = |ids: Vec<String>| {
        let app = h.app.clone();
        async move {
            let reads = ids.into_iter().map(|id| {
                let app = app.clone();
                async move { app.structure(&id).await.map(|read| (id, read)) }
            });
            tokio::time::timeout(std::time::Duration::from_secs(30), futures::future::try_join_all(reads))
                .await
                .context("concurrent reads are answered")?
                .map_err(anyhow::Error::from)
        }
    };
    let round = |times: usize| (0..times).map(|i| ids[i % ids.len()].clone()).collect::<Vec<_>>();
    // Cold, then warm (checked by version on PostgreSQL).
    for _ in 0..2 {
        for (id, read) in together(round(READS)).await? {
            let expected = listed
                .iter()
                .find(|s| s.inventory.structure.id == id)
                .context("listed")?;
            ensure!(read == *expected, "structure {id} is answered as stored");
        }
    }
    // Callers that leave during a check (a cancelled request) hold up
    // nobody: the next ones are answered.
    let id = &target.structure.id;
    for _ in 0..50 {
        let _ = tokio::time::timeout(std::time::Duration::from_micros(1), h.app.structure(id)).await;
        tokio::time::timeout(std::time::Duration::from_secs(10), h.app.structure(id))
            .await
            .context("a read after an abandoned one is answered")??;
    }
    if let Some(replica) = h.replica().await? {
        let before = h.app.structure(&target.structure.id).await?;
        let mut holding = target.holdings[0].clone();
        holding.level = if holding.level == 4 { 1 } else { 4 };
        replica
            .set_holding(HoldingChange {
                holding: holding.clone(),
                raise_only: false,
            })
            .await?;
        for (id, read) in together(round(READS)).await? {
            if id == target.structure.id {
                ensure!(
                    read.version == before.version + 1 && read.inventory.holdings.contains(&holding),
                    "a read begun after another replica's change sees it"
                );
            }
        }
    }
    Ok(())
}

/// A lone reader's version checks (PostgreSQL) keep their connection
/// between calls — the pool would test a connection given back with a round
/// trip of its own — and give it back once no call came for a moment.
pub async fn a_lone_reader_keeps_its_connection_a_moment(h: Harness) -> Result<()> {
    use std::time::Duration;
    use vigie_platform::db::Backend;

    let target = imported_with_holdings(&h, 5, 3).await?;
    let id = &target.structure.id;
    let pool = h.db.reader();
    let busy = || pool.size() as usize - pool.num_idle();
    let expected = h.app.structure(id).await?;
    for _ in 0..5 {
        ensure!(h.app.structure(id).await? == expected, "read as stored");
        // Long enough for a connection given back to be tested and idle,
        // well within the time one is kept.
        tokio::time::sleep(Duration::from_millis(20)).await;
        if h.db.backend() == Backend::Postgres {
            ensure!(
                busy() == 1,
                "just after a read, its version check's connection is kept ({} busy)",
                busy()
            );
        }
    }
    let mut back = false;
    for _ in 0..100 {
        if busy() == 0 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure!(back, "an idle connection goes back to the pool ({} busy)", busy());
    Ok(())
}

/// Reads under load survive their connections being cut (a PostgreSQL
/// restart, a proxy closing connections): the calls made while the server
/// cuts them may fail, the next ones answer as stored, and once the load
/// stops every connection is back in the pool (the version checks keep one
/// a moment only after their last call).
pub async fn reads_answer_again_after_their_connections_are_cut(h: Harness) -> Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    let target = imported_with_holdings(&h, 6, 3).await?;
    let id = target.structure.id.clone();
    let expected = h.app.structure(&id).await?;
    let stop = Arc::new(AtomicBool::new(false));
    // Sixteen callers reading one structure back to back: on PostgreSQL its
    // version checks follow each other and keep their connection.
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let (app, id, stop) = (h.app.clone(), id.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut answered = 0_u32;
                while !stop.load(Ordering::Relaxed) {
                    if app.structure(&id).await.is_ok() {
                        answered += 1;
                    }
                    // A cached read completes without waiting: let the
                    // other tasks run.
                    tokio::task::yield_now().await;
                }
                answered
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cut = h.cut_connections().await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        ensure!(reader.await? > 0, "every caller was answered under load");
    }
    // Dead connections left in the pool fail once each, then are replaced.
    let mut answered = 0;
    for _ in 0..100 {
        match h.app.structure(&id).await {
            Ok(read) => {
                ensure!(read == expected, "a read after the cut answers as stored");
                answered += 1;
                if answered == 10 {
                    break;
                }
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    ensure!(answered == 10, "reads answer again after the cut (cut: {cut})");
    let pool = h.db.reader();
    let mut all_back = false;
    for _ in 0..100 {
        if pool.num_idle() == pool.size() as usize {
            all_back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure!(
        all_back,
        "every connection is back in the pool once no call waits ({} of {} idle)",
        pool.num_idle(),
        pool.size()
    );
    Ok(())
}

/// `ListFragility` reads the structures a chunk at a time: across chunks it
/// streams every structure once, in id order, each answer as computed from
/// the whole instance read at once.
pub async fn a_listing_streams_chunk_after_chunk(h: Harness) -> Result<()> {
    use tokio_stream::StreamExt as _;
    use vigie_inventory::app::LIST_CHUNK;
    use vigie_inventory::convert::{date_to_pb, fragility_to_pb, lang_from_pb};
    use vigie_inventory::grpc::InventoryApi;
    use vigie_platform::auth::testing::{caller, request};
    use vigie_platform::auth::{Role as Access, Scope};
    use vigie_proto::inventory::v1::inventory_service_server::InventoryService as _;
    use vigie_proto::inventory::v1::ListFragilityRequest;

    let generated = set(LIST_CHUNK + 20, 8);
    h.app.import(generated.to_files()?, quiet).await?;
    let network = generated.inventories[0].structure.network.clone();
    let admin = caller(Access::FederationAdmin, Scope::Network(network));
    let at = today();
    let message = ListFragilityRequest {
        at: Some(date_to_pb(at)),
        ..ListFragilityRequest::default()
    };
    let listed: Vec<_> = InventoryApi::new(h.app.clone())
        .list_fragility(request(&admin, message))
        .await?
        .into_inner()
        .collect::<Result<_, _>>()
        .await?;
    let whole: Vec<_> = h
        .app
        .fragility_all(None, Some(at))
        .await?
        .iter()
        .map(|(stored, assessment)| fragility_to_pb(&stored.inventory, assessment, lang_from_pb("")))
        .collect();
    ensure!(listed.len() == LIST_CHUNK + 20, "every structure listed once");
    ensure!(listed == whole, "the chunked listing is the whole one, in id order");
    Ok(())
}

/// A set larger than one write batch whose only mistake is on the last line
/// of the last file (read file by file, each file released once read) is
/// refused with that line named, and writes nothing; the same set corrected
/// is written whole, each structure's two events in order.
pub async fn an_error_on_the_last_line_of_the_last_file_writes_nothing(h: Harness) -> Result<()> {
    const N: usize = 1_200;
    let generated = set(N, 11);
    let good = generated.to_files()?;
    let mut bad = good.clone();
    let text = String::from_utf8(bad.holdings.clone())?;
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.last().context("holdings")?;
    let fields: Vec<&str> = last.split(',').collect();
    ensure!(fields.len() == 4, "{last}");
    let broken = format!("{},{},9,{}", fields[0], fields[1], fields[3]);
    bad.holdings = format!("{}\n{broken}\n", lines[..lines.len() - 1].join("\n")).into_bytes();
    match h.app.import(bad, quiet).await {
        Err(InventoryError::Rejected(errors)) => {
            ensure!(errors.len() == 1, "{errors:?}");
            ensure!(
                errors[0].file == "holdings.csv" && errors[0].line == lines.len() as u64,
                "{errors:?} (last line {})",
                lines.len()
            );
        }
        other => anyhow::bail!("a bad set must be rejected, got {other:?}"),
    }
    ensure!(
        h.app.structures(None).await?.is_empty(),
        "a rejected import wrote structures"
    );
    ensure!(
        h.events(STRUCTURE_INVENTORIED).await? == 0,
        "a rejected import appended events"
    );

    let report = h.app.import(good, quiet).await?;
    ensure!(
        report.created == N as u64 && report.events == 2 * N as u64,
        "{report:?}"
    );
    ensure!(h.app.structures(None).await?.len() == N);
    ensure!(h.events(STRUCTURE_INVENTORIED).await? == N as i64);
    ensure!(h.events(FRAGILITY_ASSESSED).await? == N as i64);
    Ok(())
}

/// Values that every aggregated read must give back as written — quotes,
/// backslashes, the delimiters and braces of PostgreSQL arrays, the word
/// NULL, inner white space, accents, empty optional values — through the three
/// reads: the whole instance, one structure, and the listing's chunks of
/// ids.
pub async fn hostile_values_read_back_as_imported(h: Harness) -> Result<()> {
    use vigie_platform::auth::Visibility;

    let mut generated = set(12, 9);
    let hostile = [
        r#"Les "Amis", {du} \Quartier\"#,
        "NULL",
        "null",
        "a  b",
        "Élan d'Ajaccio — été",
        r#"\"{,}"\"#,
    ];
    for (n, inventory) in generated.inventories.iter_mut().enumerate() {
        inventory.structure.name = hostile[n % hostile.len()].to_owned();
        for (k, person) in inventory.people.iter_mut().enumerate() {
            person.display_name = hostile[(n + k + 1) % hostile.len()].to_owned();
        }
        for function in &mut inventory.functions {
            function.tools = vec![hostile[n % hostile.len()].replace(';', ","), "{x,y}".to_owned()];
        }
        inventory.structure.rna = None;
    }
    h.app.import(generated.to_files()?, quiet).await?;
    let mut expected = generated.inventories.clone();
    for inventory in &mut expected {
        inventory.sort_parts();
    }
    expected.sort_by(|a, b| a.structure.id.cmp(&b.structure.id));

    let whole: Vec<StructureInventory> = h.app.structures(None).await?.into_iter().map(|s| s.inventory).collect();
    ensure!(whole == expected, "the whole instance reads back as imported");
    for inventory in &expected {
        let one = h.app.structure(&inventory.structure.id).await?;
        ensure!(
            one.inventory == *inventory,
            "{} reads back as imported",
            inventory.structure.id
        );
    }
    let listed = h.app.listed_in(None, &Visibility::All).await?;
    let chunked: Vec<StructureInventory> = h
        .app
        .fragility_of(&listed, today())
        .await?
        .into_iter()
        .map(|(stored, _)| stored.inventory)
        .collect();
    ensure!(chunked == expected, "the listing's chunk reads back as imported");
    Ok(())
}
