//! `vigie-bench alerting`: the alerting benchmark of issue 3 (docs/benchmarks.md,
//! section "Alerting").
//!
//! Everything goes through the service's own code, in this process, on a
//! SQLite file (embedded) or a fresh PostgreSQL database (distributed):
//!
//! 1. **load**: generated structures become `structure.inventoried`
//!    envelopes applied by the service's handler (`InventoryReadModel`),
//!    either through `Consumer::process` (one transaction and one inbox row
//!    per event, as in production) or in transactions of 1,000 envelopes
//!    (`--feed batch`); generated calls are imported as Aides-territoires
//!    pages through `AlertingApp::import_file`;
//! 2. **matching** (pure domain, the service's `MatchIndex` and pair check,
//!    which also counts the reminders the data implies) and **planning**:
//!    `AlertingApp::preview` over a window;
//! 3. **backlog after an outage**: calls are imported the day before their
//!    first reminder, then the service "was down" until the restart instant
//!    (five minutes after a network's sending time, networks sending at
//!    08:00, 08:15…) whose due reminders come closest to `--backlog`;
//!    `claim_due` claims them into messages, a second `claim_due` finds
//!    nothing, then `deliver_due` drains them, the first `--smtp-messages`
//!    through a real SMTP server (`vigie_testkit::SmtpServer`, aiosmtpd), the
//!    rest into `.eml` files (`Mailbox::Directory`).
//!
//! Options (defaults): `--mode both|embedded|distributed`, `--structures
//! 200000`, `--calls 10000`, `--networks 20`, `--themes-per-network 2` (0:
//! every theme), `--national-percent 1`, `--region-percent 10` (the rest
//! departmental), `--window-days 7`, `--today 2027-02-01` (deadlines within
//! the 60 days after it), `--backlog 100000`, `--smtp-messages 5000`, `--feed
//! consumer|batch`, `--referents yes|no`, `--database-url URL` (instead of a
//! fresh `vigie_testkit::PgDatabase`), `--seed 1`, `--dry-run` (generation and
//! matching only, with the reminders due day by day).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use sqlx::Row;
use tokio::sync::Notify;
use vigie_alerting::app::{AlertingApp, AlertingSettings, PolicyInput, Transport};
use vigie_alerting::channels::email::{SmtpConfig, SmtpMailer};
use vigie_alerting::channels::webhook::WebhookSender;
use vigie_alerting::delivery::{Channels, Mailbox};
use vigie_alerting::handlers::InventoryReadModel;
use vigie_alerting::service::DELIVERY_BATCH;
use vigie_alerting_domain::call::TerritoryCode;
use vigie_alerting_domain::matching::{
    matches_without_territory, CallProfile, MatchIndex, Preferences, StructureProfile,
};
use vigie_alerting_domain::model::normalise_audience;
use vigie_alerting_domain::plan::{escalation_reason, REFERENT_FROM_DAYS};
use vigie_alerting_domain::territory::{official, Place};
use vigie_platform::db::Db;
use vigie_platform::events::{Consumer, Envelope, EventHandler};
use vigie_proto::dates::date_to_pb;
use vigie_proto::events::v1::StructureInventoried;
use vigie_proto::inventory::v1 as inv;
use vigie_testkit::memory::{self, Process};
use vigie_testkit::SmtpServer;

use crate::args::Args;
use crate::clock::Clock;
use crate::database::database_url;
use crate::mode::Mode;
use crate::rng::Rng;

/// The committed territory table (communes, departments, regions).
const TERRITORY: &str = include_str!("../../services/alerting/domain/data/territory.tsv");
/// Secret of the signed links.
const SECRET: &[u8] = b"bench-secret-of-at-least-32-bytes!!";
/// Default reminder offsets (days before each stage).
const OFFSETS: [u32; 4] = [30, 14, 7, 2];
/// Envelopes per transaction with `--feed batch`.
const FEED_BATCH: usize = 1_000;
/// Calls per imported file (pages of 100).
const CALLS_PER_FILE: usize = 1_000;

/// Themes "Thème / Sous-thème" of the generated calls.
const THEMES: &[(&str, &[&str])] = &[
    ("Solidarités", &["Vie associative", "Lutte contre la pauvreté"]),
    ("Culture et identité collective", &["Patrimoine", "Arts"]),
    (
        "Développement économique",
        &["Économie sociale et solidaire", "Commerces et services"],
    ),
    ("Environnement", &["Biodiversité", "Eau"]),
    (
        "Énergies et déchets",
        &["Transition énergétique", "Économie circulaire"],
    ),
    ("Mobilité", &["Mobilité pour tous"]),
    ("Numérique", &["Inclusion numérique"]),
    ("Santé", &["Prévention"]),
    ("Sports et loisirs", &["Équipements sportifs"]),
    ("Éducation et jeunesse", &["Jeunesse"]),
    ("Emploi", &["Insertion professionnelle"]),
    ("Agriculture et alimentation", &["Alimentation"]),
];

