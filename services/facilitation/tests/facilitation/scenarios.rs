//! The scenarios of the contract suite (backend-independent).

use std::collections::BTreeMap;

use anyhow::{ensure, Context, Result};
use prost::Message;
use tokio::task::JoinSet;
use vigie_facilitation::app::views::HelpRequest;
use vigie_facilitation::app::{HelpInput, InterventionInput};
use vigie_facilitation::error::FacilitationError;
use vigie_facilitation::events::{opaque_key, INTERVENTION_RECORDED, TIME_RECORDED};
use vigie_platform::events::Outcome;
use vigie_proto::dates::date_to_pb;
use vigie_proto::events::v1::{DeadlineEscalated, FacilitationTimeRecorded, InterventionRecorded};
use vigie_proto::inventory::v1::Band;

use crate::harness::{
    escalation_event, expect_err, facilitators_csv, fragility_event, inventory_event, start, today, Harness,
};

// ----- fixtures -----

/// `F-DEP` serves department 35 (10 h × 50 % = 300 internal minutes a
/// week); `F-COM` serves the commune 35238 (4 h × 50 % = 120 minutes), so
/// it ranks first for a structure of Rennes; `F-FAR` works in the Gironde.
const FACILITATORS: &[&str] = &[
    "F-DEP,Alice Départ,conseiller_numerique,,,35,payroll;accounting,10,50%,CnFS,",
    "F-COM,Bruno Commune,mediateur,,,35238,payroll,4,50%,,",
    "F-FAR,Chloé Loin,mediateur,,,33,payroll,35,50%,,",
];

/// A structure of Rennes, network `N1`, with two people.
async fn rennes(h: &Harness) -> Result<()> {
    h.import(FACILITATORS).await?;
    h.structure("S1", "N1", "35238", &["P1", "P2"]).await
}

fn help(structure: &str, function: &str, minutes: u32) -> HelpInput {
    HelpInput {
        structure_id: structure.to_owned(),
        function: function.to_owned(),
        description: "Déclarer la paie du mois".to_owned(),
        estimated_minutes: Some(minutes),
        ..HelpInput::default()
    }
}

fn internal(request: &str, minutes: u32) -> InterventionInput {
    InterventionInput {
        request_id: request.to_owned(),
        minutes,
        beneficiary: "internal".to_owned(),
        ..InterventionInput::default()
    }
}

fn offered_to(row: &HelpRequest, facilitator: &str) -> Result<()> {
    ensure!(
        row.status == "offered" && row.facilitator_id.as_deref() == Some(facilitator),
        "expected offered to {facilitator}, got {} {:?} {:?}",
        row.status,
        row.facilitator_id,
        row.reasons
    );
    Ok(())
}

// ----- facilitators -----

pub async fn an_import_is_all_or_nothing(h: Harness) -> Result<()> {
    ensure!(h.import(FACILITATORS).await? == 3);
    let listed: Vec<String> = h.app.facilitators().await?.into_iter().map(|f| f.id).collect();
    ensure!(listed == ["F-COM", "F-DEP", "F-FAR"], "{listed:?}");
    let dep = h
        .app
        .facilitators()
        .await?
        .into_iter()
        .find(|f| f.id == "F-DEP")
        .context("F-DEP")?;
    ensure!(dep.internal_minutes_per_week() == 300 && dep.functions == ["payroll", "accounting"]);

    // One good new row and two bad ones: every error, nothing stored.
    let bad = facilitators_csv(&[
        "F-NEW,Nouveau,conseiller_numerique,,,35,payroll,10,50%,,",
        "F-BAD,Mauvais,magicien,,,35,payroll,10,50%,,",
        "F-BAD2,Mauvais,mediateur,,,35,payroll,500,50%,,",
    ]);
    match h.app.import_facilitators(&bad).await {
        Err(FacilitationError::Rejected(errors)) => {
            ensure!(errors.len() >= 2, "{errors:?}");
            let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
            ensure!(shown[0].starts_with("facilitators.csv:3:"), "{shown:?}");
            ensure!(shown.iter().any(|e| e.starts_with("facilitators.csv:4:")), "{shown:?}");
        }
        other => anyhow::bail!("a bad file must be rejected: {other:?}"),
    }
    let after: Vec<String> = h.app.facilitators().await?.into_iter().map(|f| f.id).collect();
    ensure!(after == listed, "a rejected import changed the facilitators: {after:?}");

    // A re-import updates in place.
    h.import(&["F-DEP,Alice Départ,conseiller_numerique,,,35,payroll,20,50%,CnFS,"])
        .await?;
    let facilitators = h.app.facilitators().await?;
    ensure!(facilitators.len() == 3);
    let dep = facilitators.iter().find(|f| f.id == "F-DEP").context("F-DEP")?;
    ensure!(dep.internal_minutes_per_week() == 600);
    Ok(())
}

// ----- matching -----

pub async fn a_request_is_offered_to_the_best_ranked_facilitator(h: Harness) -> Result<()> {
    rennes(&h).await?;
    let row = h.app.request_help(help("S1", "payroll", 60)).await?;
    offered_to(&row, "F-COM")?;
    ensure!(row.origin == "request" && row.network_id == "N1" && row.created_on == today());
    ensure!(row.facilitator_name.as_deref() == Some("Bruno Commune"));
    ensure!(!row.reasons.is_empty(), "the offer explains itself");
    ensure!(h.load("F-COM").await? == (120, 60), "{:?}", h.load("F-COM").await?);
    // Default estimate: 120 minutes, more than F-COM has left → F-DEP.
    let second = h
        .app
        .request_help(HelpInput {
            estimated_minutes: None,
            ..help("S1", "payroll", 0)
        })
        .await?;
    offered_to(&second, "F-DEP")?;
    ensure!(second.estimated_minutes == 120);
    ensure!(h.load("F-DEP").await? == (300, 120));
    let open = h.app.proposals(Some("S1")).await?;
    ensure!(open.len() == 2, "{open:?}");
    ensure!(h.app.proposals(Some("S-OTHER")).await?.is_empty());
    expect_err(
        h.app.request_help(help("S-UNKNOWN", "payroll", 60)).await,
        |e| matches!(e, FacilitationError::NotFound(_)),
        "unknown structure",
    )?;
    expect_err(
        h.app
            .request_help(HelpInput {
                urgency: Some("urgentissime".to_owned()),
                ..help("S1", "payroll", 60)
            })
            .await,
        |e| matches!(e, FacilitationError::Invalid(_)),
        "unknown urgency",
    )
}

