//! Use cases of the alerting service. Each change is one transaction; a
//! claim of reminders commits its send-log rows, its message and its
//! escalation events together, so a crash at any point loses nothing and
//! never sends a reminder twice (docs/alerting.md).

mod call_plans;
mod context;
mod dispatch;
mod duties;
mod feeds;
pub mod grant_stats;
// Issue 16, import of grants.
mod grant_import;
pub mod grants;
mod import;
mod listing;
pub mod metrics;
mod preview;
mod reminder_events;
mod settings;
pub mod views;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::Notify;
use vigie_alerting_domain::connectors::feed::FeedMapping;
use vigie_alerting_domain::territory::Territory;
use vigie_fragility_model::fragility::FragilityParams;
use vigie_platform::db::Db;

use crate::channels::links::{LinkKey, LinkSigner, DEFAULT_KEY_ID};

pub use context::{Context, StructureView};
pub use dispatch::{DeliveryReport, DispatchReport, Transport};
pub use duties::DutyStates;
pub use grant_import::{GrantImportInput, GrantImportReport, GRANTS_SHEET};
pub use grant_stats::{DutyAtRisk, GrantStats, Reporting};
pub use grants::{AgreementDateInput, ApplicationInput, Change, GrantInput, ObligationView, Pipeline};
pub use import::ImportReport;
pub use listing::{CallView, CallsOf, PreviewAlert};
pub use preview::PreviewPlan;
pub use settings::{NetworkPolicy, PolicyInput};

/// Gives the current instant (injectable for tests).
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system's current instant.
pub fn system_now() -> Now {
    Arc::new(Utc::now)
}

/// A source fetched over the network on a schedule or with `vigie calls fetch`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // a handful per instance, built once
pub enum RemoteSource {
    /// The Aides-territoires API.
    AidesTerritoires {
        /// `https://aides-territoires.beta.gouv.fr`.
        base_url: String,
        /// The API key sent as `X-AUTH-TOKEN`.
        api_key: String,
    },
    /// An RSS or Atom feed with its mapping.
    Feed {
        /// The feed's URL.
        url: String,
        /// How to read its items.
        mapping: FeedMapping,
    },
}

/// Settings of the alerting service.
#[derive(Debug, Clone)]
pub struct AlertingSettings {
    /// Public base URL of the alerting HTTP endpoints (links in messages, calendar feeds).
    pub public_url: String,
    /// Secret of the signed links and feed URLs (the current key, which signs).
    pub link_secret: Vec<u8>,
    /// Id of the current key, written in every token it signs.
    pub link_key_id: String,
    /// Previous keys, which still verify the links they signed.
    pub previous_link_keys: Vec<LinkKey>,
    /// Base URL for relative Aides-territoires links in file imports.
    pub aides_territoires_base: String,
    /// Sources by name (`aides-territoires`, `feed:<name>`).
    pub sources: BTreeMap<String, RemoteSource>,
}

impl AlertingSettings {
    /// Settings for a local trial: links on `public_url`, no remote source.
    pub fn local(public_url: impl Into<String>, link_secret: Vec<u8>) -> Self {
        AlertingSettings {
            public_url: public_url.into(),
            link_secret,
            link_key_id: DEFAULT_KEY_ID.to_owned(),
            previous_link_keys: Vec::new(),
            aides_territoires_base: crate::AIDES_TERRITOIRES_BASE.to_owned(),
            sources: BTreeMap::new(),
        }
    }

    /// The signer of this key ring.
    ///
    /// # Errors
    /// A bad or repeated key id, a secret under 32 bytes.
    pub fn link_signer(&self) -> Result<LinkSigner, crate::channels::links::KeyRingError> {
        let current = LinkKey {
            id: self.link_key_id.clone(),
            secret: self.link_secret.clone(),
        };
        LinkSigner::with_ring(&current, &self.previous_link_keys)
    }

    /// The mapping of a `feed:<name>` source, when configured.
    pub fn feed_mapping(&self, source: &str) -> Option<&FeedMapping> {
        match self.sources.get(source) {
            Some(RemoteSource::Feed { mapping, .. }) => Some(mapping),
            _ => None,
        }
    }
}

