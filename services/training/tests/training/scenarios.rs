//! The scenarios of the contract suite (backend-independent).

use std::fmt::Debug;

use anyhow::{bail, ensure, Context, Result};
use prost::Message;
use tokio::task::JoinSet;
use vigie_fragility_model::model::StructureInventory;
use vigie_platform::events::Outcome;
use vigie_proto::common::v1::Date;
use vigie_proto::events::v1::{HoldingRaise, TrainingCompleted};
use vigie_training::error::TrainingError;
use vigie_training::events::{SOURCE, TRAINING_COMPLETED};
use vigie_training_domain::catalogue::{parse_catalogue, CatalogueFiles};
use vigie_training_domain::model::{Modality, Session, TrainingTarget};

use crate::harness::{catalogue, date, demo_catalogue, seated, set, snapshot, Harness};
use vigie_inventory_set::generate::GeneratedSet;

// ----- fixtures -----

/// Two hand-written trainings: `T-CAP` (payroll 1 → 3, remote) and `T-DUO`
/// (payroll 1 → 3 and accounting 2 → 4, hybrid, a French decimal cost).
const TRAININGS: &[&str] = &[
    "T-CAP,Paie pas à pas,Réseau test,remote,3.5,0,,payroll,1,3",
    "T-DUO,Paie et comptabilité,Réseau test,hybrid,14,\"420,50\",OPCO Uniformation,payroll,1,3",
    "T-DUO,Paie et comptabilité,Réseau test,hybrid,14,\"420,50\",OPCO Uniformation,accounting,2,4",
];

/// `T-CAP` has one session `S-CAP` of `capacity` seats (15 December);
/// `T-DUO` has `S-DUO`, 2 seats, ending on 17 December.
fn small_catalogue(capacity: u32) -> CatalogueFiles {
    let cap =
        format!("S-CAP,T-CAP,2026-12-15T09:30,2026-12-15T12:30,Europe/Paris,,https://visio.example.org/cap,{capacity}");
    catalogue(
        TRAININGS,
        &[
            &cap,
            "S-DUO,T-DUO,2026-12-16T09:00,2026-12-17T17:00,Europe/Paris,35238,,2",
        ],
    )
}

/// The small catalogue with `S-CAP` of `capacity` seats, and the people
/// of `structures` generated inventories (seed `seed`) fed to the read
/// model, at least `needed` of them: where every seat and waiting-list
/// scenario starts.
async fn small_catalogue_and_people(
    h: &Harness,
    capacity: u32,
    structures: usize,
    seed: u64,
    needed: usize,
) -> Result<(GeneratedSet, Vec<String>)> {
    h.import(small_catalogue(capacity)).await?;
    let generated = set(structures, seed);
    h.feed_inventories(&generated.inventories, 1).await?;
    let people = people(&generated.inventories);
    ensure!(people.len() >= needed, "{needed} people, {} generated", people.len());
    Ok((generated, people))
}

/// Cancels `person`'s enrolment in `S-CAP`: who was seated in their place.
async fn promoted_by_cancelling(h: &Harness, person: &str) -> Result<Option<String>> {
    let (_, promoted) = h.app.cancel("S-CAP", person).await?;
    Ok(promoted.map(|v| v.row.person_id))
}

/// Every person of the inventories, in order.
fn people(inventories: &[StructureInventory]) -> Vec<String> {
    inventories
        .iter()
        .flat_map(|i| i.people.iter().map(|p| p.id.clone()))
        .collect()
}

/// Sessions with their occupation, comparable.
async fn sessions(h: &Harness) -> Result<Vec<(Session, u32, u32)>> {
    Ok(h.app
        .sessions(None)
        .await?
        .into_iter()
        .map(|s| (s.session, s.enrolled, s.waiting))
        .collect())
}

/// `(enrolled, waiting)` of one session.
async fn occupation(h: &Harness, session: &str) -> Result<(u32, u32)> {
    let s = h.session(session).await?;
    Ok((s.enrolled, s.waiting))
}

async fn stored_status(h: &Harness, session: &str, person: &str) -> Result<Option<String>> {
    let mut conn = h.db.pool().acquire().await?;
    Ok(vigie_training::storage::enrolment(&mut conn, session, person)
        .await?
        .map(|row| row.status))
}