/// Targeted audiences (Aides-territoires labels) and their weight in percent.
const AUDIENCES: &[(u32, &[&str])] = &[
    (40, &["Associations"]),
    (15, &["Associations", "Entreprises privées"]),
    (10, &["Entreprises de l'économie sociale et solidaire"]),
    (15, &["Communes", "EPCI"]),
    (10, &["Associations", "Communes", "Établissements publics"]),
    (5, &["Entreprises privées"]),
    (5, &[]),
];

/// Legal forms of the inventory and their weight in percent.
const LEGAL_FORMS: &[(u32, &str)] = &[
    (72, "association"),
    (7, "scop"),
    (4, "scic"),
    (8, "esus_company"),
    (4, "mutual"),
    (5, "foundation"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// `Consumer::process`, one transaction and inbox row per event.
    Consumer,
    /// The handler in transactions of [`FEED_BATCH`] envelopes.
    Batch,
}

struct Options {
    modes: Vec<Mode>,
    structures: usize,
    calls: usize,
    networks: usize,
    themes_per_network: usize,
    national_percent: u32,
    region_percent: u32,
    window_days: u32,
    backlog: u64,
    smtp_messages: usize,
    feed: Feed,
    referents: bool,
    database_url: Option<String>,
    seed: u64,
    today: NaiveDate,
    dry_run: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let args = Args(args);
        let flag = |name: &str| args.value(name);
        let number = |name: &str, default: u64| args.number(name, default);
        let modes = Mode::parse(args)?;
        let feed = [Feed::Consumer, Feed::Batch][args.choice("--feed", "consumer", &["consumer", "batch"])?];
        let today = match flag("--today") {
            Some(d) => d.parse().context("--today takes YYYY-MM-DD")?,
            None => NaiveDate::from_ymd_opt(2027, 2, 1).context("date")?,
        };
        let national_percent = number("--national-percent", 1)? as u32;
        let region_percent = number("--region-percent", 10)? as u32;
        if national_percent + region_percent > 100 {
            bail!("--national-percent + --region-percent must not exceed 100");
        }
        Ok(Options {
            modes,
            structures: number("--structures", 200_000)? as usize,
            calls: number("--calls", 10_000)? as usize,
            networks: (number("--networks", 20)? as usize).max(1),
            themes_per_network: number("--themes-per-network", 2)? as usize,
            national_percent,
            region_percent,
            window_days: (number("--window-days", 7)? as u32).max(1),
            backlog: number("--backlog", 100_000)?,
            smtp_messages: number("--smtp-messages", 5_000)? as usize,
            feed,
            referents: flag("--referents") != Some("no"),
            database_url: flag("--database-url").map(str::to_owned),
            seed: number("--seed", 1)?,
            today,
            dry_run: args.has("--dry-run"),
        })
    }
}

/// Communes, departments and regions of the table (overseas collectivities left out).
struct Map {
    /// (INSEE code, department code, region code).
    communes: Vec<(String, String, String)>,
    /// Department names.
    departments: Vec<String>,
    /// Region names.
    regions: Vec<String>,
}

fn territory_map() -> Map {
    let mut regions = HashMap::new();
    let mut departments = HashMap::new();
    let mut communes = Vec::new();
    for line in TERRITORY.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["R", code, zone, name, ..] if *zone == "metro" || *zone == "drom" => {
                regions.insert(code.to_string(), name.to_string());
            }
            ["D", code, region, name, ..] => {
                departments.insert(code.to_string(), (region.to_string(), name.to_string()));
            }
            ["C", insee, department, ..] => communes.push((insee.to_string(), department.to_string())),
            _ => {}
        }
    }
    departments.retain(|_, (region, _)| regions.contains_key(region));
    let mut region_names: Vec<String> = regions.values().cloned().collect();
    region_names.sort();
    let mut department_names: Vec<String> = departments.values().map(|(_, n)| n.clone()).collect();
    department_names.sort();
    Map {
        communes: communes
            .into_iter()
            .filter_map(|(insee, d)| {
                let (region, _) = departments.get(&d)?;
                Some((insee, d, region.clone()))
            })
            .collect(),
        departments: department_names,
        regions: region_names,
    }
}

/// What the estimate needs of a generated structure.
struct GenStructure {
    profile: StructureProfile,
    network: usize,
    /// People receiving reminders (holders and directors with an address).
    recipients: u32,
    /// End dates of the holders of `funding_applications`.
    holder_ends: Vec<Option<NaiveDate>>,
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d.checked_add_days(Days::new(n as u64)).unwrap_or(d)
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs())).unwrap_or(d)
    }
}

