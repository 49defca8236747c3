//! `vigie serve console` with OIDC sign-in (docs/console.md, docs/security.md
//! "Console sign-in"): real processes — the services (`vigie dev --demo`
//! with the test issuer as their OIDC issuer, so every call needs a valid
//! token) and `vigie serve console` — and the testkit's real issuer. A
//! browser without script follows the redirects (code flow with PKCE) and
//! lands, as a structure manager, on her structure with the service's data;
//! a wrong `state` and a replayed code are refused; logout ends the session
//! and reaches the issuer's end-session endpoint; without OIDC,
//! `serve console` refuses to start. `vigie dev` with OIDC and
//! `--oidc-client-id` serves its console with the same sign-in.

use anyhow::{ensure, Context, Result};
use http::{Method, StatusCode};
use vigie_e2e::console_client::Browser;
use vigie_e2e::{run_cli, VigieServer};
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use vigie_proto::inventory::v1::ListStructuresRequest;
use vigie_testkit::{CodeUser, OidcIssuer};

use crate::console_browser::run_browser;

/// The services' audience.
const AUDIENCE: &str = "vigie";
/// The console's client.
const CLIENT: &str = "vigie-console";
const SECRET: &str = "console-secret-0123456789";

/// `/connexion`, then the issuer: returns the console URL the issuer
/// sends the browser back to (with `code` and `state`), not yet visited.
async fn through_the_issuer(browser: &mut Browser, issuer: &OidcIssuer) -> Result<String> {
    let start = browser.get("/connexion").await?;
    ensure!(start.status == StatusCode::SEE_OTHER, "connexion: {}", start.status);
    let authorize = start.location();
    ensure!(
        authorize.starts_with(&format!("{}/protocol/openid-connect/auth?", issuer.issuer())),
        "{authorize}"
    );
    for needed in [
        "response_type=code",
        "code_challenge_method=S256",
        "scope=openid",
        "nonce=",
        "state=",
    ] {
        ensure!(authorize.contains(needed), "{needed} missing in {authorize}");
    }
    ensure!(authorize.contains(&format!("client_id={CLIENT}")), "{authorize}");
    let approved = browser.get(authorize).await?;
    ensure!(
        approved.status == StatusCode::FOUND,
        "issuer: {} {}",
        approved.status,
        approved.body
    );
    let back = approved.location();
    ensure!(
        back.starts_with(&format!("{}/connexion/retour?", browser.base())),
        "{back}"
    );
    Ok(back.to_owned())
}

/// `url` with its query parameter `name` replaced by `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key == name => format!("{key}={value}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn param(url: &str, name: &str) -> Option<String> {
    url.split_once('?')?
        .1
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The network and name of `structure`, read from the services with a
/// federation administrator's token.
async fn structure_of(services: &VigieServer, issuer: &OidcIssuer, structure: &str) -> Result<(String, String)> {
    let token = issuer.token().realm_roles(&["federation-admin"]).sign()?;
    let channel = tonic::transport::Endpoint::from_shared(services.endpoint.clone())?
        .connect()
        .await?;
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut client = InventoryServiceClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
        request.metadata_mut().insert("authorization", bearer.clone());
        Ok(request)
    });
    let all = client
        .list_structures(ListStructuresRequest::default())
        .await?
        .into_inner()
        .structures;
    let found = all
        .into_iter()
        .find(|s| s.structure_id == structure)
        .context("structure not in the demo")?;
    Ok((found.network, found.name))
}

/// Makes the issuer's next sign-in Awa, manager of S000004 in `network`
/// (`name` in her ID token; empty for none).
fn next_sign_in_manages_s000004(issuer: &OidcIssuer, network: &str, name: &str) {
    issuer.sign_in_as(CodeUser {
        subject: "manager-s000004".to_owned(),
        name: name.to_owned(),
        username: "awa".to_owned(),
        roles: vec!["structure-manager".to_owned()],
        groups: vec![format!("/networks/{network}/structures/S000004")],
    });
}

