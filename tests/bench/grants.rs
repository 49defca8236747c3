//! `vigie-bench grants`: the grants import and the claim pass with reporting
//! duties (issue 16), each beside its bare part measured in the same run
//! (docs/benchmarks.md, « Grants and reporting duties (issue 16) »).
//!
//! Everything runs the service's own code in this process, with a set clock
//! (`AlertingApp::with_now`), on a SQLite file (embedded) and a fresh
//! PostgreSQL database (distributed), as `vigie-bench alerting` does:
//!
//! 1. **import**: `--structures` structures of one network reach the read
//!    model through the service's `InventoryReadModel` handler; a generated
//!    CSV of `--rows` decisions (French headers, amounts and dates as people
//!    write them) goes through `AlertingApp::import_grants` — the use case
//!    the `ImportGrants` RPC calls — first import, then the same file again
//!    (every row unchanged). Bare part: the same rows, already parsed, into
//!    a table with `al_grants`' columns and indexes by plain sqlx in one
//!    transaction, one prepared `INSERT` per row (what the service does per
//!    row, without its lookups and events), and in multi-row `INSERT`s (the
//!    fastest plain way).
//! 2. **claim pass with duties**: `--duty-structures` structures (one
//!    network), each with 3 grants won (financial years ending 2026-12-31,
//!    one in five a 2025–2027 multi-year agreement, some above 153,000 €)
//!    recorded on 2027-01-15; the claim passes of 2027-05-31 (J-30),
//!    2027-06-16 (J-14 and the draft date) and **2027-06-23 (J-7)** at 08:05,
//!    each beside the same pass on a twin instance with the same structures
//!    and no grants; then `ListObligations` and `GrantStats` of the network
//!    (the app calls of the RPCs). Bare part: the `SELECT`s those need,
//!    alone (every row of `al_grants`, `al_agreement_dates`,
//!    `al_obligation_acks`, `al_structures` with its snapshots).
//!
//! Options (defaults): `--mode both|embedded|distributed`, `--rows 5000`,
//! `--structures 1000`, `--duty-structures 2000`, `--seed 1`,
//! `--skip-import`, `--skip-duties`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use sqlx::Row as _;
use tokio::sync::Notify;
use vigie_alerting::app::{AlertingApp, AlertingSettings, GrantImportInput, PolicyInput};
use vigie_alerting::handlers::InventoryReadModel;
use vigie_platform::db::Db;
use vigie_platform::events::{Envelope, EventHandler};
use vigie_proto::dates::date_to_pb;
use vigie_proto::events::v1::StructureInventoried;
use vigie_proto::inventory::v1 as inv;
use vigie_testkit::PgDatabase;

use crate::args::Args;
use crate::clock::Clock;
use crate::database::database_url;
use crate::mode::Mode;
use crate::rng::Rng;

const SECRET: &[u8] = b"bench-secret-of-at-least-32-bytes!!";
const NETWORK: &str = "reseau-subventions";
/// Envelopes per transaction when loading the read model.
const FEED_BATCH: usize = 500;
/// Rows per multi-row statement of the bare insert: 19 parameters a row,
/// 437 a statement, about the 400 the service binds per statement on SQLite.
const BARE_ROWS_PER_STATEMENT: usize = 23;

const FUNDERS: &[&str] = &[
    "Région Bretagne",
    "Département du Finistère",
    "Fondation de France",
    "État — FDVA",
    "Caisse d'allocations familiales",
    "Ville de Brest",
    "Agence de l'eau Loire-Bretagne",
    "ADEME",
];
const PROGRAMMES: &[&str] = &[
    "Fonctionnement",
    "Insertion professionnelle",
    "Animation de la vie locale",
    "Transition énergétique",
    "Jeunesse et éducation populaire",
    "Lutte contre l'isolement",
];

struct Options {
    modes: Vec<Mode>,
    rows: usize,
    structures: usize,
    duty_structures: usize,
    seed: u64,
    import: bool,
    duties: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let args = Args(args);
        Ok(Options {
            modes: Mode::parse(args)?,
            rows: args.number("--rows", 5_000)?,
            structures: args.number("--structures", 1_000)?.max(1),
            duty_structures: args.number("--duty-structures", 2_000)?.max(1),
            seed: args.number("--seed", 1)?,
            import: !args.has("--skip-import"),
            duties: !args.has("--skip-duties"),
        })
    }
}

