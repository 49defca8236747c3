//! Configuration of the server commands, loaded in layers (defaults → TOML
//! file → `VIGIE_*` environment → flags) and validated before anything
//! connects. Secrets (database URLs with passwords) are never printed.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use vigie_fragility_model::fragility::FragilityParams;
use vigie_platform::config::{self, ConfigError};

use crate::cli::AuthMode;

/// Everything a server process needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VigieConfig {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Data directory of the embedded mode (SQLite files).
    pub data_dir: PathBuf,
    /// PostgreSQL URL (distributed mode).
    pub database_url: Option<String>,
    /// NATS URL (distributed mode).
    pub nats_url: Option<String>,
    // NATS authentication and TLS (docs/security.md), grouped here.
    /// NATS credentials file (JWT + seed).
    pub nats_creds: Option<PathBuf>,
    /// File holding an nkey user seed.
    pub nats_nkey: Option<PathBuf>,
    /// CA certificate(s) of the NATS server (implies TLS).
    pub nats_tls_ca: Option<PathBuf>,
    /// Client certificate for NATS (with `nats_tls_key`).
    pub nats_tls_cert: Option<PathBuf>,
    /// Private key of `nats_tls_cert`.
    pub nats_tls_key: Option<PathBuf>,
    /// Refuse a NATS server without TLS.
    pub nats_require_tls: bool,
    /// Authentication mode (distributed mode).
    pub auth: Option<AuthMode>,
    /// OIDC issuer URL, exactly as in the tokens' `iss`.
    pub oidc_issuer: Option<String>,
    /// Audience required in the tokens' `aud`.
    pub oidc_audience: Option<String>,
    /// gRPC server TLS: certificate chain, leaf first (PEM).
    pub tls_cert: Option<PathBuf>,
    /// gRPC server TLS: private key of the certificate (PEM).
    pub tls_key: Option<PathBuf>,
    /// gRPC mutual TLS: CA that signs the clients' certificates (PEM).
    pub tls_client_ca: Option<PathBuf>,
    /// Bounds of the gRPC server (message sizes, concurrency, timeouts).
    pub grpc: vigie_platform::grpc::GrpcLimits,
    /// Address of the Prometheus scrape endpoint (`GET /metrics`); none by
    /// default. Operational figures only, no personal data (docs/security.md).
    pub metrics_listen: Option<SocketAddr>,
    /// Parameters of the fragility index.
    pub fragility: FragilityConfig,
    /// Settings of the inventory service.
    pub inventory: InventoryConfig,
    /// Parameters of the facilitation service.
    pub facilitation: FacilitationConfig,
    /// Parameters of the alerting service.
    pub alerting: AlertingConfig,
    /// Parameters of the federation service (docs/federation.md).
    pub federation: FederationConfig,
    /// Retention of the event streams (distributed mode).
    pub events: EventsConfig,
    /// Secret keying the pseudonyms that replace an erased person's id
    /// (HMAC-SHA256, at least 32 characters, the same for every service of
    /// a deployment). `vigie dev` generates one in its data directory;
    /// `vigie serve` training, facilitation and alerting require it.
    pub pseudonym_secret: Option<String>,
}

impl Default for VigieConfig {
    fn default() -> Self {
        VigieConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("vigie-data"),
            database_url: None,
            nats_url: None,
            nats_creds: None,
            nats_nkey: None,
            nats_tls_ca: None,
            nats_tls_cert: None,
            nats_tls_key: None,
            nats_require_tls: false,
            auth: None,
            oidc_issuer: None,
            oidc_audience: None,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            grpc: vigie_platform::grpc::GrpcLimits::default(),
            metrics_listen: None,
            fragility: FragilityConfig::default(),
            inventory: InventoryConfig::default(),
            facilitation: FacilitationConfig::default(),
            alerting: AlertingConfig::default(),
            federation: FederationConfig::default(),
            events: EventsConfig::default(),
            pseudonym_secret: None,
        }
    }
}

/// Retention of the JetStream streams, applied when `vigie serve` creates
/// a missing stream; an existing stream is never modified (the operator
/// changes it with `nats stream edit`), see docs/events.md.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Days an event is kept in its stream (default 30; 0 keeps events
    /// forever, which keeps the personal data they carry forever).
    pub retention_days: u64,
    /// Largest size of a stream in bytes, oldest events dropped first
    /// (default -1: no limit).
    pub max_bytes: i64,
    /// Copies of each event in a JetStream cluster, 1 to 5 (default 1).
    pub replicas: usize,
}

