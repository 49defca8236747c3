//! The NATS decentralised-auth model for one test: an operator, an account
//! with JetStream, and users, with their JWTs signed here (nkeys), so a
//! `nats-server` can check a credentials file the way a production broker
//! configured with `nsc` does.
//!
//! The JWTs follow the v2 claim format that `nsc` writes (header
//! `{"typ":"JWT","alg":"ed25519-nkey"}`, base64url without padding, an
//! ed25519 signature by the issuer's nkey). The server is given the operator
//! and a memory resolver preloaded with the account
//! ([`NatsOperator::server_config`], for `NatsServerConfig::extra`).

use anyhow::{Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use nkeys::KeyPair;
use serde_json::{json, Value};

/// An operator and one account allowed to use JetStream.
pub struct NatsOperator {
    operator: KeyPair,
    account: KeyPair,
    system: KeyPair,
    operator_jwt: String,
    account_jwt: String,
    system_jwt: String,
}

impl std::fmt::Debug for NatsOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsOperator")
            .field("operator", &self.operator.public_key())
            .field("account", &self.account.public_key())
            .finish_non_exhaustive()
    }
}

impl NatsOperator {
    /// Creates the operator and its account.
    ///
    /// # Errors
    /// Signing fails.
    pub fn new() -> Result<NatsOperator> {
        let operator = KeyPair::new_operator();
        let account = KeyPair::new_account();
        let operator_jwt = sign(
            &operator,
            &operator.public_key(),
            "vigie-test-operator",
            json!({}),
            "operator",
        )?;
        let limits = json!({
            "limits": {
                "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                "wildcards": true, "conn": -1, "leaf": -1,
                "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1
            },
            "default_permissions": { "pub": {}, "sub": {} }
        });
        let account_jwt = sign(
            &operator,
            &account.public_key(),
            "vigie-test-account",
            limits,
            "account",
        )?;
        // JetStream needs a system account for its internal subscriptions.
        let system = KeyPair::new_account();
        let system_jwt = sign(&operator, &system.public_key(), "SYS", json!({}), "account")?;
        Ok(NatsOperator {
            operator,
            account,
            system,
            operator_jwt,
            account_jwt,
            system_jwt,
        })
    }

    /// Server configuration: the operator, its system account and a memory
    /// resolver that knows both accounts.
    pub fn server_config(&self) -> String {
        format!(
            "operator: {}\nsystem_account: {}\nresolver: MEMORY\nresolver_preload: {{\n  {}: {}\n  {}: {}\n}}\n",
            self.operator_jwt,
            self.system.public_key(),
            self.account.public_key(),
            self.account_jwt,
            self.system.public_key(),
            self.system_jwt
        )
    }

    /// A new user of the account, as the text of a `.creds` file (JWT and
    /// seed, in `nsc generate creds` format).
    ///
    /// # Errors
    /// Signing fails.
    pub fn user_creds(&self, name: &str) -> Result<String> {
        let user = KeyPair::new_user();
        let claims = json!({ "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1 });
        let jwt = sign(&self.account, &user.public_key(), name, claims, "user")?;
        let seed = user.seed().context("user seed")?;
        Ok(format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
             ************************* IMPORTANT *************************\n\
             NKEY Seed printed below can be used to sign and prove identity.\n\
             NKEYs are sensitive and should be treated as secrets.\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n\
             *************************************************************\n"
        ))
    }
}

/// A v2 JWT for `subject`, issued and signed by `issuer`.
fn sign(issuer: &KeyPair, subject: &str, name: &str, mut nats: Value, kind: &str) -> Result<String> {
    if let Some(object) = nats.as_object_mut() {
        object.insert("type".into(), json!(kind));
        object.insert("version".into(), json!(2));
    }
    let issued_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("clock before 1970")?
        .as_secs();
    let claims = json!({
        "jti": format!("VIGIE{}{}", issued_at, subject.get(..16).unwrap_or(subject)),
        "iat": issued_at,
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
    let signing_input = format!("{header}.{payload}");
    let signature = issuer
        .sign(signing_input.as_bytes())
        .map_err(|error| anyhow::anyhow!("signing a JWT: {error}"))?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
