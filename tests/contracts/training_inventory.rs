//! The training service and the inventory, each on its own database of the
//! same backend, exchanging the events `vigie` carries between them: the
//! inventory's snapshots feed training's read model, training's completions
//! raise holdings in the inventory, an erasure reaches both.

use std::collections::BTreeSet;

use anyhow::{bail, ensure, Context, Result};
use prost::Message;
use vigie_fragility_model::model::{Evidence, HoldingRecord, StructureInventory};
use vigie_inventory::events::{PERSON_ERASED, STRUCTURE_INVENTORIED};
use vigie_platform::events::{Envelope, Outcome};
use vigie_proto::events::v1::{HoldingRaise, StructureInventoried, TrainingCompleted};
use vigie_training::erasure::PseudonymKey;
use vigie_training::events::TRAINING_COMPLETED;
use vigie_training::testing::{catalogue, date, demo_catalogue, holding, seated, set, today, TestTraining};
use vigie_training_domain::plan::Exposure;

use crate::inventory;

pub async fn a_completion_raises_the_inventory_exactly_once(h: TestTraining) -> Result<()> {
    let inventory = inventory(h.backend(), today).await?;
    inventory.import(&set(20, 61)).await?;
    for envelope in inventory.outbox(STRUCTURE_INVENTORIED).await? {
        ensure!(
            h.feed(&envelope).await? == Outcome::Applied,
            "real inventory events feed the read model"
        );
    }
    // Someone at level 1–2 on a function of their structure.
    let stored = inventory.app.structures(None).await?;
    let (structure_id, learner) = stored
        .iter()
        .find_map(|s| {
            let h =
                s.inventory.holdings.iter().find(|h| {
                    (1..=2).contains(&h.level) && s.inventory.functions.iter().any(|f| f.code == h.function)
                })?;
            Some((s.inventory.structure.id.clone(), h.clone()))
        })
        .context("no holding at level 1–2 in the generated set")?;
    let function = learner.function.clone();
    h.import(catalogue(
        &[&format!(
            "T-UP,Monter en compétence,Réseau test,remote,7,0,,{function},1,3"
        )],
        &["S-UP,T-UP,2026-12-10T09:00,2026-12-10T17:00,Europe/Paris,,https://visio.example.org/up,10"],
    ))
    .await?;
    ensure!(seated(&h.app.enrol("S-UP", &learner.person_id).await?));
    h.app.complete("S-UP", &learner.person_id, None).await?;
    let envelope = h.first_completion().await?;

    let before = inventory.app.structure(&structure_id).await?;
    let rows_before = inventory.outbox_len().await?;
    let snapshots_before = inventory.outbox(STRUCTURE_INVENTORIED).await?.len();
    let consumer = inventory.consumer("inventory-training-completed")?;
    ensure!(consumer.process(&envelope).await? == Outcome::Applied);

    let after = inventory.app.structure(&structure_id).await?;
    let raised = HoldingRecord {
        level: 3,
        last_practised: Some(date("2026-12-10")?),
        evidence: Evidence::Training,
        ..learner.clone()
    };
    ensure!(
        holding(&after.inventory, &learner.person_id, &function) == Some(&raised),
        "raised to the goal: {:?}",
        holding(&after.inventory, &learner.person_id, &function)
    );
    let others = |inv: &StructureInventory| -> Vec<HoldingRecord> {
        inv.holdings
            .iter()
            .filter(|h| !(h.person_id == learner.person_id && h.function == function))
            .cloned()
            .collect()
    };
    ensure!(
        others(&after.inventory) == others(&before.inventory),
        "nothing else changed"
    );
    ensure!(
        after.version == before.version + 1,
        "version {} → {}",
        before.version,
        after.version
    );
    let snapshots = inventory.outbox(STRUCTURE_INVENTORIED).await?;
    ensure!(snapshots.len() == snapshots_before + 1, "one new snapshot event");
    let latest = StructureInventoried::decode(snapshots[snapshots.len() - 1].payload.clone())?
        .structure
        .context("snapshot without a structure")?;
    ensure!(
        latest.version == after.version as u64,
        "the event carries the new version"
    );
    let rows = inventory.outbox_len().await?;

    // Redelivered: a duplicate, nothing moves.
    ensure!(consumer.process(&envelope).await? == Outcome::Duplicate);
    ensure!(
        inventory
            .consumer("inventory-training-completed")?
            .process(&envelope)
            .await?
            == Outcome::Duplicate,
        "after a restart too"
    );
    let replayed = inventory.app.structure(&structure_id).await?;
    ensure!(replayed == after, "a replay changed the inventory");
    ensure!(inventory.outbox_len().await? == rows, "a replay appended events");
    // The same completion republished under a new id: applied, raises nothing more.
    let copy = Envelope::new(
        envelope.source.clone(),
        envelope.event_type.clone(),
        envelope.subject.clone(),
        envelope.payload.clone(),
    );
    ensure!(consumer.process(&copy).await? == Outcome::Applied);
    ensure!(
        inventory.app.structure(&structure_id).await? == after,
        "a copy raised twice"
    );
    ensure!(inventory.outbox_len().await? == rows, "a copy appended events");
    ensure!(rows > rows_before, "the first delivery appended events");
    Ok(())
}

