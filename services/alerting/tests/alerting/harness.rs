//! One isolated alerting service per test — a SQLite file in a temporary
//! directory or a fresh PostgreSQL database — with a settable clock, helpers
//! to feed its inventory read model with real envelopes, to import calls in
//! the Aides-territoires format, and to read its outbox.

use std::sync::{Arc, Mutex};

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use sqlx::Row;
use tokio::sync::Notify;
use vigie_alerting::app::{AlertingApp, AlertingSettings, ImportReport, PolicyInput, Transport};
use vigie_alerting::channels::address::AddressPolicy;
use vigie_alerting::service::dispatch_once;
use vigie_platform::auth::testing::caller;
use vigie_platform::auth::{Principal, Role, Scope};
use vigie_platform::db::Db;
use vigie_platform::events::{Consumer, Envelope, Outcome};
use vigie_proto::common::v1::Date;
use vigie_proto::dates::date_to_pb;
use vigie_proto::events::v1::StructureInventoried;
use vigie_proto::inventory::v1 as inv;
use vigie_testkit::{Backend, ContractHarness, TestDatabase};

/// The secret of the signed links in tests.
pub const SECRET: &[u8] = b"test-secret-of-at-least-32-bytes!!";

/// A migrated alerting service and its database.
pub struct Harness {
    /// The application service under test.
    pub app: AlertingApp,
    /// Its database.
    pub db: Db,
    now: Arc<Mutex<DateTime<Utc>>>,
    _database: TestDatabase,
}

/// `YYYY-MM-DD HH:MM` UTC.
pub fn utc(text: &str) -> DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// A date.
pub fn date(text: &str) -> NaiveDate {
    text.parse().unwrap_or_default()
}

impl ContractHarness for Harness {
    async fn on(backend: Backend) -> Result<Harness> {
        let (db, database) = vigie_platform::testing::fresh_db(backend, "alerting").await?;
        vigie_alerting::service::migrate(&db).await?;
        Ok(Self::over(db, database))
    }
}

impl Harness {
    fn over(db: Db, database: TestDatabase) -> Harness {
        let now = Arc::new(Mutex::new(utc("2027-01-04 10:00")));
        let app = Self::app_on(&db, &now);
        Harness {
            app,
            db,
            now,
            _database: database,
        }
    }

    fn app_on(db: &Db, now: &Arc<Mutex<DateTime<Utc>>>) -> AlertingApp {
        let read = now.clone();
        AlertingApp::new(
            db.clone(),
            AlertingSettings::local("https://vigie.example.org/alertes", SECRET.to_vec()),
            Arc::new(Notify::new()),
        )
        .with_now(Arc::new(move || {
            *read.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        }))
        // The webhook receivers of the tests listen on loopback.
        .with_webhook_addresses(AddressPolicy::allow_all())
    }

    /// A second application over the same database (a restarted process, or
    /// another replica: its lease owner differs).
    pub fn restarted(&self) -> AlertingApp {
        Self::app_on(&self.db, &self.now)
    }

    /// An application over the same database with the default webhook
    /// address policy (public addresses only).
    pub fn public_webhooks_only(&self) -> AlertingApp {
        self.restarted().with_webhook_addresses(AddressPolicy::public_only())
    }

    /// Sets the clock.
    pub fn at(&self, instant: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = instant;
    }

    /// Sets the clock to `when` (`YYYY-MM-DD HH:MM` UTC) and runs one pass
    /// of the dispatcher there: what is due is claimed and delivered
    /// through `transport`.
    pub async fn pass_at(&self, when: &str, transport: &dyn Transport) -> Result<()> {
        self.at(utc(when));
        dispatch_once(&self.app, transport).await
    }

    /// Delivers an inventory envelope to the read model.
    pub async fn feed(&self, envelope: &Envelope) -> Result<Outcome> {
        Ok(self.consumer("alerting-inventory", None)?.process(envelope).await?)
    }

    /// Delivers a new inventory envelope, which the read model must apply.
    pub async fn feed_applied(&self, envelope: &Envelope) -> Result<()> {
        let outcome = self.feed(envelope).await?;
        anyhow::ensure!(outcome == Outcome::Applied, "{outcome:?}");
        Ok(())
    }

