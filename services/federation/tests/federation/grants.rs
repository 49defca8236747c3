//! Grants and reporting duties in the region's snapshot (issue 16): events of
//! the alerting service in, cells out under statistical secrecy; a decision
//! replaced or redelivered counts once; a duty marked sent leaves the risk.

use anyhow::{ensure, Result};
use chrono::{Duration, NaiveDate};
use vigie_federation::app::PublishOutcome;
use vigie_platform::events::Outcome;
use vigie_proto::federation::v1::{GroupFigures, RegionSnapshot};

use crate::harness::{
    assessed_with, duty_acknowledged, duty_reminded, grant, inventoried, snapshot_event, today, Backend, Harness, Place,
};
use crate::regional::{group, value};
use vigie_federation_domain::rollup::By;
use vigie_federation_domain::secrecy::Cell;

/// Six structures `{network}-1…6` of one network in one department, placed and
/// assessed; `funder_reporting` rests on one person in the first `fragile`.
async fn network(h: &Harness, network: &str, department: &str, fragile: usize) -> Result<Vec<String>> {
    let ids: Vec<String> = (1..=6).map(|i| format!("{network}-{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let p = Place {
            id,
            network,
            department,
        };
        ensure!(h.feed(&inventoried(&p, 1)).await? == Outcome::Applied);
        let single: &[&str] = if i < fragile {
            &["funder_reporting"]
        } else {
            &["payroll"]
        };
        ensure!(h.feed(&assessed_with(&p, &[], single)).await? == Outcome::Applied);
    }
    Ok(ids)
}

async fn latest(h: &Harness) -> Result<RegionSnapshot> {
    let published = h.published().await?;
    let last = published.last().map(|(_, s)| s.clone());
    last.ok_or_else(|| anyhow::anyhow!("nothing published"))
}

fn hidden(g: &GroupFigures, cell: impl Fn(&GroupFigures) -> Option<vigie_proto::federation::v1::Cell>) -> bool {
    cell(g).is_some_and(|c| c.suppressed && c.value == 0)
}

pub async fn grants_are_counted_once_and_published_under_secrecy(backend: Backend) -> Result<()> {
    let h = Harness::new(backend, "bretagne").await?;
    let a = network(&h, "reseau-a", "29", 0).await?;
    let b = network(&h, "reseau-b", "56", 0).await?;
    let c = network(&h, "reseau-c", "22", 0).await?;
    let on = today() - Duration::days(30);
    // reseau-a: five structures won two grants of 10,000 € and had one
    // refused; a sixth had one refused.
    for id in &a[..5] {
        for g in 1..=2 {
            ensure!(h.feed(&grant(id, &format!("G-{id}-{g}"), "won", 10_000, on)).await? == Outcome::Applied);
        }
        h.feed(&grant(id, &format!("G-{id}-3"), "refused", 0, on)).await?;
    }
    h.feed(&grant(&a[5], &format!("G-{}-3", a[5]), "refused", 0, on))
        .await?;
    // The same event again: the inbox drops it.
    let again = grant(&a[0], &format!("G-{}-1", a[0]), "won", 10_000, on);
    ensure!(h.feed(&again).await? == Outcome::Applied);
    ensure!(h.feed(&again).await? == Outcome::Duplicate);
    // A decision changed later (refused, then won with its amount): replaced.
    let changed = format!("G-{}-3", a[1]);
    h.feed(&grant(&a[1], &changed, "won", 7_000, today())).await?;
    // An older decision of the same grant arriving late changes nothing.
    h.feed(&grant(&a[1], &changed, "refused", 0, on - Duration::days(1)))
        .await?;
    // Last year's decision is not this year's.
    h.feed(&grant(
        &a[5],
        "G-old",
        "won",
        50_000,
        NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default(),
    ))
    .await?;
    // reseau-b: three winners only; reseau-c: five winners of 4,000 €.
    for id in &b[..3] {
        h.feed(&grant(id, &format!("G-{id}"), "won", 5_000, on)).await?;
    }
    for id in &c[..5] {
        h.feed(&grant(id, &format!("G-{id}"), "won", 4_000, on)).await?;
    }
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Published(1));
    let snapshot = latest(&h).await?;
    let ra = group(&snapshot.networks, "reseau-a");
    ensure!(value(ra.grants_won.as_ref()) == Some(11), "10 won + 1 changed: {ra:?}");
    ensure!(
        value(ra.grants_refused.as_ref()) == Some(5),
        "6 refused − 1 changed: {ra:?}"
    );
    ensure!(value(ra.amount_granted_euros.as_ref()) == Some(107_000), "{ra:?}");
    // Three structures: secret; reseau-c, the smallest other cell, is hidden
    // with it so that the region total (the departments') does not give it back.
    let rb = group(&snapshot.networks, "reseau-b");
    let rc = group(&snapshot.networks, "reseau-c");
    for g in [rb, rc] {
        ensure!(hidden(g, |g| g.grants_won), "{g:?}");
        ensure!(hidden(g, |g| g.amount_granted_euros), "{g:?}");
    }
    ensure!(value(rb.structures.as_ref()) == Some(6), "{rb:?}");
    let d29 = group(&snapshot.departments, "29");
    ensure!(value(d29.amount_granted_euros.as_ref()) == Some(107_000), "{d29:?}");
    // The national view sums what was published: a lower bound, the secret
    // cells of reseau-b and reseau-c left out.
    let national = Harness::new(backend, "national").await?;
    ensure!(national.receive(&snapshot_event(&snapshot)).await? == Outcome::Applied);
    let rows = national.app.rollup(By::Region).await?;
    let region = rows.first().and_then(|r| r.figures.clone()).unwrap_or_default();
    ensure!(
        region.amount_granted_euros.value == 107_000 && region.amount_granted_euros.partial,
        "{region:?}"
    );
    ensure!(region.grants_won.value == 11 && region.grants_won.partial, "{region:?}");
    ensure!(region.grants_refused == Cell::shown(5), "{region:?}");
    // Grant figures alone wait for the schedule.
    h.feed(&grant(&a[5], "G-new", "won", 1_000, today())).await?;
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Unchanged);
    ensure!(
        h.count("fe_grants").await? == 5 * 3 + 2 + 3 + 5 + 1,
        "one row per grant"
    );
    // No funder, title nor grant id leaves the region.
    let bytes = prost::Message::encode_to_vec(&snapshot);
    let text = String::from_utf8_lossy(&bytes);
    for forbidden in ["Bretagne", "G-reseau", "reseau-a-"] {
        ensure!(!text.contains(forbidden), "{forbidden} leaked into the snapshot");
    }
    Ok(())
}