pub async fn a_lower_goal_never_lowers_a_holding(h: TestTraining) -> Result<()> {
    let inventory = inventory(h.backend(), today).await?;
    inventory.import(&set(20, 62)).await?;
    for envelope in inventory.outbox(STRUCTURE_INVENTORIED).await? {
        h.feed(&envelope).await?;
    }
    // Someone at level 3+ on one function, without any holding on another.
    let stored = inventory.app.structures(None).await?;
    let (structure_id, strong, blank) = stored
        .iter()
        .find_map(|s| {
            let inv = &s.inventory;
            inv.holdings.iter().filter(|h| h.level >= 3).find_map(|h| {
                let blank = inv
                    .functions
                    .iter()
                    .find(|f| holding(inv, &h.person_id, &f.code).is_none())?;
                Some((inv.structure.id.clone(), h.clone(), blank.code.clone()))
            })
        })
        .context("no suitable holder in the generated set")?;
    h.import(catalogue(
        &[
            &format!("T-LOW,Initiation,Réseau test,remote,3.5,0,,{},0,2", strong.function),
            &format!("T-LOW,Initiation,Réseau test,remote,3.5,0,,{blank},0,2"),
        ],
        &["S-LOW,T-LOW,2026-12-10T09:00,2026-12-10T12:30,Europe/Paris,,https://visio.example.org/low,10"],
    ))
    .await?;
    h.app.enrol("S-LOW", &strong.person_id).await?;
    h.app.complete("S-LOW", &strong.person_id, None).await?;
    let envelope = h.first_completion().await?;
    let event = TrainingCompleted::decode(envelope.payload.clone())?;
    let mut expected = vec![
        HoldingRaise {
            function: strong.function.clone(),
            level: 2,
        },
        HoldingRaise {
            function: blank.clone(),
            level: 2,
        },
    ];
    expected.sort_by(|a, b| a.function.cmp(&b.function));
    ensure!(event.raises == expected, "{:?}", event.raises);

    let consumer = inventory.consumer("inventory-training-completed")?;
    ensure!(consumer.process(&envelope).await? == Outcome::Applied);
    let after = inventory.app.structure(&structure_id).await?;
    let on = date("2026-12-10")?;
    let kept = holding(&after.inventory, &strong.person_id, &strong.function).context("holding kept")?;
    ensure!(
        kept.level == strong.level
            && kept.evidence == strong.evidence
            && kept.last_practised == strong.last_practised.max(Some(on)),
        "a lower goal lowered or replaced {strong:?}: {kept:?}"
    );
    let created = holding(&after.inventory, &strong.person_id, &blank).context("a new holding")?;
    ensure!(
        created.level == 2 && created.evidence == Evidence::Training && created.last_practised == Some(on),
        "{created:?}"
    );
    let rows = inventory.outbox_len().await?;
    ensure!(consumer.process(&envelope).await? == Outcome::Duplicate);
    ensure!(inventory.app.structure(&structure_id).await? == after && inventory.outbox_len().await? == rows);
    Ok(())
}