impl Default for EventsConfig {
    fn default() -> Self {
        let defaults = vigie_platform::events::jetstream::StreamSettings::default();
        EventsConfig {
            retention_days: defaults.max_age.as_secs() / 86_400,
            max_bytes: defaults.max_bytes,
            replicas: defaults.replicas,
        }
    }
}

impl EventsConfig {
    /// The stream settings these values describe.
    pub fn stream_settings(&self) -> vigie_platform::events::jetstream::StreamSettings {
        vigie_platform::events::jetstream::StreamSettings {
            max_age: std::time::Duration::from_secs(self.retention_days.saturating_mul(86_400)),
            max_bytes: if self.max_bytes <= 0 { -1 } else { self.max_bytes },
            replicas: self.replicas,
        }
    }
}

/// The configurable parameters of the federation service (docs/federation.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FederationConfig {
    /// Id of the region this instance publishes for (letters, digits, `-`,
    /// `_`; e.g. `bretagne`). `vigie dev` uses `demo`; `vigie serve
    /// federation` requires it.
    pub region: Option<String>,
    /// Statistical secrecy: a cell counting fewer structures is suppressed
    /// (default 5, never below 3).
    pub threshold: u32,
    /// Seconds between two snapshots when nothing significant changes
    /// (default 21600: 6 hours); a significant change publishes at once.
    pub publish_every_seconds: u64,
    /// Seconds between two looks for a significant change (default 60).
    pub check_interval_seconds: u64,
    /// A region whose latest snapshot was computed longer ago than this many
    /// seconds is marked stale in the national view (default 172800: 48 hours).
    pub stale_after_seconds: u64,
    /// Regional side, federated: NATS URL of the `federation-link` user of
    /// the FEDERATION account (deploy/nats/regional.conf), with which the
    /// service creates the stream the national hub sources. Unset: the
    /// region publishes only for itself.
    pub link_nats_url: Option<String>,
    /// Credentials file of `federation-link` when the region's NATS uses
    /// nsc accounts (the service's own `nats_creds` is never used for it).
    pub link_nats_creds: Option<PathBuf>,
    /// File holding the nkey seed of `federation-link`, likewise.
    pub link_nats_nkey: Option<PathBuf>,
    /// National side (`vigie serve federation --national`): the regions
    /// whose snapshots the national stream sources, by id — each region's
    /// JetStream domain is its id, as in deploy/nats.
    pub national_regions: Vec<String>,
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            region: None,
            threshold: vigie_federation_domain::secrecy::DEFAULT_THRESHOLD,
            publish_every_seconds: 6 * 3600,
            check_interval_seconds: 60,
            stale_after_seconds: 48 * 3600,
            link_nats_url: None,
            link_nats_creds: None,
            link_nats_nkey: None,
            national_regions: Vec::new(),
        }
    }
}

impl FederationConfig {
    /// The service settings, `default_region` when none is configured.
    ///
    /// # Errors
    /// No region, a malformed one, or a threshold below 3 (French message).
    pub fn settings(&self, default_region: Option<&str>) -> Result<vigie_federation::app::FederationSettings, String> {
        let region = self
            .region
            .as_deref()
            .or(default_region)
            .ok_or("federation.region (ou VIGIE_FEDERATION='{region=\"…\"}') est requis : l'identifiant de la région que cette instance publie, p. ex. « bretagne »")?;
        if region.is_empty()
            || region.len() > 64
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "federation.region « {region} » : lettres, chiffres, « - » et « _ » seulement (64 au plus)"
            ));
        }
        let threshold = vigie_federation_domain::secrecy::Threshold::new(self.threshold)
            .map_err(|e| format!("federation.threshold : {e}"))?;
        Ok(vigie_federation::app::FederationSettings {
            region: region.to_owned(),
            threshold,
            publish_every: std::time::Duration::from_secs(self.publish_every_seconds.max(1)),
            stale_after: std::time::Duration::from_secs(self.stale_after_seconds.max(1)),
        })
    }

    /// Interval of the regional publisher's checks.
    pub fn check_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.check_interval_seconds.max(1))
    }
}

/// The configurable parameters of the facilitation service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FacilitationConfig {
    /// An offer unanswered for this many hours escalates to the network's
    /// coordinator (default 48).
    pub escalation_delay_hours: u64,
}

