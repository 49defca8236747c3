//! `vigie-bench federation`: 100 regions × 2,000 structures (issue 12),
//! docs/benchmarks.md, section "Federation: 100 regions × 2,000 structures".
//!
//! 1. **Regions.** For each region, the facts of its structures
//!    ([`StructureFacts`]): fragility (band, score, orphan and single-holder
//!    functions, director dependency, holders of `funding_applications`) from
//!    the real inventory generator and fragility index
//!    (`vigie_inventory_set::generate` + `fragility::assess`, seed = the
//!    region's number); network (16–24 per region, uneven sizes), department
//!    (4–6 per region, codes of their own), open deadlines and yearly activity
//!    from a seeded splitmix64 (the generator has none of those). Then
//!    `aggregate` → `publish` (secrecy) → `convert::snapshot_to_pb` → bytes,
//!    exactly as `publish_if_due` does; only that is timed (generation is not).
//! 2. **National ingest**, per mode: a fresh national database (a SQLite file
//!    for `dev`, a fresh PostgreSQL database for `serve`) migrated with
//!    `service::migrate`; the snapshots go through the real consumer
//!    (`Consumer::process` + `RegionSnapshots`, ce-subject = the region), then
//!    every `FederationApp::rollup`. The bare part, in the same run and on the
//!    same database: the same payloads inserted one row per transaction into a
//!    bare table, before and after the ingest (the mean is the reference).
//!    Peak RSS is this process's `VmHWM`, reset (`/proc/self/clear_refs`)
//!    right before the ingest, so it is the ingest's own peak.
//! 3. **JetStream** (`--jetstream`, default on): the same envelopes published
//!    to a stream of a private nats-server and consumed with explicit acks,
//!    alone, then consumed again into the national consumer (transport +
//!    ingest, the path of `vigie serve federation --national`).
//!
//! Options (defaults): `--regions 100`, `--structures 2000`,
//! `--mode dev|serve|both` (both), `--jetstream on|off` (on),
//! `--database-url URL` (instead of a fresh `PgDatabase`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::StreamExt;
use tokio::sync::Notify;
use vigie_federation::app::{FederationApp, FederationSettings, Now};
use vigie_federation::handlers::RegionSnapshots;
use vigie_federation_domain::aggregate::aggregate;
use vigie_federation_domain::facts::{Activity, Band, StructureFacts};
use vigie_federation_domain::rollup::By;
use vigie_federation_domain::secrecy::{publish, PublishedGroup, PublishedSnapshot, Threshold};
use vigie_fragility_model::fragility::{self, FragilityParams};
use vigie_inventory_set::generate::{generate, GenerateParams};
use vigie_platform::db::{Backend, Db};
use vigie_platform::events::{Consumer, Envelope, Outcome};
use vigie_testkit::memory::{self, Process};
use vigie_testkit::NatsServer;

use crate::args::Args;
use crate::database::database_url;
use crate::rng::Rng;

/// The evaluation date of every snapshot (the day the other benches use).
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default()
}

fn noon() -> DateTime<Utc> {
    Utc.from_utc_datetime(&today().and_hms_opt(12, 0, 0).unwrap_or_default())
}

struct Options {
    regions: usize,
    structures: usize,
    modes: Vec<&'static str>,
    jetstream: bool,
    database_url: Option<String>,
}

fn options(args: &[String]) -> Result<Options> {
    let args = Args(args);
    Ok(Options {
        regions: args.number("--regions", 100)?,
        structures: args.number("--structures", 2_000)?,
        modes: args.modes("both", ["dev", "serve"])?,
        jetstream: args.choice("--jetstream", "on", &["on", "off"])? == 0,
        database_url: args.value("--database-url").map(str::to_owned),
    })
}

/// The shared generator ([`Rng`]) with the draws the synthetic facts use.
struct Mix(Rng);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0.next()
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `percent` %.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// An index drawn with the given weights.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut pick = self.next() % total.max(1);
        for (i, w) in weights.iter().enumerate() {
            if pick < *w {
                return i;
            }
            pick -= w;
        }
        weights.len() - 1
    }
}

fn region_id(r: usize) -> String {
    format!("region-{:03}", r + 1)
}