pub async fn a_request_nobody_covers_is_unassigned_with_a_reason(h: Harness) -> Result<()> {
    rennes(&h).await?;
    h.structure("S-LYON", "N1", "69123", &["P9"]).await?;
    let row = h.app.request_help(help("S-LYON", "payroll", 60)).await?;
    ensure!(row.status == "unassigned" && row.facilitator_id.is_none(), "{row:?}");
    ensure!(
        row.reasons.len() == 1 && row.reasons[0].contains("aucun facilitateur"),
        "{:?}",
        row.reasons
    );
    // More than anyone has this week.
    let big = h.app.request_help(help("S1", "payroll", 1000)).await?;
    ensure!(big.status == "unassigned", "{big:?}");
    ensure!(big.reasons[0].contains("temps"), "{:?}", big.reasons);
    ensure!(h.app.proposals(None).await?.len() == 2, "unassigned requests stay open");
    Ok(())
}

pub async fn concurrent_requests_never_exceed_capacity(h: Harness) -> Result<()> {
    rennes(&h).await?;
    // 20 requests of 60 minutes; F-COM has 120, F-DEP 300: 7 can be offered.
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let app = h.app.clone();
        tasks.spawn(async move { app.request_help(help("S1", "payroll", 60)).await });
    }
    let mut per_facilitator: BTreeMap<String, u32> = BTreeMap::new();
    let mut unassigned = 0;
    while let Some(result) = tasks.join_next().await {
        let row = result??;
        match row.facilitator_id {
            Some(f) => *per_facilitator.entry(f).or_default() += row.estimated_minutes,
            None => unassigned += 1,
        }
    }
    ensure!(
        per_facilitator.get("F-COM") == Some(&120) && per_facilitator.get("F-DEP") == Some(&300),
        "{per_facilitator:?}"
    );
    ensure!(unassigned == 13, "{unassigned} unassigned");
    for (id, minutes) in &per_facilitator {
        let (capacity, committed) = h.load(id).await?;
        ensure!(
            committed == *minutes && committed <= capacity,
            "{id}: {committed}/{capacity}, offered {minutes}"
        );
    }
    Ok(())
}

pub async fn a_structures_own_request_takes_back_an_unanswered_automatic_proposal(h: Harness) -> Result<()> {
    rennes(&h).await?;
    // An automatic proposal takes F-COM's whole week (120 min)…
    h.feed(&fragility_event("S1", "N1", Band::Critical, "payroll", &["P1"]))
        .await?;
    let proposal = h.app.proposals(Some("S1")).await?.remove(0);
    offered_to(&proposal, "F-COM")?;
    ensure!(h.load("F-COM").await? == (120, 120));
    // …and the structure's own requests fill F-DEP's (300 min).
    for _ in 0..5 {
        offered_to(&h.app.request_help(help("S1", "payroll", 60)).await?, "F-DEP")?;
    }
    // One more request: nobody has time left, so the unanswered proposal
    // gives its minutes back and the request takes them.
    let request = h.app.request_help(help("S1", "payroll", 60)).await?;
    offered_to(&request, "F-COM")?;
    ensure!(
        h.load("F-COM").await? == (120, 60),
        "the proposal's minutes went back, the request's taken"
    );
    let taken_back = h
        .app
        .proposals(Some("S1"))
        .await?
        .into_iter()
        .find(|r| r.request_id == proposal.request_id)
        .context("the proposal is still open")?;
    ensure!(
        taken_back.status == "unassigned" && taken_back.facilitator_id.is_none(),
        "{taken_back:?}"
    );
    ensure!(
        taken_back.reasons.len() == 1 && taken_back.reasons[0].contains("prioritaire"),
        "{:?}",
        taken_back.reasons
    );
    // An accepted request is never taken back: F-COM accepts, the next
    // request finds no room anywhere.
    h.app.respond(&request.request_id, true).await?;
    let last = h.app.request_help(help("S1", "payroll", 120)).await?;
    ensure!(last.status == "unassigned", "{last:?}");
    ensure!(h.load("F-COM").await? == (120, 60));
    Ok(())
}

pub async fn declining_moves_the_request_to_the_next_facilitator(h: Harness) -> Result<()> {
    rennes(&h).await?;
    let row = h.app.request_help(help("S1", "payroll", 60)).await?;
    offered_to(&row, "F-COM")?;
    let next = h.app.respond(&row.request_id, false).await?;
    offered_to(&next, "F-DEP")?;
    ensure!(next.declined_by == ["F-COM"]);
    ensure!(h.load("F-COM").await? == (120, 0), "the decline released the minutes");
    ensure!(h.load("F-DEP").await? == (300, 60));
    let last = h.app.respond(&row.request_id, false).await?;
    ensure!(last.status == "unassigned" && last.facilitator_id.is_none(), "{last:?}");
    ensure!(last.reasons[0].contains("décliné"), "{:?}", last.reasons);
    ensure!(h.load("F-DEP").await? == (300, 0));
    expect_err(
        h.app.respond(&row.request_id, true).await,
        |e| matches!(e, FacilitationError::Conflict(_)),
        "answering an unassigned request",
    )?;

    let other = h.app.request_help(help("S1", "payroll", 60)).await?;
    let accepted = h.app.respond(&other.request_id, true).await?;
    ensure!(accepted.status == "accepted" && accepted.facilitator_id.as_deref() == Some("F-COM"));
    ensure!(h.load("F-COM").await? == (120, 60), "an acceptance keeps the minutes");
    expect_err(
        h.app.respond(&other.request_id, false).await,
        |e| matches!(e, FacilitationError::Conflict(_)),
        "answering twice",
    )?;
    expect_err(
        h.app.respond("nope", true).await,
        |e| matches!(e, FacilitationError::NotFound(_)),
        "unknown request",
    )
}

