//! The web console of `vigie dev`, driven over HTTP like a browser without
//! script (docs/console.md): dev sign-in, « Ma structure » with the same
//! explanations as the API, a deadline acknowledged and a help request sent
//! (then seen through the CLI), another structure answered « introuvable »,
//! forged forms refused, security headers and cookie flags.

use anyhow::{bail, ensure, Context, Result};
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, SET_COOKIE};
use http::StatusCode;
use vigie_e2e::console_client::{escaped, start_demo, Browser};

use super::ok;

const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[tokio::test]
async fn a_director_sees_her_fragility_as_the_api_says_acknowledges_a_deadline_and_asks_for_help() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    let mut browser = Browser::new(&console);

    // Not signed in: the sign-in page, which lists the demo profiles.
    let home = browser.get("/").await?;
    ensure!(home.status == StatusCode::SEE_OTHER && home.location() == "/connexion");
    let list = browser.get("/connexion").await?;
    ensure!(list.body.contains("Direction de S000004 — "), "{}", list.body);
    for kind in ["Fédération", "Coordination du réseau", "Formateur·rice du réseau"] {
        ensure!(list.body.contains(kind), "no {kind} profile");
    }

    ensure!(browser.sign_in("director:S000004").await? == "/structures/S000004");
    let page = browser.get("/structures/S000004").await?;
    ensure!(page.status == StatusCode::OK, "{}", page.status);

    // The same figures and sentences as the API.
    let api = ok(server
        .cli(&["inventory", "fragility", "--structure", "S000004", "--format", "json"])
        .await?)?;
    let api: serde_json::Value = serde_json::from_str(&api.stdout)?;
    let api = if api.is_array() { api[0].clone() } else { api };
    let score = api["score"].as_u64().context("a score")?;
    ensure!(
        page.body.contains(&format!("score de {score} sur 100")),
        "score {score}"
    );
    let band_words = match api["band"].as_str() {
        Some("low") => "Fragilité faible",
        Some("moderate") => "Fragilité modérée",
        Some("high") => "Fragilité élevée",
        Some("critical") => "Fragilité critique",
        other => bail!("band {other:?}"),
    };
    ensure!(page.body.contains(band_words), "band in words: {band_words}");
    let explanations = api["explanations"].as_array().context("explanations")?;
    ensure!(!explanations.is_empty(), "the demo structure is fragile");
    for sentence in explanations {
        let sentence = sentence.as_str().context("a sentence")?;
        ensure!(page.body.contains(&escaped(sentence)), "missing: {sentence}");
    }
    let key_person = api["top_key_person"]["name"].as_str().context("a key person")?;
    ensure!(
        page.body.contains(&escaped(&format!("Si {key_person} s'absente, "))),
        "truck factor in words"
    );

    // Acknowledge the first deadline: the API then shows it.
    let csrf = page.field("csrf")?;
    let call_id = page.field("call_id")?;
    let after = browser
        .submit(
            "/structures/S000004/echeances",
            &[("csrf", &csrf), ("call_id", &call_id), ("status", "submitted")],
            "/structures/S000004#echeances",
        )
        .await?;
    ensure!(after.body.contains("enregistré : Déposé."), "the confirmation");
    let calls = ok(server
        .cli(&["calls", "list", "--structure", "S000004", "--format", "json"])
        .await?)?;
    let calls: serde_json::Value = serde_json::from_str(&calls.stdout)?;
    let call = calls
        .as_array()
        .and_then(|all| all.iter().find(|c| c["call_id"] == call_id.as_str()))
        .context("the call in the API")?;
    ensure!(call["acknowledgement"] == "submitted", "{call}");

    // A help request without its fields: errors tied to them, nothing sent.
    let refused = browser
        .post(
            "/structures/S000004/aide",
            &[("csrf", &csrf), ("function", ""), ("description", " ")],
        )
        .await?;
    ensure!(refused.status == StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.status);
    ensure!(refused.body.contains("aria-describedby=\"function-error\""));
    ensure!(refused.body.contains("id=\"description-error\""));

    let function = api["functions"][0]["code"].as_str().context("a function")?;
    let description = "Test de la console : une seule personne sait faire ceci";
    let sent = browser
        .post(
            "/structures/S000004/aide",
            &[("csrf", &csrf), ("function", function), ("description", description)],
        )
        .await?;
    ensure!(sent.status == StatusCode::SEE_OTHER, "{} {}", sent.status, sent.body);
    let proposals = ok(server
        .cli(&[
            "facilitation",
            "proposals",
            "--structure",
            "S000004",
            "--format",
            "json",
        ])
        .await?)?;
    let proposals: serde_json::Value = serde_json::from_str(&proposals.stdout)?;
    let request = proposals
        .as_array()
        .and_then(|all| all.iter().find(|r| r["description"] == description))
        .context("the help request in the API")?;
    ensure!(
        request["function"] == function && request["kind"] == "help",
        "{request}"
    );
    let after = browser.get("/structures/S000004").await?;
    ensure!(
        after.body.contains("Votre demande d&#39;aide est envoyée"),
        "the confirmation"
    );
    Ok(())
}