fn network_name(n: usize) -> String {
    format!("reseau-{:02}", n + 1)
}

/// One generated structure: its envelope and what the estimate needs.
fn structure(rng: &mut Rng, index: usize, map: &Map, networks: usize, today: NaiveDate) -> (Envelope, GenStructure) {
    let id = rng.uuid();
    let network = rng.below(networks);
    let legal_form = rng.weighted(LEGAL_FORMS);
    let (insee, department, region) = &map.communes[rng.below(map.communes.len())];
    let mut people = Vec::new();
    let mut holdings = Vec::new();
    let mut recipients = 0;
    let mut holder_ends = Vec::new();
    for k in 0..rng.between(1, 3) {
        let person_id = rng.uuid();
        let role = if k == 0 && rng.chance(0.75) {
            "director"
        } else {
            ["employee", "volunteer", "board_member"][rng.below(3)]
        };
        let email = if rng.chance(0.9) {
            format!("personne{k}@structure{index}.example.org")
        } else {
            String::new()
        };
        let end = if rng.chance(0.06) {
            Some(add_days(today, rng.between(1, 60)))
        } else if rng.chance(0.02) {
            Some(add_days(today, -rng.between(1, 30)))
        } else {
            None
        };
        let active = end.is_none_or(|e| e >= today);
        let level = if rng.chance(0.4) {
            rng.between(3, 4) as u32
        } else if rng.chance(0.33) {
            2
        } else {
            0
        };
        let practised = if rng.chance(0.85) {
            Some(add_days(today, -rng.between(0, 300)))
        } else if rng.chance(0.33) {
            None
        } else {
            Some(add_days(today, -rng.between(400, 700)))
        };
        let holds = level >= 3 && practised.is_none_or(|p| p >= add_days(today, -365)) && active;
        if holds {
            holder_ends.push(end);
        }
        if (holds || (role == "director" && active)) && !email.is_empty() {
            recipients += 1;
        }
        if level > 0 {
            holdings.push(inv::Holding {
                person_id: person_id.clone(),
                function: "funding_applications".to_owned(),
                level,
                last_practised: practised.map(date_to_pb),
                evidence: "import".to_owned(),
            });
        }
        people.push(inv::Person {
            person_id,
            display_name: format!("Personne {k} de la structure {index}"),
            role: role.to_owned(),
            end_date: end.map(date_to_pb),
            email,
        });
    }
    let snapshot = inv::Structure {
        structure_id: id.clone(),
        name: format!("Structure {index}"),
        network: network_name(network),
        legal_form: legal_form.to_owned(),
        region_code: region.clone(),
        department_code: department.clone(),
        commune_insee: insee.clone(),
        people,
        holdings,
        version: 1,
        ..Default::default()
    };
    let envelope = Envelope::of(
        "/vigie/inventory",
        id.clone(),
        &StructureInventoried {
            structure: Some(snapshot),
        },
    );
    let profile = StructureProfile {
        structure_id: id,
        network: network_name(network),
        legal_form: legal_form.to_owned(),
        place: Place {
            commune: Some(insee.clone()),
            department: Some(department.clone()),
            region: Some(region.clone()),
        },
    };
    (
        envelope,
        GenStructure {
            profile,
            network,
            recipients,
            holder_ends,
        },
    )
}

/// A generated call: its Aides-territoires aid and what the estimate needs.
struct GenCall {
    aid: serde_json::Value,
    profile: CallProfile,
    /// Stage dates (pre-deposit, submission).
    stages: Vec<NaiveDate>,
}