impl Default for FacilitationConfig {
    fn default() -> Self {
        FacilitationConfig {
            escalation_delay_hours: vigie_facilitation::app::DEFAULT_ESCALATION_DELAY.as_secs() / 3600,
        }
    }
}

impl FacilitationConfig {
    /// The escalation delay.
    pub fn escalation_delay(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.escalation_delay_hours.saturating_mul(3600))
    }
}

/// The configurable parameters of the alerting service (docs/alerting.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertingConfig {
    /// Address of the public HTTP endpoints (calendar feeds, acknowledgement
    /// and unsubscribe links).
    pub http_listen: SocketAddr,
    /// Public base URL of those endpoints as recipients reach them (default
    /// `http://<http_listen>`).
    pub public_url: Option<String>,
    /// Secret of the signed links and feed URLs (at least 32 characters).
    /// `vigie dev` generates one in its data directory; `vigie serve alerting`
    /// requires it.
    pub link_secret: Option<String>,
    /// Id of `link_secret` in the key ring, written in every link it signs
    /// (default `1`; 1 to 16 characters among `A-Z a-z 0-9 - _`). To rotate,
    /// move the old secret to `previous_link_secrets` under its id, set a new
    /// `link_secret` and a new id.
    pub link_key_id: Option<String>,
    /// Previous link secrets by key id: links they signed still open, new
    /// links are signed with `link_secret`. Remove one to revoke its links.
    pub previous_link_secrets: std::collections::BTreeMap<String, String>,
    /// SMTP relay. Without one, `vigie dev` writes emails as `.eml` files
    /// under `<data_dir>/mails`, and `vigie serve alerting` refuses to start.
    pub smtp: Option<vigie_alerting::channels::email::SmtpConfig>,
    /// Seconds between two dispatch passes (default 60).
    pub dispatch_interval_seconds: u64,
    /// Hours between two fetches of the remote sources (default 6).
    pub fetch_interval_hours: u64,
    /// Accept `http://` webhooks (trusted networks and tests only).
    pub allow_plain_http_webhooks: bool,
    /// Seconds a replica holds the messages it leased before sending them
    /// (default 300): a replica that dies holds its messages that long, and
    /// a send must fit in half of it (docs/alerting.md).
    pub lease_seconds: u64,
    /// Let webhooks reach any address, loopback, private and metadata
    /// addresses included (trusted networks and tests only; docs/security.md).
    pub webhook_allow_private: bool,
    /// Networks (CIDR, e.g. `10.20.0.0/16`) webhooks may reach besides public addresses.
    pub webhook_allowed_networks: Vec<String>,
    /// The Aides-territoires API (fetched on schedule when an API key is set).
    pub aides_territoires: Option<AidesTerritoiresConfig>,
    /// RSS/Atom feeds by name (`feed:<name>` sources).
    pub feeds: std::collections::BTreeMap<String, FeedConfig>,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        AlertingConfig {
            http_listen: SocketAddr::from(([127, 0, 0, 1], 8088)),
            public_url: None,
            link_secret: None,
            link_key_id: None,
            previous_link_secrets: std::collections::BTreeMap::new(),
            smtp: None,
            dispatch_interval_seconds: 60,
            fetch_interval_hours: 6,
            allow_plain_http_webhooks: false,
            lease_seconds: vigie_alerting::app::DEFAULT_LEASE.as_secs(),
            webhook_allow_private: false,
            webhook_allowed_networks: Vec::new(),
            aides_territoires: None,
            feeds: std::collections::BTreeMap::new(),
        }
    }
}

/// The Aides-territoires API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AidesTerritoiresConfig {
    /// Base URL (default `https://aides-territoires.beta.gouv.fr`).
    #[serde(default = "aides_territoires_base")]
    pub base_url: String,
    /// API key (sent as `X-AUTH-TOKEN`); never printed.
    #[serde(skip_serializing)]
    pub api_key: String,
}

fn aides_territoires_base() -> String {
    vigie_alerting::AIDES_TERRITOIRES_BASE.to_owned()
}

/// An RSS or Atom feed and how to read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// The feed's URL.
    pub url: String,
    /// How to read its items.
    pub mapping: vigie_alerting_domain::connectors::feed::FeedMapping,
}

