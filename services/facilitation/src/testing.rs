//! A migrated facilitation service on its own database, for its contract
//! suite and for the cross-service scenarios of `tests/` (feature
//! `testing`, dev-only): a clock the scenarios move, its consumers as the
//! service describes them, envelopes of the inventory and of alerting to
//! feed them, and its outbox read back.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use tokio::sync::Notify;
use vigie_inventory_set::generate::{generate, GenerateParams, GeneratedSet};
use vigie_platform::db::Db;
use vigie_platform::events::{Consumer, Envelope, Event, Outcome};
use vigie_platform::testing::{fresh_db, outbox_envelopes};
use vigie_proto::events::v1::{DeadlineEscalated, FragilityAssessed, StructureInventoried};
use vigie_proto::inventory::v1 as inv;
use vigie_testkit::{Backend, ContractHarness, TestDatabase};

use crate::app::{Clock, FacilitationApp};
use crate::erasure::PseudonymKey;
use crate::error::FacilitationError;

/// The pseudonym secret of the consumers the harness takes from the
/// service's description (the erasure scenarios bring their own key).
const PSEUDONYM_SECRET: &[u8] = b"the facilitation tests' pseudonym secret";

/// `ce-source` of the inventory's events (`vigie_inventory::events::SOURCE`).
const INVENTORY_SOURCE: &str = "/vigie/inventory";

/// The date every scenario runs on (both services' clocks): a Saturday.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default()
}

/// The instant the facilitation clock starts at: 09:00 UTC on [`today`].
pub fn start() -> DateTime<Utc> {
    today().and_hms_opt(9, 0, 0).unwrap_or_default().and_utc()
}

/// A migrated facilitation service and its database.
pub struct TestFacilitation {
    /// The application service under test.
    pub app: FacilitationApp,
    /// Its database (outbox, read model).
    pub db: Db,
    now: Arc<Mutex<DateTime<Utc>>>,
    /// Keeps the database alive (dropped after `db`); its engine.
    database: TestDatabase,
}

impl ContractHarness for TestFacilitation {
    async fn on(backend: Backend) -> Result<TestFacilitation> {
        let (db, database) = fresh_db(backend, "facilitation").await?;
        crate::service::migrate(&db).await?;
        let clock: Clock = Arc::new(today);
        let now = Arc::new(Mutex::new(start()));
        let read = now.clone();
        let app =
            crate::service::application(db.clone(), clock, Arc::new(Notify::new())).with_now(Arc::new(move || {
                *read.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
            }));
        Ok(TestFacilitation { app, db, now, database })
    }
}

impl TestFacilitation {
    /// The backend of its database (a service beside it takes the same).
    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    /// The facilitation consumer `name`, as the service describes it
    /// (pseudonyms made with `key`).
    pub fn consumer(&self, name: &str, key: &PseudonymKey) -> Result<Consumer> {
        crate::service::describe(&self.db, &self.app, key)
            .find(name)
            .cloned()
            .with_context(|| format!("facilitation runs no consumer {name}"))
    }

    /// The inventory read model's consumer, as the service wires it.
    pub fn read_model(&self) -> Result<Consumer> {
        self.consumer("facilitation-inventory", &PseudonymKey::new(PSEUDONYM_SECRET))
    }

    /// Delivers one envelope to the read model.
    pub async fn feed(&self, envelope: &Envelope) -> Result<Outcome> {
        Ok(self.read_model()?.process(envelope).await?)
    }

    /// The alerting escalations' consumer, as the service wires it.
    pub fn alerting(&self) -> Result<Consumer> {
        self.consumer("facilitation-alerting", &PseudonymKey::new(PSEUDONYM_SECRET))
    }

    /// Delivers one alerting envelope to its consumer.
    pub async fn escalate(&self, envelope: &Envelope) -> Result<Outcome> {
        Ok(self.alerting()?.process(envelope).await?)
    }

    /// The events of one type in the facilitation outbox, in order.
    pub async fn outbox(&self, event_type: &str) -> Result<Vec<Envelope>> {
        outbox_envelopes(&self.db, Some(event_type)).await
    }