// ----- proactive proposals -----

pub async fn a_fragility_event_opens_one_proposal_even_replayed(h: Harness) -> Result<()> {
    rennes(&h).await?;
    let event = fragility_event("S1", "N1", Band::Critical, "payroll", &["P1"]);
    ensure!(h.feed(&event).await? == Outcome::Applied);
    let open = h.app.proposals(Some("S1")).await?;
    ensure!(open.len() == 1, "{open:?}");
    let proposal = &open[0];
    ensure!(
        proposal.origin == "proposal" && proposal.function == "payroll",
        "{proposal:?}"
    );
    offered_to(proposal, "F-COM")?;
    ensure!(proposal.description.contains("critique"), "{}", proposal.description);

    // The same event again: a duplicate for the inbox.
    ensure!(h.feed(&event).await? == Outcome::Duplicate);
    // A new assessment (another event) while the proposal is open: still one.
    let again = fragility_event("S1", "N1", Band::High, "payroll", &["P1"]);
    ensure!(h.feed(&again).await? == Outcome::Applied);
    ensure!(h.app.proposals(Some("S1")).await?.len() == 1);
    ensure!(h.load("F-COM").await? == (120, 120), "minutes reserved once");

    // Once an internal intervention closed it, a new critical assessment opens another.
    h.app.record_intervention(internal(&proposal.request_id, 90)).await?;
    ensure!(h.app.proposals(Some("S1")).await?.is_empty());
    let later = fragility_event("S1", "N1", Band::Critical, "payroll", &["P1"]);
    h.feed(&later).await?;
    let reopened = h.app.proposals(Some("S1")).await?;
    ensure!(
        reopened.len() == 1 && reopened[0].request_id != proposal.request_id,
        "{reopened:?}"
    );
    Ok(())
}

pub async fn a_moderate_fragility_opens_no_proposal(h: Harness) -> Result<()> {
    rennes(&h).await?;
    for band in [Band::Moderate, Band::Low, Band::Unknown] {
        h.feed(&fragility_event("S1", "N1", band, "payroll", &["P1"])).await?;
    }
    ensure!(h.app.proposals(None).await?.is_empty());
    // An orphan function on a high band: a proposal nobody can take (no
    // facilitator covers Lyon) stays open, unassigned, with the reason.
    h.structure("S-LYON", "N1", "69123", &["P9"]).await?;
    h.feed(&fragility_event("S-LYON", "N1", Band::High, "accounting", &[]))
        .await?;
    let open = h.app.proposals(Some("S-LYON")).await?;
    ensure!(open.len() == 1 && open[0].status == "unassigned", "{open:?}");
    ensure!(open[0].function == "accounting");
    Ok(())
}

// ----- interventions -----

pub async fn an_intervention_is_counted_once(h: Harness) -> Result<()> {
    rennes(&h).await?;
    let row = h.app.request_help(help("S1", "payroll", 60)).await?;
    let first = h.app.record_intervention(internal(&row.request_id, 45)).await?;
    ensure!(first.recorded && first.request.status == "closed", "{first:?}");
    let again = h.app.record_intervention(internal(&row.request_id, 45)).await?;
    ensure!(!again.recorded && again.key == first.key, "{again:?}");
    // Concurrent duplicates with a client key: one counts.
    let mut tasks = JoinSet::new();
    for _ in 0..8 {
        let app = h.app.clone();
        let input = InterventionInput {
            key: Some("client-key-1".to_owned()),
            beneficiary: "external".to_owned(),
            ..internal(&row.request_id, 30)
        };
        tasks.spawn(async move { app.record_intervention(input).await });
    }
    let mut recorded = 0;
    while let Some(result) = tasks.join_next().await {
        if result??.recorded {
            recorded += 1;
        }
    }
    ensure!(recorded == 1, "{recorded} recorded");
    let lines = h.app.report("N1", today(), today()).await?.lines;
    let com = lines
        .iter()
        .find(|l| l.facilitator_id == "F-COM")
        .context("F-COM line")?;
    ensure!(com.internal_minutes == 45 && com.external_minutes == 30, "{com:?}");

    expect_err(
        h.app.record_intervention(internal(&row.request_id, 0)).await,
        |e| matches!(e, FacilitationError::Invalid(_)),
        "zero minutes",
    )?;
    expect_err(
        h.app
            .record_intervention(InterventionInput {
                beneficiary: "nobody".to_owned(),
                ..internal(&row.request_id, 10)
            })
            .await,
        |e| matches!(e, FacilitationError::Invalid(_)),
        "unknown beneficiary",
    )?;
    expect_err(
        h.app.record_intervention(internal("nope", 10)).await,
        |e| matches!(e, FacilitationError::NotFound(_)),
        "unknown request",
    )?;
    let unassigned = h.app.request_help(help("S1", "payroll", 5000)).await?;
    expect_err(
        h.app.record_intervention(internal(&unassigned.request_id, 10)).await,
        |e| matches!(e, FacilitationError::Conflict(_)),
        "a request without facilitator",
    )
}