/// The facts of region `r`: fragility from the real generator and index,
/// the rest seeded (module documentation).
fn region_facts(r: usize, structures: usize) -> Vec<StructureFacts> {
    let day = today();
    let seed = u64::try_from(r).unwrap_or(0) + 1;
    let set = generate(GenerateParams {
        structures,
        seed,
        today: day,
    });
    let params = FragilityParams::default();
    let mut mix = Mix(Rng(seed.wrapping_mul(0x5851_f42d_4c95_7f2d)));
    // Uneven sizes, as in real federations: weights 1–8.
    let networks = usize::try_from(mix.range(16, 24)).unwrap_or(20);
    let network_weights: Vec<u64> = (0..networks).map(|_| mix.range(1, 8)).collect();
    let departments = usize::try_from(mix.range(4, 6)).unwrap_or(5);
    let department_weights: Vec<u64> = (0..departments).map(|_| mix.range(1, 6)).collect();
    set.inventories
        .iter()
        .map(|inventory| {
            let a = fragility::assess(inventory, day, &params);
            let band = match a.band {
                fragility::Band::Unknown => Band::Unknown,
                fragility::Band::Low => Band::Low,
                fragility::Band::Moderate => Band::Moderate,
                fragility::Band::High => Band::High,
                fragility::Band::Critical => Band::Critical,
            };
            let funding_holders = a
                .functions
                .iter()
                .find(|f| f.code == "funding_applications")
                .map_or(0, |f| u32::try_from(f.holders.len()).unwrap_or(u32::MAX));
            // A third of the structures had reminders for 1–3 calls, deadlines
            // from 10 days ago to 90 days ahead; half of those acknowledged.
            let mut open_deadlines = Vec::new();
            let mut activity = Activity::default();
            if mix.chance(33) {
                for _ in 0..mix.range(1, 3) {
                    let offset = i64::try_from(mix.range(0, 100)).unwrap_or(0) - 10;
                    open_deadlines.push(day + chrono::Duration::days(offset));
                    let sent = mix.range(1, 3);
                    activity.reminders_sent += sent;
                    if mix.chance(50) {
                        activity.reminders_acknowledged += 1;
                    }
                }
            }
            if mix.chance(40) {
                activity.minutes_internal = mix.range(30, 3_000);
            }
            if mix.chance(15) {
                activity.minutes_external = mix.range(30, 1_500);
            }
            if mix.chance(25) {
                activity.training_completions = mix.range(1, 6);
            }
            let n = mix.weighted(&network_weights);
            let d = mix.weighted(&department_weights);
            StructureFacts {
                network: format!("{}-reseau-{:02}", region_id(r), n + 1),
                department: format!("{:03}", r * 6 + d + 1),
                band,
                score: if band == Band::Unknown { None } else { a.score },
                orphan_functions: a.orphan_functions,
                single_holder_functions: a.spof_functions,
                director_dependency: a.director_dependency,
                funding_holders,
                open_deadlines,
                // Grants and duties (issue 16) are not drawn: the random
                // stream, hence the measured regions, stay as documented.
                reporting_fragile: a
                    .functions
                    .iter()
                    .find(|f| f.code == "funder_reporting")
                    .is_none_or(|f| f.holders.len() <= 1),
                open_duties: Vec::new(),
                activity,
            }
        })
        .collect()
}

/// (suppressed, all) cells of a partition.
fn suppressed(groups: &[PublishedGroup]) -> (usize, usize) {
    groups
        .iter()
        .flat_map(PublishedGroup::all_cells)
        .fold((0, 0), |(s, n), c| (s + usize::from(c.suppressed), n + 1))
}

/// One region's snapshot and what computing it cost.
struct Region {
    envelope: Envelope,
    bytes: usize,
    aggregate: Duration,
    publish: Duration,
    encode: Duration,
    networks: (usize, usize),
    departments: (usize, usize),
    groups_hidden: usize,
    groups: usize,
    functions: usize,
}

fn compute(r: usize, facts: &[StructureFacts], threshold: Threshold) -> Region {
    let day = today();
    let started = Instant::now();
    let raw = aggregate(facts, day);
    let aggregated = started.elapsed();
    let started = Instant::now();
    let snapshot: PublishedSnapshot = publish(&raw, threshold);
    let published = started.elapsed();
    let started = Instant::now();
    let payload = vigie_federation::convert::snapshot_to_pb(&region_id(r), day, 1, noon(), &snapshot);
    let bytes = prost::Message::encode_to_vec(&payload);
    let encoded = started.elapsed();
    let all = snapshot.networks.iter().chain(&snapshot.departments);
    let groups_hidden = all.clone().filter(|g| g.structures.suppressed).count();
    let envelope = Envelope::new(
        vigie_federation::events::SOURCE,
        vigie_federation::events::REGION_AGGREGATED,
        region_id(r),
        bytes.clone(),
    );
    Region {
        envelope,
        bytes: bytes.len(),
        aggregate: aggregated,
        publish: published,
        encode: encoded,
        networks: suppressed(&snapshot.networks),
        departments: suppressed(&snapshot.departments),
        groups_hidden,
        groups: all.count(),
        functions: raw.networks.first().map_or(0, |g| g.functions.len()),
    }
}

