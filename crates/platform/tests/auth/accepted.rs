//! Valid tokens reach the handler with their principal.

use serde_json::json;
use vigie_platform::auth::AuthLayer;

use crate::support::{issuer_and_validator, Server, AUDIENCE};

#[tokio::test]
async fn rs256_es256_and_ps256_tokens_are_accepted_over_grpc() {
    let (issuer, validator) = issuer_and_validator().await;
    let server = Server::protected(AuthLayer::oidc(validator.clone())).await;

    let rs256 = issuer.token().subject("user-rs").sign().unwrap();
    assert!(rs256.starts_with(&base64_header("RS256")), "really RS256");
    assert_eq!(server.call(Some(&rs256)).await.unwrap().subject, "user-rs");

    let ec = issuer.key("ec-1").unwrap();
    let es256 = issuer.token().key(&ec).subject("user-es").sign().unwrap();
    assert_eq!(server.call(Some(&es256)).await.unwrap().subject, "user-es");

    let ps = issuer.key("ps-1").unwrap();
    let ps256 = issuer.token().key(&ps).subject("user-ps").sign().unwrap();
    assert_eq!(server.call(Some(&ps256)).await.unwrap().subject, "user-ps");

    // Keys were all loaded at discovery: no further fetch.
    assert_eq!(issuer.jwks_fetches(), 1);
    assert_eq!(validator.jwks_fetches(), 1);
}

fn base64_header(alg: &str) -> String {
    use base64::Engine as _;
    let header = json!({ "alg": alg });
    // Only the first characters are compared: `{"alg":"RS256"` encodes stably.
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header.to_string());
    encoded[..16].to_owned()
}

#[tokio::test]
async fn typ_variants_and_audience_shapes_are_accepted() {
    let (issuer, validator) = issuer_and_validator().await;
    for typ in [
        Some("JWT"),
        Some("jwt"),
        Some("at+jwt"),
        Some("application/at+JWT"),
        None,
    ] {
        let token = issuer.token().typ(typ).sign().unwrap();
        assert!(validator.validate(&token).await.is_ok(), "typ {typ:?}");
    }
    for aud in [
        json!(AUDIENCE),
        json!([AUDIENCE]),
        json!(["account", AUDIENCE, "broker"]),
    ] {
        let token = issuer.token().aud(aud.clone()).sign().unwrap();
        assert!(validator.validate(&token).await.is_ok(), "aud {aud}");
    }
    // Within the leeway (60 s): just expired, or not before in a few seconds.
    let token = issuer.token().exp_in(-30).sign().unwrap();
    assert!(validator.validate(&token).await.is_ok(), "exp within leeway");
    let token = issuer.token().nbf_in(30).sign().unwrap();
    assert!(validator.validate(&token).await.is_ok(), "nbf within leeway");
}

#[tokio::test]
async fn azp_is_accepted_as_audience_only_when_configured() {
    let token_for =
        |issuer: &vigie_testkit::OidcIssuer| issuer.token().aud(json!("account")).azp(AUDIENCE).sign().unwrap();

    let (issuer, strict) = issuer_and_validator().await;
    assert_eq!(
        strict.validate(&token_for(&issuer)).await,
        Err(vigie_platform::auth::TokenError::Audience)
    );

    let (issuer, lenient) = crate::support::issuer_and_validator_with(|config| config.accept_azp = true).await;
    let principal = lenient.validate(&token_for(&issuer)).await.unwrap();
    assert_eq!(principal.client_id.as_deref(), Some(AUDIENCE));
    // Still refused when neither matches.
    let other = issuer
        .token()
        .aud(json!("account"))
        .azp("another-client")
        .sign()
        .unwrap();
    assert!(lenient.validate(&other).await.is_err());
}
