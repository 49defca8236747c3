//! Signature algorithms and the issuer's public keys (JWKS, RFC 7517/7518).
//!
//! Signatures are verified by `ring`; this module only maps JOSE names and
//! JWK members onto `ring`'s verification algorithms. HMAC (`HS*`) and `none`
//! have no [`Algorithm`] value at all, so no configuration or header can
//! select them, and symmetric (`oct`) keys of a JWKS are never loaded.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;

/// An asymmetric JWS algorithm Vigie can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (Keycloak's default).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// The allow-list used unless configured otherwise.
    pub const DEFAULT_ALLOWED: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::PS256];

    /// The JOSE name (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    const ALL: [Algorithm; 9] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An algorithm name Vigie refuses or does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlgorithmError {
    /// `none` or a symmetric algorithm: never accepted.
    #[error("algorithme interdit : {0} (ni « none » ni HMAC ne sont jamais acceptés)")]
    Forbidden(String),
    /// Not a JWS algorithm Vigie supports.
    #[error("algorithme non pris en charge : {0}")]
    Unsupported(String),
}

impl FromStr for Algorithm {
    type Err = AlgorithmError;

    /// Exact, case-sensitive JOSE names (RFC 7518).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if let Some(algorithm) = Algorithm::ALL.iter().copied().find(|a| a.as_str() == name) {
            return Ok(algorithm);
        }
        if name.eq_ignore_ascii_case("none") || name.to_ascii_uppercase().starts_with("HS") {
            return Err(AlgorithmError::Forbidden(name.to_owned()));
        }
        Err(AlgorithmError::Unsupported(name.to_owned()))
    }
}

/// A public key able to verify one family of algorithms.
#[derive(Debug, Clone)]
pub(crate) struct PublicKey {
    material: Material,
    /// The JWK's `alg`, when it names one: the key then verifies only it.
    alg: Option<Algorithm>,
}

#[derive(Debug, Clone)]
enum Material {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Uncompressed point `04 || x || y`.
    Ec {
        curve: Curve,
        point: Vec<u8>,
    },
    Ed25519(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
}

impl PublicKey {
    /// Whether this key may verify a token signed with `alg`.
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        if self.alg.is_some_and(|declared| declared != alg) {
            return false;
        }
        matches!(
            (&self.material, alg),
            (
                Material::Rsa { .. },
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (Material::Ec { curve: Curve::P256, .. }, Algorithm::ES256)
                | (Material::Ec { curve: Curve::P384, .. }, Algorithm::ES384)
                | (Material::Ed25519(_), Algorithm::EdDSA)
        )
    }

    /// Verifies `signature` over `message` with `alg` (which [`accepts`](Self::accepts) must allow).
    pub(crate) fn verify(&self, alg: Algorithm, message: &[u8], signature_bytes: &[u8]) -> bool {
        if !self.accepts(alg) {
            return false;
        }
        match &self.material {
            Material::Rsa { n, e } => {
                let params: &signature::RsaParameters = match alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return false,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature_bytes)
                    .is_ok()
            }
            Material::Ec { curve, point } => {
                let algorithm = match curve {
                    Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
                    Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
                };
                UnparsedPublicKey::new(algorithm, point)
                    .verify(message, signature_bytes)
                    .is_ok()
            }
            Material::Ed25519(key) => UnparsedPublicKey::new(&signature::ED25519, key)
                .verify(message, signature_bytes)
                .is_ok(),
        }
    }
}

/// The JWK members Vigie reads.
#[derive(Debug, Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: String,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

#[derive(Debug, Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

/// The issuer's signing keys by `kid`.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, PublicKey>,
}