pub async fn the_plan_prediction_comes_true_in_the_inventory(h: TestTraining) -> Result<()> {
    let inventory = inventory(h.backend(), today).await?;
    inventory.import(&set(40, 71)).await?;
    for envelope in inventory.outbox(STRUCTURE_INVENTORIED).await? {
        ensure!(h.feed(&envelope).await? == Outcome::Applied);
    }
    h.import(demo_catalogue()).await?;
    let at = today();

    // A structure whose plan has a SPOF item with a learner, every learner
    // with a session, and a prediction that differs from today.
    let mut found = None;
    for stored in inventory.app.structures(None).await? {
        let (_, plan) = h.app.plan(&stored.inventory.structure.id, Some(at)).await?;
        let assignments = plan.assignments();
        if assignments.is_empty()
            || plan.predicted.score == plan.current.score
            || assignments.iter().any(|a| a.training.next_session.is_none())
        {
            continue;
        }
        let spof = plan.items.iter().position(|item| {
            item.exposure == Exposure::Spof
                && item
                    .candidates
                    .first()
                    .is_some_and(|c| item.chosen_training(&c.person_id).is_some())
        });
        if let Some(index) = spof {
            found = Some((stored, plan, index));
            break;
        }
    }
    let (stored, plan, index) = found.context("no structure with a SPOF to train for in the generated set")?;
    let structure_id = stored.inventory.structure.id.clone();
    let (_, assessed) = inventory.app.fragility(&structure_id, Some(at)).await?;
    ensure!(
        plan.current == assessed,
        "the read model gives the inventory's own assessment"
    );

    // The SPOF item: the colleague at level 1–2, the matching training, its next session.
    let item = &plan.items[index];
    ensure!(
        plan.current.spof_functions.contains(&item.function),
        "{} is a SPOF",
        item.function
    );
    let candidate = &item.candidates[0];
    let current = holding(&stored.inventory, &candidate.person_id, &item.function).context("candidate's holding")?;
    ensure!(
        (1..=2).contains(&current.level) && current.level == candidate.level,
        "{candidate:?} {current:?}"
    );
    let exposure = plan
        .current
        .functions
        .iter()
        .find(|f| f.code == item.function)
        .context("exposure")?;
    ensure!(
        exposure.holders.len() == 1 && !exposure.holders.contains(&candidate.person_id),
        "{exposure:?}"
    );
    let chosen = item.chosen_training(&candidate.person_id).context("chosen training")?;
    let trainings = h.app.trainings(Some(&item.function)).await?;
    let training = trainings
        .iter()
        .find(|t| t.id == chosen.training_id)
        .context("training in the catalogue")?;
    let target = training.target(&item.function).context("target")?;
    ensure!(
        target.goal_level >= 3 && target.prerequisite_level <= candidate.level,
        "{target:?}"
    );
    let next = h
        .app
        .sessions(Some(&training.id))
        .await?
        .into_iter()
        .filter(|s| s.session.starts_at.date() > at && s.enrolled < s.session.capacity)
        .min_by(|a, b| (a.session.starts_at, &a.session.id).cmp(&(b.session.starts_at, &b.session.id)))
        .context("a session with seats")?;
    ensure!(
        chosen.next_session.as_deref() == Some(next.session.id.as_str()),
        "{chosen:?}"
    );
    ensure!(
        next.session.id == format!("{}-1", training.id),
        "the remote session comes first"
    );

    // Carry the whole plan out: enrol and complete on the plan date.
    let mut done = BTreeSet::new();
    for a in plan.assignments() {
        if !done.insert((a.person_id.to_owned(), a.training.training_id.clone())) {
            continue;
        }
        let session = a.training.next_session.as_deref().context("session")?;
        ensure!(
            seated(&h.app.enrol(session, a.person_id).await?),
            "{} seated in {session}",
            a.person_id
        );
        h.app.complete(session, a.person_id, Some(at)).await?;
    }
    let completions = h.outbox(TRAINING_COMPLETED).await?;
    ensure!(completions.len() == done.len(), "one event per completion");
    let consumer = inventory.consumer("inventory-training-completed")?;
    for envelope in &completions {
        ensure!(consumer.process(envelope).await? == Outcome::Applied);
    }

    let (after, assessment) = inventory.app.fragility(&structure_id, Some(at)).await?;
    ensure!(
        assessment.score == plan.predicted.score && assessment.band == plan.predicted.band,
        "predicted {:?} {:?}, the inventory computes {:?} {:?}",
        plan.predicted.score,
        plan.predicted.band,
        assessment.score,
        assessment.band
    );
    ensure!(assessment == plan.predicted, "the whole assessment as predicted");
    ensure!(plan.predicted.score < plan.current.score, "the plan cuts fragility");

    // The new snapshots go back to the training service's read model.
    let snapshots: Vec<Envelope> = inventory
        .outbox(STRUCTURE_INVENTORIED)
        .await?
        .into_iter()
        .filter(|e| e.subject == structure_id)
        .collect();
    ensure!(snapshots.len() > 1, "the completions published new snapshots");
    for (i, envelope) in snapshots.iter().enumerate() {
        let expected = if i == 0 { Outcome::Duplicate } else { Outcome::Applied };
        ensure!(h.feed(envelope).await? == expected, "snapshot {i}");
    }
    let (seen, replanned) = h.app.plan(&structure_id, Some(at)).await?;
    ensure!(seen == after.inventory, "the read model holds the latest inventory");
    ensure!(
        replanned.current == plan.predicted,
        "today's fragility is the one predicted"
    );
    ensure!(
        !replanned.items.iter().any(|i| i.function == item.function),
        "{} is no longer a SPOF",
        item.function
    );
    Ok(())
}