    /// Feeds the snapshot of structure `id`, in Rennes (commune 35238,
    /// region 53) and in [`BRETAGNE`], the network of the reminder scenarios.
    pub async fn rennes(&self, id: &str, people: &[PersonSpec<'_>]) -> Result<()> {
        self.feed_applied(&structure_event(id, BRETAGNE, "35238", "53", people, 1))
            .await
    }

    /// The alerting consumer `name`, as the service describes it (emails
    /// written to `mail_dir`, if any).
    pub fn consumer(&self, name: &str, mail_dir: Option<std::path::PathBuf>) -> Result<Consumer> {
        let key = vigie_inventory_readmodel::PseudonymKey::new(b"the alerting tests' pseudonym secret");
        vigie_alerting::service::describe(&self.db, &key, mail_dir, None)
            .find(name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("alerting runs no consumer {name}"))
    }

    /// Delivers an erasure envelope.
    pub async fn erase(&self, envelope: &Envelope) -> Result<Outcome> {
        self.erase_with_mails(envelope, None).await
    }

    /// Delivers an erasure envelope, emails being written to `mail_dir`.
    pub async fn erase_with_mails(&self, envelope: &Envelope, mail_dir: Option<std::path::PathBuf>) -> Result<Outcome> {
        Ok(self.consumer("alerting-erasures", mail_dir)?.process(envelope).await?)
    }

    /// Imports an Aides-territoires page that must be accepted.
    pub async fn import(&self, aids: &[serde_json::Value]) -> Result<ImportReport> {
        Ok(self
            .app
            .import_file("aides-territoires", "aides.json", &page(aids))
            .await?)
    }

    /// Events of one type in the outbox.
    pub async fn outbox_count(&self, event_type: &str) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM vigie_outbox WHERE event_type = $1")
                .bind(event_type.to_owned())
                .fetch_one(self.db.pool())
                .await?
                .try_get("n")?,
        )
    }

    /// Events of one type in the outbox, in commit order: `(ce-subject, payload)`.
    pub async fn outbox<M: Message + Default>(&self, event_type: &str) -> Result<Vec<(String, M)>> {
        let rows = sqlx::query("SELECT subject, payload FROM vigie_outbox WHERE event_type = $1 ORDER BY seq")
            .bind(event_type.to_owned())
            .fetch_all(self.db.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let payload: Vec<u8> = row.try_get("payload")?;
                Ok((row.try_get("subject")?, M::decode(payload.as_slice())?))
            })
            .collect()
    }

    /// Rows of a table.
    pub async fn count(&self, table: &str) -> Result<i64> {
        Ok(sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(self.db.pool())
            .await?
            .try_get("n")?)
    }
}

/// The network of the reminder scenarios.
pub const BRETAGNE: &str = "reseau-bretagne";

/// The referent of [`BRETAGNE`], to whom the reminders resting on one
/// person escalate.
pub const REFERENT: &str = "referente@reseau.example.org";

/// [`BRETAGNE`]'s policy naming its referent, Camille Référente; the
/// defaults otherwise (a scenario changes more with `..bretagne_with_referent()`).
pub fn bretagne_with_referent() -> PolicyInput {
    PolicyInput {
        network: BRETAGNE.into(),
        referent_name: "Camille Référente".into(),
        referent_email: REFERENT.into(),
        ..PolicyInput::default()
    }
}

/// The networks of the grant scenarios.
pub const NET_A: &str = "reseau-a";
/// The other network, whose people must see nothing of the first.
pub const NET_B: &str = "reseau-b";

/// A date of the grant scenarios, `YYYY-MM-DD`, as the API carries it.
pub fn d(text: &str) -> Option<Date> {
    let date: NaiveDate = text.parse().ok()?;
    Some(date_to_pb(date))
}

/// The grant scenarios' structures: SA1 and SA2 in [`NET_A`], SB1 in
/// [`NET_B`], each with a director who holds nothing.
pub async fn grant_structures(h: &Harness) -> Result<()> {
    let director = [PersonSpec::director("D1")];
    for (id, network) in [("SA1", NET_A), ("SA2", NET_A), ("SB1", NET_B)] {
        h.feed_applied(&structure_event(id, network, "35238", "53", &director, 1))
            .await?;
    }
    Ok(())
}

/// The token of a feed URL (`…/calendar/<token>.ics`).
pub fn feed_token(url: &str) -> String {
    url.rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".ics")
        .to_owned()
}

/// The administrator of `network`.
pub fn admin_of(network: &str) -> Principal {
    caller(Role::NetworkAdmin, Scope::Network(network.to_owned()))
}

/// An Aides-territoires envelope of `aids`.
pub fn page(aids: &[serde_json::Value]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "count": aids.len(), "previous": null, "next": null, "results": aids
    }))
    .unwrap_or_default()
}