pub async fn every_intervention_publishes_its_time_once(h: Harness) -> Result<()> {
    rennes(&h).await?;
    let row = h.app.request_help(help("S1", "payroll", 60)).await?;
    let times = |events: &[vigie_platform::events::Envelope]| -> Result<Vec<FacilitationTimeRecorded>> {
        events
            .iter()
            .map(|e| {
                ensure!(e.subject == "S1", "ce-subject {}", e.subject);
                Ok(FacilitationTimeRecorded::decode(e.payload.clone())?)
            })
            .collect()
    };
    // Internal, without a person: published, no autonomy event.
    let first = h.app.record_intervention(internal(&row.request_id, 45)).await?;
    ensure!(first.recorded && !first.autonomy_published);
    let again = h.app.record_intervention(internal(&row.request_id, 45)).await?;
    ensure!(!again.recorded);
    let events = times(&h.outbox(TIME_RECORDED).await?)?;
    ensure!(
        events
            == vec![FacilitationTimeRecorded {
                intervention_key: opaque_key(&first.key),
                structure_id: "S1".into(),
                network: "N1".into(),
                beneficiary: "internal".into(),
                minutes: 45,
                on: Some(date_to_pb(today())),
            }],
        "{events:?}"
    );
    // External, replayed concurrently under a client key: once.
    let mut tasks = JoinSet::new();
    for _ in 0..6 {
        let app = h.app.clone();
        let input = InterventionInput {
            key: Some("client-key-time".to_owned()),
            beneficiary: "external".to_owned(),
            on: Some(today() - chrono::Days::new(3)),
            ..internal(&row.request_id, 30)
        };
        tasks.spawn(async move { app.record_intervention(input).await });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    let events = times(&h.outbox(TIME_RECORDED).await?)?;
    ensure!(events.len() == 2, "{events:?}");
    ensure!(
        events[1].beneficiary == "external"
            && events[1].minutes == 30
            && events[1].intervention_key == opaque_key("client-key-time")
            && events[1].on == Some(date_to_pb(today() - chrono::Days::new(3))),
        "{events:?}"
    );
    // With a person made autonomous: both events, the time one without the
    // person (its derived key names them).
    let autonomous = h
        .app
        .record_intervention(InterventionInput {
            person_id: Some("P2".to_owned()),
            autonomy_after: Some(3),
            ..internal(&row.request_id, 20)
        })
        .await?;
    ensure!(autonomous.recorded && autonomous.autonomy_published && autonomous.key.contains("P2"));
    let raw = h.outbox(TIME_RECORDED).await?;
    ensure!(raw.len() == 3 && h.outbox(INTERVENTION_RECORDED).await?.len() == 1);
    ensure!(
        !String::from_utf8_lossy(&raw[2].payload).contains("P2"),
        "the time event carries no person"
    );
    // Refused interventions publish nothing.
    let unassigned = h.app.request_help(help("S1", "payroll", 5000)).await?;
    ensure!(h
        .app
        .record_intervention(internal(&unassigned.request_id, 10))
        .await
        .is_err());
    ensure!(h.app.record_intervention(internal(&row.request_id, 0)).await.is_err());
    ensure!(h.app.record_intervention(internal("nope", 10)).await.is_err());
    ensure!(h.outbox(TIME_RECORDED).await?.len() == 3);
    Ok(())
}

pub async fn an_autonomy_intervention_publishes_one_event(h: Harness) -> Result<()> {
    rennes(&h).await?;
    let row = h.app.request_help(help("S1", "payroll", 60)).await?;
    // Not yet autonomous: no event.
    let partial = h
        .app
        .record_intervention(InterventionInput {
            person_id: Some("P2".to_owned()),
            autonomy_after: Some(2),
            key: Some("k1".to_owned()),
            ..internal(&row.request_id, 60)
        })
        .await?;
    ensure!(partial.recorded && !partial.autonomy_published);
    let autonomous = InterventionInput {
        person_id: Some("P2".to_owned()),
        autonomy_after: Some(3),
        on: Some(today()),
        ..internal(&row.request_id, 60)
    };
    let done = h.app.record_intervention(autonomous.clone()).await?;
    ensure!(done.recorded && done.autonomy_published);
    let replay = h.app.record_intervention(autonomous).await?;
    ensure!(!replay.recorded && !replay.autonomy_published);
    let events = h.outbox(INTERVENTION_RECORDED).await?;
    ensure!(events.len() == 1, "{} events", events.len());
    ensure!(events[0].subject == "S1");
    let event = InterventionRecorded::decode(events[0].payload.clone())?;
    ensure!(
        event.person_id == "P2"
            && event.function == "payroll"
            && event.autonomy_after == 3
            && event.structure_id == "S1"
            && event.facilitator_id == "F-COM"
            && event.request_id == row.request_id,
        "{event:?}"
    );

    expect_err(
        h.app
            .record_intervention(InterventionInput {
                person_id: Some("P-ELSEWHERE".to_owned()),
                autonomy_after: Some(4),
                ..internal(&row.request_id, 10)
            })
            .await,
        |e| matches!(e, FacilitationError::NotFound(_)),
        "a person outside the structure",
    )?;
    expect_err(
        h.app
            .record_intervention(InterventionInput {
                autonomy_after: Some(3),
                ..internal(&row.request_id, 10)
            })
            .await,
        |e| matches!(e, FacilitationError::Invalid(_)),
        "autonomy without a person",
    )?;
    expect_err(
        h.app
            .record_intervention(InterventionInput {
                person_id: Some("P1".to_owned()),
                beneficiary: "external".to_owned(),
                ..internal(&row.request_id, 10)
            })
            .await,
        |e| matches!(e, FacilitationError::Invalid(_)),
        "a member of the structure as an external beneficiary",
    )
}

// ----- report -----

pub async fn the_report_sums_internal_and_external_minutes(h: Harness) -> Result<()> {
    rennes(&h).await?;
    h.structure("S2", "N2", "35238", &["Q1"]).await?;
    let a = h.app.request_help(help("S1", "payroll", 60)).await?;
    let b = h.app.request_help(help("S1", "accounting", 60)).await?;
    let c = h.app.request_help(help("S2", "payroll", 30)).await?;
    offered_to(&a, "F-COM")?;
    offered_to(&b, "F-DEP")?;
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).context("date");
    let record = |request: &str, minutes: u32, beneficiary: &str, on: u32, key: &str| InterventionInput {
        request_id: request.to_owned(),
        minutes,
        beneficiary: beneficiary.to_owned(),
        on: day(on).ok(),
        key: Some(key.to_owned()),
        ..InterventionInput::default()
    };
    for input in [
        record(&a.request_id, 60, "internal", 2, "a1"),
        record(&a.request_id, 90, "external", 3, "a2"),
        record(&a.request_id, 30, "external", 20, "a3"),
        record(&b.request_id, 45, "internal", 10, "b1"),
        record(&c.request_id, 500, "internal", 10, "c1"), // another network
        record(&a.request_id, 999, "internal", 30, "late"), // after the period
    ] {
        ensure!(h.app.record_intervention(input).await?.recorded);
    }
    let lines = h.app.report("N1", day(1)?, day(25)?).await?.lines;
    let by_id: BTreeMap<&str, _> = lines.iter().map(|l| (l.facilitator_id.as_str(), l)).collect();
    let com = by_id.get("F-COM").context("F-COM")?;
    ensure!(com.internal_minutes == 60 && com.external_minutes == 120, "{com:?}");
    ensure!(
        com.internal_share.is_some_and(|s| (s - 60.0 / 180.0).abs() < 1e-9),
        "{com:?}"
    );
    let dep = by_id.get("F-DEP").context("F-DEP")?;
    ensure!(dep.internal_minutes == 45 && dep.external_minutes == 0, "{dep:?}");
    ensure!(
        lines.iter().map(|l| l.internal_minutes).sum::<u64>() == 105,
        "other networks and dates are left out: {lines:?}"
    );
    expect_err(
        h.app.report("N1", day(25)?, day(1)?).await,
        |e| matches!(e, FacilitationError::Invalid(_)),
        "an inverted period",
    )
}