pub async fn an_erased_person_is_held_nowhere(h: TestTraining) -> Result<()> {
    let key = PseudonymKey::new(b"a test secret of at least 32 bytes!!");
    h.import(catalogue(
        &["T-CAP,Paie pas à pas,Réseau test,remote,3.5,0,,payroll,1,3"],
        &["S-CAP,T-CAP,2026-12-15T09:30,2026-12-15T12:30,Europe/Paris,,https://visio.example.org/cap,100"],
    ))
    .await?;
    let inventory = inventory(h.backend(), today).await?;
    let generated = set(3, 71);
    inventory.import(&generated).await?;
    for envelope in inventory.outbox(STRUCTURE_INVENTORIED).await? {
        ensure!(h.feed(&envelope).await? == Outcome::Applied);
    }
    let person = generated
        .inventories
        .iter()
        .flat_map(|i| i.people.iter())
        .find(|p| p.email.is_some())
        .context("no person with an email")?
        .clone();
    let (name, email) = (person.display_name.clone(), person.email.clone().unwrap_or_default());
    h.app.enrol("S-CAP", &person.id).await?;
    let values = vigie_testkit::scan::stored_values(h.db.pool(), "%").await?;
    ensure!(
        values.iter().any(|v| v.contains(&name)),
        "the scan does not see the name"
    );

    inventory.app.erase_person(&person.id).await?;
    // The erasure dropped the structure's earlier rows; the new snapshot applies.
    let mut applied = 0;
    for envelope in inventory.outbox(STRUCTURE_INVENTORIED).await? {
        if h.feed(&envelope).await? == Outcome::Applied {
            applied += 1;
        }
    }
    ensure!(applied == 1, "one new snapshot, {applied} applied");
    let erased = inventory.outbox(PERSON_ERASED).await?;
    let [erased] = erased.as_slice() else {
        bail!("one PersonErased expected, got {}", erased.len())
    };
    let erasures = h.consumer("training-erasures", &key)?;
    ensure!(erasures.process(erased).await? == Outcome::Applied);
    for value in vigie_testkit::scan::stored_values(h.db.pool(), "%").await? {
        ensure!(
            !value.contains(&name) && !value.contains(&email),
            "{}.{} still holds the person",
            value.table,
            value.column
        );
    }
    let mut conn = h.db.pool().acquire().await?;
    let kept = vigie_training::storage::enrolment(&mut conn, "S-CAP", &key.pseudonym(&person.id)).await?;
    drop(conn); // SQLite's pool has one connection: the next read needs it.
    ensure!(kept.is_some(), "the enrolment is kept under a pseudonym");
    let seats = h.session("S-CAP").await?;
    ensure!((seats.enrolled, seats.waiting) == (1, 0), "the seat count is kept");
    ensure!(
        erasures.process(erased).await? == Outcome::Duplicate,
        "a replay is a duplicate"
    );
    Ok(())
}