fn not_found<T: Debug>(result: Result<T, TrainingError>, what: &str) -> Result<()> {
    match result {
        Err(TrainingError::NotFound(_)) => Ok(()),
        other => bail!("{what}: expected NotFound, got {other:?}"),
    }
}

fn conflict<T: Debug>(result: Result<T, TrainingError>, what: &str) -> Result<()> {
    match result {
        Err(TrainingError::Conflict(_)) => Ok(()),
        other => bail!("{what}: expected Conflict, got {other:?}"),
    }
}

fn pb_date(on: chrono::NaiveDate) -> Date {
    vigie_proto::dates::date_to_pb(on)
}

// ----- 1. catalogue -----

pub async fn a_catalogue_is_stored_and_listed(h: Harness) -> Result<()> {
    let files = demo_catalogue();
    let expected = parse_catalogue(&files).map_err(|e| anyhow::anyhow!("demo catalogue invalid: {e:?}"))?;
    ensure!(h.import(files).await? == (12, 24), "12 trainings and 24 sessions");
    ensure!(
        h.app.trainings(None).await? == expected.trainings,
        "stored trainings differ from the file"
    );
    let listed = h.app.sessions(None).await?;
    ensure!(
        listed.iter().all(|s| s.enrolled == 0 && s.waiting == 0),
        "new sessions are empty"
    );
    ensure!(
        listed
            .windows(2)
            .all(|w| (w[0].session.starts_at, &w[0].session.id) <= (w[1].session.starts_at, &w[1].session.id)),
        "sessions are listed by start"
    );
    let mut by_id: Vec<Session> = listed.into_iter().map(|s| s.session).collect();
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    ensure!(by_id == expected.sessions, "stored sessions differ from the file");

    let payroll: Vec<String> = h
        .app
        .trainings(Some("payroll"))
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    ensure!(payroll == ["T-PAIE"], "{payroll:?}");
    let paie: Vec<String> = h
        .app
        .sessions(Some("T-PAIE"))
        .await?
        .into_iter()
        .map(|s| s.session.id)
        .collect();
    ensure!(paie == ["T-PAIE-1", "T-PAIE-2"], "{paie:?}");

    // A hand-written catalogue: several targets, a French decimal cost, an
    // on-site session; added to the first one.
    ensure!(h.import(small_catalogue(3)).await? == (2, 2));
    ensure!(h.app.trainings(None).await?.len() == 14, "12 + 2 trainings");
    let accounting = h.app.trainings(Some("accounting")).await?;
    let ids: Vec<&str> = accounting.iter().map(|t| t.id.as_str()).collect();
    ensure!(ids == ["T-COMPTA", "T-DUO"], "{ids:?}");
    let duo = &accounting[1];
    ensure!(
        duo.cost_eur == Some(420.5)
            && duo.duration_hours == 14.0
            && duo.modality == Modality::Hybrid
            && duo.funding == "OPCO Uniformation"
            && duo.title == "Paie et comptabilité",
        "{duo:?}"
    );
    let targets = vec![
        TrainingTarget {
            function: "accounting".into(),
            prerequisite_level: 2,
            goal_level: 4,
        },
        TrainingTarget {
            function: "payroll".into(),
            prerequisite_level: 1,
            goal_level: 3,
        },
    ];
    ensure!(duo.targets == targets, "{:?}", duo.targets);
    let s = h.session("S-DUO").await?.session;
    ensure!(
        s.commune_insee.as_deref() == Some("35238") && s.remote_url.is_none() && s.capacity == 2,
        "{s:?}"
    );
    ensure!(s.ends_on() == date("2026-12-17")?, "{s:?}");
    Ok(())
}