// ----- escalation -----

/// `C-N1` coordinates network N1 through S9 (Brest), a structure of N1 it
/// serves; it does not serve S1, so matching never offers it S1's requests.
const COORDINATOR: &str = "C-N1,Chef Réseau,coordinateur,,S9,29,payroll,35,10%,,";

pub async fn an_unanswered_offer_escalates_to_the_network_coordinator(h: Harness) -> Result<()> {
    rennes(&h).await?;
    h.structure("S9", "N1", "29019", &["R1"]).await?;
    h.import(&[COORDINATOR]).await?;
    let row = h.app.request_help(help("S1", "payroll", 60)).await?;
    offered_to(&row, "F-COM")?;
    ensure!(row.offered_at == Some(start()), "{:?}", row.offered_at);
    ensure!(h.app.escalation_delay().as_secs() == 48 * 3600, "default delay 48 h");

    let early = h
        .app
        .escalate_overdue(start() + chrono::TimeDelta::minutes(48 * 60 - 1))
        .await?;
    ensure!(
        early.escalated.is_empty() && early.without_coordinator.is_empty(),
        "{early:?}"
    );
    offered_to(&h.app.request(&row.request_id).await?, "F-COM")?;

    let due = start() + chrono::TimeDelta::hours(48);
    let pass = h.app.escalate_overdue(due).await?;
    ensure!(pass.escalated == [row.request_id.clone()], "{pass:?}");
    let escalated = h.app.request(&row.request_id).await?;
    ensure!(
        escalated.status == "escalated"
            && escalated.facilitator_id.as_deref() == Some("C-N1")
            && escalated.escalated_at == Some(due),
        "{escalated:?}"
    );
    ensure!(escalated.reasons[0].contains("coordinateur"), "{:?}", escalated.reasons);
    ensure!(
        h.load("F-COM").await? == (120, 0),
        "the silent facilitator's minutes are released"
    );
    // Listed with its coordinator; a second pass changes nothing.
    let open = h.app.proposals(Some("S1")).await?;
    ensure!(open.len() == 1 && open[0].status == "escalated", "{open:?}");
    ensure!(h.app.escalate_overdue(due + chrono::TimeDelta::hours(1)).await? == Default::default());
    expect_err(
        h.app.respond(&row.request_id, true).await,
        |e| matches!(e, FacilitationError::Conflict(_)),
        "answering an escalated request",
    )?;
    // An answered offer never escalates.
    let answered = h.app.request_help(help("S1", "payroll", 60)).await?;
    h.app.respond(&answered.request_id, true).await?;
    ensure!(h
        .app
        .escalate_overdue(due + chrono::TimeDelta::days(10))
        .await?
        .escalated
        .is_empty());
    // The coordinator's intervention closes the escalated request.
    let done = h.app.record_intervention(internal(&row.request_id, 30)).await?;
    ensure!(done.recorded && done.request.status == "closed", "{done:?}");
    Ok(())
}

pub async fn without_a_coordinator_an_overdue_offer_stays_offered_and_is_flagged_once(h: Harness) -> Result<()> {
    rennes(&h).await?;
    h.structure("S9", "N1", "29019", &["R1"]).await?;
    // A coordinator of another network (Lyon) is not N1's.
    h.import(&["C-LYON,Lyon,coordinateur,,,69,payroll,35,10%,,"]).await?;
    let row = h.app.request_help(help("S1", "payroll", 60)).await?;
    let due = start() + chrono::TimeDelta::hours(48);
    let pass = h.app.escalate_overdue(due).await?;
    ensure!(
        pass.escalated.is_empty() && pass.without_coordinator == [row.request_id.clone()],
        "{pass:?}"
    );
    let open = h.app.proposals(Some("S1")).await?;
    ensure!(open.len() == 1, "{open:?}");
    offered_to(&open[0], "F-COM")?;
    ensure!(open[0].overdue_at == Some(due), "{:?}", open[0]);
    ensure!(
        open[0].reasons.last().is_some_and(|r| r.contains("aucun coordinateur")),
        "{:?}",
        open[0].reasons
    );
    ensure!(h.load("F-COM").await? == (120, 60), "still reserved: it stays offered");
    // Reported once only.
    ensure!(h.app.escalate_overdue(due + chrono::TimeDelta::hours(2)).await? == Default::default());
    ensure!(h.app.request(&row.request_id).await?.reasons.len() == open[0].reasons.len());
    // A coordinator imported later receives it at the next pass.
    h.import(&[COORDINATOR]).await?;
    let later = h.app.escalate_overdue(due + chrono::TimeDelta::hours(3)).await?;
    ensure!(later.escalated == [row.request_id.clone()], "{later:?}");
    Ok(())
}

