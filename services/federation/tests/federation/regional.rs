//! Regional side: events in, one snapshot out per significant change, never
//! a name or an identifier, nothing counted twice.

use anyhow::{ensure, Result};
use chrono::Duration;
use vigie_federation::app::PublishOutcome;
use vigie_platform::events::Outcome;
use vigie_proto::federation::v1::{Cell, GroupFigures, RegionSnapshot};
use vigie_proto::inventory::v1::Band;

use crate::harness::{
    acknowledged, assessed, completed, inventoried, reminder, time_recorded, today, Backend, Harness, Place,
};

pub fn value(cell: Option<&Cell>) -> Option<u64> {
    cell.filter(|c| !c.suppressed).map(|c| c.value)
}

pub fn group<'a>(groups: &'a [GroupFigures], key: &str) -> &'a GroupFigures {
    static EMPTY: GroupFigures = GroupFigures {
        key: String::new(),
        structures: None,
        band_unknown: None,
        band_low: None,
        band_moderate: None,
        band_high: None,
        band_critical: None,
        score_mean: None,
        score_q1: None,
        score_median: None,
        score_q3: None,
        director_dependent: None,
        deadline_at_risk: None,
        reminders_sent: None,
        reminders_acknowledged: None,
        facilitation_minutes_internal: None,
        facilitation_minutes_external: None,
        training_completions: None,
        functions: Vec::new(),
        reporting_at_risk: None,
        grants_won: None,
        grants_refused: None,
        amount_granted_euros: None,
    };
    groups.iter().find(|g| g.key == key).unwrap_or(&EMPTY)
}

/// Ten structures of network `reseau-a` in department 29 (five high, five
/// low), each with a
/// deadline in 10 days resting on one person, some activity.
async fn ten_structures(h: &Harness) -> Result<Vec<String>> {
    let ids: Vec<String> = (1..=10).map(|i| format!("S{i:06}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let p = Place {
            id,
            network: "reseau-a",
            department: "29",
        };
        ensure!(h.feed(&inventoried(&p, 1)).await? == Outcome::Applied);
        let band = if i < 5 { Band::High } else { Band::Low };
        ensure!(h.feed(&assessed(&p, band, 40 + i as u32, 1, &[])).await? == Outcome::Applied);
        h.feed(&reminder(id, "C1", today() + Duration::days(10))).await?;
        h.feed(&time_recorded(id, "reseau-a", "internal", 30)).await?;
        h.feed(&completed(id)).await?;
    }
    Ok(ids)
}

pub async fn publishes_aggregates_without_identifiers(backend: Backend) -> Result<()> {
    let h = Harness::new(backend, "bretagne").await?;
    ten_structures(&h).await?;
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Published(1));
    let published = h.published().await?;
    ensure!(published.len() == 1, "{} snapshots", published.len());
    let (envelope, snapshot) = &published[0];
    ensure!(envelope.subject == "bretagne" && snapshot.region == "bretagne" && snapshot.sequence == 1);
    ensure!(snapshot.threshold == 5);
    let network = group(&snapshot.networks, "reseau-a");
    ensure!(value(network.structures.as_ref()) == Some(10), "{network:?}");
    ensure!(value(network.band_high.as_ref()) == Some(5), "{network:?}");
    ensure!(value(network.band_low.as_ref()) == Some(5), "{network:?}");
    ensure!(value(network.deadline_at_risk.as_ref()) == Some(10), "{network:?}");
    ensure!(value(network.reminders_sent.as_ref()) == Some(10), "{network:?}");
    ensure!(
        value(network.facilitation_minutes_internal.as_ref()) == Some(300),
        "{network:?}"
    );
    ensure!(value(network.training_completions.as_ref()) == Some(10), "{network:?}");
    ensure!(value(network.director_dependent.as_ref()) == Some(10), "{network:?}");
    ensure!(
        network.score_mean.is_some_and(|m| (m - 44.5).abs() < 0.05),
        "{network:?}"
    );
    let department = group(&snapshot.departments, "29");
    ensure!(value(department.structures.as_ref()) == Some(10), "{department:?}");
    // Names, people and structure ids stay in the region.
    let bytes = prost::Message::encode_to_vec(snapshot);
    let text = String::from_utf8_lossy(&bytes);
    for forbidden in ["S0000", "Anne", "Martin", "Association", "-P0"] {
        ensure!(!text.contains(forbidden), "{forbidden} leaked into the snapshot");
    }
    Ok(())
}

