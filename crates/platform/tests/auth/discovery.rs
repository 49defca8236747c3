//! Discovery: what the validator refuses to start with.

use vigie_platform::auth::{Algorithm, AlgorithmError, OidcConfig, OidcError, OidcValidator};
use vigie_testkit::OidcIssuer;

use crate::support::AUDIENCE;

#[tokio::test]
async fn discovery_reads_the_issuer_and_refuses_mismatches() {
    let issuer = OidcIssuer::start(AUDIENCE).await.unwrap();

    let validator = OidcValidator::discover(OidcConfig::new(issuer.issuer(), AUDIENCE))
        .await
        .unwrap();
    assert_eq!(issuer.discovery_fetches(), 1);
    assert_eq!(issuer.jwks_fetches(), 1);
    assert_eq!(validator.jwks_fetches(), 1);

    // A trailing slash would never equal `iss`: refused before any request.
    let slash = OidcConfig::new(format!("{}/", issuer.issuer()), AUDIENCE);
    assert!(matches!(
        OidcValidator::discover(slash).await,
        Err(OidcError::Config(_))
    ));
    // Another realm on the same server: its discovery document does not exist.
    let other = format!("http://{}/realms/other", issuer.addr());
    let missing = OidcValidator::discover(OidcConfig::new(other, AUDIENCE)).await;
    assert!(matches!(missing, Err(OidcError::Fetch(_))), "{missing:?}");
    assert_eq!(issuer.discovery_fetches(), 1);
    // No audience, no algorithm: configuration errors.
    assert!(matches!(
        OidcValidator::discover(OidcConfig::new(issuer.issuer(), "")).await,
        Err(OidcError::Config(_))
    ));
    let mut none = OidcConfig::new(issuer.issuer(), AUDIENCE);
    none.algorithms.clear();
    assert!(matches!(OidcValidator::discover(none).await, Err(OidcError::Config(_))));
    // The issuer is unreachable: the service must not start.
    issuer.set_jwks_failing(true);
    assert!(OidcValidator::discover(OidcConfig::new(issuer.issuer(), AUDIENCE))
        .await
        .is_err());
}

#[test]
fn hmac_and_none_cannot_be_configured() {
    assert!(matches!(
        "HS256".parse::<Algorithm>(),
        Err(AlgorithmError::Forbidden(_))
    ));
    assert!(matches!("none".parse::<Algorithm>(), Err(AlgorithmError::Forbidden(_))));
    assert_eq!(
        OidcConfig::new("https://sso.example.org/realms/vigie", AUDIENCE).algorithms,
        [Algorithm::RS256, Algorithm::ES256, Algorithm::PS256]
    );
}