pub async fn a_bad_catalogue_is_rejected_with_every_error_and_changes_nothing(h: Harness) -> Result<()> {
    h.import(demo_catalogue()).await?;
    let trainings_before = h.app.trainings(None).await?;
    let sessions_before = sessions(&h).await?;
    let bad = catalogue(
        &[
            // Valid, and would change T-PAIE if anything were half imported.
            "T-PAIE,Titre changé,Réseau régional,hybrid,7,0,,payroll,1,3",
            "T-BAD,Titre,Prestataire,teleportation,7,0,,payroll,1,3",
            "T-GOAL,Titre,Prestataire,remote,7,0,,invoicing,3,2",
            "T-PAIE,Titre changé,Réseau régional,hybrid,7,0,,payroll,1,3",
        ],
        &[
            // Valid, and would change T-PAIE-1's capacity.
            "T-PAIE-1,T-PAIE,2026-12-20T09:00,2026-12-20T12:00,Europe/Paris,,https://visio.example.org/p,3",
            "S-1,T-NONE,2026-12-10T09:00,2026-12-10T12:00,Europe/Paris,,https://visio.example.org/a,10",
            "S-2,T-GOAL,2026-12-10T09:00,2026-12-10T08:00,Europe/Paris,,https://visio.example.org/b,10",
            "S-3,T-GOAL,2026-12-10T09:00,2026-12-10T12:00,Europe/Paris,,https://visio.example.org/c,0",
            "S-4,T-GOAL,2027-03-28T02:30,2027-03-28T04:00,Europe/Paris,,https://visio.example.org/d,10",
        ],
    );
    let errors = match h.app.import_catalog(bad).await {
        Err(TrainingError::Rejected(errors)) => errors,
        other => bail!("a bad catalogue must be rejected, got {other:?}"),
    };
    let expected: &[(&str, u64, &str)] = &[
        ("trainings.csv", 3, "teleportation"),
        ("trainings.csv", 4, "niveau visé 2 pas au-dessus du niveau prérequis 3"),
        ("trainings.csv", 5, "fonction « payroll » en double"),
        ("sessions.csv", 3, "formation « T-NONE » inconnue"),
        ("sessions.csv", 4, "pas après le début"),
        ("sessions.csv", 5, "capacité « 0 » invalide"),
        ("sessions.csv", 6, "n'existe pas dans le fuseau Europe/Paris"),
    ];
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    ensure!(
        errors.len() == expected.len(),
        "every error, once each:\n{}",
        shown.join("\n")
    );
    for ((file, line, fragment), error) in expected.iter().zip(&errors) {
        ensure!(
            error.file == *file && error.line == *line && error.message.contains(fragment),
            "expected {file}:{line}: …{fragment}…, got {error}"
        );
        ensure!(error.to_string().starts_with(&format!("{file}:{line}: ")), "{error}");
    }
    ensure!(
        h.app.trainings(None).await? == trainings_before,
        "a rejected catalogue changed trainings"
    );
    ensure!(
        sessions(&h).await? == sessions_before,
        "a rejected catalogue changed sessions"
    );
    Ok(())
}

pub async fn reimporting_a_catalogue_updates_in_place_and_keeps_enrolments(h: Harness) -> Result<()> {
    let generated = set(3, 11);
    h.feed_inventories(&generated.inventories, 1).await?;
    let people = people(&generated.inventories);
    h.import(demo_catalogue()).await?;
    for person in &people[..2] {
        ensure!(seated(&h.app.enrol("T-PAIE-1", person).await?), "{person} seated");
    }
    let before = sessions(&h).await?;

    let files = demo_catalogue();
    let trainings = String::from_utf8(files.trainings)?
        .replace(
            "Paie et DSN pour les petites associations employeuses",
            "Paie, DSN et bulletins",
        )
        .replace(",payroll,1,3", ",payroll,1,4");
    let sessions_csv: String = String::from_utf8(files.sessions)?
        .lines()
        .map(
            |line| match line.strip_prefix("T-PAIE-1,").and_then(|rest| rest.strip_suffix(",12")) {
                Some(middle) => format!("T-PAIE-1,{middle},20\n"),
                None => format!("{line}\n"),
            },
        )
        .collect();
    ensure!(sessions_csv.contains(",20\n"), "the capacity edit applies");
    let changed = CatalogueFiles {
        trainings: trainings.into_bytes(),
        sessions: sessions_csv.into_bytes(),
    };
    ensure!(h.import(changed).await? == (12, 24));

    let all = h.app.trainings(None).await?;
    ensure!(all.len() == 12, "updated in place, no duplicate: {}", all.len());
    let paie = all.iter().find(|t| t.id == "T-PAIE").context("T-PAIE")?;
    ensure!(paie.title == "Paie, DSN et bulletins", "{}", paie.title);
    let target = TrainingTarget {
        function: "payroll".into(),
        prerequisite_level: 1,
        goal_level: 4,
    };
    ensure!(
        paie.targets == [target],
        "targets replaced, not added: {:?}",
        paie.targets
    );

    let after = sessions(&h).await?;
    ensure!(after.len() == 24, "no duplicate session");
    for ((old, old_enrolled, old_waiting), (new, enrolled, waiting)) in before.iter().zip(&after) {
        ensure!(old.id == new.id, "same order");
        if new.id == "T-PAIE-1" {
            ensure!(
                new.capacity == 20 && *enrolled == 2 && *waiting == 0,
                "{new:?} {enrolled} {waiting}"
            );
        } else {
            ensure!(
                (old, old_enrolled, old_waiting) == (new, enrolled, waiting),
                "{} changed",
                new.id
            );
        }
    }
    conflict(
        h.app.enrol("T-PAIE-1", &people[0]).await,
        "the enrolment survived the re-import",
    )?;
    Ok(())
}