impl AlertingConfig {
    /// The public base URL.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.http_listen))
    }

    /// The addresses webhooks may reach.
    ///
    /// # Errors
    /// An entry of `webhook_allowed_networks` is not a CIDR (message in French).
    pub fn webhook_addresses(&self) -> Result<vigie_alerting::channels::address::AddressPolicy, String> {
        use vigie_alerting::channels::address::{AddressPolicy, Cidr};
        if self.webhook_allow_private {
            return Ok(AddressPolicy::allow_all());
        }
        let networks = self
            .webhook_allowed_networks
            .iter()
            .map(|n| {
                n.parse::<Cidr>()
                    .map_err(|e| format!("alerting.webhook_allowed_networks : {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AddressPolicy::public_only().with_allowed(networks))
    }

    /// The message lease.
    pub fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.lease_seconds)
    }

    /// The previous keys of the link key ring.
    pub fn previous_link_keys(&self) -> Vec<vigie_alerting::channels::links::LinkKey> {
        self.previous_link_secrets
            .iter()
            .map(|(id, secret)| vigie_alerting::channels::links::LinkKey {
                id: id.clone(),
                secret: secret.as_bytes().to_vec(),
            })
            .collect()
    }

    /// The service settings, with `link_secret`.
    pub fn settings(&self, link_secret: Vec<u8>) -> vigie_alerting::app::AlertingSettings {
        use vigie_alerting::app::RemoteSource;
        let mut settings = vigie_alerting::app::AlertingSettings::local(self.public_url(), link_secret);
        if let Some(id) = &self.link_key_id {
            settings.link_key_id = id.clone();
        }
        settings.previous_link_keys = self.previous_link_keys();
        if let Some(at) = &self.aides_territoires {
            settings.aides_territoires_base = at.base_url.clone();
            settings.sources.insert(
                "aides-territoires".to_owned(),
                RemoteSource::AidesTerritoires {
                    base_url: at.base_url.clone(),
                    api_key: at.api_key.clone(),
                },
            );
        }
        for (name, feed) in &self.feeds {
            settings.sources.insert(
                format!("feed:{name}"),
                RemoteSource::Feed {
                    url: feed.url.clone(),
                    mapping: feed.mapping.clone(),
                },
            );
        }
        settings
    }
}

/// Settings of the inventory service.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InventoryConfig {
    /// PostgreSQL only: how long (ms) a structure checked by its version
    /// may be served again without the check. 0 (default): every read sees
    /// every replica's last change; more trades that for one query less a
    /// read (docs/operations.md).
    pub read_staleness_ms: u64,
}

/// The longest staleness allowed: a minute.
const MAX_READ_STALENESS_MS: u64 = 60_000;

/// The configurable parameters of docs/fragility.md.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FragilityConfig {
    /// A holding counts if practised within this many days.
    pub recency_days: i64,
    /// Horizon of the unavailability probabilities, in days.
    pub horizon_days: i64,
    /// Unavailability of volunteers, board members and contractors.
    pub volunteer_like_unavailability: f64,
    /// Unavailability of everyone else.
    pub default_unavailability: f64,
}

impl Default for FragilityConfig {
    fn default() -> Self {
        let p = FragilityParams::default();
        FragilityConfig {
            recency_days: p.recency_days,
            horizon_days: p.horizon_days,
            volunteer_like_unavailability: p.q_volunteer_like,
            default_unavailability: p.q_default,
        }
    }
}

impl FragilityConfig {
    /// The domain parameters.
    pub fn params(&self) -> FragilityParams {
        FragilityParams {
            recency_days: self.recency_days,
            horizon_days: self.horizon_days,
            q_volunteer_like: self.volunteer_like_unavailability,
            q_default: self.default_unavailability,
            ..FragilityParams::default()
        }
    }
}

/// Flags given on the command line (only those present override).
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--nats-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_url: Option<String>,
    /// `--nats-creds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_creds: Option<PathBuf>,
    /// `--nats-nkey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_nkey: Option<PathBuf>,
    /// `--nats-tls-ca`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_tls_ca: Option<PathBuf>,
    /// `--nats-tls-cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_tls_cert: Option<PathBuf>,
    /// `--nats-tls-key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_tls_key: Option<PathBuf>,
    /// `--nats-require-tls` (only `true` overrides).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_require_tls: Option<bool>,
    /// `--auth`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthMode>,
    /// `--oidc-issuer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    /// `--oidc-audience`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_audience: Option<String>,
    /// `--tls-cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// `--tls-client-ca`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_ca: Option<PathBuf>,
    /// `--metrics-listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
}