/// A Paris local time (`YYYY-MM-DD`, `HH:MM`) as an instant.
fn paris(day: &str, time: &str) -> Result<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")?;
    let time = NaiveTime::parse_from_str(time, "%H:%M")?;
    Ok(chrono_tz::Europe::Paris
        .from_local_datetime(&day.and_time(time))
        .single()
        .context("ambiguous or missing Paris time")?
        .with_timezone(&Utc))
}

/// A date of the generated data.
fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

fn structure_id(index: usize) -> String {
    format!("S{index:06}")
}

/// A structure of the network: a director, one to three other people,
/// `funder_reporting` held by nobody, one or two people (so some duties are
/// at risk), and `funding_applications` by the director.
fn structure(rng: &mut Rng, index: usize, today: NaiveDate) -> Envelope {
    let id = structure_id(index);
    let mut people = Vec::new();
    let mut holdings = Vec::new();
    let others = rng.between(1, 3) as usize;
    let reporters = [0usize, 1, 1, 2][rng.below(4)];
    for k in 0..=others {
        let person_id = format!("{id}-P{k}");
        people.push(inv::Person {
            person_id: person_id.clone(),
            display_name: format!("Personne {k} de la structure {index}"),
            role: if k == 0 { "director" } else { "employee" }.to_owned(),
            end_date: None,
            email: format!("personne{k}@structure{index}.example.org"),
        });
        if k < reporters {
            holdings.push(inv::Holding {
                person_id: person_id.clone(),
                function: "funder_reporting".to_owned(),
                level: rng.between(3, 4) as u32,
                last_practised: Some(date_to_pb(today - chrono::Days::new(rng.between(10, 200) as u64))),
                evidence: "import".to_owned(),
            });
        }
        if k == 0 {
            holdings.push(inv::Holding {
                person_id,
                function: "funding_applications".to_owned(),
                level: 3,
                last_practised: Some(date_to_pb(today - chrono::Days::new(30))),
                evidence: "import".to_owned(),
            });
        }
    }
    let snapshot = inv::Structure {
        structure_id: id.clone(),
        name: format!("Structure {index}"),
        network: NETWORK.to_owned(),
        legal_form: "association".to_owned(),
        region_code: "53".to_owned(),
        department_code: "29".to_owned(),
        commune_insee: "29019".to_owned(),
        people,
        holdings,
        version: 1,
        ..Default::default()
    };
    Envelope::of(
        "/vigie/inventory",
        id,
        &StructureInventoried {
            structure: Some(snapshot),
        },
    )
}

/// Euros in the French way: `12 500` or `12 500,50 €`.
fn euros(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    if cents % 100 == 0 {
        grouped
    } else {
        format!("{grouped},{:02} €", cents % 100)
    }
}

/// One parsed row of the generated sheet, as the bare insert stores it.
struct BareRow {
    structure: String,
    funder: String,
    title: String,
    stage: &'static str,
    applied_on: String,
    amount_asked: i64,
    decided_on: Option<String>,
    amount_granted: i64,
    year_end: Option<String>,
    agreement: Option<(String, String)>,
    reference: String,
    purpose: String,
}

/// The generated sheet (CSV, `;`, French headers) and its rows.
struct Sheet {
    csv: Vec<u8>,
    rows: Vec<BareRow>,
}