pub async fn a_new_capacity_seats_the_waiting_list_first_and_unseats_nobody(h: Harness) -> Result<()> {
    let (_, p) = small_catalogue_and_people(&h, 2, 3, 12, 7).await?;
    for person in &p[..5] {
        h.app.enrol("S-CAP", person).await?;
    }
    // p0, p1 seated; p2, p3, p4 waiting. Two more seats: p2 and p3 take them.
    h.import(small_catalogue(4)).await?;
    ensure!(occupation(&h, "S-CAP").await? == (4, 1), "the waiting list moved up");
    for person in &p[2..4] {
        ensure!(
            stored_status(&h, "S-CAP", person).await?.as_deref() == Some("enrolled"),
            "{person} seated"
        );
    }
    let late = h.app.enrol("S-CAP", &p[5]).await?;
    ensure!(
        late.waiting_position == Some(2),
        "a newcomer queues behind p4: {late:?}"
    );

    // Fewer seats: nobody loses theirs, and nobody is seated until there is room.
    h.import(small_catalogue(3)).await?;
    ensure!(occupation(&h, "S-CAP").await? == (4, 2), "seats kept");
    let (_, promoted) = h.app.cancel("S-CAP", &p[0]).await?;
    ensure!(promoted.is_none(), "still full after one cancellation: {promoted:?}");
    ensure!(occupation(&h, "S-CAP").await? == (3, 2));
    ensure!(
        promoted_by_cancelling(&h, &p[1]).await? == Some(p[4].clone()),
        "then the first waiting person"
    );
    ensure!(occupation(&h, "S-CAP").await? == (3, 1));
    Ok(())
}

// ----- 2. the inventory read model -----

pub async fn inventory_snapshots_make_people_enrollable(h: Harness) -> Result<()> {
    h.import(small_catalogue(100)).await?;
    let generated = set(4, 21);
    let first = &generated.inventories[0].people.first().context("no people")?.id;
    not_found(
        h.app.enrol("S-CAP", first).await,
        "a person the inventory never announced",
    )?;
    not_found(
        h.app.plan(&generated.inventories[0].structure.id, None).await,
        "an unknown structure",
    )?;

    h.feed_inventories(&generated.inventories, 1).await?;
    for inventory in &generated.inventories {
        let (seen, _) = h.app.plan(&inventory.structure.id, None).await?;
        ensure!(
            seen == *inventory,
            "the read model holds the snapshot of {}",
            inventory.structure.id
        );
        for person in &inventory.people {
            let view = h.app.enrol("S-CAP", &person.id).await?;
            ensure!(
                view.row.structure_id == inventory.structure.id && view.row.network_id == inventory.structure.network,
                "{view:?}"
            );
        }
    }
    let count = people(&generated.inventories).len() as u32;
    ensure!(occupation(&h, "S-CAP").await? == (count, 0), "everyone enrolled");
    Ok(())
}