#[tokio::test]
async fn the_console_hides_other_structures_refuses_forged_forms_and_sets_its_headers() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    let mut browser = Browser::new(&console);
    let cookie_page = browser.get("/connexion").await?;
    let cookie = cookie_page
        .headers
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .context("a session cookie")?;
    ensure!(
        cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax"),
        "HttpOnly, Lax, not Secure on loopback: {cookie}"
    );
    browser.sign_in("director:S000004").await?;
    // Her own page first: it shows (and so consumes) the sign-in message.
    let page = browser.get("/structures/S000004").await?;
    ensure!(page.status == StatusCode::OK && page.body.contains("Vous êtes connecté·e"));

    // Someone else's structure reads exactly as an unknown one.
    let other = browser.get("/structures/S000005").await?;
    let unknown = browser.get("/structures/S999999").await?;
    ensure!(other.status == StatusCode::NOT_FOUND && unknown.status == StatusCode::NOT_FOUND);
    ensure!(other.body == unknown.body && other.body.contains("Page introuvable"));
    ensure!(other.body.contains("href=\"/\""), "a way back");

    // Headers of a personal page.
    let page = browser.get("/structures/S000004").await?;
    ensure!(page.headers[CONTENT_SECURITY_POLICY] == CSP);
    ensure!(page.headers[CACHE_CONTROL] == "no-store");
    ensure!(page.headers["x-content-type-options"] == "nosniff");
    ensure!(page.headers["referrer-policy"] == "same-origin");
    ensure!(!page.body.contains("<script"), "no script at all");
    let css = browser.get("/static/console.css").await?;
    ensure!(css.status == StatusCode::OK && css.headers[CONTENT_TYPE] == "text/css; charset=utf-8");

    // Forged forms change nothing.
    let call_id = page.field("call_id")?;
    for csrf in [None, Some("forged"), Some("")] {
        let mut form = vec![("call_id", call_id.as_str()), ("status", "not_concerned")];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let refused = browser.post("/structures/S000004/echeances", &form).await?;
        ensure!(refused.status == StatusCode::FORBIDDEN, "{csrf:?}: {}", refused.status);
        ensure!(refused.body.contains("Formulaire refusé"), "{}", refused.body);
    }
    let calls = ok(server
        .cli(&["calls", "list", "--structure", "S000004", "--format", "json"])
        .await?)?;
    ensure!(
        !calls.stdout.contains("not_concerned"),
        "a refused form acknowledged a call"
    );
    // Without any session cookie either.
    let mut stranger = Browser::new(&console);
    let refused = stranger.post("/deconnexion", &[("csrf", &page.field("csrf")?)]).await?;
    ensure!(refused.status == StatusCode::FORBIDDEN);

    // Signing out ends the session on the server, not only in the browser.
    let id = browser.session.clone();
    let out = browser.post("/deconnexion", &[("csrf", &page.field("csrf")?)]).await?;
    ensure!(out.status == StatusCode::SEE_OTHER && out.location() == "/connexion");
    ensure!(browser.session.is_none(), "the cookie is cleared");
    browser.session = id;
    let gone = browser.get("/structures/S000004").await?;
    ensure!(gone.status == StatusCode::SEE_OTHER && gone.location() == "/connexion");
    Ok(())
}