/// Keys that may come from `VIGIE_*` variables.
const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "nats_url",
    "nats_creds",
    "nats_nkey",
    "nats_tls_ca",
    "nats_tls_cert",
    "nats_tls_key",
    "nats_require_tls",
    "auth",
    "oidc_issuer",
    "oidc_audience",
    "tls_cert",
    "tls_key",
    "tls_client_ca",
    "grpc",
    "metrics_listen",
    "fragility",
    "inventory",
    "facilitation",
    "federation",
    "alerting",
    "events",
    "pseudonym_secret",
];

#[cfg(test)]
#[path = "config_transport_tests.rs"]
mod transport_tests;

impl VigieConfig {
    /// Loads and validates the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] when a layer is unreadable or a value breaks a rule.
    pub fn load(file: Option<&std::path::Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let config: VigieConfig = config::load(file, ENV_KEYS, overrides)?;
        config.validate()?;
        Ok(config)
    }

    /// The NATS authentication and TLS settings.
    pub fn nats_security(&self) -> vigie_platform::events::jetstream::NatsSecurity {
        vigie_platform::events::jetstream::NatsSecurity {
            creds: self.nats_creds.clone(),
            nkey: self.nats_nkey.clone(),
            tls_ca: self.nats_tls_ca.clone(),
            tls_cert: self.nats_tls_cert.clone(),
            tls_key: self.nats_tls_key.clone(),
            require_tls: self.nats_require_tls,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.grpc.validate().map_err(ConfigError::Invalid)?;
        vigie_platform::grpc::tls::ServerTlsFiles::from_settings(
            self.tls_cert.as_deref(),
            self.tls_key.as_deref(),
            self.tls_client_ca.as_deref(),
        )
        .map_err(|error| ConfigError::Invalid(error.to_string()))?;

        if self.nats_creds.is_some() && self.nats_nkey.is_some() {
            return Err(ConfigError::Invalid(
                "nats_creds et nats_nkey s'excluent : choisissez un fichier d'identifiants ou une graine nkey".into(),
            ));
        }
        if self.nats_tls_cert.is_some() != self.nats_tls_key.is_some() {
            return Err(ConfigError::Invalid(
                "nats_tls_cert et nats_tls_key vont ensemble : donnez le certificat client et sa clé".into(),
            ));
        }
        if self.facilitation.escalation_delay_hours == 0 {
            return Err(ConfigError::Invalid(
                "facilitation.escalation_delay_hours doit être positif".into(),
            ));
        }
        if let Some(secret) = &self.alerting.link_secret {
            if secret.len() < 32 {
                return Err(ConfigError::Invalid(
                    "alerting.link_secret doit compter au moins 32 caractères".into(),
                ));
            }
        }
        let current = vigie_alerting::channels::links::LinkKey {
            id: self
                .alerting
                .link_key_id
                .clone()
                .unwrap_or_else(|| vigie_alerting::channels::links::DEFAULT_KEY_ID.to_owned()),
            // Only the ids and the previous secrets are checked here (the
            // current secret above, or generated by `vigie dev`).
            secret: vec![0; 32],
        };
        vigie_alerting::channels::links::LinkSigner::with_ring(&current, &self.alerting.previous_link_keys())
            .map_err(|e| ConfigError::Invalid(format!("alerting : {e}")))?;

        if self.pseudonym_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(ConfigError::Invalid(
                "pseudonym_secret doit compter au moins 32 caractères".into(),
            ));
        }
        if let Some(smtp) = &self.alerting.smtp {
            smtp.validate().map_err(ConfigError::Invalid)?;
        }
        if self.alerting.dispatch_interval_seconds == 0 || self.alerting.fetch_interval_hours == 0 {
            return Err(ConfigError::Invalid(
                "alerting.dispatch_interval_seconds et alerting.fetch_interval_hours doivent être positifs".into(),
            ));
        }
        if self.alerting.lease_seconds == 0 {
            return Err(ConfigError::Invalid("alerting.lease_seconds doit être positif".into()));
        }
        self.alerting.webhook_addresses().map_err(ConfigError::Invalid)?;

        if !(1..=5).contains(&self.events.replicas) {
            return Err(ConfigError::Invalid(
                "events.replicas doit être compris entre 1 et 5".into(),
            ));
        }
        if self.inventory.read_staleness_ms > MAX_READ_STALENESS_MS {
            return Err(ConfigError::Invalid(format!(
                "inventory.read_staleness_ms ne peut dépasser {MAX_READ_STALENESS_MS} (une minute)"
            )));
        }
        let f = &self.fragility;
        if f.recency_days <= 0 || f.horizon_days <= 0 {
            return Err(ConfigError::Invalid(
                "fragility.recency_days et fragility.horizon_days doivent être positifs".into(),
            ));
        }
        for q in [f.volunteer_like_unavailability, f.default_unavailability] {
            if !(0.0..=1.0).contains(&q) {
                return Err(ConfigError::Invalid(
                    "les probabilités d'indisponibilité doivent être entre 0 et 1".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_endpoint_is_off_unless_asked_from_file_or_flag() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(VigieConfig::load(None, &Overrides::default())?.metrics_listen, None);
        let file = std::env::temp_dir().join(format!("vigie-metrics-config-{}.toml", std::process::id()));
        std::fs::write(&file, "metrics_listen = \"0.0.0.0:9464\"\n")?;
        let from_file = VigieConfig::load(Some(&file), &Overrides::default())?;
        assert_eq!(from_file.metrics_listen, Some(SocketAddr::from(([0, 0, 0, 0], 9464))));
        let flag = Overrides {
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 19464))),
            ..Overrides::default()
        };
        let from_flag = VigieConfig::load(Some(&file), &flag);
        let _ = std::fs::remove_file(&file);
        assert_eq!(
            from_flag?.metrics_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 19464)))
        );
        Ok(())
    }

    #[test]
    fn tls_and_grpc_bounds_are_validated_before_anything_connects() {
        let cert_only = Overrides {
            tls_cert: Some(PathBuf::from("server.pem")),
            ..Overrides::default()
        };
        let error = VigieConfig::load(None, &cert_only).err().map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.contains("sans --tls-key")),
            "{error:?}"
        );
        let ca_only = Overrides {
            tls_client_ca: Some(PathBuf::from("ca.pem")),
            ..Overrides::default()
        };
        assert!(VigieConfig::load(None, &ca_only).is_err());
        let pair = Overrides {
            tls_cert: Some(PathBuf::from("server.pem")),
            tls_key: Some(PathBuf::from("server-key.pem")),
            ..Overrides::default()
        };
        let config = VigieConfig::load(None, &pair).ok();
        assert_eq!(config.and_then(|c| c.tls_key), Some(PathBuf::from("server-key.pem")));
        assert_eq!(VigieConfig::default().grpc, vigie_platform::grpc::GrpcLimits::default());
    }
}