/// How long a replica holds the messages it leased before sending them
/// (docs/alerting.md, "Several replicas"), unless configured.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(300);

/// The alerting application service.
#[derive(Clone)]
pub struct AlertingApp {
    db: Db,
    now: Now,
    relay: Arc<Notify>,
    settings: Arc<AlertingSettings>,
    links: Arc<LinkSigner>,
    wake: Arc<Notify>,
    /// Holder of this process's message leases: random, so two replicas
    /// (or a restarted process) never share one.
    lease_owner: Arc<str>,
    lease: std::time::Duration,
    /// Which addresses webhooks may reach, checked when one is configured.
    webhook_addresses: Arc<crate::channels::address::AddressPolicy>,
    /// Delivery counters (`metrics.rs`).
    metrics: metrics::DeliveryMetrics,
    /// When the open duties' reminders fall due, as the last claim pass
    /// that derived them found (`duties.rs`): quiet passes read these.
    duty_instants: Arc<std::sync::Mutex<Option<duties::DutyInstants>>>,
    /// The instance's fragility parameters: who holds a function — hence
    /// who receives reminders — follows the index's rule under the same
    /// settings (`vigie_fragility_model::holding`).
    fragility: Arc<FragilityParams>,
}

impl AlertingApp {
    /// Builds the service over a migrated database; `relay` is woken after
    /// commits that appended events.
    pub fn new(db: Db, settings: AlertingSettings, relay: Arc<Notify>) -> Self {
        // The configuration validates the ring before start (`vigie` refuses a
        // bad one); should a caller skip that, the current secret alone signs.
        let links = Arc::new(settings.link_signer().unwrap_or_else(|error| {
            tracing::error!(%error, "invalid link key ring, only the current key verifies");
            LinkSigner::new(&settings.link_secret)
        }));
        AlertingApp {
            db,
            now: system_now(),
            relay,
            settings: Arc::new(settings),
            links,
            wake: Arc::new(Notify::new()),
            lease_owner: Arc::from(uuid::Uuid::now_v7().to_string()),
            lease: DEFAULT_LEASE,
            webhook_addresses: Arc::new(crate::channels::address::AddressPolicy::public_only()),
            metrics: metrics::DeliveryMetrics::new(),
            duty_instants: Arc::default(),
            fragility: Arc::new(FragilityParams::default()),
        }
    }

    /// The same service, picking holders by the index's rule under `params`
    /// (the instance's `[fragility]` configuration, as the inventory's).
    #[must_use]
    pub fn with_fragility(mut self, params: FragilityParams) -> Self {
        self.fragility = Arc::new(params);
        self
    }

    /// The fragility parameters holders are picked by.
    pub fn fragility(&self) -> &FragilityParams {
        &self.fragility
    }

    /// The same service, leasing messages for `lease` before sending them
    /// (a replica that dies holds its messages that long).
    #[must_use]
    pub fn with_lease(mut self, lease: std::time::Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The same service, accepting webhooks to what `policy` accepts (it
    /// should be the policy of the sender that delivers them).
    #[must_use]
    pub fn with_webhook_addresses(mut self, policy: crate::channels::address::AddressPolicy) -> Self {
        self.webhook_addresses = Arc::new(policy);
        self
    }

    /// The holder id of this process's leases.
    pub fn lease_owner(&self) -> &str {
        &self.lease_owner
    }

    /// The same service, with another clock.
    #[must_use]
    pub fn with_now(mut self, now: Now) -> Self {
        self.now = now;
        self
    }

    /// The current instant according to the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.now)()
    }

    /// Today in Europe/Paris according to the service's clock.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&chrono_tz::Europe::Paris).date_naive()
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The settings.
    pub fn settings(&self) -> &AlertingSettings {
        &self.settings
    }

    /// Woken when new calls are stored, so the dispatcher need not wait for its next tick.
    pub fn dispatch_wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The link signer.
    pub fn links(&self) -> &LinkSigner {
        &self.links
    }

    fn territory(&self) -> &'static Territory {
        vigie_alerting_domain::territory::official()
    }
}
