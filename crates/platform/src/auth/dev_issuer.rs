//! The development issuer of `vigie dev`: access tokens for the demo
//! profiles, so that the console signs people in as a director, a
//! coordinator or a facilitator and the services authorise exactly as they
//! would with Keycloak's tokens (same claims: `realm_access.roles`,
//! `groups`).
//!
//! The signing key is 32 random bytes drawn when the process starts and
//! never written anywhere: a token is valid only inside the process that
//! issued it, and only until it expires. HS256 is refused everywhere else
//! (the OIDC validator's allow-list); here the verifier and the issuer are
//! the same object, so a shared secret is the right tool. `vigie dev` only
//! listens on loopback.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use super::oidc::{decode_json, scopes_of, Compact, TokenError};
use super::principal::{Principal, Role};

/// `iss` and `kid` of the development tokens.
pub const DEV_ISSUER: &str = "vigie-dev";

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

#[derive(Serialize, Deserialize)]
struct RoleList {
    roles: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    iat: u64,
    exp: u64,
    realm_access: RoleList,
    groups: Vec<String>,
}

/// Issues and verifies the development tokens of one process.
pub struct DevIssuer {
    key: hmac::Key,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.write_str("DevIssuer(…)")
    }
}

/// The system's randomness is unavailable.
#[derive(Debug, thiserror::Error)]
#[error("générateur aléatoire du système indisponible")]
pub struct NoRandomness;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl DevIssuer {
    /// An issuer with a fresh random key.
    ///
    /// # Errors
    /// [`NoRandomness`].
    pub fn new() -> Result<DevIssuer, NoRandomness> {
        let mut secret = [0u8; 32];
        SystemRandom::new().fill(&mut secret).map_err(|_| NoRandomness)?;
        Ok(DevIssuer {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
        })
    }

    /// A signed access token for `subject` with `roles` and `groups` (full
    /// group paths such as `/networks/N/structures/S`), valid for `ttl`.
    pub fn issue(&self, subject: &str, roles: &[Role], groups: &[String], ttl: Duration) -> String {
        let iat = now();
        let header = Header {
            alg: "HS256".to_owned(),
            typ: "JWT".to_owned(),
            kid: DEV_ISSUER.to_owned(),
        };
        let claims = Claims {
            iss: DEV_ISSUER.to_owned(),
            sub: subject.to_owned(),
            iat,
            exp: iat.saturating_add(ttl.as_secs()),
            realm_access: RoleList {
                roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            },
            groups: groups.to_vec(),
        };
        let signed = format!("{}.{}", encode(&header), encode(&claims));
        let tag = hmac::sign(&self.key, signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The principal of a token this issuer signed and that has not expired.
    ///
    /// # Errors
    /// [`TokenError`] naming the first check that failed.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let jws = Compact::split(token)?;
        let header: Header = decode_json(jws.header)?;
        if header.alg != "HS256" || header.kid != DEV_ISSUER {
            return Err(TokenError::Algorithm(header.alg));
        }
        // Constant time.
        hmac::verify(&self.key, jws.signed.as_bytes(), &jws.signature()?).map_err(|_| TokenError::Signature)?;
        let claims: Claims = decode_json(jws.payload)?;
        if claims.iss != DEV_ISSUER {
            return Err(TokenError::Issuer(claims.iss));
        }
        if claims.exp <= now() {
            return Err(TokenError::Expired);
        }
        if claims.sub.is_empty() {
            return Err(TokenError::Subject);
        }
        let scopes = scopes_of(&claims.groups);
        Ok(Principal {
            subject: claims.sub,
            roles: claims
                .realm_access
                .roles
                .iter()
                .filter_map(|r| r.parse::<Role>().ok())
                .collect(),
            scopes,
            client_id: Some(DEV_ISSUER.to_owned()),
        })
    }
}

/// A token part: base64url of its JSON (serialising these plain structs
/// cannot fail).
fn encode<T: Serialize>(value: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oidc::MAX_TOKEN_LEN;
    use crate::auth::Scope;

    fn issuer() -> DevIssuer {
        DevIssuer::new().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_profile_token_gives_its_roles_and_groups() {
        let issuer = issuer();
        let token = issuer.issue(
            "direction-S000004",
            &[Role::StructureManager],
            &[
                "/networks/reseau-guyane/structures/S000004".to_owned(),
                "/not-a-network".to_owned(),
            ],
            Duration::from_secs(60),
        );
        let principal = issuer.verify(&token).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(principal.subject, "direction-S000004");
        assert!(principal.has_role(Role::StructureManager));
        assert!(!principal.has_role(Role::FederationAdmin));
        assert_eq!(
            principal.scopes,
            vec![Scope::Structure {
                network: "reseau-guyane".to_owned(),
                structure: "S000004".to_owned()
            }]
        );
    }

    #[test]
    fn another_process_tampering_expiry_and_garbage_are_refused() {
        let issuer = issuer();
        let token = issuer.issue("a", &[Role::NetworkAdmin], &[], Duration::from_secs(60));
        // Another process: another key.
        assert!(matches!(
            DevIssuer::new().map(|other| other.verify(&token)),
            Ok(Err(TokenError::Signature))
        ));
        // A claim changed after signing (federation-admin added).
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default())
            .unwrap_or_default()
            .replace("network-admin", "federation-admin");
        let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(forged_claims), parts[2]);
        assert!(matches!(issuer.verify(&forged), Err(TokenError::Signature)));
        // `alg: none` with no signature.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"vigie-dev"}"#),
            parts[1]
        );
        assert!(matches!(issuer.verify(&none), Err(TokenError::Algorithm(_))));
        let expired = issuer.issue("a", &[Role::NetworkAdmin], &[], Duration::ZERO);
        assert!(matches!(issuer.verify(&expired), Err(TokenError::Expired)));
        for garbage in ["", "a.b", "a.b.c.d", "!!!.???.***", &"x".repeat(MAX_TOKEN_LEN + 1)] {
            assert!(issuer.verify(garbage).is_err(), "{garbage:.20}");
        }
        let unnamed = issuer.issue("", &[Role::Trainer], &[], Duration::from_secs(60));
        assert!(matches!(issuer.verify(&unnamed), Err(TokenError::Subject)));
    }

    #[test]
    fn the_key_is_never_printed() {
        assert_eq!(format!("{:?}", issuer()), "DevIssuer(…)");
    }
}