#[cfg(test)]
mod delivery_tests {
    use std::net::IpAddr;

    use vigie_alerting::channels::address::Restricted;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn webhook_addresses_are_public_only_unless_allowed() {
        let mut config = VigieConfig::default();
        let strict = config.alerting.webhook_addresses().unwrap_or_default();
        assert_eq!(strict.check(ip("10.1.2.3")), Err(Restricted::Private));
        config.alerting.webhook_allowed_networks = vec!["10.1.0.0/16".into()];
        let some = config.alerting.webhook_addresses().unwrap_or_default();
        assert_eq!(some.check(ip("10.1.2.3")), Ok(()));
        assert_eq!(some.check(ip("127.0.0.1")), Err(Restricted::Loopback));
        config.alerting.webhook_allow_private = true;
        let all = config.alerting.webhook_addresses().unwrap_or_default();
        assert_eq!(all.check(ip("169.254.169.254")), Ok(()));
    }

    #[test]
    fn a_bad_network_or_a_zero_lease_is_refused() {
        let mut config = VigieConfig::default();
        assert!(config.validate().is_ok());
        assert_eq!(config.alerting.lease(), vigie_alerting::app::DEFAULT_LEASE);
        config.alerting.webhook_allowed_networks = vec!["10.0.0.0/33".into()];
        let error = config.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("webhook_allowed_networks"), "{error}");
        config.alerting.webhook_allowed_networks.clear();
        config.alerting.lease_seconds = 0;
        let error = config.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("lease_seconds"), "{error}");
    }

    #[test]
    fn a_read_staleness_over_a_minute_is_refused() {
        let mut config = VigieConfig::default();
        assert_eq!(config.inventory.read_staleness_ms, 0, "every read checked by default");
        config.inventory.read_staleness_ms = 60_000;
        assert!(config.validate().is_ok());
        config.inventory.read_staleness_ms = 60_001;
        let error = config.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("read_staleness_ms"), "{error}");
    }
}