fn call(rng: &mut Rng, id: usize, map: &Map, o: &Options) -> GenCall {
    let pick = rng.below(100) as u32;
    let (perimeter, scale) = if pick < o.national_percent {
        ("France".to_owned(), "Pays")
    } else if pick < o.national_percent + o.region_percent {
        (map.regions[rng.below(map.regions.len())].clone(), "Région")
    } else {
        (map.departments[rng.below(map.departments.len())].clone(), "Département")
    };
    let areas = official().resolve(&perimeter, scale).unwrap_or_default();
    let audiences: &[&str] = rng.weighted(AUDIENCES);
    let mut codes: Vec<String> = audiences
        .iter()
        .filter_map(|l| normalise_audience(l))
        .flatten()
        .map(|c| (*c).to_owned())
        .collect();
    codes.sort();
    codes.dedup();
    let mut themes = Vec::new();
    for _ in 0..rng.between(1, 2) {
        let (theme, subs) = THEMES[rng.below(THEMES.len())];
        let t = format!("{theme} / {}", subs[rng.below(subs.len())]);
        if !themes.contains(&t) {
            themes.push(t);
        }
    }
    let recurrence = [
        "Ponctuelle",
        "Ponctuelle",
        "Ponctuelle",
        "Ponctuelle",
        "Ponctuelle",
        "Ponctuelle",
        "Ponctuelle",
        "Récurrente",
        "Récurrente",
        "Permanente",
    ][rng.below(10)];
    let (deadline, predeposit) = if recurrence == "Permanente" {
        (None, None)
    } else {
        let deadline = add_days(o.today, rng.between(1, 60));
        let pre = rng
            .chance(0.15)
            .then(|| add_days(deadline, -rng.between(7, 21)))
            .filter(|p| *p > o.today);
        (Some(deadline), pre)
    };
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string());
    let aid = serde_json::json!({
        "id": id,
        "slug": format!("appel-a-projets-{id}"),
        "url": format!("/aides/appel-a-projets-{id}/"),
        "name": format!("Appel à projets n° {id} : {}", themes[0]),
        "name_initial": format!("Appel à projets n° {id}"),
        "financers": [format!("Financeur {}", id % 97)],
        "instructors": [],
        "programs": [],
        "categories": themes,
        "targeted_audiences": audiences,
        "aid_types": ["Subvention"],
        "recurrence": recurrence,
        "perimeter": perimeter,
        "perimeter_scale": scale,
        "start_date": o.today.to_string(),
        "predeposit_date": date(predeposit),
        "submission_deadline": date(deadline),
        "is_call_for_project": true,
        "origin_url": "",
        "application_url": format!("https://demarches.example.org/{id}"),
        "date_created": o.today.to_string(),
        "date_updated": o.today.to_string()
    });
    GenCall {
        aid,
        profile: CallProfile {
            call_id: id.to_string(),
            audiences: codes,
            themes: themes.clone(),
            areas,
            exclusions: Vec::<TerritoryCode>::new(),
        },
        stages: predeposit.into_iter().chain(deadline).collect(),
    }
}

/// Preferred top-level themes of each network (empty: every theme).
fn network_themes(rng: &mut Rng, o: &Options) -> Vec<Vec<String>> {
    (0..o.networks)
        .map(|_| {
            let mut themes: Vec<String> = Vec::new();
            while themes.len() < o.themes_per_network.min(THEMES.len()) {
                let t = THEMES[rng.below(THEMES.len())].0.to_owned();
                if !themes.contains(&t) {
                    themes.push(t);
                }
            }
            themes
        })
        .collect()
}

/// The whole generated set.
struct Set {
    envelopes: Vec<Envelope>,
    structures: Vec<GenStructure>,
    calls: Vec<GenCall>,
    themes: Vec<Vec<String>>,
}

fn generate(o: &Options) -> Set {
    let map = territory_map();
    let mut rng = Rng(o.seed);
    let themes = network_themes(&mut rng, o);
    let (envelopes, structures) = (0..o.structures)
        .map(|i| structure(&mut rng, i, &map, o.networks, o.today))
        .unzip();
    let calls = (1..=o.calls).map(|id| call(&mut rng, id, &map, o)).collect();
    Set {
        envelopes,
        structures,
        calls,
        themes,
    }
}

/// Matching in the pure domain, and the reminders it implies.
struct Estimate {
    candidate_pairs: u64,
    matched_pairs: u64,
    index_time: Duration,
    candidates_time: Duration,
    check_time: Duration,
    /// (due instant, stage day) → reminders (send-log rows), referents included.
    reminders: BTreeMap<(DateTime<Utc>, NaiveDate), u64>,
}

impl Estimate {
    /// Reminders due on the local days `[from, from + days)`.
    fn in_window(&self, from: NaiveDate, days: u32) -> u64 {
        let (start, end) = (
            paris(from, NaiveTime::MIN),
            paris(add_days(from, i64::from(days)), NaiveTime::MIN),
        );
        self.reminders
            .iter()
            .filter(|((due, _), _)| *due >= start && *due < end)
            .map(|(_, n)| n)
            .sum()
    }

    /// Reminders due at `now` whose stage has not passed: what a claim at `now` plans
    /// when nothing was claimed before.
    fn due_at(&self, now: DateTime<Utc>) -> u64 {
        self.reminders
            .range(..=(now, NaiveDate::MAX))
            .filter(|((_, stage), _)| paris(add_days(*stage, 1), NaiveTime::MIN) > now)
            .map(|(_, n)| n)
            .sum()
    }

