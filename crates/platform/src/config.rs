//! Typed, layered configuration: defaults → TOML file → `VIGIE_*` environment
//! → command-line flags, each layer overriding the previous one, validated
//! once before anything connects.
//!
//! Each binary defines its own configuration struct (with
//! `#[serde(deny_unknown_fields)]`, so a typo in a file is an error rather
//! than a silently ignored setting) and loads it with [`load`]. Only the
//! environment variables that name a known top-level key are read, so
//! unrelated `VIGIE_*` variables (such as `VIGIE_ENDPOINT` for the CLI) do not
//! trip the unknown-field check.

use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A configuration that could not be loaded or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or did not match the expected shape.
    #[error("configuration illisible : {0}")]
    Load(#[from] Box<figment::Error>),
    /// The configuration loaded but breaks a rule.
    #[error("configuration invalide : {0}")]
    Invalid(String),
}

/// Loads `T` from its defaults, then `file` (if given), then the environment
/// variables `VIGIE_<KEY>` for each key in `env_keys` (nested keys with `__`,
/// e.g. `VIGIE_FRAGILITY__RECENCY_DAYS`), then `overrides` (the flags given on
/// the command line, serialised with `skip_serializing_if = "Option::is_none"`).
///
/// # Errors
/// [`ConfigError::Load`] when the file is missing or malformed, or a value has
/// the wrong type or an unknown key.
pub fn load<T, O>(file: Option<&Path>, env_keys: &[&str], overrides: &O) -> Result<T, ConfigError>
where
    T: DeserializeOwned + Serialize + Default,
    O: Serialize,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(file) = file {
        if !file.exists() {
            return Err(ConfigError::Invalid(format!(
                "le fichier de configuration {} n'existe pas",
                file.display()
            )));
        }
        figment = figment.merge(Toml::file(file));
    }
    let keys: Vec<String> = env_keys.iter().map(|key| key.to_ascii_lowercase()).collect();
    let env = Env::prefixed("VIGIE_").split("__").filter(move |key| {
        let top = key.as_str().split('.').next().unwrap_or_default();
        // Keys arrive as written in the environment (upper case).
        keys.iter().any(|known| known.eq_ignore_ascii_case(top))
    });
    figment = figment.merge(env).merge(Serialized::defaults(overrides));
    figment.extract().map_err(|error| ConfigError::Load(Box::new(error)))
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Sample {
        listen: String,
        retries: u32,
        nested: Nested,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Nested {
        days: u32,
    }

    impl Default for Sample {
        fn default() -> Self {
            Sample {
                listen: "127.0.0.1:1".into(),
                retries: 3,
                nested: Nested::default(),
            }
        }
    }

    impl Default for Nested {
        fn default() -> Self {
            Nested { days: 365 }
        }
    }

    #[derive(Serialize)]
    struct Flags {
        #[serde(skip_serializing_if = "Option::is_none")]
        retries: Option<u32>,
    }

    #[test]
    fn layers_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "vigie.toml",
                "listen = \"0.0.0.0:9\"\nretries = 5\n[nested]\ndays = 30\n",
            )?;
            jail.set_env("VIGIE_RETRIES", "7");
            jail.set_env("VIGIE_ENDPOINT", "ignored: not a key of this struct");
            let from_file_and_env: Sample = load(
                Some(Path::new("vigie.toml")),
                &["listen", "retries", "nested"],
                &Flags { retries: None },
            )
            .map_err(|e| e.to_string())?;
            assert_eq!(from_file_and_env.listen, "0.0.0.0:9");
            assert_eq!(from_file_and_env.retries, 7);
            assert_eq!(from_file_and_env.nested.days, 30);
            let with_flag: Sample = load(
                Some(Path::new("vigie.toml")),
                &["listen", "retries"],
                &Flags { retries: Some(9) },
            )
            .map_err(|e| e.to_string())?;
            assert_eq!(with_flag.retries, 9);
            Ok(())
        });
    }

    #[test]
    fn unknown_key_in_file_is_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("vigie.toml", "listn = \"typo\"\n")?;
            let result: Result<Sample, _> = load(Some(Path::new("vigie.toml")), &[], &Flags { retries: None });
            assert!(result.is_err());
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        let result: Result<Sample, _> = load(
            Some(Path::new("/nonexistent/vigie.toml")),
            &[],
            &Flags { retries: None },
        );
        assert!(matches!(result, Err(ConfigError::Invalid(_))));
    }
}