/// `vigie dev --demo` with its data in `data`, whose services trust `issuer`
/// and whose console signs people in there as a public client (PKCE alone),
/// registered with the issuer: the server and the console's address.
async fn dev_with_oidc_console(data: &std::path::Path, issuer: &OidcIssuer) -> Result<(VigieServer, String)> {
    let server = VigieServer::dev(
        data,
        &[
            "--demo",
            "--oidc-issuer",
            issuer.issuer(),
            "--oidc-audience",
            AUDIENCE,
            "--oidc-client-id",
            CLIENT,
        ],
        &[],
    )
    .await?;
    let base = server
        .console
        .clone()
        .context("vigie dev with OIDC announced no console")?;
    issuer.add_code_client(
        CLIENT,
        &format!("{base}/connexion/retour"),
        &format!("{base}/deconnexion"),
        None,
    );
    Ok((server, base))
}

#[tokio::test]
async fn a_structure_manager_signs_in_with_oidc_sees_her_structure_and_signs_out_at_the_issuer() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let issuer = OidcIssuer::start(AUDIENCE).await?;
    let data = dir.path().join("data");
    let services = VigieServer::dev(
        &data,
        &["--demo", "--oidc-issuer", issuer.issuer(), "--oidc-audience", AUDIENCE],
        &[],
    )
    .await?;
    let (network, name) = structure_of(&services, &issuer, "S000004").await?;

    let secret_file = dir.path().join("console-secret");
    std::fs::write(&secret_file, format!("{SECRET}\n"))?;
    let console = VigieServer::start(
        &[
            "serve",
            "console",
            "--listen",
            "127.0.0.1:0",
            "--services-endpoint",
            &services.endpoint,
            // One address per service is possible too (here the same one).
            "--inventory-endpoint",
            &services.endpoint,
            "--oidc-issuer",
            issuer.issuer(),
            // The services' audience: the console reads the access token's
            // roles and groups as they will, to lead her to her structure.
            "--oidc-audience",
            AUDIENCE,
            "--oidc-client-id",
            CLIENT,
            "--oidc-client-secret-file",
            secret_file.to_str().unwrap_or_default(),
        ],
        &[],
    )
    .await?;
    let base = console.endpoint.clone();
    ensure!(base.starts_with("http://127.0.0.1:"), "{base}");
    issuer.add_code_client(
        CLIENT,
        &format!("{base}/connexion/retour"),
        &format!("{base}/deconnexion"),
        Some(SECRET),
    );
    next_sign_in_manages_s000004(&issuer, &network, "Awa Diallo");

    // Not signed in: `/` leads to `/connexion`, which leads to the issuer —
    // never to the dev list of profiles.
    let mut browser = Browser::new(&base);
    let home = browser.get("/").await?;
    ensure!(home.status == StatusCode::SEE_OTHER && home.location() == "/connexion");
    let refused = browser
        .send(
            Method::POST,
            "/connexion",
            Some(&[("csrf", "x"), ("profile", "federation")]),
        )
        .await?;
    ensure!(
        refused.status == StatusCode::NOT_FOUND,
        "dev sign-in with OIDC: {}",
        refused.status
    );

    let back = through_the_issuer(&mut browser, &issuer).await?;
    let anonymous = browser
        .session
        .clone()
        .context("an anonymous session bound to the sign-in")?;
    let signed = browser.get(&back).await?;
    ensure!(
        signed.status == StatusCode::SEE_OTHER && signed.location() == "/",
        "{} {}",
        signed.status,
        signed.body
    );
    let cookie = signed.set_cookie().context("a session cookie")?;
    ensure!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"),
        "loopback cookie: {cookie}"
    );
    let session = browser.session.clone().context("signed-in session")?;
    ensure!(session != anonymous, "a new session id on sign-in");

    // She lands on her structure, with the inventory's data, named as in
    // her ID token.
    let home = browser.get("/").await?;
    ensure!(home.location() == "/structures/S000004", "{}", home.location());
    let page = browser.get("/structures/S000004").await?;
    ensure!(page.status == StatusCode::OK, "{} {}", page.status, page.body);
    let escaped_name = name.replace('&', "&amp;").replace('\'', "&#39;").replace('"', "&quot;");
    ensure!(page.body.contains(&escaped_name), "structure name {name} missing");
    ensure!(page.body.contains("Awa Diallo"), "her name in the header");
    // The sign-out form's answer leads to the issuer: its origin, and only
    // it, joins `form-action` (browsers check it along the redirects).
    let csp = page
        .headers
        .get(http::header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ensure!(
        csp.contains(&format!("form-action 'self' http://{};", issuer.addr())) && csp.contains("default-src 'none'"),
        "{csp}"
    );
    // Another structure is outside her reach, as the services decide.
    let other = browser.get("/structures/S000005").await?;
    ensure!(other.status == StatusCode::NOT_FOUND, "{}", other.status);

    // The same answer again (a replayed code): this browser has no sign-in
    // under way any more.
    let mut replay = Browser::new(&base);
    let replayed = replay.get(&back).await?;
    ensure!(replayed.status == StatusCode::BAD_REQUEST, "{}", replayed.status);
    ensure!(replayed.body.contains("Connexion expirée"), "{}", replayed.body);
    // Even bound to a fresh sign-in of the attacker's own browser, the
    // issuer refuses a code already used.
    let fresh = through_the_issuer(&mut replay, &issuer).await?;
    let stolen = with_param(&fresh, "code", &param(&back, "code").context("code")?);
    let refused = replay.get(&stolen).await?;
    ensure!(
        refused.status == StatusCode::FORBIDDEN,
        "{} {}",
        refused.status,
        refused.body
    );
    ensure!(refused.body.contains("Connexion refusée"), "{}", refused.body);
    ensure!(
        !refused.body.contains(&param(&back, "code").unwrap_or_default()),
        "no code on the page"
    );

    // A wrong state: refused before any exchange, and the sign-in it was
    // meant for is over.
    let mut forged = Browser::new(&base);
    let answer = through_the_issuer(&mut forged, &issuer).await?;
    let exchanges = issuer.token_requests();
    let wrong = forged.get(&with_param(&answer, "state", "forged-state")).await?;
    ensure!(wrong.status == StatusCode::BAD_REQUEST, "{}", wrong.status);
    ensure!(wrong.body.contains("Connexion refusée") && wrong.body.contains("href=\"/connexion\""));
    ensure!(issuer.token_requests() == exchanges, "no exchange after a wrong state");
    let late = forged.get(&answer).await?;
    ensure!(late.status == StatusCode::BAD_REQUEST && late.body.contains("Connexion expirée"));

    // A refusal at the issuer: a clear page with a way back.
    issuer.refuse_sign_in();
    let mut denied = Browser::new(&base);
    let answer = through_the_issuer(&mut denied, &issuer).await?;
    let page = denied.get(&answer).await?;
    ensure!(page.status == StatusCode::FORBIDDEN && page.body.contains("Connexion refusée"));

    // Logout: the session ends here, then at the issuer (RP-initiated).
    let page = browser.get("/structures/S000004").await?;
    let csrf = page.field("csrf")?;
    let out = browser
        .send(Method::POST, "/deconnexion", Some(&[("csrf", &csrf)]))
        .await?;
    ensure!(out.status == StatusCode::SEE_OTHER, "{}", out.status);
    let end_session = out.location();
    ensure!(
        end_session.starts_with(&format!(
            "{}/protocol/openid-connect/logout?id_token_hint=",
            issuer.issuer()
        )),
        "{end_session}"
    );
    ensure!(out.set_cookie().is_some_and(|c| c.contains("Max-Age=0")));
    let bye = browser.get(end_session).await?;
    ensure!(bye.status == StatusCode::FOUND && bye.location() == format!("{base}/deconnexion"));
    let logouts = issuer.logouts();
    ensure!(logouts.len() == 1, "{logouts:?}");
    ensure!(logouts[0]
        .id_token_hint
        .as_deref()
        .is_some_and(|t| t.split('.').count() == 3));
    ensure!(logouts[0].post_logout_redirect_uri.as_deref() == Some(format!("{base}/deconnexion").as_str()));
    let goodbye = browser.get(bye.location()).await?;
    ensure!(goodbye.status == StatusCode::OK && goodbye.body.contains("Vous êtes déconnecté·e"));
    // The old session id opens nothing any more.
    browser.session = Some(session);
    let gone = browser.get("/structures/S000004").await?;
    ensure!(gone.status == StatusCode::SEE_OTHER && gone.location() == "/connexion");
    Ok(())
}