pub async fn an_older_snapshot_never_overwrites_a_newer_one(h: Harness) -> Result<()> {
    h.import(small_catalogue(100)).await?;
    let generated = set(2, 22);
    let v1 = generated.inventories[0].clone();
    ensure!(v1.people.len() >= 2, "a structure with two people");
    let id = v1.structure.id.clone();
    h.feed_inventories(std::slice::from_ref(&v1), 1).await?;

    let mut v3 = v1.clone();
    let gone = v3.people.remove(0);
    v3.holdings.retain(|hd| hd.person_id != gone.id);
    let mut newcomer = v3.people[0].clone();
    newcomer.id = format!("{id}-NEW");
    newcomer.display_name = "Nouvelle recrue".into();
    v3.people.push(newcomer.clone());
    v3.structure.name = "Nom v3".into();
    ensure!(h.feed(&snapshot(&v3, 3)).await? == Outcome::Applied);

    let mut v2 = v1.clone();
    v2.structure.name = "Nom v2".into();
    ensure!(
        h.feed(&snapshot(&v2, 2)).await? == Outcome::Applied,
        "a new event is consumed…"
    );
    let mut other_v3 = v1.clone();
    other_v3.structure.name = "Autre v3".into();
    ensure!(h.feed(&snapshot(&other_v3, 3)).await? == Outcome::Applied);

    let (seen, _) = h.app.plan(&id, None).await?;
    ensure!(
        seen == v3,
        "…but older or equal versions change nothing: {}",
        seen.structure.name
    );
    not_found(h.app.enrol("S-CAP", &gone.id).await, "someone who left in v3")?;
    ensure!(
        seated(&h.app.enrol("S-CAP", &newcomer.id).await?),
        "the newcomer of v3 can enrol"
    );
    Ok(())
}

pub async fn a_replayed_snapshot_is_a_duplicate(h: Harness) -> Result<()> {
    let generated = set(2, 23);
    let v1 = generated.inventories[0].clone();
    let id = v1.structure.id.clone();
    let first = snapshot(&v1, 1);
    ensure!(h.feed(&first).await? == Outcome::Applied);
    ensure!(h.feed(&first).await? == Outcome::Duplicate, "a replay is a duplicate");

    let mut v2 = v1.clone();
    v2.structure.name = "Nom v2".into();
    let second = snapshot(&v2, 2);
    ensure!(h.feed(&second).await? == Outcome::Applied);
    // A replay of the first, late: still a duplicate, the read model keeps v2.
    ensure!(h.feed(&first).await? == Outcome::Duplicate);
    ensure!(h.feed(&second).await? == Outcome::Duplicate);
    // A fresh consumer (a restarted service) remembers too.
    ensure!(h.read_model()?.process(&first).await? == Outcome::Duplicate);
    let (seen, _) = h.app.plan(&id, None).await?;
    ensure!(seen == v2, "{}", seen.structure.name);
    let processed: i64 = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM vigie_inbox WHERE consumer = $1")
        .bind("training-inventory")
        .fetch_one(h.db.pool())
        .await?;
    ensure!(processed == 2, "one inbox row per event: {processed}");
    Ok(())
}

// ----- 3. enrolment -----

pub async fn enrolment_fills_seats_then_the_waiting_list(h: Harness) -> Result<()> {
    let (generated, people) = small_catalogue_and_people(&h, 2, 3, 31, 5).await?;
    for (i, person) in people[..5].iter().enumerate() {
        let view = h.app.enrol("S-CAP", person).await?;
        let structure = generated
            .inventories
            .iter()
            .find(|inv| inv.people.iter().any(|p| &p.id == person))
            .context("person's structure")?;
        ensure!(view.row.structure_id == structure.structure.id, "{view:?}");
        if i < 2 {
            ensure!(seated(&view), "seat {i}: {view:?}");
        } else {
            ensure!(
                view.row.status == "waitlisted" && view.waiting_position == Some(i as u32 - 1),
                "waiting {}: {view:?}",
                i - 1
            );
        }
    }
    ensure!(occupation(&h, "S-CAP").await? == (2, 3));
    conflict(h.app.enrol("S-CAP", &people[0]).await, "enrolled twice")?;
    conflict(h.app.enrol("S-CAP", &people[3]).await, "waiting twice")?;
    ensure!(
        occupation(&h, "S-CAP").await? == (2, 3),
        "refused enrolments change nothing"
    );
    // The plan sees no seat left in S-CAP.
    let seats = h.session("S-CAP").await?;
    ensure!(seats.session.capacity == seats.enrolled, "full");
    Ok(())
}

