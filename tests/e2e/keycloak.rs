//! The Keycloak realm export of `deploy/keycloak/vigie-realm.json` keeps
//! what Vigie relies on (docs/security.md, "Keycloak"): the six roles, the
//! group tree, the audience and group mappers, the CLI client with the device
//! flow, the integration client with its service account, and the web
//! console's client (code flow with PKCE S256, logout back to the console).

use anyhow::{ensure, Context as _, Result};
use serde_json::Value;

/// The roles the authorisation matrices know.
const ROLES: [&str; 6] = [
    "federation-admin",
    "network-admin",
    "structure-manager",
    "facilitator",
    "trainer",
    "integration",
];

fn realm() -> Result<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/keycloak/vigie-realm.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>> {
    value.as_array().with_context(|| format!("{what} is not an array"))
}

fn group_paths(groups: &[Value], out: &mut Vec<String>) {
    for group in groups {
        if let Some(path) = group["path"].as_str() {
            out.push(path.to_owned());
        }
        if let Some(children) = group["subGroups"].as_array() {
            group_paths(children, out);
        }
    }
}

fn client<'a>(realm: &'a Value, id: &str) -> Result<&'a Value> {
    array(&realm["clients"], "clients")?
        .iter()
        .find(|c| c["clientId"] == id)
        .with_context(|| format!("no client {id}"))
}

#[test]
fn the_keycloak_realm_export_has_what_vigie_needs() -> Result<()> {
    let realm = realm()?;
    ensure!(
        realm["realm"] == "vigie" && realm["enabled"] == true,
        "realm vigie, enabled"
    );

    let roles: Vec<&str> = array(&realm["roles"]["realm"], "roles.realm")?
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for role in ROLES {
        ensure!(roles.contains(&role), "realm role {role} missing: {roles:?}");
    }

    let mut paths = Vec::new();
    group_paths(array(&realm["groups"], "groups")?, &mut paths);
    ensure!(paths.iter().any(|p| p == "/networks"), "{paths:?}");
    let network = paths
        .iter()
        .find(|p| p.starts_with("/networks/") && p.matches('/').count() == 2)
        .with_context(|| format!("no /networks/<network> group: {paths:?}"))?;
    ensure!(
        paths
            .iter()
            .any(|p| p.starts_with(&format!("{network}/structures/")) && p.matches('/').count() == 4),
        "no {network}/structures/<structure> group: {paths:?}"
    );

    // One client scope carries the audience and the groups (full paths).
    let scopes = array(&realm["clientScopes"], "clientScopes")?;
    let scope = scopes
        .iter()
        .find(|scope| {
            let mappers = scope["protocolMappers"].as_array().cloned().unwrap_or_default();
            let audience = mappers.iter().any(|m| {
                m["protocolMapper"] == "oidc-audience-mapper"
                    && m["config"]["included.custom.audience"] == "vigie"
                    && m["config"]["access.token.claim"] == "true"
            });
            let groups = mappers.iter().any(|m| {
                m["protocolMapper"] == "oidc-group-membership-mapper"
                    && m["config"]["claim.name"] == "groups"
                    && m["config"]["full.path"] == "true"
                    && m["config"]["access.token.claim"] == "true"
            });
            let roles = mappers.iter().any(|m| {
                m["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
                    && m["config"]["claim.name"] == "realm_access.roles"
                    && m["config"]["access.token.claim"] == "true"
            });
            audience && groups && roles
        })
        .context("no client scope with the audience (vigie), groups (full path) and realm roles mappers")?;
    let scope_name = scope["name"].as_str().unwrap_or_default();

    let cli = client(&realm, "vigie-cli")?;
    ensure!(cli["publicClient"] == true, "vigie-cli is public");
    ensure!(
        cli["attributes"]["oauth2.device.authorization.grant.enabled"] == "true",
        "vigie-cli has the device authorization grant"
    );
    let integration = client(&realm, "vigie-integration")?;
    ensure!(
        integration["publicClient"] == false && integration["serviceAccountsEnabled"] == true,
        "vigie-integration is confidential with a service account"
    );
    for client in [cli, integration] {
        ensure!(
            array(&client["defaultClientScopes"], "defaultClientScopes")?
                .iter()
                .any(|s| s == scope_name),
            "{} gets the {scope_name} scope by default",
            client["clientId"]
        );
    }
    // The console: authorization code only, PKCE S256 required, redirect to
    // /connexion/retour, back to /deconnexion after logout, and the same
    // scope (audience vigie for the services, groups for the home page).
    let console = client(&realm, "vigie-console")?;
    ensure!(
        console["standardFlowEnabled"] == true
            && console["implicitFlowEnabled"] == false
            && console["directAccessGrantsEnabled"] == false
            && console["serviceAccountsEnabled"] == false
            && console["attributes"]["oauth2.device.authorization.grant.enabled"] == "false",
        "vigie-console: standard flow only"
    );
    ensure!(
        console["attributes"]["pkce.code.challenge.method"] == "S256",
        "vigie-console requires PKCE S256"
    );
    let redirects = array(&console["redirectUris"], "redirectUris")?;
    ensure!(
        !redirects.is_empty()
            && redirects.iter().all(|uri| uri
                .as_str()
                .is_some_and(|u| u.starts_with("https://") && u.ends_with("/connexion/retour") && !u.contains('*'))),
        "vigie-console redirects only to https://…/connexion/retour, no wildcard: {redirects:?}"
    );
    let after_logout = console["attributes"]["post.logout.redirect.uris"]
        .as_str()
        .unwrap_or_default();
    ensure!(
        after_logout.starts_with("https://") && after_logout.ends_with("/deconnexion"),
        "vigie-console logout comes back to /deconnexion: {after_logout}"
    );
    ensure!(
        array(&console["defaultClientScopes"], "defaultClientScopes")?
            .iter()
            .any(|s| s == scope_name),
        "vigie-console gets the {scope_name} scope by default"
    );
    let mappers = array(&scope["protocolMappers"], "protocolMappers")?;
    ensure!(
        mappers
            .iter()
            .any(|m| m["protocolMapper"] == "oidc-group-membership-mapper" && m["config"]["id.token.claim"] == "true"),
        "groups in the ID token (the console's home structure)"
    );
    ensure!(
        mappers.iter().any(|m| m["config"]["id.token.claim"] == "true"
            && (m["protocolMapper"] == "oidc-full-name-mapper" || m["config"]["claim.name"] == "preferred_username")),
        "a name in the ID token (the console's header)"
    );

    let service_account = array(&realm["users"], "users")?
        .iter()
        .find(|u| u["serviceAccountClientId"] == "vigie-integration")
        .context("no service account user for vigie-integration")?;
    ensure!(
        array(&service_account["realmRoles"], "realmRoles")?
            .iter()
            .any(|r| r == "integration"),
        "the integration service account has the integration role"
    );
    Ok(())
}