// ----- CRA vocabulary, measures, modality -----

pub async fn an_intervention_records_the_activity_report_vocabulary(h: Harness) -> Result<()> {
    rennes(&h).await?;
    let row = h.app.request_help(help("S1", "payroll", 60)).await?;
    let cra = InterventionInput {
        activity_type: Some("collectif".to_owned()),
        place: Some("a_distance".to_owned()),
        themes: vec!["bureautique".to_owned(), " email".to_owned()],
        person_id: Some("P2".to_owned()),
        autonomy_before: Some(1),
        autonomy_after: Some(2),
        ..internal(&row.request_id, 90)
    };
    ensure!(h.app.record_intervention(cra.clone()).await?.recorded);
    let plain = h.app.request_help(help("S1", "payroll", 30)).await?;
    h.app.record_intervention(internal(&plain.request_id, 20)).await?;
    let report = h.app.report("N1", today(), today()).await?;
    let csv = vigie_facilitation_domain::report::activity_csv(&report.interventions);
    ensure!(
        csv.contains(",collectif,90,a_distance,bureautique;email,structure_interne,S1,F-COM\n"),
        "{csv}"
    );
    ensure!(
        csv.contains(",individuel,20,autre,,structure_interne,S1,"),
        "defaults: {csv}"
    );
    for (what, bad) in [
        (
            "unknown theme",
            InterventionInput {
                themes: vec!["cuisine".to_owned()],
                ..cra.clone()
            },
        ),
        (
            "unknown place",
            InterventionInput {
                place: Some("plage".to_owned()),
                ..cra.clone()
            },
        ),
        (
            "unknown type",
            InterventionInput {
                activity_type: Some("groupe".to_owned()),
                ..cra.clone()
            },
        ),
        (
            "autonomy before out of range",
            InterventionInput {
                autonomy_before: Some(5),
                key: Some("other".to_owned()),
                ..cra.clone()
            },
        ),
        (
            "autonomy before without a person",
            InterventionInput {
                person_id: None,
                autonomy_after: None,
                ..cra.clone()
            },
        ),
    ] {
        expect_err(
            h.app.record_intervention(bad).await,
            |e| matches!(e, FacilitationError::Invalid(_)),
            what,
        )?;
    }
    Ok(())
}

pub async fn the_report_measures_times_and_fragile_structures_never_helped(h: Harness) -> Result<()> {
    rennes(&h).await?;
    h.structure("S3", "N1", "35238", &["Q1"]).await?;
    h.structure("S4", "N1", "35238", &["Q2"]).await?;
    // S1 critical on payroll (a proposal opens), S3 high on accounting,
    // S4 moderate (never listed).
    h.feed(&fragility_event("S1", "N1", Band::Critical, "payroll", &["P1"]))
        .await?;
    h.feed(&fragility_event("S3", "N1", Band::High, "accounting", &[]))
        .await?;
    h.feed(&fragility_event("S4", "N1", Band::Moderate, "payroll", &[]))
        .await?;
    let before = h.app.report("N1", today(), today()).await?;
    let listed: Vec<(&str, &[String])> = before
        .unhelped
        .iter()
        .map(|u| (u.structure_id.as_str(), u.functions.as_slice()))
        .collect();
    ensure!(
        listed
            == [
                ("S1", &["payroll".to_owned()][..]),
                ("S3", &["accounting".to_owned()][..])
            ],
        "{listed:?}"
    );

    // F-COM answers S1's proposal after 3 h and closes it 24 h after it was opened.
    let proposal = h
        .app
        .proposals(Some("S1"))
        .await?
        .into_iter()
        .next()
        .context("proposal")?;
    offered_to(&proposal, "F-COM")?;
    h.at(3 * 60);
    h.app.respond(&proposal.request_id, true).await?;
    h.at(24 * 60);
    h.app.record_intervention(internal(&proposal.request_id, 60)).await?;
    // F-DEP takes a request 1 h after it was made, not closed yet.
    h.at(25 * 60);
    let other = h.app.request_help(help("S3", "accounting", 60)).await?;
    offered_to(&other, "F-DEP")?;
    h.at(26 * 60);
    h.app.respond(&other.request_id, true).await?;

    let after = h.app.report("N1", today(), today() + chrono::Days::new(1)).await?;
    let by_id: BTreeMap<&str, _> = after.lines.iter().map(|l| (l.facilitator_id.as_str(), l)).collect();
    let com = by_id.get("F-COM").context("F-COM")?;
    ensure!(
        com.response_hours_median == Some(3.0) && com.resolution_hours_median == Some(24.0),
        "{com:?}"
    );
    let dep = by_id.get("F-DEP").context("F-DEP: a line for times alone")?;
    ensure!(
        dep.response_hours_median == Some(1.0) && dep.resolution_hours_median.is_none() && dep.internal_minutes == 0,
        "{dep:?}"
    );
    let listed: Vec<&str> = after.unhelped.iter().map(|u| u.structure_id.as_str()).collect();
    ensure!(listed == ["S3"], "S1 was helped on payroll: {listed:?}");
    // Another network sees none of it.
    let n2 = h.app.report("N2", today(), today()).await?;
    ensure!(n2.lines.is_empty() && n2.unhelped.is_empty(), "{n2:?}");
    Ok(())
}