    /// The restart instant (five minutes after a sending time, from the first
    /// one on) whose backlog comes closest to `target`.
    fn backlog_instant(&self, target: u64) -> DateTime<Utc> {
        let mut best: Option<(u64, DateTime<Utc>)> = None;
        let mut last = None;
        for (due, _) in self.reminders.keys() {
            if last == Some(*due) {
                continue;
            }
            last = Some(*due);
            let at = *due + chrono::TimeDelta::minutes(5);
            let n = self.due_at(at);
            if best.is_none_or(|(b, _)| n.abs_diff(target) < b.abs_diff(target)) {
                best = Some((n, at));
            }
            if n > 3 * target {
                break;
            }
        }
        best.map_or_else(Utc::now, |(_, at)| at)
    }
}

/// Sending hour of a network: 08:00, 08:15… (networks choose theirs).
fn local_hour(network: usize) -> NaiveTime {
    let minutes = 8 * 60 + 15 * (network % 20) as u32;
    NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or(NaiveTime::MIN)
}

/// A local time in Europe/Paris, in UTC.
fn paris(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    vigie_alerting_domain::reminders::resolve_local(chrono_tz::Europe::Paris, day.and_time(time))
}

fn estimate(set: &Set, o: &Options) -> Estimate {
    let territory = official();
    let started = Instant::now();
    let profiles: Vec<StructureProfile> = set.structures.iter().map(|s| s.profile.clone()).collect();
    let index = MatchIndex::new(&profiles, territory);
    let index_time = started.elapsed();
    let prefs: Vec<Preferences> = set
        .themes
        .iter()
        .map(|themes| Preferences {
            themes: themes.clone(),
            audiences: Vec::new(),
            opted_out: false,
        })
        .collect();
    let mut e = Estimate {
        candidate_pairs: 0,
        matched_pairs: 0,
        index_time,
        candidates_time: Duration::ZERO,
        check_time: Duration::ZERO,
        reminders: BTreeMap::new(),
    };
    for call in &set.calls {
        let started = Instant::now();
        let candidates = index.candidates(&call.profile, territory);
        e.candidates_time += started.elapsed();
        e.candidate_pairs += candidates.len() as u64;
        let started = Instant::now();
        let matched: Vec<usize> = candidates
            .into_iter()
            .filter(|&i| {
                let s = &set.structures[i];
                matches_without_territory(&call.profile, &s.profile, &prefs[s.network])
            })
            .collect();
        e.check_time += started.elapsed();
        e.matched_pairs += matched.len() as u64;
        for &stage in &call.stages {
            // Per network: people, and referent rows (escalated structures).
            let mut people = vec![0u64; o.networks];
            let mut referents = vec![0u64; o.networks];
            for &i in &matched {
                let s = &set.structures[i];
                people[s.network] += u64::from(s.recipients);
                if o.referents && escalation_reason(&s.holder_ends, stage).is_some() {
                    referents[s.network] += 1;
                }
            }
            for offset in OFFSETS {
                let day = add_days(stage, -i64::from(offset));
                for n in 0..o.networks {
                    let rows = people[n] + if offset <= REFERENT_FROM_DAYS { referents[n] } else { 0 };
                    if rows > 0 {
                        *e.reminders.entry((paris(day, local_hour(n)), stage)).or_default() += rows;
                    }
                }
            }
        }
    }
    e
}

/// Clears this process's peak resident memory, best effort.
fn reset_peak_rss() {
    let _ = memory::reset_peak();
}

/// Peak resident memory of this process since the last reset, in MiB.
fn peak_rss_mib() -> f64 {
    memory::peak_mib(Process::This).unwrap_or(0.0)
}

