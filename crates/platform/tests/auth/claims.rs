//! Roles and scopes from Keycloak-shaped claims, as handlers see them.

use std::collections::BTreeSet;

use serde_json::json;
use vigie_platform::auth::{AuthLayer, Role, Scope};

use crate::support::{issuer_and_validator, issuer_and_validator_with, Server, AUDIENCE};

#[tokio::test]
async fn realm_and_client_roles_and_group_scopes_reach_the_handler() {
    let (issuer, validator) = issuer_and_validator().await;
    let server = Server::protected(AuthLayer::oidc(validator)).await;
    let token = issuer
        .token()
        .subject("8d2e1f3a-0000-4000-8000-000000000001")
        .aud(json!([AUDIENCE, "account"]))
        .azp("vigie-cli")
        .realm_roles(&[
            "default-roles-vigie",
            "offline_access",
            "network-admin",
            "uma_authorization",
        ])
        .client_roles(AUDIENCE, &["trainer", "structure-manager", "not-a-vigie-role"])
        // Another client's roles never grant Vigie roles.
        .client_roles("some-other-app", &["federation-admin"])
        .groups(&[
            "/networks/hauts-de-france",
            "/networks/occitanie/structures/tiers-lieu-albi",
            "/networks/hauts-de-france",
            "/staff",
            "tiers-lieu-albi",
            "/networks/occitanie/structures/",
        ])
        .sign()
        .unwrap();

    let principal = server.call(Some(&token)).await.unwrap();
    assert_eq!(principal.subject, "8d2e1f3a-0000-4000-8000-000000000001");
    assert_eq!(principal.client_id.as_deref(), Some("vigie-cli"));
    assert_eq!(
        principal.roles,
        BTreeSet::from([Role::NetworkAdmin, Role::StructureManager, Role::Trainer])
    );
    assert_eq!(
        principal.scopes,
        vec![
            Scope::Network("hauts-de-france".into()),
            Scope::Structure {
                network: "occitanie".into(),
                structure: "tiers-lieu-albi".into()
            },
        ]
    );
}

#[tokio::test]
async fn a_keycloak_default_token_has_no_vigie_role_and_no_scope() {
    let (issuer, validator) = issuer_and_validator().await;
    let principal = validator.validate(&issuer.token().sign().unwrap()).await.unwrap();
    assert!(principal.roles.is_empty(), "{:?}", principal.roles);
    assert!(principal.scopes.is_empty());
}

#[tokio::test]
async fn machine_clients_and_configured_role_clients() {
    let (issuer, validator) = issuer_and_validator_with(|config| config.role_clients = vec!["vigie".into()]).await;
    // A client-credentials token: RFC 9068 `client_id`, no `azp`, the role on the configured client.
    let token = issuer
        .token()
        .without_claim("azp")
        .claim("client_id", json!("funding-portal"))
        .realm_roles(&[])
        .client_roles("vigie", &["integration"])
        .client_roles(AUDIENCE, &["federation-admin"])
        .sign()
        .unwrap();
    let principal = validator.validate(&token).await.unwrap();
    assert_eq!(principal.client_id.as_deref(), Some("funding-portal"));
    assert_eq!(
        principal.roles,
        BTreeSet::from([Role::Integration]),
        "only the configured client counts"
    );
}