pub async fn an_on_site_request_prefers_a_facilitator_covering_the_structure(h: Harness) -> Result<()> {
    // F-SHR serves S1 as a shared post, with no territory; F-DEP covers the department.
    h.import(&[
        "F-SHR,Poste Partagé,mediateur,,S1,,payroll,10,50%,,",
        "F-DEP,Alice Départ,conseiller_numerique,,,35,payroll,10,50%,,",
    ])
    .await?;
    h.structure("S1", "N1", "35238", &["P1"]).await?;
    let either = h.app.request_help(help("S1", "payroll", 30)).await?;
    offered_to(&either, "F-SHR")?;
    ensure!(either.modality == "either");
    let on_site = h
        .app
        .request_help(HelpInput {
            modality: Some("on_site".to_owned()),
            ..help("S1", "payroll", 30)
        })
        .await?;
    offered_to(&on_site, "F-DEP")?;
    ensure!(on_site.modality == "on_site");
    ensure!(
        on_site.reasons.iter().any(|r| r.contains("sur place")),
        "{:?}",
        on_site.reasons
    );
    let remote = h
        .app
        .request_help(HelpInput {
            modality: Some("remote".to_owned()),
            ..help("S1", "payroll", 30)
        })
        .await?;
    offered_to(&remote, "F-SHR")?;
    expect_err(
        h.app
            .request_help(HelpInput {
                modality: Some("teleport".to_owned()),
                ..help("S1", "payroll", 30)
            })
            .await,
        |e| matches!(e, FacilitationError::Invalid(_)),
        "unknown modality",
    )
}

// ----- co-submission proposals on alerting escalations -----

/// `F-FUND` helps with funding applications in department 35 (10 h × 50 %
/// = 300 internal minutes a week).
const FUNDING: &str = "F-FUND,Dora Dossiers,conseiller_numerique,,,35,funding_applications,10,50%,,";

fn date(y: i32, m: u32, d: u32) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(y, m, d).context("date")
}

async fn co_submissions(h: &Harness, structure: &str) -> Result<Vec<HelpRequest>> {
    let mut rows = h.app.proposals(Some(structure)).await?;
    rows.retain(|r| r.kind == "co-submission");
    Ok(rows)
}

pub async fn a_deadline_escalation_opens_one_co_submission_proposal_per_call(h: Harness) -> Result<()> {
    h.import(&[FACILITATORS, &[FUNDING]].concat()).await?;
    h.structure("S1", "N1", "35238", &["P1", "P2"]).await?;
    let deadline = date(2026, 12, 20)?;
    let event = escalation_event("S1", "AAP-1", deadline);
    ensure!(h.escalate(&event).await? == Outcome::Applied);
    let open = co_submissions(&h, "S1").await?;
    ensure!(open.len() == 1, "{open:?}");
    let p = &open[0];
    offered_to(p, "F-FUND")?;
    ensure!(p.origin == "proposal" && p.function == "funding_applications", "{p:?}");
    ensure!(p.due_on == Some(date(2026, 12, 13)?), "due J-7: {:?}", p.due_on);
    let call = p.call.as_ref().context("the proposal names its call")?;
    ensure!(
        call.call_id == "AAP-1" && call.title == "Appel AAP-1" && call.deadline == deadline,
        "{call:?}"
    );
    ensure!(
        p.description.contains("« Appel AAP-1 »") && p.description.contains("20/12/2026 à 12:00"),
        "{}",
        p.description
    );
    ensure!(h.load("F-FUND").await? == (300, 120));

    // Replayed: a duplicate for the inbox.
    ensure!(h.escalate(&event).await? == Outcome::Duplicate);
    // Escalated again (a new event, the same call): nothing more opened nor reserved.
    ensure!(h.escalate(&escalation_event("S1", "AAP-1", deadline)).await? == Outcome::Applied);
    ensure!(co_submissions(&h, "S1").await?.len() == 1);
    ensure!(h.load("F-FUND").await? == (300, 120));

    // Another call of the same structure: a second proposal.
    ensure!(h.escalate(&escalation_event("S1", "AAP-2", date(2027, 1, 15)?)).await? == Outcome::Applied);
    let open = co_submissions(&h, "S1").await?;
    ensure!(open.len() == 2, "{open:?}");
    ensure!(open
        .iter()
        .any(|p| p.due_on == Some(date(2027, 1, 8).unwrap_or_default())));
    ensure!(h.load("F-FUND").await? == (300, 240));

    // The fragility proposal on the same function is another proposal.
    let fragility = fragility_event("S1", "N1", Band::Critical, "funding_applications", &["P1"]);
    ensure!(h.feed(&fragility).await? == Outcome::Applied);
    let all = h.app.proposals(Some("S1")).await?;
    ensure!(
        all.iter().filter(|p| p.kind == "fragility").count() == 1 && all.len() == 3,
        "{all:?}"
    );
    Ok(())
}

/// `F-REP` helps with reports to funders in department 35.
const REPORTING: &str = "F-REP,Rémi Rapports,conseiller_numerique,,,35,funder_reporting,10,50%,,";

