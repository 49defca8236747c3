//! Key rotation, refresh on unknown `kid` and its rate limit, background refresh.

use std::time::Duration;

use vigie_platform::auth::{AuthLayer, TokenError};
use vigie_testkit::{eventually, TestKey};

use crate::support::{assert_unauthenticated, issuer_and_validator, issuer_and_validator_with, Server};

#[tokio::test]
async fn key_rotation_is_picked_up_without_restart_with_one_fetch() {
    let (issuer, validator) = issuer_and_validator().await;
    let server = Server::protected(AuthLayer::oidc(validator.clone())).await;
    let old_token = issuer.token().subject("before").sign().unwrap();
    server.call(Some(&old_token)).await.unwrap();
    assert_eq!(issuer.jwks_fetches(), 1);

    issuer.rotate(TestKey::rsa("rsa-2", 2).unwrap());
    let new_token = issuer.token().subject("after").sign().unwrap();
    assert_eq!(server.call(Some(&new_token)).await.unwrap().subject, "after");
    assert_eq!(issuer.jwks_fetches(), 2, "the new kid triggered exactly one refresh");
    // Later tokens of the new key need no fetch.
    for _ in 0..3 {
        server.call(Some(&issuer.token().sign().unwrap())).await.unwrap();
    }
    assert_eq!(issuer.jwks_fetches(), 2);

    // The dropped key no longer verifies (and its kid, unknown now, is rate-limited).
    assert_eq!(
        validator.validate(&old_token).await,
        Err(TokenError::UnknownKey("rsa-1".into()))
    );
    assert_unauthenticated(server.call(Some(&old_token)).await);
    assert_eq!(issuer.jwks_fetches(), 2);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_at_most_once_per_window() {
    let (issuer, validator) = issuer_and_validator().await;
    let server = Server::protected(AuthLayer::oidc(validator.clone())).await;
    let forged: Vec<String> = (0..20)
        .map(|i| {
            let key = TestKey::rsa(&format!("forged-{i}"), 2).unwrap();
            issuer.token().key(&key).sign().unwrap()
        })
        .collect();

    // Concurrently, over gRPC…
    let calls = forged.iter().map(|token| server.call(Some(token)));
    for result in futures::future::join_all(calls).await {
        assert_unauthenticated(result);
    }
    // …then sequentially, straight to the validator.
    for token in &forged {
        assert!(matches!(
            validator.validate(token).await,
            Err(TokenError::UnknownKey(_))
        ));
    }
    assert_eq!(issuer.jwks_fetches(), 2, "discovery + one refresh in the 10 s window");

    // Even a real new key waits for the window: it is refused until then.
    issuer.rotate(TestKey::rsa("rsa-2", 2).unwrap());
    let real = issuer.token().sign().unwrap();
    assert_eq!(
        validator.validate(&real).await,
        Err(TokenError::UnknownKey("rsa-2".into()))
    );
    assert_eq!(issuer.jwks_fetches(), 2);
}

#[tokio::test]
async fn the_window_reopens_after_its_interval() {
    let window = Duration::from_millis(300);
    let (issuer, validator) = issuer_and_validator_with(|config| config.unknown_kid_min_interval = window).await;
    let stranger = TestKey::p256("stranger").unwrap();
    let token = issuer.token().key(&stranger).sign().unwrap();
    assert!(validator.validate(&token).await.is_err());
    assert_eq!(issuer.jwks_fetches(), 2);
    assert!(validator.validate(&token).await.is_err());
    assert_eq!(issuer.jwks_fetches(), 2, "rate-limited inside the window");
    // The issuer publishes the key: once the window has passed, the kid is fetched again.
    issuer.publish(stranger);
    eventually("the window reopens", Duration::from_secs(5), || async {
        Ok(validator.validate(&token).await.is_ok())
    })
    .await
    .unwrap();
    assert_eq!(issuer.jwks_fetches(), 3, "exactly one more fetch");
}

#[tokio::test]
async fn background_refresh_follows_rotation_and_survives_issuer_errors() {
    let (issuer, validator) =
        issuer_and_validator_with(|config| config.refresh_interval = Duration::from_millis(200)).await;
    let before = issuer.token().sign().unwrap();

    // The issuer fails for a while: the cached keys keep working.
    issuer.set_jwks_failing(true);
    eventually("failed background refreshes", Duration::from_secs(10), || async {
        Ok(issuer.jwks_fetches() >= 3)
    })
    .await
    .unwrap();
    validator.validate(&before).await.unwrap();

    // The issuer recovers and rotates; the background refresh picks the new key up.
    issuer.set_jwks_failing(false);
    issuer.rotate(TestKey::rsa("rsa-2", 2).unwrap());
    let fetched = issuer.jwks_fetches();
    eventually("a successful background refresh", Duration::from_secs(10), || async {
        Ok(issuer.jwks_fetches() > fetched + 1)
    })
    .await
    .unwrap();
    let after = issuer.token().sign().unwrap();
    let fetched = issuer.jwks_fetches();
    validator.validate(&after).await.unwrap();
    assert!(
        issuer.jwks_fetches() <= fetched + 1,
        "at most a background tick, no on-demand burst"
    );
    assert_eq!(
        validator.validate(&before).await,
        Err(TokenError::UnknownKey("rsa-1".into())),
        "the dropped key stopped verifying"
    );
}

#[tokio::test]
async fn dropping_the_validator_stops_its_background_refresh() {
    let (issuer, validator) =
        issuer_and_validator_with(|config| config.refresh_interval = Duration::from_millis(100)).await;
    eventually("a background refresh", Duration::from_secs(10), || async {
        Ok(issuer.jwks_fetches() >= 2)
    })
    .await
    .unwrap();
    drop(validator);
    // Let any in-flight refresh finish, then the count must stay put for several periods.
    let settled = issuer.jwks_fetches() + 1;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(issuer.jwks_fetches() <= settled);
}