pub async fn cancelling_moves_the_waiting_list_up(h: Harness) -> Result<()> {
    let (_, p) = small_catalogue_and_people(&h, 2, 3, 32, 5).await?;
    for person in &p[..5] {
        h.app.enrol("S-CAP", person).await?;
    }
    // p0, p1 seated; p2, p3, p4 waiting 1, 2, 3.

    let (cancelled, promoted) = h.app.cancel("S-CAP", &p[3]).await?;
    ensure!(
        cancelled.row.status == "cancelled" && promoted.is_none(),
        "a waiting person frees no seat"
    );
    ensure!(occupation(&h, "S-CAP").await? == (2, 2));

    let (cancelled, promoted) = h.app.cancel("S-CAP", &p[0]).await?;
    ensure!(cancelled.row.status == "cancelled", "{cancelled:?}");
    let promoted = promoted.context("the first waiting person takes the seat")?;
    ensure!(promoted.row.person_id == p[2] && seated(&promoted), "{promoted:?}");
    ensure!(stored_status(&h, "S-CAP", &p[2]).await?.as_deref() == Some("enrolled"));
    ensure!(stored_status(&h, "S-CAP", &p[0]).await?.as_deref() == Some("cancelled"));
    ensure!(occupation(&h, "S-CAP").await? == (2, 1));
    conflict(h.app.cancel("S-CAP", &p[0]).await, "cancelled twice")?;

    // Back in line, behind p4.
    let again = h.app.enrol("S-CAP", &p[0]).await?;
    ensure!(
        again.row.status == "waitlisted" && again.waiting_position == Some(2),
        "{again:?}"
    );
    ensure!(
        promoted_by_cancelling(&h, &p[1]).await? == Some(p[4].clone()),
        "first come, first served"
    );
    ensure!(occupation(&h, "S-CAP").await? == (2, 1));
    ensure!(stored_status(&h, "S-CAP", &p[0]).await?.as_deref() == Some("waitlisted"));
    Ok(())
}

pub async fn unknown_people_sessions_and_enrolments_are_not_found(h: Harness) -> Result<()> {
    let (_, people) = small_catalogue_and_people(&h, 2, 2, 33, 1).await?;
    let person = people[0].clone();
    not_found(h.app.enrol("S-NONE", &person).await, "unknown session")?;
    not_found(h.app.enrol("S-CAP", "P-NOBODY").await, "unknown person")?;
    not_found(h.app.cancel("S-CAP", &person).await, "cancel without enrolment")?;
    not_found(
        h.app.complete("S-CAP", &person, None).await,
        "complete without enrolment",
    )?;
    not_found(
        h.app.complete("S-NONE", &person, None).await,
        "complete in an unknown session",
    )?;
    not_found(h.app.plan("S-NOWHERE", None).await, "plan of an unknown structure")?;
    ensure!(occupation(&h, "S-CAP").await? == (0, 0), "nothing written");
    ensure!(stored_status(&h, "S-CAP", &person).await?.is_none(), "no enrolment row");
    ensure!(h.outbox_len().await? == 0, "no event");
    Ok(())
}

// ----- 4. concurrency -----