/// An aid with a submission deadline, for associations, on `perimeter` (a region name…).
pub fn aid(id: u32, perimeter: &str, scale: &str, deadline: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "slug": format!("aide-{id}"),
        "url": format!("/aides/aide-{id}/"),
        "name": format!("Appel à projets n° {id}"),
        "name_initial": format!("Appel à projets n° {id}"),
        "financers": ["Région Bretagne"],
        "instructors": [],
        "programs": [],
        "categories": ["Solidarités / Vie associative"],
        "targeted_audiences": ["Associations"],
        "aid_types": ["Subvention"],
        "recurrence": "Ponctuelle",
        "perimeter": perimeter,
        "perimeter_scale": scale,
        "start_date": "2026-12-01",
        "predeposit_date": null,
        "submission_deadline": deadline,
        "is_call_for_project": true,
        "origin_url": "",
        "application_url": format!("https://demarches.example.org/{id}"),
        "date_created": "2026-12-01",
        "date_updated": "2026-12-01"
    })
}

/// A person of a structure snapshot.
pub struct PersonSpec<'a> {
    /// Id.
    pub id: &'a str,
    /// director, employee…
    pub role: &'a str,
    /// Level on funding_applications (0 = no holding).
    pub funding_level: u32,
    /// End of engagement.
    pub end: Option<&'a str>,
}

impl<'a> PersonSpec<'a> {
    /// `id`, a `role` who stays, holding the function at `funding_level`.
    pub fn staying(id: &'a str, role: &'a str, funding_level: u32) -> Self {
        PersonSpec {
            id,
            role,
            funding_level,
            end: None,
        }
    }

    /// A director who holds nothing.
    pub fn director(id: &'a str) -> Self {
        Self::staying(id, "director", 0)
    }

    /// A director who alone holds the function (level 3): whose reminders
    /// escalate to the network's referent.
    pub fn sole_holder(id: &'a str) -> Self {
        Self::staying(id, "director", 3)
    }

    /// The same person, leaving on `end` (`YYYY-MM-DD`).
    pub fn leaving(self, end: &'a str) -> Self {
        PersonSpec { end: Some(end), ..self }
    }
}

/// A director who holds nothing and two employees holding the function at
/// levels 3 and 4: no one holds it alone, nothing escalates.
pub fn director_and_two_holders<'a>(director: &'a str, first: &'a str, second: &'a str) -> Vec<PersonSpec<'a>> {
    vec![
        PersonSpec::director(director),
        PersonSpec::staying(first, "employee", 3),
        PersonSpec::staying(second, "employee", 4),
    ]
}

/// A `structure.inventoried` envelope: an association of `network` in `commune` (region 53 when in 35).
pub fn structure_event(
    id: &str,
    network: &str,
    commune: &str,
    region: &str,
    people: &[PersonSpec<'_>],
    version: u64,
) -> Envelope {
    structure_event_holding(id, network, commune, region, people, "funding_applications", version)
}

/// [`structure_event`] whose people's `funding_level` is their level on
/// `function` (`funder_reporting` for the reminders of reporting duties).
pub fn structure_event_holding(
    id: &str,
    network: &str,
    commune: &str,
    region: &str,
    people: &[PersonSpec<'_>],
    function: &str,
    version: u64,
) -> Envelope {
    let structure = inv::Structure {
        structure_id: id.to_owned(),
        name: format!("Structure {id}"),
        network: network.to_owned(),
        legal_form: "association".to_owned(),
        department_code: commune.chars().take(2).collect(),
        commune_insee: commune.to_owned(),
        region_code: region.to_owned(),
        people: people
            .iter()
            .map(|p| inv::Person {
                person_id: p.id.to_owned(),
                display_name: format!("Personne {}", p.id),
                role: p.role.to_owned(),
                end_date: p.end.map(|e| date_to_pb(date(e))),
                email: format!("{}@asso.example.org", p.id.to_lowercase()),
            })
            .collect(),
        holdings: people
            .iter()
            .filter(|p| p.funding_level > 0)
            .map(|p| inv::Holding {
                person_id: p.id.to_owned(),
                function: function.to_owned(),
                level: p.funding_level,
                ..Default::default()
            })
            .collect(),
        version,
        ..Default::default()
    };
    inventoried(structure)
}

/// The `structure.inventoried` envelope of a snapshot, as the inventory
/// publishes it.
pub fn inventoried(structure: inv::Structure) -> Envelope {
    Envelope::of(
        "/vigie/inventory",
        structure.structure_id.clone(),
        &StructureInventoried {
            structure: Some(structure),
        },
    )
}
