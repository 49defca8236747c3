//! National side: the latest snapshot of each region, replays and older
//! snapshots ignored, hostile snapshots refused, roll-ups summed.

use anyhow::{ensure, Result};
use vigie_federation_domain::rollup::By;
use vigie_platform::events::Outcome;
use vigie_proto::federation::v1::{Cell, RegionSnapshot};

use crate::harness::{assessed, inventoried, snapshot_event, Backend, Harness, Place};
use vigie_proto::inventory::v1::Band;

/// A region's snapshot built by a real regional service: `n` structures in
/// one network.
async fn region_snapshot(region: &str, network: &str, n: usize, sequences: u64) -> Result<Vec<RegionSnapshot>> {
    let h = Harness::new(Backend::Sqlite, region).await?;
    for i in 0..n {
        let id = format!("{region}-{i}");
        let p = Place {
            id: &id,
            network,
            department: "35",
        };
        h.feed(&inventoried(&p, 1)).await?;
        h.feed(&assessed(&p, Band::Moderate, 20, 2, &["payroll"])).await?;
    }
    for _ in 0..sequences {
        h.app.publish_if_due(true).await?;
    }
    Ok(h.published().await?.into_iter().map(|(_, s)| s).collect())
}

pub async fn keeps_the_latest_snapshot_of_each_region(backend: Backend) -> Result<()> {
    let national = Harness::new(backend, "national").await?;
    let bretagne = region_snapshot("bretagne", "reseau-b", 8, 3).await?;
    let occitanie = region_snapshot("occitanie", "reseau-o", 6, 1).await?;
    ensure!(national.receive(&snapshot_event(&bretagne[1])).await? == Outcome::Applied);
    ensure!(national.receive(&snapshot_event(&occitanie[0])).await? == Outcome::Applied);
    // The same event again: the inbox; the same snapshot in a new event, or
    // an older one: kept out by its sequence.
    let again = snapshot_event(&bretagne[1]);
    ensure!(national.receive(&again).await? == Outcome::Applied);
    ensure!(national.receive(&again).await? == Outcome::Duplicate);
    ensure!(national.receive(&snapshot_event(&bretagne[0])).await? == Outcome::Applied);
    let regions = national.app.regions().await?;
    let sequences: Vec<(String, u64)> = regions.iter().map(|r| (r.row.region.clone(), r.row.sequence)).collect();
    ensure!(
        sequences == vec![("bretagne".to_owned(), 2), ("occitanie".to_owned(), 1)],
        "{sequences:?}"
    );
    ensure!(national.receive(&snapshot_event(&bretagne[2])).await? == Outcome::Applied);
    // By region: each region's own figures; by function: their sum.
    let rows = national.app.rollup(By::Region).await?;
    let structures: Vec<(String, u64)> = rows
        .iter()
        .map(|r| (r.key.clone(), r.figures.as_ref().map_or(0, |g| g.structures.value)))
        .collect();
    ensure!(
        structures == vec![("bretagne".to_owned(), 8), ("occitanie".to_owned(), 6)],
        "{structures:?}"
    );
    let functions = national.app.rollup(By::Function).await?;
    let payroll = functions.iter().find(|r| r.key == "payroll");
    ensure!(payroll.is_some_and(|r| r.orphan.value == 14), "{functions:?}");
    Ok(())
}

#[tokio::test]
async fn refuses_a_snapshot_that_carries_a_secret_or_a_malformed_field() -> Result<()> {
    let national = Harness::new(Backend::Sqlite, "national").await?;
    let good = region_snapshot("bretagne", "reseau-b", 8, 1).await?.remove(0);

    let mut leaking = good.clone();
    leaking.networks[0].band_high = Some(Cell {
        value: 3,
        suppressed: true,
        partial: false,
    });
    let mut low_threshold = good.clone();
    low_threshold.threshold = 2;
    let mut bad_region = good.clone();
    bad_region.region = "../../etc".to_owned();
    let mut bad_key = good.clone();
    bad_key.networks[0].key = "Anne Martin <anne@example.org>".to_owned();
    let mut no_date = good.clone();
    no_date.evaluated_on = None;
    let mut out_of_range = good.clone();
    out_of_range.networks[0].score_mean = Some(1e9);
    for (what, snapshot) in [
        ("suppressed value", leaking),
        ("threshold 2", low_threshold),
        ("region", bad_region),
        ("group key", bad_key),
        ("date", no_date),
        ("score", out_of_range),
    ] {
        let outcome = national.receive_raw(&snapshot_event(&snapshot)).await;
        ensure!(
            outcome.as_ref().is_err_and(|e| !e.is_transient()),
            "{what}: {outcome:?}"
        );
    }
    // A region speaking for another: the transport's origin wins.
    let mut impersonation = snapshot_event(&good);
    impersonation.subject = "occitanie".to_owned();
    let outcome = national.receive_raw(&impersonation).await;
    ensure!(
        outcome.as_ref().is_err_and(|e| !e.is_transient()),
        "impersonation: {outcome:?}"
    );
    let garbage = vigie_platform::events::Envelope::new(
        vigie_federation::events::SOURCE,
        vigie_federation::events::REGION_AGGREGATED,
        "bretagne",
        vec![0xff, 0xff, 0xff],
    );
    let outcome = national.receive_raw(&garbage).await;
    ensure!(
        outcome.as_ref().is_err_and(|e| !e.is_transient()),
        "garbage: {outcome:?}"
    );
    ensure!(national.count("fe_regions").await? == 0);
    ensure!(national.receive(&snapshot_event(&good)).await? == Outcome::Applied);
    ensure!(national.count("fe_regions").await? == 1);
    Ok(())
}