#[tokio::test]
async fn serve_console_refuses_to_start_without_oidc_or_with_cleartext_off_loopback() -> Result<()> {
    let without = run_cli(&["serve", "console", "--services-endpoint", "http://127.0.0.1:1"]).await?;
    ensure!(
        !without.success && without.stderr.contains("exige OIDC") && without.stderr.contains("--oidc-client-id"),
        "{without:?}"
    );
    let issuer = OidcIssuer::start(AUDIENCE).await?;
    let cleartext = run_cli(&[
        "serve",
        "console",
        "--services-endpoint",
        "http://10.1.2.3:50051",
        "--oidc-issuer",
        issuer.issuer(),
        "--oidc-client-id",
        CLIENT,
    ])
    .await?;
    ensure!(
        !cleartext.success && cleartext.stderr.contains("en clair"),
        "{cleartext:?}"
    );
    let public = run_cli(&[
        "serve",
        "console",
        "--listen",
        "127.0.0.1:0",
        "--public-url",
        "http://console.example.org",
        "--services-endpoint",
        "http://127.0.0.1:1",
        "--oidc-issuer",
        issuer.issuer(),
        "--oidc-client-id",
        CLIENT,
    ])
    .await?;
    ensure!(!public.success && public.stderr.contains("https://"), "{public:?}");
    Ok(())
}