impl KeySet {
    /// Parses a JWKS document. Keys without `kid`, for encryption
    /// (`use` ≠ `sig`), symmetric, malformed or of an unsupported type or
    /// algorithm are skipped (logged at debug); a document that is not a
    /// JWKS at all is an error.
    pub(crate) fn parse(document: &[u8]) -> Result<KeySet, serde_json::Error> {
        let set: JwkSet = serde_json::from_slice(document)?;
        let mut keys = HashMap::new();
        for value in set.keys {
            let jwk = match serde_json::from_value::<Jwk>(value) {
                Ok(jwk) => jwk,
                Err(error) => {
                    tracing::debug!(%error, "jwks: unreadable key skipped");
                    continue;
                }
            };
            let Some(kid) = jwk.kid.clone() else {
                tracing::debug!("jwks: key without kid skipped");
                continue;
            };
            match public_key(&jwk) {
                Some(key) => {
                    keys.insert(kid, key);
                }
                None => tracing::debug!(%kid, kty = %jwk.kty, "jwks: key not usable for signatures skipped"),
            }
        }
        Ok(KeySet { keys })
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.get(kid)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

fn decode(member: Option<&String>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(member?).ok().filter(|bytes| !bytes.is_empty())
}

fn public_key(jwk: &Jwk) -> Option<PublicKey> {
    if jwk.use_.as_deref().is_some_and(|use_| use_ != "sig") {
        return None;
    }
    // A declared algorithm that is forbidden or unknown makes the whole key
    // unusable (a JWK claiming HS256 is never trusted for anything).
    let alg = match &jwk.alg {
        Some(name) => Some(name.parse::<Algorithm>().ok()?),
        None => None,
    };
    let material = match jwk.kty.as_str() {
        "RSA" => {
            let n = decode(jwk.n.as_ref())?;
            let e = decode(jwk.e.as_ref())?;
            // Strip leading zero octets some issuers emit; ring wants minimal integers.
            let n = n.iter().position(|b| *b != 0).map(|i| n[i..].to_vec())?;
            Material::Rsa { n, e }
        }
        "EC" => {
            let (curve, size) = match jwk.crv.as_deref()? {
                "P-256" => (Curve::P256, 32),
                "P-384" => (Curve::P384, 48),
                _ => return None,
            };
            let x = decode(jwk.x.as_ref())?;
            let y = decode(jwk.y.as_ref())?;
            if x.len() != size || y.len() != size {
                return None;
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            Material::Ec { curve, point }
        }
        "OKP" if jwk.crv.as_deref() == Some("Ed25519") => Material::Ed25519(decode(jwk.x.as_ref())?),
        _ => return None,
    };
    let key = PublicKey { material, alg };
    // A declared algorithm must fit the key type.
    if alg.is_some_and(|alg| !key.accepts(alg)) {
        return None;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_algorithms_have_no_value() {
        for name in ["none", "None", "HS256", "HS384", "HS512", "hs256"] {
            assert!(
                matches!(name.parse::<Algorithm>(), Err(AlgorithmError::Forbidden(_))),
                "{name}"
            );
        }
        assert!(matches!(
            "rs256".parse::<Algorithm>(),
            Err(AlgorithmError::Unsupported(_))
        ));
        assert_eq!("PS256".parse::<Algorithm>(), Ok(Algorithm::PS256));
    }

    #[test]
    fn symmetric_encryption_and_hmac_keys_are_skipped() {
        let document = serde_json::json!({ "keys": [
            { "kid": "oct", "kty": "oct", "k": "c2VjcmV0" },
            { "kid": "rsa-hs", "kty": "RSA", "alg": "HS256", "n": "AQAB", "e": "AQAB" },
            { "kid": "rsa-enc", "kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB" },
            { "kid": "rsa-ok", "kty": "RSA", "use": "sig", "alg": "RS256", "n": "AQAB", "e": "AQAB" },
            { "kid": "ec-bad", "kty": "EC", "crv": "P-256", "x": "AQAB", "y": "AQAB" },
            { "kty": "RSA", "n": "AQAB", "e": "AQAB" },
            "garbage"
        ]});
        let set = KeySet::parse(document.to_string().as_bytes()).unwrap_or_default();
        assert_eq!(set.len(), 1);
        let key = set.get("rsa-ok");
        assert!(key.is_some_and(|k| k.accepts(Algorithm::RS256) && !k.accepts(Algorithm::PS256)));
        assert!(KeySet::parse(b"{\"nokeys\": []}").is_err());
    }
}