pub async fn concurrent_enrolments_never_overbook(h: Harness) -> Result<()> {
    h.import(small_catalogue(5)).await?;
    let generated = set(12, 41);
    h.feed_inventories(&generated.inventories, 1).await?;
    let people = people(&generated.inventories);
    ensure!(people.len() >= 30, "thirty people, got {}", people.len());

    let mut tasks = JoinSet::new();
    for person in people.into_iter().take(30) {
        let app = h.app.clone();
        tasks.spawn(async move { app.enrol("S-CAP", &person).await });
    }
    let mut views = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        views.push(joined??);
    }
    let seats = views.iter().filter(|v| seated(v)).count();
    let mut positions: Vec<u32> = views.iter().filter_map(|v| v.waiting_position).collect();
    positions.sort_unstable();
    ensure!(seats == 5, "exactly 5 seated, got {seats}");
    ensure!(
        positions == (1..=25).collect::<Vec<u32>>(),
        "waiting positions 1…25, got {positions:?}"
    );
    ensure!(occupation(&h, "S-CAP").await? == (5, 25), "the enrolled column matches");
    let rows: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM tr_enrolments WHERE session_id = 'S-CAP' AND status = 'enrolled'",
    )
    .fetch_one(h.db.pool())
    .await?;
    ensure!(rows == 5, "{rows} enrolled rows");

    // The waiting list is in the order the positions were given.
    let first_waiting = views
        .iter()
        .find(|v| v.waiting_position == Some(1))
        .context("position 1")?;
    let a_seated = views.iter().find(|v| seated(v)).context("a seated person")?;
    ensure!(
        promoted_by_cancelling(&h, &a_seated.row.person_id).await? == Some(first_waiting.row.person_id.clone()),
        "the person told position 1 is promoted"
    );
    ensure!(occupation(&h, "S-CAP").await? == (5, 24));
    Ok(())
}

pub async fn concurrent_double_enrolment_takes_one_seat(h: Harness) -> Result<()> {
    let (_, people) = small_catalogue_and_people(&h, 5, 2, 42, 1).await?;
    let person = people[0].clone();
    let mut tasks = JoinSet::new();
    for _ in 0..8 {
        let app = h.app.clone();
        let person = person.clone();
        tasks.spawn(async move { app.enrol("S-CAP", &person).await });
    }
    let (mut accepted, mut refused) = (0, 0);
    while let Some(joined) = tasks.join_next().await {
        match joined? {
            Ok(view) if seated(&view) => accepted += 1,
            Err(TrainingError::Conflict(_)) => refused += 1,
            other => bail!("unexpected outcome {other:?}"),
        }
    }
    ensure!(
        (accepted, refused) == (1, 7),
        "one enrolment, seven conflicts: {accepted} / {refused}"
    );
    ensure!(occupation(&h, "S-CAP").await? == (1, 0), "one seat taken");
    Ok(())
}

pub async fn concurrent_cancels_and_completions_apply_once(h: Harness) -> Result<()> {
    let (_, p) = small_catalogue_and_people(&h, 2, 3, 43, 5).await?;
    for person in &p[..5] {
        h.app.enrol("S-CAP", person).await?;
    }
    // p0, p1 seated; p2, p3, p4 waiting. Eight concurrent cancels of p0.
    let mut tasks = JoinSet::new();
    for _ in 0..8 {
        let app = h.app.clone();
        let person = p[0].clone();
        tasks.spawn(async move { app.cancel("S-CAP", &person).await });
    }
    let mut promoted = Vec::new();
    let mut refused = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined? {
            Ok((cancelled, next)) if cancelled.row.status == "cancelled" => promoted.extend(next),
            Err(TrainingError::Conflict(_)) => refused += 1,
            other => bail!("unexpected outcome {other:?}"),
        }
    }
    ensure!(refused == 7, "one cancellation, seven conflicts: {refused}");
    let promoted: Vec<&str> = promoted.iter().map(|v| v.row.person_id.as_str()).collect();
    ensure!(
        promoted == [p[2].as_str()],
        "exactly the first waiting person promoted: {promoted:?}"
    );
    ensure!(
        occupation(&h, "S-CAP").await? == (2, 2),
        "one seat released and taken again"
    );

    // Eight concurrent completions of p1: one event.
    let mut tasks = JoinSet::new();
    for _ in 0..8 {
        let app = h.app.clone();
        let person = p[1].clone();
        tasks.spawn(async move { app.complete("S-CAP", &person, None).await });
    }
    while let Some(joined) = tasks.join_next().await {
        let view = joined??;
        ensure!(view.row.status == "completed", "{view:?}");
    }
    ensure!(
        h.outbox(TRAINING_COMPLETED).await?.len() == 1,
        "a completion publishes once"
    );
    Ok(())
}