/// A reporting duty escalated by alerting (issue 16): stage `report`,
/// function `funder_reporting`, the duty and funder as title.
pub async fn a_reporting_duty_escalation_opens_a_proposal_on_funder_reporting(h: Harness) -> Result<()> {
    h.import(&[FUNDING, REPORTING]).await?;
    h.structure("S1", "N1", "35238", &["P1"]).await?;
    let mut envelope = escalation_event("S1", "G1:financial_report_6_months:2026-12-31", date(2027, 6, 30)?);
    let mut event = DeadlineEscalated::decode(envelope.payload.clone())?;
    event.call_title = "Compte rendu financier (Cerfa n° 15059) — Région Bretagne (Insertion)".to_owned();
    event.stage_kind = "report".to_owned();
    event.function = "funder_reporting".to_owned();
    event.time = None;
    event.url = String::new();
    envelope.payload = event.encode_to_vec().into();
    ensure!(h.escalate(&envelope).await? == Outcome::Applied);
    let open = co_submissions(&h, "S1").await?;
    ensure!(open.len() == 1, "{open:?}");
    let p = &open[0];
    offered_to(p, "F-REP")?;
    ensure!(p.function == "funder_reporting", "{p:?}");
    ensure!(p.due_on == Some(date(2027, 6, 23)?), "{:?}", p.due_on);
    ensure!(
        p.description
            == "Compte rendu au financeur : « Compte rendu financier (Cerfa n° 15059) — Région Bretagne (Insertion) », \
                à envoyer au plus tard le 30/06/2027 ; une seule personne sait rendre compte aux financeurs. \
                Préparer et envoyer le compte rendu avec un membre de la structure d'ici le 23/06/2027.",
        "{}",
        p.description
    );
    ensure!(!p.description.contains("Co-dépôt") && !p.description.contains("dépôt"));
    Ok(())
}

pub async fn a_deadline_within_a_week_makes_the_co_submission_due_today(h: Harness) -> Result<()> {
    h.import(&[FUNDING]).await?;
    h.structure("S1", "N1", "35238", &["P1"]).await?;
    // Today is 2026-11-28: J-7 of 2026-12-02 has passed.
    ensure!(h.escalate(&escalation_event("S1", "AAP-3", date(2026, 12, 2)?)).await? == Outcome::Applied);
    let open = co_submissions(&h, "S1").await?;
    ensure!(open.len() == 1 && open[0].due_on == Some(today()), "{open:?}");
    offered_to(&open[0], "F-FUND")?;
    // A deadline already passed opens nothing.
    ensure!(
        h.escalate(&escalation_event("S1", "AAP-4", date(2026, 11, 27)?))
            .await?
            == Outcome::Applied
    );
    ensure!(co_submissions(&h, "S1").await?.len() == 1);
    ensure!(h.load("F-FUND").await? == (300, 120));
    Ok(())
}

pub async fn an_escalation_for_a_structure_not_yet_known_is_retried(h: Harness) -> Result<()> {
    h.import(&[FUNDING]).await?;
    let event = escalation_event("S9", "AAP-5", date(2026, 12, 20)?);
    match h.alerting()?.process(&event).await {
        Err(error) => ensure!(error.is_transient(), "expected a transient error, got {error:?}"),
        Ok(outcome) => anyhow::bail!("expected a transient error, got {outcome:?}"),
    }
    ensure!(h.app.proposals(Some("S9")).await?.is_empty());
    // Once the structure arrives, the redelivered event opens the proposal.
    h.structure("S9", "N1", "35238", &["P1"]).await?;
    ensure!(h.escalate(&event).await? == Outcome::Applied);
    ensure!(co_submissions(&h, "S9").await?.len() == 1);
    Ok(())
}

// ----- personal data -----

pub async fn an_erased_person_is_held_nowhere(h: Harness) -> Result<()> {
    use vigie_facilitation::erasure::PseudonymKey;
    let key = PseudonymKey::new(b"a test secret of at least 32 bytes!!");
    use vigie_proto::events::v1::{PersonErased, StructureInventoried};
    rennes(&h).await?;
    // A newer snapshot where P2 has an email.
    let mut envelope = crate::harness::structure_event("S1", "N1", "35238", &["P1", "P2"], 2);
    let mut event = StructureInventoried::decode(envelope.payload.clone())?;
    let structure = event.structure.as_mut().context("structure")?;
    for person in &mut structure.people {
        person.email = format!("{}@exemple.org", person.person_id.to_lowercase());
    }
    envelope.payload = event.encode_to_vec().into();
    ensure!(h.feed(&envelope).await? == Outcome::Applied);
    let (name, email) = ("Personne P2", "p2@exemple.org");
    let row = h.app.request_help(help("S1", "payroll", 60)).await?;
    h.app
        .record_intervention(InterventionInput {
            person_id: Some("P2".to_owned()),
            autonomy_after: Some(3),
            on: Some(today()),
            ..internal(&row.request_id, 60)
        })
        .await?;
    let values = vigie_testkit::scan::stored_values(h.db.pool(), "%").await?;
    ensure!(
        values.iter().any(|v| v.contains(email)),
        "the scan does not see the email"
    );

    let erased = inventory_event(
        "S1",
        &PersonErased {
            person_id: "P2".to_owned(),
            structure_id: "S1".to_owned(),
        },
    );
    let erasures = h.consumer("facilitation-erasures", &key)?;
    ensure!(erasures.process(&erased).await? == Outcome::Applied);
    for value in vigie_testkit::scan::stored_values(h.db.pool(), "%").await? {
        // The facilitation outbox carries person ids only (InterventionRecorded).
        ensure!(
            !value.contains(name) && !value.contains(email),
            "{}.{} still holds the person",
            value.table,
            value.column
        );
    }
    let pseudonymised = sqlx::query("SELECT COUNT(*) AS n FROM fa_interventions WHERE person_id = $1")
        .bind(key.pseudonym("P2"))
        .fetch_one(h.db.pool())
        .await?;
    ensure!(
        sqlx::Row::try_get::<i64, _>(&pseudonymised, "n")? == 1,
        "intervention kept under a pseudonym"
    );
    let known = sqlx::query("SELECT COUNT(*) AS n FROM fa_people WHERE person_id = 'P2'")
        .fetch_one(h.db.pool())
        .await?;
    ensure!(
        sqlx::Row::try_get::<i64, _>(&known, "n")? == 0,
        "still in the read model"
    );
    ensure!(
        erasures.process(&erased).await? == Outcome::Duplicate,
        "a replay is a duplicate"
    );
    Ok(())
}