/// `rows` decisions over `structures` structures: each structure's
/// applications to distinct (funder, programme) pairs, 20 % pending, 25 %
/// refused, the rest won (one in five of those a multi-year agreement).
/// With `all_won`, every row is won (the duties scenario).
fn sheet(rng: &mut Rng, rows: usize, structures: usize, all_won: bool) -> Sheet {
    let mut csv = String::from(
        "structure;financeur;intitulé;date de dépôt;montant demandé;issue;date de décision;montant accordé;\
         fin d'exercice;début de convention;fin de convention;référence;objet;subvention publique\n",
    );
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let s = r % structures;
        let n = r / structures;
        let funder = FUNDERS[(s + n) % FUNDERS.len()];
        let title = format!(
            "{} {}",
            PROGRAMMES[(s * 7 + n) % PROGRAMMES.len()],
            2026 + (n / 48) as i64
        );
        let applied = ymd(2026, 1, 5) + chrono::Days::new(rng.between(0, 300) as u64);
        let asked = rng.between(20, 600) * 10_000;
        let pick = if all_won { 99 } else { rng.below(100) };
        let (stage, outcome) = match pick {
            0..=19 => ("applied", ""),
            20..=44 => ("refused", "refusé"),
            _ => ("won", "obtenu"),
        };
        let decided = (stage != "applied").then(|| applied + chrono::Days::new(rng.between(20, 60) as u64));
        let granted = if stage == "won" {
            asked * rng.between(60, 100) / 100
        } else {
            0
        };
        let year_end = (stage == "won").then_some("2026-12-31".to_owned());
        let agreement = (stage == "won" && rng.chance(0.2)).then(|| ("2025-01-01".to_owned(), "2027-12-31".to_owned()));
        let reference = if stage == "won" {
            format!("CONV-2026-{r:05}")
        } else {
            String::new()
        };
        let purpose = if stage == "won" {
            format!("Soutien au projet « {title} » de la structure {s}")
        } else {
            String::new()
        };
        let fr = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
        let _ = writeln!(
            csv,
            "{};{};{};{};{};{};{};{};{};{};{};{};{};oui",
            structure_id(s),
            funder,
            title,
            fr(applied),
            euros(asked),
            outcome,
            decided.map(fr).unwrap_or_default(),
            if stage == "won" { euros(granted) } else { String::new() },
            if stage == "won" { "31/12/2026" } else { "" },
            agreement.as_ref().map_or("", |_| "01/01/2025"),
            agreement.as_ref().map_or("", |_| "31/12/2027"),
            reference,
            purpose,
        );
        out.push(BareRow {
            structure: structure_id(s),
            funder: funder.to_owned(),
            title,
            stage,
            applied_on: applied.to_string(),
            amount_asked: asked,
            decided_on: decided.map(|d| d.to_string()),
            amount_granted: granted,
            year_end,
            agreement,
            reference,
            purpose,
        });
    }
    Sheet {
        csv: csv.into_bytes(),
        rows: out,
    }
}

/// A fresh database of `mode` (its PostgreSQL database kept alive by the guard).
async fn database(mode: Mode, dir: &std::path::Path, name: &str) -> Result<(Db, Option<PgDatabase>)> {
    let (url, pg) = database_url(mode == Mode::Embedded, dir, name, None).await?;
    let db = Db::connect(&url).await?;
    vigie_alerting::service::migrate(&db).await?;
    Ok((db, pg))
}

async fn app_on(db: &Db, clock: &Clock) -> Result<AlertingApp> {
    let reading = clock.clone();
    let app = AlertingApp::new(
        db.clone(),
        AlertingSettings::local("https://vigie.example.org/alertes", SECRET.to_vec()),
        Arc::new(Notify::new()),
    )
    .with_now(Arc::new(move || reading.now()));
    app.set_network_policy(&PolicyInput {
        network: NETWORK.to_owned(),
        local_hour: "08:00".to_owned(),
        referent_name: "Référente du réseau".to_owned(),
        referent_email: "referente@reseau.example.org".to_owned(),
        ..PolicyInput::default()
    })
    .await?;
    Ok(app)
}

