//! One federation service per test on a fresh database, a fixed clock, and
//! builders of the events it consumes.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use prost::Message;
use sqlx::Row;
use tokio::sync::Notify;
use vigie_federation::app::{FederationApp, FederationSettings, Now};
use vigie_federation_domain::secrecy::Threshold;
use vigie_platform::db::Db;
use vigie_platform::events::{Envelope, HandlerError, Outcome};
use vigie_proto::dates::date_to_pb;
use vigie_proto::events::v1 as ev;
use vigie_proto::federation::v1::RegionSnapshot;
use vigie_proto::inventory::v1 as inv;
pub use vigie_testkit::Backend;
use vigie_testkit::TestDatabase;

/// The date every scenario runs on.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default()
}

fn noon() -> DateTime<Utc> {
    Utc.from_utc_datetime(&today().and_hms_opt(12, 0, 0).unwrap_or_default())
}

/// A migrated federation service.
pub struct Harness {
    pub app: FederationApp,
    pub db: Db,
    _database: TestDatabase,
}

impl Harness {
    pub async fn new(backend: Backend, region: &str) -> Result<Harness> {
        vigie_testkit::init_test_logging();
        let database = TestDatabase::create(backend, "federation").await?;
        let db = Db::connect(database.url()).await?;
        vigie_federation::service::migrate(&db).await?;
        let app = app_on(&db, region)?;
        Ok(Harness {
            app,
            db,
            _database: database,
        })
    }

    /// A second replica of the service on the same database.
    pub fn replica(&self) -> Result<FederationApp> {
        app_on(&self.db, &self.app.settings().region)
    }

    /// Delivers an envelope to the regional read model.
    pub async fn feed(&self, envelope: &Envelope) -> Result<Outcome> {
        let regional = vigie_federation::service::describe(&self.db, &self.app, None);
        let read_model = regional
            .find("federation-region")
            .context("a regional instance runs the regional read model")?;
        Ok(read_model.process(envelope).await?)
    }

    /// Delivers an envelope to the national reception.
    pub async fn receive(&self, envelope: &Envelope) -> Result<Outcome> {
        Ok(self.receive_raw(envelope).await?)
    }

    /// The same, with the handler's error as it is.
    pub async fn receive_raw(&self, envelope: &Envelope) -> Result<Outcome, HandlerError> {
        let national = vigie_federation::service::describe_national(&self.db, &self.app);
        match national.find("federation-national") {
            Some(reception) => reception.process(envelope).await,
            None => Err(HandlerError::Permanent(anyhow::anyhow!(
                "the national hub runs no reception of snapshots"
            ))),
        }
    }

    /// The snapshots in the outbox, in order.
    pub async fn published(&self) -> Result<Vec<(Envelope, RegionSnapshot)>> {
        let rows = sqlx::query(
            "SELECT id, subject, payload FROM vigie_outbox WHERE event_type = 'vigie.federation.region.aggregated.v1' ORDER BY seq",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let subject: String = row.try_get("subject")?;
                let payload: Vec<u8> = row.try_get("payload")?;
                let snapshot = RegionSnapshot::decode(payload.as_slice())?;
                let mut envelope = Envelope::new(
                    vigie_federation::events::SOURCE,
                    vigie_federation::events::REGION_AGGREGATED,
                    subject,
                    payload,
                );
                envelope.id = uuid::Uuid::parse_str(&id)?;
                Ok((envelope, snapshot))
            })
            .collect()
    }

    /// Rows of a table of the service (to scan what it keeps).
    pub async fn count(&self, table: &str) -> Result<i64> {
        let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(self.db.pool())
            .await?;
        row.try_get(0).context("count")
    }
}

fn app_on(db: &Db, region: &str) -> Result<FederationApp> {
    let now: Now = Arc::new(noon);
    let settings = FederationSettings {
        region: region.to_owned(),
        threshold: Threshold::new(5)?,
        publish_every: std::time::Duration::from_secs(6 * 3600),
        stale_after: std::time::Duration::from_secs(48 * 3600),
    };
    Ok(vigie_federation::service::application(
        db.clone(),
        settings,
        now,
        Arc::new(Notify::new()),
    ))
}

/// A structure of the scenarios.
pub struct Place<'a> {
    pub id: &'a str,
    pub network: &'a str,
    pub department: &'a str,
}

pub fn inventoried(p: &Place<'_>, version: u64) -> Envelope {
    let payload = ev::StructureInventoried {
        structure: Some(inv::Structure {
            structure_id: p.id.to_owned(),
            name: format!("Association {}", p.id),
            network: p.network.to_owned(),
            department_code: p.department.to_owned(),
            version,
            ..Default::default()
        }),
    };
    Envelope::of("/vigie/inventory", p.id, &payload)
}