// ----- 5. completion -----

pub async fn completion_appends_one_event_with_the_goal_levels(h: Harness) -> Result<()> {
    h.import(small_catalogue(2)).await?;
    let generated = set(3, 51);
    h.feed_inventories(&generated.inventories, 1).await?;
    let structure = &generated.inventories[0];
    ensure!(structure.people.len() >= 2, "two people");
    let (p0, p1) = (&structure.people[0].id, &structure.people[1].id);

    ensure!(seated(&h.app.enrol("S-DUO", p0).await?));
    let view = h.app.complete("S-DUO", p0, None).await?;
    let ends = date("2026-12-17")?;
    ensure!(
        view.row.status == "completed" && view.row.completed_on == Some(ends),
        "{view:?}"
    );
    ensure!(h.outbox_len().await? == 1, "one event");
    let events = h.outbox(TRAINING_COMPLETED).await?;
    let envelope = events.first().context("the completion event")?;
    ensure!(
        envelope.source == SOURCE && envelope.subject == structure.structure.id,
        "{} {}",
        envelope.source,
        envelope.subject
    );
    let event = TrainingCompleted::decode(envelope.payload.clone())?;
    let expected = TrainingCompleted {
        session_id: "S-DUO".into(),
        training_id: "T-DUO".into(),
        person_id: p0.clone(),
        structure_id: structure.structure.id.clone(),
        completed_on: Some(pb_date(ends)),
        raises: vec![
            HoldingRaise {
                function: "accounting".into(),
                level: 4,
            },
            HoldingRaise {
                function: "payroll".into(),
                level: 3,
            },
        ],
    };
    ensure!(event == expected, "{event:?}");

    // An explicit date, and a one-target training.
    ensure!(seated(&h.app.enrol("S-CAP", p1).await?));
    let on = date("2026-12-20")?;
    let view = h.app.complete("S-CAP", p1, Some(on)).await?;
    ensure!(view.row.completed_on == Some(on), "{view:?}");
    let events = h.outbox(TRAINING_COMPLETED).await?;
    ensure!(events.len() == 2, "{} events", events.len());
    let event = TrainingCompleted::decode(events[1].payload.clone())?;
    ensure!(
        event.raises
            == [HoldingRaise {
                function: "payroll".into(),
                level: 3
            }]
            && event.completed_on == Some(pb_date(on)),
        "{event:?}"
    );
    Ok(())
}

pub async fn completion_is_idempotent_and_needs_a_seat(h: Harness) -> Result<()> {
    let (_, p) = small_catalogue_and_people(&h, 1, 3, 52, 3).await?;
    ensure!(seated(&h.app.enrol("S-CAP", &p[0]).await?));
    ensure!(h.app.enrol("S-CAP", &p[1]).await?.waiting_position == Some(1));

    let first = date("2026-12-15")?;
    let done = h.app.complete("S-CAP", &p[0], Some(first)).await?;
    ensure!(
        done.row.status == "completed" && done.row.completed_on == Some(first),
        "{done:?}"
    );
    let again = h.app.complete("S-CAP", &p[0], Some(date("2026-12-31")?)).await?;
    ensure!(again == done, "completing again changes nothing: {again:?}");
    ensure!(h.outbox(TRAINING_COMPLETED).await?.len() == 1, "no second event");

    conflict(h.app.complete("S-CAP", &p[1], None).await, "a waitlisted person")?;
    ensure!(stored_status(&h, "S-CAP", &p[1]).await?.as_deref() == Some("waitlisted"));
    conflict(h.app.enrol("S-CAP", &p[0]).await, "enrol after completing")?;
    conflict(h.app.cancel("S-CAP", &p[0]).await, "cancel after completing")?;

    ensure!(seated(&h.app.enrol("S-DUO", &p[2]).await?));
    h.app.cancel("S-DUO", &p[2]).await?;
    conflict(h.app.complete("S-DUO", &p[2], None).await, "a cancelled enrolment")?;
    ensure!(h.outbox_len().await? == 1, "still one event");
    Ok(())
}
