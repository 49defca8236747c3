//! Every invalid token is refused with `UNAUTHENTICATED` and no detail; the
//! validator names the check that failed (so each case fails for its own
//! reason, not because of another defect of the forged token).

use serde_json::json;
use vigie_platform::auth::{AuthLayer, TokenError};
use vigie_testkit::{tamper_payload, TestKey};

use crate::support::{assert_unauthenticated, issuer_and_validator, Server};

#[tokio::test]
async fn each_invalid_token_is_refused_with_unauthenticated_and_no_detail() {
    let (issuer, validator) = issuer_and_validator().await;
    let server = Server::protected(AuthLayer::oidc(validator.clone())).await;
    let rsa = issuer.signer();

    // The control: the same server accepts a valid token.
    let valid = issuer.token().sign().unwrap();
    server.call(Some(&valid)).await.unwrap();

    let unpublished = TestKey::rsa("never-published", 2).unwrap();
    let cases: Vec<(&str, String, TokenError)> = vec![
        (
            "expired",
            issuer.token().exp_in(-120).sign().unwrap(),
            TokenError::Expired,
        ),
        (
            "without exp",
            issuer.token().without_claim("exp").sign().unwrap(),
            TokenError::Expired,
        ),
        (
            "not yet valid",
            issuer.token().nbf_in(120).sign().unwrap(),
            TokenError::NotYetValid,
        ),
        (
            "wrong issuer",
            issuer.token().iss("http://127.0.0.1:1/realms/other").sign().unwrap(),
            TokenError::Issuer("http://127.0.0.1:1/realms/other".into()),
        ),
        (
            "issuer with trailing slash",
            issuer.token().iss(&format!("{}/", issuer.issuer())).sign().unwrap(),
            TokenError::Issuer(format!("{}/", issuer.issuer())),
        ),
        (
            "wrong audience (string)",
            issuer.token().aud(json!("other-api")).sign().unwrap(),
            TokenError::Audience,
        ),
        (
            "wrong audience (array)",
            issuer.token().aud(json!(["account", "other-api"])).sign().unwrap(),
            TokenError::Audience,
        ),
        (
            "alg none",
            issuer.token().alg("none").sign().unwrap(),
            TokenError::Algorithm("none".into()),
        ),
        (
            "HS256 with the RSA public key as secret",
            issuer
                .token()
                .alg("HS256")
                .hmac_secret(&rsa.public_key_bytes())
                .sign()
                .unwrap(),
            TokenError::Algorithm("HS256".into()),
        ),
        (
            "unknown kid",
            issuer.token().key(&unpublished).sign().unwrap(),
            TokenError::UnknownKey("never-published".into()),
        ),
        (
            "tampered payload",
            tamper_payload(&valid, |claims| {
                claims.insert("realm_access".into(), json!({ "roles": ["federation-admin"] }));
            })
            .unwrap(),
            TokenError::Signature,
        ),
        (
            "signed by another key under a published kid",
            issuer
                .token()
                .key(&unpublished.clone().with_kid(rsa.kid()))
                .sign()
                .unwrap(),
            TokenError::Signature,
        ),
        (
            "wrong typ",
            issuer.token().typ(Some("id+jwt")).sign().unwrap(),
            TokenError::Type("id+jwt".into()),
        ),
        (
            "Keycloak ID token",
            issuer.token().claim("typ", json!("ID")).sign().unwrap(),
            TokenError::Type("ID".into()),
        ),
        (
            "without sub",
            issuer.token().without_claim("sub").sign().unwrap(),
            TokenError::Subject,
        ),
        (
            "RS256 under the PS256-only key",
            issuer
                .token()
                .key(&issuer.key("ps-1").unwrap())
                .alg("RS256")
                .sign()
                .unwrap(),
            TokenError::Algorithm("RS256".into()),
        ),
        (
            "RS384 not in the allow-list",
            issuer
                .token()
                .key(&rsa.clone().with_jwk_alg(None))
                .alg("RS384")
                .sign()
                .unwrap(),
            TokenError::Algorithm("RS384".into()),
        ),
        (
            "not a JWS",
            "abc.def".to_owned(),
            TokenError::Malformed("pas trois parties"),
        ),
    ];
    for (name, token, expected) in cases {
        assert_eq!(validator.validate(&token).await.err(), Some(expected), "{name}");
        assert_unauthenticated(server.call(Some(&token)).await);
    }

    // Over 16 KiB: refused before parsing (over gRPC the transport's header
    // limit answers first, with HTTP 431).
    let huge = format!("{valid}{}", "A".repeat(17 * 1024));
    assert_eq!(validator.validate(&huge).await, Err(TokenError::Malformed("trop long")));

    assert_unauthenticated(server.call(None).await);
    assert_unauthenticated(server.call_with_header(Some(format!("Basic {valid}"))).await);
    assert_unauthenticated(server.call_with_header(Some("Bearer ".to_owned())).await);
    // The valid token still works: nothing above poisoned the key cache.
    server.call(Some(&valid)).await.unwrap();
}

#[tokio::test]
async fn an_unknown_kid_stays_unknown_after_the_refresh() {
    let (issuer, validator) = issuer_and_validator().await;
    let server = Server::protected(AuthLayer::oidc(validator)).await;
    let stranger = TestKey::p256("stranger").unwrap();
    let token = issuer.token().key(&stranger).sign().unwrap();
    assert_eq!(issuer.jwks_fetches(), 1);
    assert_unauthenticated(server.call(Some(&token)).await);
    assert_eq!(issuer.jwks_fetches(), 2, "the unknown kid triggered one refresh");
}