/// Resident memory of this process now, in MiB.
fn rss_mib() -> f64 {
    memory::rss_mib(Process::This).unwrap_or(0.0)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn rate(n: u64, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

/// The figures of one mode.
struct Run {
    mode: Mode,
    load_structures: Duration,
    load_structures_rss: f64,
    import_calls: Duration,
    import_warnings: usize,
    calls_stored: usize,
    preview: Duration,
    preview_alerts: usize,
    preview_rss: f64,
    preview_base_rss: f64,
    restart: DateTime<Utc>,
    claim: Duration,
    claim_rss: f64,
    claimed: usize,
    messages: usize,
    escalations: usize,
    idle_claim: Duration,
    smtp_sent: usize,
    smtp_bytes: u64,
    smtp: Duration,
    files_sent: usize,
    files_bytes: u64,
    files: Duration,
    largest_message: u64,
}

/// Runs the alerting benchmark.
///
/// # Errors
/// Any failure of the service, the databases or the SMTP server.
pub async fn run(args: &[String]) -> Result<()> {
    let o = Options::parse(args)?;
    let started = Instant::now();
    let set = generate(&o);
    eprintln!(
        "generated {} structures and {} calls in {:.1}s",
        set.structures.len(),
        set.calls.len(),
        secs(started.elapsed())
    );
    let e = estimate(&set, &o);
    let window_estimate = e.in_window(o.today, o.window_days);
    let first_due = e.reminders.keys().map(|(due, _)| *due).min().unwrap_or_else(Utc::now);
    let last_stage = e.reminders.keys().map(|(_, stage)| *stage).max().unwrap_or(o.today);
    let restart = e.backlog_instant(o.backlog);
    // Calls are known (imported) the day before their first reminder: the
    // backlog's reminders are late, not caught up.
    let setup = first_due - chrono::TimeDelta::days(1);
    println!("## Matching (pure domain: MatchIndex + matches_without_territory)\n");
    println!("| structures | calls | index (s) | candidate pairs | candidates (s) | matched pairs | check (s) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.3} | {} | {:.2} | {} | {:.2} |\n",
        o.structures,
        o.calls,
        secs(e.index_time),
        e.candidate_pairs,
        secs(e.candidates_time),
        e.matched_pairs,
        secs(e.check_time)
    );
    println!(
        "estimated reminders: {window_estimate} due in the {} days from {}; first due at {first_due}; \
         {} due at {restart} (backlog, target {})\n",
        o.window_days,
        o.today,
        e.due_at(restart),
        o.backlog
    );
    if o.dry_run {
        let first_day = first_due.with_timezone(&chrono_tz::Europe::Paris).date_naive();
        let mut day = first_day;
        while day <= last_stage {
            let evening = paris(day, NaiveTime::from_hms_opt(23, 0, 0).unwrap_or(NaiveTime::MIN));
            println!("due at {day} 23:00 Paris: {}", e.due_at(evening));
            day = add_days(day, 1);
        }
        return Ok(());
    }
    drop(e);
    let mut runs = Vec::new();
    for &mode in &o.modes {
        runs.push(run_mode(mode, &o, &set, setup, restart).await?);
    }
    print_runs(&o, &runs);
    Ok(())
}

async fn run_mode(mode: Mode, o: &Options, set: &Set, setup: DateTime<Utc>, restart: DateTime<Utc>) -> Result<Run> {
    let dir = tempfile::tempdir()?;
    let embedded = mode == Mode::Embedded;
    let (url, _pg) = database_url(embedded, dir.path(), "alerting", o.database_url.as_deref()).await?;
    let db = Db::connect(&url).await?;
    vigie_alerting::service::migrate(&db).await?;
    let clock = Clock::at(setup);
    let reading = clock.clone();
    let app = AlertingApp::new(
        db.clone(),
        AlertingSettings::local("https://vigie.example.org/alertes", SECRET.to_vec()),
        Arc::new(Notify::new()),
    )
    .with_now(Arc::new(move || reading.now()));
    for (n, themes) in set.themes.iter().enumerate() {
        let network = network_name(n);
        let (referent_name, referent_email) = if o.referents {
            (format!("Référent {network}"), format!("referent@{network}.example.org"))
        } else {
            (String::new(), String::new())
        };
        app.set_network_policy(&PolicyInput {
            network: network.clone(),
            local_hour: local_hour(n).format("%H:%M").to_string(),
            referent_name,
            referent_email,
            ..PolicyInput::default()
        })
        .await?;
        if !themes.is_empty() {
            app.set_preferences("network", &network, themes.clone(), Vec::new(), false)
                .await?;
        }
    }

    // 1. Load.
    let label = mode.label();
    reset_peak_rss();
    let started = Instant::now();
    match o.feed {
        Feed::Consumer => {
            let consumer = Consumer::new(db.clone(), Arc::new(InventoryReadModel::default()));
            for (i, envelope) in set.envelopes.iter().enumerate() {
                consumer.process(envelope).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                if (i + 1) % 50_000 == 0 {
                    eprintln!("{label}: {} structures in {:.1}s", i + 1, secs(started.elapsed()));
                }
            }
        }
        Feed::Batch => {
            let handler = InventoryReadModel::default();
            for chunk in set.envelopes.chunks(FEED_BATCH) {
                let mut tx = db.begin().await?;
                for envelope in chunk {
                    handler
                        .handle(&mut tx, envelope)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                tx.commit().await?;
            }
        }
    }
    let load_structures = started.elapsed();
    let load_structures_rss = peak_rss_mib();
    eprintln!(
        "{label}: structures loaded in {:.1}s, peak RSS {load_structures_rss:.0} MiB",
        secs(load_structures)
    );

    let started = Instant::now();
    let mut import_warnings = 0;
    for (f, file) in set.calls.chunks(CALLS_PER_FILE).enumerate() {
        let pages: Vec<serde_json::Value> = file
            .chunks(100)
            .enumerate()
            .map(|(p, aids)| {
                serde_json::json!({
                    "count": set.calls.len(),
                    "previous": null,
                    "next": null,
                    "page": p + 1,
                    "results": aids.iter().map(|c| c.aid.clone()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let report = app
            .import_file(
                "aides-territoires",
                &format!("aides-{f}.json"),
                &serde_json::to_vec(&pages)?,
            )
            .await?;
        import_warnings += report.problems.len();
    }
    let import_calls = started.elapsed();
    let calls_stored = app.list_calls(None, None, true).await?.len();
    eprintln!(
        "{label}: {calls_stored} calls imported in {:.1}s ({import_warnings} warnings)",
        secs(import_calls)
    );

    // 2. Planning: the reminders of the window.
    reset_peak_rss();
    let started = Instant::now();
    let to = add_days(o.today, i64::from(o.window_days) - 1);
    // As the server streams it: planned a day at a time in compact entries,
    // materialised chunk by chunk (`PreviewAlertsStream`), nothing kept.
    let preview_base_rss = rss_mib();
    let mut plan = app.preview_plan(o.today, to, None).await?;
    let preview_plan = started.elapsed();
    // What the context and calls alone hold, before any day is planned.
    let context_rss = rss_mib();
    let mut preview_alerts = 0;
    while !plan.is_done() {
        preview_alerts += plan.next_chunk(2_000).await?.len();
    }
    drop(plan);
    let preview = started.elapsed();
    let preview_rss = peak_rss_mib();
    eprintln!(
        "{label}: preview {preview_alerts} reminders in {:.1}s (context loaded in {:.1}s), \
         peak RSS {preview_rss:.0} MiB from {preview_base_rss:.0} MiB before (+{:.0} MiB; \
         the context and calls loaded: +{:.0} MiB)",
        secs(preview),
        secs(preview_plan),
        preview_rss - preview_base_rss,
        context_rss - preview_base_rss
    );

    // 3. Backlog after an outage.
    let at = restart;
    clock.set(at);
    reset_peak_rss();
    let started = Instant::now();
    let claimed = app.claim_due(at).await?;
    let claim = started.elapsed();
    let claim_rss = peak_rss_mib();
    eprintln!(
        "{label}: claimed {} reminders into {} messages ({} escalations) in {:.1}s, peak RSS {claim_rss:.0} MiB",
        claimed.claimed,
        claimed.messages,
        claimed.escalations,
        secs(claim)
    );
    let started = Instant::now();
    let again = app.claim_due(at).await?;
    let idle_claim = started.elapsed();
    if again.claimed != 0 {
        bail!("a second claim found {} more reminders", again.claimed);
    }
    eprintln!("{label}: a second claim found nothing in {:.1}s", secs(idle_claim));

    let webhooks = WebhookSender::new(Duration::from_secs(5))?;
    let (smtp_sent, smtp_bytes, smtp) = if o.smtp_messages > 0 {
        let server = SmtpServer::start().await?;
        let mailer = SmtpMailer::new(SmtpConfig {
            host: server.host().to_owned(),
            port: server.port(),
            from: "Vigie <alertes@vigie.example.org>".to_owned(),
            starttls: false,
            username: None,
            password: None,
            timeout: Duration::from_secs(30),
            ..SmtpConfig::default()
        })?;
        let channels = Channels::new(Mailbox::Smtp(Box::new(mailer)), webhooks);
        let (sent, elapsed) = drain(&app, &channels, o.smtp_messages).await?;
        let bytes = dir_bytes(&server_mail_dir(&server))?;
        (sent, bytes, elapsed)
    } else {
        (0, 0, Duration::ZERO)
    };
    let mails = dir.path().join("mails");
    let channels = Channels::new(
        Mailbox::Directory(mails.clone()),
        WebhookSender::new(Duration::from_secs(5))?,
    );
    let (files_sent, files) = drain(&app, &channels, usize::MAX).await?;
    let files_bytes = dir_bytes(&mails)?;
    let pending: i64 = sqlx::query("SELECT COUNT(*) AS n FROM al_messages WHERE status <> 'sent'")
        .fetch_one(db.pool())
        .await?
        .try_get("n")?;
    if pending != 0 {
        bail!("{pending} messages not sent after the drain");
    }
    let largest_message: i64 =
        sqlx::query("SELECT COALESCE(MAX(LENGTH(body_text) + LENGTH(body_html)), 0) AS n FROM al_messages")
            .fetch_one(db.pool())
            .await?
            .try_get("n")?;
    eprintln!(
        "{label}: delivered {smtp_sent} by SMTP in {:.1}s, {files_sent} to files in {:.1}s",
        secs(smtp),
        secs(files)
    );
    db.close().await;
    Ok(Run {
        mode,
        load_structures,
        load_structures_rss,
        import_calls,
        import_warnings,
        calls_stored,
        preview,
        preview_alerts,
        preview_rss,
        preview_base_rss,
        restart: at,
        claim,
        claim_rss,
        claimed: claimed.claimed,
        messages: claimed.messages,
        escalations: claimed.escalations,
        idle_claim,
        smtp_sent,
        smtp_bytes,
        smtp,
        files_sent,
        files_bytes,
        files,
        largest_message: u64::try_from(largest_message).unwrap_or(0),
    })
}

/// Delivers pending messages in passes of [`DELIVERY_BATCH`] (as
/// `dispatch_once` does) until `limit` are sent or none is left.
async fn drain(app: &AlertingApp, transport: &dyn Transport, limit: usize) -> Result<(usize, Duration)> {
    let started = Instant::now();
    let mut sent = 0;
    while sent < limit {
        let batch = u32::try_from((limit - sent).min(DELIVERY_BATCH as usize)).unwrap_or(DELIVERY_BATCH);
        let report = app.deliver_due(app.now(), transport, batch).await?;
        if report.retried + report.failed > 0 {
            bail!("{} messages refused, {} failed", report.retried, report.failed);
        }
        sent += report.sent;
        // A pass that gave leases back (half the lease gone by) left some due.
        if report.sent < batch as usize && report.released == 0 {
            break;
        }
    }
    Ok((sent, started.elapsed()))
}

fn server_mail_dir(server: &SmtpServer) -> std::path::PathBuf {
    // The sink stores its messages beside its log file (see vigie_testkit::smtp).
    server
        .log_file()
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
}

/// Total size of the files under `dir` (recursively), 0 when it does not exist.
fn dir_bytes(dir: &std::path::Path) -> Result<u64> {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            total += dir_bytes(&entry.path())?;
        } else if entry.path().extension().is_some_and(|e| e == "eml") {
            total += meta.len();
        }
    }
    Ok(total)
}

fn print_runs(o: &Options, runs: &[Run]) {
    let feed = match o.feed {
        Feed::Consumer => "Consumer::process, one event per transaction",
        Feed::Batch => "handler, 1,000 events per transaction",
    };
    println!("## Load ({feed})\n");
    println!(
        "| mode | structures | load (s) | structures/s | peak RSS (MiB) | calls | import (s) | calls/s | warnings |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.0} | {} | {:.1} | {:.0} | {} |",
            r.mode.label(),
            o.structures,
            secs(r.load_structures),
            rate(o.structures as u64, r.load_structures),
            r.load_structures_rss,
            r.calls_stored,
            secs(r.import_calls),
            rate(r.calls_stored as u64, r.import_calls),
            r.import_warnings
        );
    }
    println!(
        "\n## Planning: AlertingApp::preview_plan over {} days from {}, read chunk by chunk\n",
        o.window_days, o.today
    );
    println!("| mode | planned reminders | preview (s) | reminders/s | peak RSS (MiB) | RSS before (MiB) | preview's own (MiB) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} |",
            r.mode.label(),
            r.preview_alerts,
            secs(r.preview),
            rate(r.preview_alerts as u64, r.preview),
            r.preview_rss,
            r.preview_base_rss,
            r.preview_rss - r.preview_base_rss
        );
    }
    println!("\n## Backlog: claim_due then deliver_due until nothing is pending\n");
    println!("| mode | clock | claimed rows | messages | escalations | claim (s) | rows/s | claim peak RSS (MiB) | idle claim (s) | SMTP messages | SMTP (s) | SMTP msg/s | SMTP MB | file messages | files (s) | files msg/s | files MB | largest body (kB) |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        println!(
            "| {} | {} | {} | {} | {} | {:.1} | {:.0} | {:.0} | {:.1} | {} | {:.1} | {:.0} | {:.1} | {} | {:.1} | {:.0} | {:.1} | {:.0} |",
            r.mode.label(),
            r.restart.with_timezone(&chrono_tz::Europe::Paris).format("%Y-%m-%d %H:%M Paris"),
            r.claimed,
            r.messages,
            r.escalations,
            secs(r.claim),
            rate(r.claimed as u64, r.claim),
            r.claim_rss,
            secs(r.idle_claim),
            r.smtp_sent,
            secs(r.smtp),
            rate(r.smtp_sent as u64, r.smtp),
            r.smtp_bytes as f64 / 1e6,
            r.files_sent,
            secs(r.files),
            rate(r.files_sent as u64, r.files),
            r.files_bytes as f64 / 1e6,
            r.largest_message as f64 / 1e3
        );
    }
}