#[tokio::test]
async fn dev_with_oidc_serves_the_console_with_sign_in_at_the_issuer() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let issuer = OidcIssuer::start(AUDIENCE).await?;
    let (server, base) = dev_with_oidc_console(&dir.path().join("data"), &issuer).await?;
    let (network, name) = structure_of(&server, &issuer, "S000004").await?;
    next_sign_in_manages_s000004(&issuer, &network, "");
    let mut browser = Browser::new(&base);
    let back = through_the_issuer(&mut browser, &issuer).await?;
    let signed = browser.get(&back).await?;
    ensure!(
        signed.status == StatusCode::SEE_OTHER,
        "{} {}",
        signed.status,
        signed.body
    );
    let home = browser.get("/").await?;
    ensure!(home.location() == "/structures/S000004", "{}", home.location());
    let page = browser.get("/structures/S000004").await?;
    let escaped_name = name.replace('&', "&amp;").replace('\'', "&#39;").replace('"', "&quot;");
    ensure!(page.status == StatusCode::OK && page.body.contains(&escaped_name));
    // Without a name in the ID token, the header shows the user name.
    ensure!(
        page.body.contains("Connecté·e : awa</p>"),
        "preferred_username in the header"
    );
    Ok(())
}

/// The OIDC pages in a real browser: tests/browser/run.py --oidc (Chromium,
/// axe-core, HTML conformance, keyboard), as tests/e2e/console_browser.rs
/// does for the dev console.
#[tokio::test]
async fn console_oidc_pages_pass_axe_html_and_keyboard_in_chromium() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let issuer = OidcIssuer::start(AUDIENCE).await?;
    let (server, base) = dev_with_oidc_console(&dir.path().join("data"), &issuer).await?;
    let (network, _) = structure_of(&server, &issuer, "S000004").await?;
    next_sign_in_manages_s000004(&issuer, &network, "Awa Diallo");
    // The self-test's checks and the OIDC pages' (3 pages × 4 audits + 6).
    let stderr = run_browser(&["--oidc", "--console", &base, "--grpc", &server.endpoint], None, 18).await?;
    ensure!(
        stderr.contains("Connexion expirée") && stderr.contains("la page d'au revoir"),
        "{stderr}"
    );
    let logouts = issuer.logouts();
    ensure!(logouts.len() == 1 && logouts[0].id_token_hint.is_some(), "{logouts:?}");
    Ok(())
}
