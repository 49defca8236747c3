//! ID tokens (OpenID Connect Core §3.1.3.7), for a relying party such as the
//! web console: the same validator as access tokens checks the shape, the
//! algorithm, the key and the signature ([`OidcValidator::verified_payload`]);
//! only the claims differ:
//!
//! - `iss` equal to the configured issuer;
//! - `aud` containing the configured audience — for a relying party, its own
//!   client id — and, when `aud` names several parties, `azp` equal to it;
//! - `exp` in the future and `nbf` past (with the configured leeway);
//! - `nonce` equal to the one the relying party sent (no replayed token);
//! - Keycloak's payload `typ`, when present, `ID` (an access token is refused);
//! - `sub` present.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::oidc::{decode_json, OidcValidator, TokenError};

/// What a relying party learns from a valid ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdToken {
    /// `sub`.
    pub subject: String,
    /// `name`, when the issuer sends it.
    pub name: Option<String>,
    /// `preferred_username`, when the issuer sends it.
    pub preferred_username: Option<String>,
    /// `groups` (full group paths, Keycloak's group mapper).
    pub groups: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    azp: Option<String>,
    exp: Option<f64>,
    nbf: Option<f64>,
    nonce: Option<String>,
    typ: Option<String>,
    name: Option<String>,
    preferred_username: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
}

impl OidcValidator {
    /// Validates an ID token issued to the configured audience (the relying
    /// party's client id) for the sign-in that sent `nonce`.
    ///
    /// # Errors
    /// [`TokenError`] naming the first check that failed.
    pub async fn validate_id_token(&self, token: &str, nonce: &str) -> Result<IdToken, TokenError> {
        let payload = self.verified_payload(token).await?;
        let claims: Claims = decode_json(payload)?;
        check(claims, self.config(), nonce, now())
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

fn check(claims: Claims, config: &super::OidcConfig, nonce: &str, now: f64) -> Result<IdToken, TokenError> {
    match &claims.iss {
        Some(iss) if *iss == config.issuer => {}
        other => return Err(TokenError::Issuer(other.clone().unwrap_or_default())),
    }
    let leeway = config.leeway.as_secs_f64();
    let exp = match claims.exp {
        Some(exp) if now < exp + leeway => exp,
        _ => return Err(TokenError::Expired),
    };
    if claims.nbf.is_some_and(|nbf| nbf - leeway > now) {
        return Err(TokenError::NotYetValid);
    }
    let client = config.audience.as_str();
    let audience_ok = match &claims.aud {
        Some(Audience::One(aud)) => aud == client,
        Some(Audience::Many(auds)) => {
            auds.iter().any(|aud| aud == client) && (auds.len() == 1 || claims.azp.as_deref() == Some(client))
        }
        None => false,
    };
    if !audience_ok {
        return Err(TokenError::Audience);
    }
    // Compared in full: the nonce is random, its length is no secret.
    if nonce.is_empty() || claims.nonce.as_deref() != Some(nonce) {
        return Err(TokenError::Nonce);
    }
    if let Some(typ) = &claims.typ {
        if !typ.eq_ignore_ascii_case("ID") {
            return Err(TokenError::Type(typ.clone()));
        }
    }
    let subject = claims.sub.filter(|sub| !sub.is_empty()).ok_or(TokenError::Subject)?;
    Ok(IdToken {
        subject,
        name: claims.name.filter(|n| !n.is_empty()),
        preferred_username: claims.preferred_username.filter(|n| !n.is_empty()),
        groups: claims.groups.unwrap_or_default(),
        // Saturating: a float beyond u64 is "far away", never negative here.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        expires_at: exp.max(0.0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::OidcConfig;

    const NOW: f64 = 1_800_000_000.0;

    fn claims(change: impl FnOnce(&mut serde_json::Value)) -> Claims {
        let mut value = serde_json::json!({
            "iss": "https://sso.example.org/realms/vigie",
            "sub": "u-1",
            "aud": "vigie-console",
            "azp": "vigie-console",
            "exp": NOW + 300.0,
            "nonce": "n-1",
            "typ": "ID",
            "name": "Awa Diallo",
            "preferred_username": "awa",
            "groups": ["/networks/guyane/structures/S000004"],
        });
        change(&mut value);
        serde_json::from_value(value).unwrap()
    }

    fn config() -> OidcConfig {
        OidcConfig::new("https://sso.example.org/realms/vigie", "vigie-console")
    }

    #[test]
    fn a_good_id_token_gives_the_person() {
        let token = check(claims(|_| {}), &config(), "n-1", NOW).unwrap();
        assert_eq!(token.subject, "u-1");
        assert_eq!(token.name.as_deref(), Some("Awa Diallo"));
        assert_eq!(token.groups, vec!["/networks/guyane/structures/S000004"]);
        assert_eq!(token.expires_at, 1_800_000_300);
    }

    #[test]
    fn every_claim_is_checked() {
        let refused = |change: fn(&mut serde_json::Value), nonce: &str| check(claims(change), &config(), nonce, NOW);
        assert_eq!(refused(|_| {}, "n-2"), Err(TokenError::Nonce));
        assert_eq!(refused(|_| {}, ""), Err(TokenError::Nonce));
        assert_eq!(
            refused(
                |c| {
                    c["nonce"].take();
                },
                "n-1"
            )
            .err(),
            Some(TokenError::Nonce)
        );
        assert!(matches!(
            refused(|c| c["iss"] = "https://evil.example/realms/vigie".into(), "n-1"),
            Err(TokenError::Issuer(_))
        ));
        assert_eq!(refused(|c| c["aud"] = "vigie".into(), "n-1"), Err(TokenError::Audience));
        assert_eq!(
            refused(|c| c["aud"] = serde_json::json!(["vigie", "vigie-console"]), "n-1").map(|t| t.subject),
            Ok("u-1".to_owned())
        );
        assert_eq!(
            refused(
                |c| {
                    c["aud"] = serde_json::json!(["vigie", "vigie-console"]);
                    c["azp"] = "vigie-cli".into();
                },
                "n-1"
            ),
            Err(TokenError::Audience)
        );
        assert_eq!(
            refused(|c| c["exp"] = (NOW - 120.0).into(), "n-1"),
            Err(TokenError::Expired)
        );
        assert_eq!(
            refused(|c| c["nbf"] = (NOW + 120.0).into(), "n-1"),
            Err(TokenError::NotYetValid)
        );
        assert!(matches!(
            refused(|c| c["typ"] = "Bearer".into(), "n-1"),
            Err(TokenError::Type(_))
        ));
        assert_eq!(refused(|c| c["sub"] = "".into(), "n-1"), Err(TokenError::Subject));
    }
}