pub async fn a_duty_marked_sent_leaves_reporting_at_risk(backend: Backend) -> Result<()> {
    let h = Harness::new(backend, "bretagne").await?;
    // Six structures where reporting rests on one person, six where it does not.
    let fragile = network(&h, "reseau-a", "29", 6).await?;
    let sturdy = network(&h, "reseau-b", "29", 0).await?;
    let due = today() + Duration::days(20);
    for id in fragile.iter().chain(&sturdy) {
        h.feed(&duty_reminded(
            id,
            &format!("{id}:financial_report_6_months:2026-06-30"),
            due,
        ))
        .await?;
    }
    // A duty due in 40 days is not at risk yet.
    h.feed(&duty_reminded(&sturdy[0], "far", today() + Duration::days(40)))
        .await?;
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Published(1));
    let at_risk = |s: &RegionSnapshot| {
        (
            value(group(&s.networks, "reseau-a").reporting_at_risk.as_ref()),
            value(group(&s.networks, "reseau-b").reporting_at_risk.as_ref()),
            value(group(&s.departments, "29").reporting_at_risk.as_ref()),
        )
    };
    let first = latest(&h).await?;
    ensure!(at_risk(&first) == (Some(6), Some(0), Some(6)), "{:?}", at_risk(&first));
    // Marked sent: no longer at risk, and that is news at once.
    let key = format!("{}:financial_report_6_months:2026-06-30", fragile[0]);
    h.feed(&duty_acknowledged(&fragile[0], &key, "sent", due)).await?;
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Published(2));
    ensure!(at_risk(&latest(&h).await?) == (Some(5), Some(0), Some(5)));
    // A later reminder of the same duty (its date moved) does not undo « envoyé ».
    h.feed(&duty_reminded(&fragile[0], &key, due + Duration::days(1)))
        .await?;
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Unchanged);
    // Taken back: at risk again.
    h.feed(&duty_acknowledged(&fragile[0], &key, "", due)).await?;
    ensure!(h.app.publish_if_due(false).await? == PublishOutcome::Published(3));
    ensure!(at_risk(&latest(&h).await?) == (Some(6), Some(0), Some(6)));
    ensure!(h.count("fe_duties").await? == 13);
    // A malformed acknowledgement is refused, not guessed.
    let bad = duty_acknowledged(&fragile[1], "k", "envoyé", due);
    ensure!(h.feed(&bad).await.is_err(), "an unknown status is a dead letter");
    Ok(())
}
