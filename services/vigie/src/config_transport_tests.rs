//! The transport settings of the configuration: NATS security keys reach
//! the connection, contradictory or unsafe ones are refused before anything
//! connects (SMTP password without TLS included).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Overrides, VigieConfig};

/// Loads `toml` from a file of its own (tests run in parallel).
fn load(toml: &str, overrides: &Overrides) -> Result<VigieConfig, String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "vigie-config-test-{}-{}.toml",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, toml).map_err(|e| e.to_string())?;
    let loaded = VigieConfig::load(Some(&path), overrides).map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&path);
    loaded
}

#[test]
fn nats_keys_reach_the_security_settings() {
    let config = load(
        "nats_url = \"tls://nats.example:4222\"\nnats_creds = \"/etc/vigie/i.creds\"\nnats_tls_ca = \"/etc/vigie/ca.pem\"\n",
        &Overrides {
            nats_require_tls: Some(true),
            ..Overrides::default()
        },
    )
    .unwrap();
    let security = config.nats_security();
    assert_eq!(
        security.creds.as_deref(),
        Some(std::path::Path::new("/etc/vigie/i.creds"))
    );
    assert_eq!(
        security.tls_ca.as_deref(),
        Some(std::path::Path::new("/etc/vigie/ca.pem"))
    );
    assert!(security.require_tls && security.tls_required());
    assert!(!load("", &Overrides::default()).unwrap().nats_security().tls_required());
}

#[test]
fn contradictory_nats_settings_are_refused() {
    let error = load(
        "nats_creds = \"a.creds\"\nnats_nkey = \"b.nk\"\n",
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(error.contains("nats_creds et nats_nkey"), "{error}");
    let error = load("nats_tls_cert = \"c.pem\"\n", &Overrides::default()).unwrap_err();
    assert!(error.contains("nats_tls_key"), "{error}");
}

#[test]
fn an_smtp_password_without_tls_is_refused_at_load() {
    let smtp = "[alerting.smtp]\nhost = \"smtp.example\"\nport = 587\nfrom = \"a@b.example\"\ntimeout = 30\nusername = \"vigie\"\npassword = \"hunter2\"\n";
    let error = load(smtp, &Overrides::default()).unwrap_err();
    assert!(error.contains("authentification sans TLS refusée"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    let config = load(&format!("{smtp}tls = \"starttls\"\n"), &Overrides::default()).unwrap();
    assert!(config.alerting.smtp.is_some());
}

#[test]
fn the_federation_table_gives_the_service_settings_or_a_french_refusal() {
    let config = load(
        "[federation]\nregion = \"bretagne\"\nthreshold = 7\npublish_every_seconds = 60\nstale_after_seconds = 120\nnational_regions = [\"bretagne\", \"occitanie\"]\n",
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let settings = config.federation.settings(None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(settings.region, "bretagne");
    assert_eq!(settings.threshold.get(), 7);
    assert_eq!(settings.publish_every, std::time::Duration::from_secs(60));
    assert_eq!(settings.stale_after, std::time::Duration::from_secs(120));
    assert_eq!(config.federation.national_regions, ["bretagne", "occitanie"]);

    let defaults = load("", &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        defaults.federation.settings(Some("demo")).map(|s| s.region),
        Ok("demo".to_owned())
    );
    let missing = defaults.federation.settings(None).err().unwrap_or_default();
    assert!(missing.contains("federation.region"), "{missing}");

    for (toml, expected) in [
        ("[federation]\nregion = \"../etc\"\n", "lettres, chiffres"),
        ("[federation]\nregion = \"\"\n", "lettres, chiffres"),
        ("[federation]\nregion = \"bretagne\"\nthreshold = 2\n", "au moins 3"),
    ] {
        let config = load(toml, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
        let error = config.federation.settings(None).err().unwrap_or_default();
        assert!(error.contains(expected), "{toml}: {error}");
    }
    let unknown = load("[federation]\nregoin = \"x\"\n", &Overrides::default());
    assert!(unknown.is_err(), "a misspelt key is refused");
}