async fn load(db: &Db, structures: usize, seed: u64, today: NaiveDate) -> Result<()> {
    let mut rng = Rng(seed);
    let envelopes: Vec<Envelope> = (0..structures).map(|i| structure(&mut rng, i, today)).collect();
    let handler = InventoryReadModel::default();
    for chunk in envelopes.chunks(FEED_BATCH) {
        let mut tx = db.begin().await?;
        for envelope in chunk {
            handler
                .handle(&mut tx, envelope)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        tx.commit().await?;
    }
    Ok(())
}

fn all_reach(_: &str, _: &str) -> bool {
    true
}

async fn import(app: &AlertingApp, csv: &[u8]) -> Result<(Duration, vigie_alerting::app::GrantImportReport)> {
    let started = Instant::now();
    let report = app
        .import_grants(
            &GrantImportInput {
                filename: "subventions.csv".to_owned(),
                content: csv.to_vec(),
                dry_run: false,
                network: String::new(),
            },
            &all_reach,
        )
        .await?;
    let elapsed = started.elapsed();
    if !report.problems.is_empty() {
        bail!("import refused: {:?}", &report.problems[..report.problems.len().min(5)]);
    }
    Ok((elapsed, report))
}

/// The bare part of the import: a table with `al_grants`' columns and indexes.
const BARE_TABLE: &str = "
CREATE TABLE bench_grants (
    grant_id TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    funder TEXT NOT NULL,
    title TEXT NOT NULL,
    stage TEXT NOT NULL,
    applied_on TEXT,
    amount_asked BIGINT NOT NULL,
    decided_on TEXT,
    amount_granted BIGINT NOT NULL,
    financial_year_end TEXT,
    agreement_start TEXT,
    agreement_end TEXT,
    reference TEXT NOT NULL,
    purpose TEXT NOT NULL,
    public_subsidy BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    idempotency_key TEXT NOT NULL DEFAULT ''
)";
const BARE_INDEXES: &[&str] = &[
    "CREATE INDEX bench_grants_structure ON bench_grants (structure_id)",
    "CREATE UNIQUE INDEX bench_grants_call ON bench_grants (structure_id, call_id) WHERE call_id <> ''",
    "CREATE UNIQUE INDEX bench_grants_key ON bench_grants (structure_id, idempotency_key) WHERE idempotency_key <> ''",
];
const BARE_COLUMNS: &str = "grant_id, structure_id, call_id, funder, title, stage, applied_on, amount_asked, \
                            decided_on, amount_granted, financial_year_end, agreement_start, agreement_end, \
                            reference, purpose, public_subsidy, idempotency_key, created_at, updated_at";

fn bind_row<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    i: usize,
    r: &BareRow,
    at: &str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(format!("G{i:08}"))
        .bind(r.structure.clone())
        .bind(String::new())
        .bind(r.funder.clone())
        .bind(r.title.clone())
        .bind(r.stage.to_owned())
        .bind(Some(r.applied_on.clone()))
        .bind(r.amount_asked)
        .bind(r.decided_on.clone())
        .bind(r.amount_granted)
        .bind(r.year_end.clone())
        .bind(r.agreement.as_ref().map(|a| a.0.clone()))
        .bind(r.agreement.as_ref().map(|a| a.1.clone()))
        .bind(r.reference.clone())
        .bind(r.purpose.clone())
        .bind(1i64)
        .bind(format!("import:{i:032}"))
        .bind(at.to_owned())
        .bind(at.to_owned())
}