pub async fn publishes_on_significant_change_only(backend: Backend) -> Result<()> {
    let h = Harness::new(backend, "bretagne").await?;
    let ids = ten_structures(&h).await?;
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Published(1));
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Unchanged);
    // Activity alone waits for the schedule.
    h.feed(&completed(&ids[0])).await?;
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Unchanged);
    // A submission acknowledged: the deadline no longer at risk.
    for id in &ids {
        h.feed(&acknowledged(id, "C1", "submitted")).await?;
    }
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Published(2));
    let published = h.published().await?;
    let network = group(&published[1].1.networks, "reseau-a");
    ensure!(value(network.deadline_at_risk.as_ref()) == Some(0), "{network:?}");
    ensure!(
        value(network.reminders_acknowledged.as_ref()) == Some(10),
        "{network:?}"
    );
    ensure!(value(network.training_completions.as_ref()) == Some(11), "{network:?}");
    // The schedule (or an operator) forces one.
    ensure!(h.app.publish_if_due(true).await? == PublishOutcome::Published(3));
    // The region's own national view follows what it sent.
    let regions = h.app.regions().await?;
    ensure!(regions.len() == 1 && regions[0].row.sequence == 3 && !regions[0].stale);
    Ok(())
}

pub async fn redelivered_events_count_once(backend: Backend) -> Result<()> {
    let h = Harness::new(backend, "bretagne").await?;
    let ids = ten_structures(&h).await?;
    let minutes = time_recorded(&ids[0], "reseau-a", "external", 45);
    ensure!(h.feed(&minutes).await? == Outcome::Applied);
    ensure!(h.feed(&minutes).await? == Outcome::Duplicate);
    // An older inventory snapshot does not move a structure back.
    let p = Place {
        id: &ids[0],
        network: "reseau-a",
        department: "29",
    };
    h.feed(&inventoried(&p, 3)).await?;
    let moved = Place {
        id: &ids[0],
        network: "reseau-b",
        department: "56",
    };
    h.feed(&inventoried(&moved, 2)).await?;
    h.app.publish_if_due(true).await?;
    let published = h.published().await?;
    let snapshot: &RegionSnapshot = &published[0].1;
    let network = group(&snapshot.networks, "reseau-a");
    ensure!(value(network.structures.as_ref()) == Some(10), "{network:?}");
    // One structure with external minutes: its cell is secret, never 45.
    let external = network.facilitation_minutes_external.unwrap_or_default();
    ensure!(external.suppressed && external.value == 0, "{external:?}");
    ensure!(h.count("fe_structures").await? == 10);
    Ok(())
}

pub async fn two_replicas_never_publish_one_sequence_twice(backend: Backend) -> Result<()> {
    let h = Harness::new(backend, "bretagne").await?;
    ten_structures(&h).await?;
    let replicas = [h.app.clone(), h.replica()?, h.replica()?];
    for _ in 0..5 {
        let passes = replicas.iter().map(|app| {
            let app = app.clone();
            tokio::spawn(async move { app.publish_if_due(true).await })
        });
        let outcomes: Vec<PublishOutcome> = futures::future::try_join_all(passes)
            .await?
            .into_iter()
            .collect::<Result<_, _>>()?;
        ensure!(
            outcomes.iter().any(|o| matches!(o, PublishOutcome::Published(_))),
            "{outcomes:?}"
        );
    }
    let sequences: Vec<u64> = h.published().await?.iter().map(|(_, s)| s.sequence).collect();
    let expected: Vec<u64> = (1..=sequences.len() as u64).collect();
    ensure!(sequences == expected, "each sequence once, in order: {sequences:?}");
    Ok(())
}
