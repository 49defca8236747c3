//! ID tokens (`OidcValidator::validate_id_token`) signed by a real issuer:
//! the same signature and key checks as access tokens, then the ID token's
//! own claims; the discovery document's relying-party endpoints.

use serde_json::json;
use vigie_platform::auth::TokenError;
use vigie_testkit::tamper_payload;

use crate::support::{issuer_and_validator, AUDIENCE};

/// An ID token as Keycloak shapes it, for the validator's audience.
fn id_token(issuer: &vigie_testkit::OidcIssuer, nonce: &str) -> vigie_testkit::TokenBuilder {
    issuer
        .token()
        .aud(json!(AUDIENCE))
        .azp(AUDIENCE)
        .claim("typ", json!("ID"))
        .claim("nonce", json!(nonce))
        .groups(&["/networks/guyane/structures/S000004"])
}

#[tokio::test]
async fn a_signed_id_token_with_its_nonce_is_accepted() {
    let (issuer, validator) = issuer_and_validator().await;
    let token = id_token(&issuer, "n-1").sign().unwrap();
    let person = validator.validate_id_token(&token, "n-1").await.unwrap();
    assert_eq!(person.name.as_deref(), Some("Camille Test"));
    assert_eq!(person.preferred_username.as_deref(), Some("camille"));
    assert_eq!(person.groups, vec!["/networks/guyane/structures/S000004"]);
    // Signed with another published key (P-256): accepted too.
    let ec = issuer.key("ec-1").unwrap();
    let token = id_token(&issuer, "n-1").key(&ec).sign().unwrap();
    assert!(validator.validate_id_token(&token, "n-1").await.is_ok());
}

#[tokio::test]
async fn forged_replayed_or_misdirected_id_tokens_are_refused() {
    let (issuer, validator) = issuer_and_validator().await;
    let good = id_token(&issuer, "n-1").sign().unwrap();
    // Another sign-in's nonce: a replayed token.
    assert_eq!(validator.validate_id_token(&good, "n-2").await, Err(TokenError::Nonce));
    // A claim changed after signing.
    let tampered = tamper_payload(&good, |claims| {
        claims.insert("groups".into(), json!(["/networks/guyane"]));
    })
    .unwrap();
    assert_eq!(
        validator.validate_id_token(&tampered, "n-1").await,
        Err(TokenError::Signature)
    );
    // `alg: none`.
    let none = id_token(&issuer, "n-1").alg("none").sign().unwrap();
    assert!(matches!(
        validator.validate_id_token(&none, "n-1").await,
        Err(TokenError::Algorithm(_))
    ));
    // An access token is no ID token (payload `typ: Bearer`).
    let access = issuer
        .token()
        .aud(json!(AUDIENCE))
        .claim("nonce", json!("n-1"))
        .sign()
        .unwrap();
    assert!(matches!(
        validator.validate_id_token(&access, "n-1").await,
        Err(TokenError::Type(_))
    ));
    // Issued to another client.
    let other = id_token(&issuer, "n-1")
        .aud(json!("vigie-cli"))
        .azp("vigie-cli")
        .sign()
        .unwrap();
    assert_eq!(
        validator.validate_id_token(&other, "n-1").await,
        Err(TokenError::Audience)
    );
    // Expired.
    let expired = id_token(&issuer, "n-1").exp_in(-600).sign().unwrap();
    assert_eq!(
        validator.validate_id_token(&expired, "n-1").await,
        Err(TokenError::Expired)
    );
}

#[tokio::test]
async fn discovery_gives_the_relying_party_endpoints() {
    let (issuer, validator) = issuer_and_validator().await;
    let endpoints = validator.endpoints();
    let base = format!("{}/protocol/openid-connect", issuer.issuer());
    assert_eq!(
        endpoints.authorization.as_deref(),
        Some(format!("{base}/auth").as_str())
    );
    assert_eq!(endpoints.token.as_deref(), Some(format!("{base}/token").as_str()));
    assert_eq!(
        endpoints.end_session.as_deref(),
        Some(format!("{base}/logout").as_str())
    );
}