/// Inserts the rows into a fresh `bench_grants` in one transaction: one
/// prepared statement per row, or `BARE_ROWS_PER_STATEMENT` rows a statement.
async fn bare_insert(db: &Db, rows: &[BareRow], multi: bool) -> Result<Duration> {
    let mut conn = db.pool().acquire().await?;
    sqlx::query("DROP TABLE IF EXISTS bench_grants")
        .execute(&mut *conn)
        .await?;
    sqlx::query(BARE_TABLE).execute(&mut *conn).await?;
    for index in BARE_INDEXES {
        sqlx::query(index).execute(&mut *conn).await?;
    }
    drop(conn);
    let at = "2027-01-15T09:00:00Z";
    let started = Instant::now();
    let mut tx = db.begin().await?;
    if multi {
        for (c, chunk) in rows.chunks(BARE_ROWS_PER_STATEMENT).enumerate() {
            let marks: Vec<String> = (0..chunk.len())
                .map(|k| {
                    let p: Vec<String> = (1..=19).map(|j| format!("${}", k * 19 + j)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            let sql = format!("INSERT INTO bench_grants ({BARE_COLUMNS}) VALUES {}", marks.join(", "));
            let mut query = sqlx::query(&sql);
            for (k, r) in chunk.iter().enumerate() {
                query = bind_row(query, c * BARE_ROWS_PER_STATEMENT + k, r, at);
            }
            query.execute(&mut *tx).await?;
        }
    } else {
        let marks: Vec<String> = (1..=19).map(|j| format!("${j}")).collect();
        let sql = format!(
            "INSERT INTO bench_grants ({BARE_COLUMNS}) VALUES ({})",
            marks.join(", ")
        );
        for (i, r) in rows.iter().enumerate() {
            bind_row(sqlx::query(&sql), i, r, at).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    Ok(started.elapsed())
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run_import(mode: Mode, o: &Options) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (db, _pg) = database(mode, dir.path(), "import").await?;
    let clock = Clock::at(paris("2027-01-15", "10:00")?);
    let app = app_on(&db, &clock).await?;
    load(&db, o.structures, o.seed, clock.now().date_naive()).await?;
    let mut rng = Rng(o.seed ^ 0x5EED);
    let sheet = sheet(&mut rng, o.rows, o.structures, false);
    let (first, report) = import(&app, &sheet.csv).await?;
    let (again, second) = import(&app, &sheet.csv).await?;
    if report.created as usize != o.rows || second.unchanged as usize != o.rows {
        bail!("unexpected counts: first {report:?}, again {second:?}");
    }
    let one_by_one = bare_insert(&db, &sheet.rows, false).await?;
    let multi = bare_insert(&db, &sheet.rows, true).await?;
    let label = mode.label();
    let n = o.rows;
    println!(
        "| {label} | {n} rows, {} structures, {} KiB of CSV | first import {:.2} s ({:.0} rows/s) | re-import {:.2} s ({:.0} rows/s) | bare one-by-one {:.2} s ({:.0} rows/s) | bare multi-row {:.2} s ({:.0} rows/s) | ratios first/one-by-one {:.2}, first/multi-row {:.2}, re-import/one-by-one {:.2} |",
        o.structures,
        sheet.csv.len() / 1024,
        first.as_secs_f64(),
        rate(n, first),
        again.as_secs_f64(),
        rate(n, again),
        one_by_one.as_secs_f64(),
        rate(n, one_by_one),
        multi.as_secs_f64(),
        rate(n, multi),
        rate(n, first) / rate(n, one_by_one),
        rate(n, first) / rate(n, multi),
        rate(n, again) / rate(n, one_by_one),
    );
    Ok(())
}

/// The bare reads of a pass with duties: every row the duties need, alone.
async fn bare_reads(db: &Db) -> Result<(Duration, usize)> {
    let started = Instant::now();
    let mut conn = db.pool().acquire().await?;
    let mut rows = 0;
    for sql in [
        "SELECT grant_id, structure_id, call_id, funder, title, stage, applied_on, amount_asked, decided_on, \
         amount_granted, financial_year_end, agreement_start, agreement_end, reference, purpose, public_subsidy, \
         idempotency_key FROM al_grants",
        "SELECT structure_id, obligation_key, grant_id, kind, due, label, at FROM al_agreement_dates",
        "SELECT structure_id, obligation_key, status, sent_on, at FROM al_obligation_acks",
        "SELECT structure_id, network_id, snapshot FROM al_structures",
    ] {
        let fetched = sqlx::query(sql).fetch_all(&mut *conn).await?;
        // Touch every row's first column, as a reader would.
        for row in &fetched {
            let _: String = row.try_get(0)?;
        }
        rows += fetched.len();
    }
    Ok((started.elapsed(), rows))
}

async fn run_duties(mode: Mode, o: &Options) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let label = mode.label();
    let (db, _pg) = database(mode, dir.path(), "duties").await?;
    let (twin_db, _twin_pg) = database(mode, dir.path(), "twin").await?;
    let clock = Clock::at(paris("2027-01-15", "09:00")?);
    let app = app_on(&db, &clock).await?;
    let twin = app_on(&twin_db, &clock).await?;
    // Structures known a week before the grants (holders' recency as of then).
    let today = clock.now().date_naive();
    load(&db, o.duty_structures, o.seed, today).await?;
    load(&twin_db, o.duty_structures, o.seed, today).await?;
    let first = app.claim_due(clock.now()).await?;
    twin.claim_due(clock.now()).await?;
    let mut rng = Rng(o.seed ^ 0xD0_7135);
    let sheet = sheet(&mut rng, o.duty_structures * 3, o.duty_structures, true);
    clock.set(paris("2027-01-15", "10:00")?);
    let (recorded, report) = import(&app, &sheet.csv).await?;
    eprintln!(
        "{label}: first pass {first:?}; {} grants won recorded in {:.2}s",
        report.created,
        recorded.as_secs_f64()
    );
    let duties = app.obligations(None).await?;
    // One in ten of the J-7 duties already sent (acknowledgements to read).
    let mut acked = 0;
    for d in duties.iter().step_by(10) {
        app.acknowledge_obligation(&d.obligation.structure_id, &d.obligation.key, "sent", "rpc")
            .await?;
        acked += 1;
    }
    let due_june = duties.iter().filter(|d| d.obligation.due == ymd(2027, 6, 30)).count();
    println!(
        "{label}: {} structures, {} grants won, {} duties ({due_june} due 2027-06-30), {acked} marked « envoyé »",
        o.duty_structures,
        report.created,
        duties.len()
    );
    println!("| {label} — claim pass at 08:05 | with grants (ms) | claimed, messages | same instance without grants (ms) | ratio |");
    println!("|---|---:|---:|---:|---:|");
    for (day, what) in [
        ("2027-05-31", "J-30"),
        ("2027-06-16", "J-14 and draft date"),
        ("2027-06-23", "J-7"),
    ] {
        clock.set(paris(day, "08:05")?);
        let started = Instant::now();
        let with = app.claim_due(clock.now()).await?;
        let with_time = started.elapsed();
        let started = Instant::now();
        let without = twin.claim_due(clock.now()).await?;
        let without_time = started.elapsed();
        clock.set(paris(day, "08:06")?);
        let started = Instant::now();
        let next = app.claim_due(clock.now()).await?;
        let next_time = started.elapsed();
        println!(
            "| {day} ({what}) | {:.0} | {}, {} | {:.1} | {:.0} |",
            ms(with_time),
            with.claimed,
            with.messages,
            ms(without_time),
            ms(with_time) / ms(without_time).max(0.001),
        );
        println!(
            "| {day} 08:06, the next pass | {:.0} | {}, {} | | |",
            ms(next_time),
            next.claimed,
            next.messages
        );
        if without.claimed != 0 {
            bail!("the twin without grants claimed {}", without.claimed);
        }
    }

    // The views of the network, on 2027-06-23 (the fortnight holds the 30 June duties).
    let mut best_list = Duration::MAX;
    let mut best_stats = Duration::MAX;
    let mut best_bare = Duration::MAX;
    let (mut listed, mut at_risk, mut bare_rows) = (0, 0, 0);
    for _ in 0..3 {
        let started = Instant::now();
        let structures = app.structures_of_network(NETWORK).await?;
        let obligations = app.obligations(Some(&structures)).await?;
        let _states = app.duty_states(Some(&structures)).await?;
        best_list = best_list.min(started.elapsed());
        listed = obligations.len();
        let started = Instant::now();
        let structures = app.structures_of_network(NETWORK).await?;
        let stats = app.grant_stats(Some(&structures)).await?;
        best_stats = best_stats.min(started.elapsed());
        at_risk = stats.at_risk.len();
        let (bare, rows) = bare_reads(&db).await?;
        best_bare = best_bare.min(bare);
        bare_rows = rows;
    }
    println!("| {label} — views of the network (best of 3) | ms | ratio to the bare reads |");
    println!("|---|---:|---:|");
    println!(
        "| ListObligations: {listed} duties | {:.0} | {:.1} |",
        ms(best_list),
        ms(best_list) / ms(best_bare)
    );
    println!(
        "| GrantStats: {} grants, {at_risk} duties at risk | {:.0} | {:.1} |",
        report.created,
        ms(best_stats),
        ms(best_stats) / ms(best_bare)
    );
    println!("| bare reads: {bare_rows} rows of al_grants, al_agreement_dates, al_obligation_acks, al_structures | {:.0} | 1 |", ms(best_bare));
    Ok(())
}

pub async fn run(args: &[String]) -> Result<()> {
    let o = Options::parse(args)?;
    for &mode in &o.modes {
        if o.import {
            run_import(mode, &o).await?;
        }
        if o.duties {
            run_duties(mode, &o).await?;
        }
    }
    Ok(())
}