/// An assessment: `band`, `score`, the funding function held by `funding`
/// people, `orphans` functions nobody holds.
pub fn assessed(p: &Place<'_>, band: inv::Band, score: u32, funding: usize, orphans: &[&str]) -> Envelope {
    let holders: Vec<String> = (0..funding).map(|i| format!("{}-P{i}", p.id)).collect();
    let payload = ev::FragilityAssessed {
        fragility: Some(inv::StructureFragility {
            structure_id: p.id.to_owned(),
            name: format!("Association {}", p.id),
            network: p.network.to_owned(),
            band: band as i32,
            score: Some(score),
            orphan_functions: orphans.iter().map(|s| (*s).to_owned()).collect(),
            spof_functions: if funding == 1 {
                vec!["funding_applications".to_owned()]
            } else {
                Vec::new()
            },
            top_key_person_id: holders.first().cloned().unwrap_or_default(),
            top_key_person_name: "Anne Martin".to_owned(),
            director_dependency: 0.6,
            functions: vec![inv::FunctionExposure {
                code: "funding_applications".to_owned(),
                holder_ids: holders,
                ..Default::default()
            }],
            ..Default::default()
        }),
        evaluated_on: Some(date_to_pb(today())),
        ..Default::default()
    };
    Envelope::of("/vigie/inventory", p.id, &payload)
}

pub fn reminder(structure: &str, call: &str, deadline: NaiveDate) -> Envelope {
    let payload = ev::ReminderSent {
        structure_id: structure.to_owned(),
        call_id: call.to_owned(),
        stage_kind: "submission".to_owned(),
        deadline: Some(date_to_pb(deadline)),
        days_before: 14,
        recipient_kind: "holder".to_owned(),
        sent_on: Some(date_to_pb(today())),
    };
    Envelope::of("/vigie/alerting", structure, &payload)
}

pub fn acknowledged(structure: &str, call: &str, status: &str) -> Envelope {
    let payload = ev::CallAcknowledged {
        structure_id: structure.to_owned(),
        call_id: call.to_owned(),
        status: status.to_owned(),
        on: Some(date_to_pb(today())),
    };
    Envelope::of("/vigie/alerting", structure, &payload)
}

pub fn time_recorded(structure: &str, network: &str, beneficiary: &str, minutes: u32) -> Envelope {
    let payload = ev::FacilitationTimeRecorded {
        intervention_key: format!("{structure}/{minutes}"),
        structure_id: structure.to_owned(),
        network: network.to_owned(),
        beneficiary: beneficiary.to_owned(),
        minutes,
        on: Some(date_to_pb(today())),
    };
    Envelope::of("/vigie/facilitation", structure, &payload)
}

pub fn completed(structure: &str) -> Envelope {
    let payload = ev::TrainingCompleted {
        session_id: "SESS1".to_owned(),
        training_id: "T1".to_owned(),
        person_id: format!("{structure}-P0"),
        structure_id: structure.to_owned(),
        completed_on: Some(date_to_pb(today())),
        raises: Vec::new(),
    };
    Envelope::of("/vigie/training", structure, &payload)
}

/// A snapshot event as a region would send it.
pub fn snapshot_event(snapshot: &RegionSnapshot) -> Envelope {
    Envelope::of(vigie_federation::events::SOURCE, snapshot.region.clone(), snapshot)
}

/// An assessment naming the functions nobody holds and those one person holds
/// (issue 16: `funder_reporting` among them or not).
pub fn assessed_with(p: &Place<'_>, orphans: &[&str], single: &[&str]) -> Envelope {
    let payload = ev::FragilityAssessed {
        fragility: Some(inv::StructureFragility {
            structure_id: p.id.to_owned(),
            name: format!("Association {}", p.id),
            network: p.network.to_owned(),
            band: inv::Band::Moderate as i32,
            score: Some(30),
            orphan_functions: orphans.iter().map(|s| (*s).to_owned()).collect(),
            spof_functions: single.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        }),
        evaluated_on: Some(date_to_pb(today())),
        ..Default::default()
    };
    Envelope::of("/vigie/inventory", p.id, &payload)
}

/// A decision on a grant: `stage` won or refused, `euros` granted, on `on`.
pub fn grant(structure: &str, grant_id: &str, stage: &str, euros: i64, on: NaiveDate) -> Envelope {
    let payload = ev::GrantRecorded {
        structure_id: structure.to_owned(),
        grant_id: grant_id.to_owned(),
        call_id: String::new(),
        funder: "Région Bretagne".to_owned(),
        stage: stage.to_owned(),
        amount_granted_cents: euros * 100,
        financial_year_end: Some(date_to_pb(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default())),
        public_subsidy: true,
        on: Some(date_to_pb(on)),
    };
    Envelope::of("/vigie/alerting", structure, &payload)
}

/// A reminder of a structure's reporting duty `key`, due on `due`.
pub fn duty_reminded(structure: &str, key: &str, due: NaiveDate) -> Envelope {
    let payload = ev::ObligationReminded {
        structure_id: structure.to_owned(),
        obligation_key: key.to_owned(),
        rule: "financial_report_6_months".to_owned(),
        due: Some(date_to_pb(due)),
        draft: Some(date_to_pb(due - chrono::Duration::days(14))),
        days_before: 30,
        recipient_kind: "holder".to_owned(),
        sent_on: Some(date_to_pb(today())),
        draft_reminder: false,
    };
    Envelope::of("/vigie/alerting", structure, &payload)
}

/// A duty marked sent (`status` = "sent") or taken back (""), today.
pub fn duty_acknowledged(structure: &str, key: &str, status: &str, due: NaiveDate) -> Envelope {
    let payload = ev::ObligationAcknowledged {
        structure_id: structure.to_owned(),
        obligation_key: key.to_owned(),
        rule: "financial_report_6_months".to_owned(),
        status: status.to_owned(),
        due: Some(date_to_pb(due)),
        on: Some(date_to_pb(today())),
    };
    Envelope::of("/vigie/alerting", structure, &payload)
}