    /// Imports facilitators that must be valid.
    pub async fn import(&self, rows: &[&str]) -> Result<usize> {
        match self.app.import_facilitators(&facilitators_csv(rows)).await {
            Ok(count) => Ok(count),
            Err(FacilitationError::Rejected(errors)) => {
                let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
                anyhow::bail!("facilitators rejected:\n{}", shown.join("\n"))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Makes a structure known to the read model (its people `P1`…`Pn`).
    pub async fn structure(&self, id: &str, network: &str, commune: &str, people: &[&str]) -> Result<()> {
        let outcome = self.feed(&structure_event(id, network, commune, people, 1)).await?;
        anyhow::ensure!(outcome == Outcome::Applied, "{id}: {outcome:?}");
        Ok(())
    }

    /// Sets the facilitation clock to [`start`] plus `minutes`.
    pub fn at(&self, minutes: i64) -> DateTime<Utc> {
        let t = start() + TimeDelta::minutes(minutes);
        *self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = t;
        t
    }

    /// `(capacity, committed)` of a facilitator this week.
    pub async fn load(&self, facilitator: &str) -> Result<(u32, u32)> {
        Ok(self.app.week_load(facilitator, today()).await?.unwrap_or((0, 0)))
    }
}

/// `facilitators.csv` from data rows (the header is added).
pub fn facilitators_csv(rows: &[&str]) -> Vec<u8> {
    let mut text = vigie_facilitation_domain::facilitators_csv::FACILITATORS_HEADER.join(",");
    text.push('\n');
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text.into_bytes()
}

/// An envelope of the inventory's carrying `message`, keyed by `subject`.
pub fn inventory_event<E: Event>(subject: impl Into<String>, message: &E) -> Envelope {
    Envelope::of(INVENTORY_SOURCE, subject, message)
}

/// A `structure.inventoried` envelope of a small structure in department 35.
pub fn structure_event(id: &str, network: &str, commune: &str, people: &[&str], version: u64) -> Envelope {
    let structure = inv::Structure {
        structure_id: id.to_owned(),
        name: format!("Structure {id}"),
        network: network.to_owned(),
        legal_form: "association".to_owned(),
        department_code: commune.chars().take(2).collect(),
        commune_insee: commune.to_owned(),
        region_code: "53".to_owned(),
        people: people
            .iter()
            .map(|p| inv::Person {
                person_id: (*p).to_owned(),
                display_name: format!("Personne {p}"),
                role: "employee".to_owned(),
                ..Default::default()
            })
            .collect(),
        version,
        ..Default::default()
    };
    inventory_event(
        id,
        &StructureInventoried {
            structure: Some(structure),
        },
    )
}

/// A `structure.fragility_assessed` envelope: `band`, `function` held by
/// `holders` (none: orphan; one: single point of failure).
pub fn fragility_event(id: &str, network: &str, band: inv::Band, function: &str, holders: &[&str]) -> Envelope {
    let exposure = inv::FunctionExposure {
        code: function.to_owned(),
        label: function.to_owned(),
        criticality: 3,
        holder_ids: holders.iter().map(|h| (*h).to_owned()).collect(),
        risk: 0.9,
    };
    let fragility = inv::StructureFragility {
        structure_id: id.to_owned(),
        name: format!("Structure {id}"),
        network: network.to_owned(),
        band: band as i32,
        score: Some(80),
        orphan_functions: if holders.is_empty() {
            vec![function.to_owned()]
        } else {
            vec![]
        },
        spof_functions: if holders.len() == 1 {
            vec![function.to_owned()]
        } else {
            vec![]
        },
        functions: vec![
            inv::FunctionExposure {
                code: "communication".to_owned(),
                label: "communication".to_owned(),
                criticality: 1,
                holder_ids: vec![],
                risk: 0.1,
            },
            exposure,
        ],
        ..Default::default()
    };
    inventory_event(
        id,
        &FragilityAssessed {
            fragility: Some(fragility),
            ..Default::default()
        },
    )
}

/// A `call.escalated` envelope from the alerting service: the submission
/// of `call` (titled `Appel <call>`) closes on `deadline` while
/// `funding_applications` of `structure` rests on one person.
pub fn escalation_event(structure: &str, call: &str, deadline: NaiveDate) -> Envelope {
    Envelope::of(
        "/vigie/alerting",
        structure,
        &DeadlineEscalated {
            structure_id: structure.to_owned(),
            call_id: call.to_owned(),
            call_title: format!("Appel {call}"),
            stage_kind: "submission".to_owned(),
            deadline: Some(vigie_proto::dates::date_to_pb(deadline)),
            time: Some("12:00".to_owned()),
            timezone: "Europe/Paris".to_owned(),
            function: "funding_applications".to_owned(),
            reason: "spof".to_owned(),
            url: format!("https://aides-territoires.beta.gouv.fr/aides/{call}/"),
        },
    )
}

/// A generated set of `n` structures.
pub fn set(n: usize, seed: u64) -> GeneratedSet {
    generate(GenerateParams {
        structures: n,
        seed,
        today: today(),
    })
}

/// Fails with context when `result` is not the expected error.
pub fn expect_err<T: std::fmt::Debug>(
    result: Result<T, FacilitationError>,
    matches: impl Fn(&FacilitationError) -> bool,
    what: &str,
) -> Result<()> {
    match result {
        Err(e) if matches(&e) => Ok(()),
        other => Err(anyhow::anyhow!("{what}: unexpected {other:?}")).context("expect_err"),
    }
}