/// Median and maximum.
fn p50_max(mut values: Vec<Duration>) -> (Duration, Duration) {
    values.sort_unstable();
    (
        values.get(values.len() / 2).copied().unwrap_or_default(),
        values.last().copied().unwrap_or_default(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// `VmHWM` and `VmRSS` of this process, in MiB.
fn memory_mib() -> Result<(f64, f64)> {
    let peak = memory::peak_mib(Process::This).context("no VmHWM in /proc/self/status")?;
    let rss = memory::rss_mib(Process::This).context("no VmRSS in /proc/self/status")?;
    Ok((peak, rss))
}

/// Resets `VmHWM` to the current RSS, so that the next peak read is the
/// peak of what follows, not of the generation before it.
fn reset_peak() -> Result<()> {
    memory::reset_peak().context("reset of VmHWM (/proc/self/clear_refs)")
}

struct Ingest {
    mode: &'static str,
    total: Duration,
    per_snapshot: Vec<Duration>,
    bare_before: Duration,
    bare_after: Duration,
    rollups: Vec<(&'static str, usize, Duration, Duration)>,
    rss_before: f64,
    peak: f64,
    rss_after: f64,
}

/// Runs the scenario.
///
/// # Errors
/// A database, nats-server, or a snapshot the national consumer refuses.
pub async fn run(args: &[String]) -> Result<()> {
    let o = options(args)?;
    let threshold = Threshold::default();
    let mut regions = Vec::with_capacity(o.regions);
    let mut generation = Duration::ZERO;
    for r in 0..o.regions {
        let started = Instant::now();
        let facts = region_facts(r, o.structures);
        generation += started.elapsed();
        regions.push(compute(r, &facts, threshold));
    }
    eprintln!(
        "{} regions × {} structures generated in {:.1}s",
        o.regions,
        o.structures,
        generation.as_secs_f64()
    );
    print_regions(&o, &regions);

    let mut ingests = Vec::new();
    for mode in &o.modes {
        ingests.push(ingest(mode, &o, &regions).await?);
    }
    print_ingests(&o, &ingests);
    if o.jetstream {
        jetstream(&regions).await?;
    }
    Ok(())
}

fn print_regions(o: &Options, regions: &[Region]) {
    let (agg50, aggmax) = p50_max(regions.iter().map(|r| r.aggregate).collect());
    let (pub50, pubmax) = p50_max(regions.iter().map(|r| r.publish).collect());
    let (enc50, encmax) = p50_max(regions.iter().map(|r| r.encode).collect());
    let (all50, allmax) = p50_max(regions.iter().map(|r| r.aggregate + r.publish + r.encode).collect());
    let mut sizes: Vec<usize> = regions.iter().map(|r| r.bytes).collect();
    sizes.sort_unstable();
    let sum = |f: fn(&Region) -> (usize, usize)| regions.iter().map(f).fold((0, 0), |(s, n), (a, b)| (s + a, n + b));
    let (ns, nn) = sum(|r| r.networks);
    let (ds, dn) = sum(|r| r.departments);
    let share = |s: usize, n: usize| 100.0 * s as f64 / n.max(1) as f64;
    let groups_hidden: usize = regions.iter().map(|r| r.groups_hidden).sum();
    let groups: usize = regions.iter().map(|r| r.groups).sum();
    let functions: Vec<usize> = regions.iter().map(|r| r.functions).collect();
    println!(
        "\n## Regions: {} × {} structures, k = {}\n",
        o.regions,
        o.structures,
        Threshold::default().get()
    );
    println!("| step, per region | p50 (ms) | max (ms) |");
    println!("|---|---:|---:|");
    println!("| `aggregate` | {} | {} |", ms(agg50), ms(aggmax));
    println!("| `publish` (secrecy) | {} | {} |", ms(pub50), ms(pubmax));
    println!("| `snapshot_to_pb` + encode | {} | {} |", ms(enc50), ms(encmax));
    println!("| all three | {} | {} |", ms(all50), ms(allmax));
    println!(
        "\nsnapshot size (bytes): min {}, median {}, max {}; total {}",
        sizes.first().unwrap_or(&0),
        sizes.get(sizes.len() / 2).unwrap_or(&0),
        sizes.last().unwrap_or(&0),
        sizes.iter().sum::<usize>()
    );
    println!(
        "function codes per region: {}–{}",
        functions.iter().min().unwrap_or(&0),
        functions.iter().max().unwrap_or(&0)
    );
    println!(
        "suppressed cells: {:.1} % of network cells ({ns}/{nn}), {:.1} % of department cells ({ds}/{dn}), {:.1} % overall; groups suppressed whole: {groups_hidden}/{groups}",
        share(ns, nn),
        share(ds, dn),
        share(ns + ds, nn + dn)
    );
}

async fn bare(db: &Db, table: &str, regions: &[Region]) -> Result<Duration> {
    let binary = match db.backend() {
        Backend::Postgres => "BYTEA",
        Backend::Sqlite => "BLOB",
    };
    sqlx::query(&format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, payload {binary} NOT NULL)"
    ))
    .execute(db.pool())
    .await?;
    let started = Instant::now();
    for (i, r) in regions.iter().enumerate() {
        let mut tx = db.begin().await?;
        sqlx::query(&format!("INSERT INTO {table} (id, payload) VALUES ($1, $2)"))
            .bind(i64::try_from(i)?)
            .bind(r.envelope.payload.to_vec())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(started.elapsed())
}

fn national(db: Db) -> FederationApp {
    let now: Now = Arc::new(noon);
    let settings = FederationSettings {
        region: "national".to_owned(),
        threshold: Threshold::default(),
        publish_every: Duration::from_secs(6 * 3600),
        stale_after: Duration::from_secs(48 * 3600),
    };
    vigie_federation::service::application(db, settings, now, Arc::new(Notify::new()))
}

async fn ingest(mode: &'static str, o: &Options, regions: &[Region]) -> Result<Ingest> {
    let dir = tempfile::tempdir()?;
    let embedded = mode == "dev";
    let (url, _pg) = database_url(embedded, dir.path(), "federation", o.database_url.as_deref()).await?;
    let db = Db::connect(&url).await?;
    vigie_federation::service::migrate(&db).await?;
    let app = national(db.clone());
    let consumer = Consumer::new(db.clone(), Arc::new(RegionSnapshots::new(app.clock())));

    let bare_before = bare(&db, "bench_bare_before", regions).await?;
    reset_peak()?;
    let (_, rss_before) = memory_mib()?;
    let mut per_snapshot = Vec::with_capacity(regions.len());
    let started = Instant::now();
    for r in regions {
        let one = Instant::now();
        let outcome = consumer
            .process(&r.envelope)
            .await
            .map_err(|e| anyhow::anyhow!("{} refused: {e}", r.envelope.subject))?;
        per_snapshot.push(one.elapsed());
        ensure!(outcome == Outcome::Applied, "{} not applied", r.envelope.subject);
    }
    let total = started.elapsed();
    let (peak, rss_after) = memory_mib()?;
    let bare_after = bare(&db, "bench_bare_after", regions).await?;

    let mut rollups = Vec::new();
    for (name, by) in [
        ("region", By::Region),
        ("network", By::Network),
        ("department", By::Department),
        ("function", By::Function),
    ] {
        // Five runs: the median and the maximum (the first one warms the cache).
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..5 {
            let started = Instant::now();
            rows = app.rollup(by).await?.len();
            times.push(started.elapsed());
        }
        let (p50, max) = p50_max(times);
        rollups.push((name, rows, p50, max));
    }
    // What every roll-up starts with, alone: read the latest snapshots,
    // decode and check them (`regions()` adds no sum).
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..5 {
        let started = Instant::now();
        rows = app.regions().await?.len();
        times.push(started.elapsed());
    }
    let (p50, max) = p50_max(times);
    rollups.push(("`regions()`: read + decode only", rows, p50, max));
    let region_rows = rollups.first().map_or(0, |r| r.1);
    ensure!(
        region_rows == regions.len(),
        "{mode}: the roll-up by region has {region_rows} rows for {} regions",
        regions.len()
    );
    eprintln!(
        "{mode}: ingest {:.2}s, bare {:.2}s / {:.2}s",
        total.as_secs_f64(),
        bare_before.as_secs_f64(),
        bare_after.as_secs_f64()
    );
    db.close().await;
    Ok(Ingest {
        mode,
        total,
        per_snapshot,
        bare_before,
        bare_after,
        rollups,
        rss_before,
        peak,
        rss_after,
    })
}

fn print_ingests(o: &Options, ingests: &[Ingest]) {
    println!(
        "\n## National ingest: {} snapshots through `Consumer::process` + `RegionSnapshots`\n",
        o.regions
    );
    println!("| mode | ingest, all (ms) | per snapshot p50 (ms) | max (ms) | bare insert before (ms) | after (ms) | ratio to the bare mean | RSS before (MiB) | peak during ingest (MiB) | RSS after (MiB) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for i in ingests {
        let (p50, max) = p50_max(i.per_snapshot.clone());
        let bare = (i.bare_before + i.bare_after).as_secs_f64() / 2.0;
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {:.1} | {:.1} | {:.1} |",
            i.mode,
            ms(i.total),
            ms(p50),
            ms(max),
            ms(i.bare_before),
            ms(i.bare_after),
            i.total.as_secs_f64() / bare.max(1e-9),
            i.rss_before,
            i.peak,
            i.rss_after,
        );
    }
    println!("\n## Roll-ups over the {} latest snapshots (5 runs each)\n", o.regions);
    println!("| mode | by | rows | p50 (ms) | max (ms) |");
    println!("|---|---|---:|---:|---:|");
    for i in ingests {
        for (name, rows, p50, max) in &i.rollups {
            println!("| {} | {name} | {rows} | {} | {} |", i.mode, ms(*p50), ms(*max));
        }
    }
}

/// Step 3: the snapshots through a real JetStream stream, alone, then into
/// the national consumer on a fresh SQLite file.
async fn jetstream(regions: &[Region]) -> Result<()> {
    let nats = NatsServer::start().await;
    let client = async_nats::connect(nats.url()).await?;
    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .create_stream(async_nats::jetstream::stream::Config {
            name: "BENCH_FEDERATION".into(),
            subjects: vec!["bench.federation.>".into()],
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    // Publish, one acknowledged message at a time, as the relay does.
    let started = Instant::now();
    for r in regions {
        js.publish_with_headers(
            format!("bench.federation.{}", r.envelope.subject),
            r.envelope.to_headers(),
            r.envelope.payload.clone(),
        )
        .await
        .map_err(|e| anyhow::anyhow!(e))?
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    }
    let published = started.elapsed();
    let messages = u64::try_from(regions.len())?;
    ensure!(
        stream.info().await?.state.messages == messages,
        "not every snapshot is in the stream"
    );

    let consume = |name: &'static str| {
        let stream = stream.clone();
        async move {
            let consumer = stream
                .create_consumer(async_nats::jetstream::consumer::pull::Config {
                    durable_name: Some(name.into()),
                    ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                    ..Default::default()
                })
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            anyhow::Ok(consumer.messages().await.map_err(|e| anyhow::anyhow!(e))?)
        }
    };
    // Consumed alone.
    let started = Instant::now();
    let mut alone = consume("alone").await?;
    for _ in 0..regions.len() {
        let message = alone
            .next()
            .await
            .context("stream ended")?
            .map_err(|e| anyhow::anyhow!(e))?;
        message.ack().await.map_err(|e| anyhow::anyhow!(e))?;
    }
    let consumed = started.elapsed();

    // Consumed into the national consumer: the envelope read back from the
    // headers, processed, then acknowledged.
    let dir = tempfile::tempdir()?;
    let db = Db::connect(&vigie_testkit::sqlite_url(dir.path(), "federation")).await?;
    vigie_federation::service::migrate(&db).await?;
    let app = national(db.clone());
    let consumer = Consumer::new(db.clone(), Arc::new(RegionSnapshots::new(app.clock())));
    let started = Instant::now();
    let mut into = consume("national").await?;
    for _ in 0..regions.len() {
        let message = into
            .next()
            .await
            .context("stream ended")?
            .map_err(|e| anyhow::anyhow!(e))?;
        let envelope = Envelope::from_headers(message.headers.as_ref(), message.payload.clone())?;
        let outcome = consumer.process(&envelope).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        ensure!(outcome == Outcome::Applied, "{} not applied", envelope.subject);
        message.ack().await.map_err(|e| anyhow::anyhow!(e))?;
    }
    let through = started.elapsed();
    db.close().await;
    println!(
        "\n## JetStream: {} snapshots, private nats-server on loopback\n",
        regions.len()
    );
    println!("| step | all (ms) | per snapshot (ms) |");
    println!("|---|---:|---:|");
    let per = |d: Duration| ms(d / u32::try_from(regions.len().max(1)).unwrap_or(1));
    println!(
        "| publish, each acknowledged | {} | {} |",
        ms(published),
        per(published)
    );
    println!("| consume + ack, alone | {} | {} |", ms(consumed), per(consumed));
    println!(
        "| consume + `Consumer::process` (SQLite) + ack | {} | {} |",
        ms(through),
        per(through)
    );
    Ok(())
}
