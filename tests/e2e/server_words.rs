//! The servers' own words follow the reader's language: a refusal reads in
//! French by default and in English with `--lang en`, for a unary call and
//! for a client-streaming one; a client that knows nothing of the English
//! metadata still gets the French message; the console shows a service's
//! refusal in the page's language; the `FILE:LINE: message` lines of a
//! refused import (the CSV readers' rows, the problems of a calls import)
//! follow `--lang` too.

use std::collections::BTreeMap;

use anyhow::{ensure, Context, Result};
use http::StatusCode;
use serde_json::Value;
use vigie_e2e::console_client::{start_demo, Browser};
use vigie_e2e::{run_cli, VigieServer};
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use vigie_proto::inventory::v1::ImportRequest;

use crate::ok;

async fn dev(data_dir: &std::path::Path) -> Result<VigieServer> {
    let dir = data_dir.to_str().unwrap_or_default().to_owned();
    VigieServer::start(&["dev", "--listen", "127.0.0.1:0", "--data-dir", dir.as_str()], &[]).await
}

#[tokio::test]
async fn server_messages_follow_the_language_of_the_cli() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = dev(dir.path()).await?;

    // NOT_FOUND.
    let unknown = ["inventory", "fragility", "--structure", "NULLE-PART"];
    let french = server.cli(&unknown).await?;
    ensure!(
        !french.success
            && french
                .stderr
                .contains("introuvable : structure « NULLE-PART » introuvable"),
        "French by default: {french:?}"
    );
    let english = server.cli(&[&["--lang", "en"], &unknown[..]].concat()).await?;
    ensure!(
        !english.success && english.stderr.contains("not found: structure “NULLE-PART” not found"),
        "English with --lang en: {english:?}"
    );
    ensure!(!english.stderr.contains("introuvable"), "no French left: {english:?}");

    // A refusal of the client itself, before any connection.
    let cleartext = ["inventory", "fragility", "--endpoint", "ftp://127.0.0.1:1"];
    let english = run_cli(&[&["--lang", "en"], &cleartext[..]].concat()).await?;
    ensure!(
        !english.success
            && english.stderr.contains(
                "server address “ftp://127.0.0.1:1”: the scheme must be https:// (TLS) or http:// (loopback)"
            ),
        "English with --lang en: {english:?}"
    );

    // INVALID_ARGUMENT, checked by the server only.
    let bad_zone = ["alerts", "policy", "--network", "reseau-a", "--timezone", "Mars/Olympe"];
    let french = server.cli(&bad_zone).await?;
    ensure!(
        !french.success
            && french
                .stderr
                .contains("demande invalide : fuseau « Mars/Olympe » inconnu : attendu un nom IANA"),
        "French by default: {french:?}"
    );
    let english = server.cli(&[&["--lang", "en"], &bad_zone[..]].concat()).await?;
    ensure!(
        !english.success
            && english
                .stderr
                .contains("invalid request: unknown time zone “Mars/Olympe”: expected an IANA name"),
        "English with --lang en: {english:?}"
    );

    // A client-streaming call, by a plain gRPC client: the status message
    // stays French, the English words ride in the metadata.
    let mut client = InventoryServiceClient::connect(server.endpoint.clone()).await?;
    let files = tokio_stream::iter([ImportRequest {
        file_name: "intrus.csv".to_owned(),
        chunk: b"a,b\n".to_vec(),
    }]);
    let status = match client.import(files).await {
        Ok(response) => anyhow::bail!("an unexpected file is refused, got {:?}", response.get_ref()),
        Err(status) => status,
    };
    ensure!(status.code() == tonic::Code::InvalidArgument, "{status:?}");
    ensure!(
        status.message().starts_with("fichier « intrus.csv » inattendu"),
        "{status:?}"
    );
    let english = vigie_platform::words::english_message(&status);
    ensure!(
        english
            .as_deref()
            .is_some_and(|e| e.starts_with("unexpected file “intrus.csv” (expected: structures.csv")),
        "English in vigie-message-en-bin: {english:?}"
    );
    Ok(())
}

#[tokio::test]
async fn import_row_errors_follow_the_language_of_the_cli() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = dev(dir.path()).await?;

    // The inventory's set (a streamed import): one structure in a region
    // that no longer exists, and an unknown role.
    let set = dir.path().join("set");
    let set_dir = set.to_str().unwrap_or_default();
    ok(run_cli(&["inventory", "generate", "--structures", "3", "--seed", "7", set_dir]).await?)?;
    let mut reader = csv::Reader::from_path(set.join("structures.csv"))?;
    let header = reader.headers()?.clone();
    let mut rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    let region = header
        .iter()
        .position(|h| h == "region_code")
        .context("region_code column")?;
    rows[0] = rows[0]
        .iter()
        .enumerate()
        .map(|(i, cell)| if i == region { "21" } else { cell })
        .collect();
    let mut writer = csv::Writer::from_path(set.join("structures.csv"))?;
    writer.write_record(&header)?;
    for row in &rows {
        writer.write_record(row)?;
    }
    writer.flush()?;
    let import = ["inventory", "import", set_dir];
    let french = server.cli(&import).await?;
    ensure!(
        !french.success
            && french
                .stderr
                .contains("structures.csv:2: code région « 21 » invalide (attendu :"),
        "French by default: {french:?}"
    );
    let english = server.cli(&[&["--lang", "en"], &import[..]].concat()).await?;
    ensure!(
        !english.success
            && english
                .stderr
                .contains("structures.csv:2: invalid region code “21” (expected: one of the 18 current region codes")
            && english.stderr.contains("import rejected: 1 error(s)"),
        "English with --lang en: {english:?}"
    );
    ensure!(!english.stderr.contains("invalide"), "no French left: {english:?}");

    // The training catalogue (a unary import answering its rows): a
    // spreadsheet that saved with semicolons.
    let catalogue = dir.path().join("catalogue");
    std::fs::create_dir(&catalogue)?;
    std::fs::write(catalogue.join("trainings.csv"), "training_id;title\nT1;Paie\n")?;
    std::fs::write(catalogue.join("sessions.csv"), "")?;
    let import = ["training", "catalog", "import", catalogue.to_str().unwrap_or_default()];
    let english = server.cli(&[&["--lang", "en"], &import[..]].concat()).await?;
    ensure!(
        !english.success
            && english.stderr.contains("trainings.csv:1: invalid header: expected")
            && english
                .stderr
                .contains("the separator must be a comma, not a semicolon"),
        "English with --lang en: {english:?}"
    );
    let french = server.cli(&import).await?;
    ensure!(
        !french.success && french.stderr.contains("trainings.csv:1: en-tête invalide : attendu"),
        "French by default: {french:?}"
    );
    Ok(())
}

#[tokio::test]
async fn calls_import_problems_follow_the_language_of_the_cli() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = dev(dir.path()).await?;

    // An Etalab file whose only row names an unknown beneficiary category
    // and a geographic code of no scale.
    let file = dir.path().join("appels.csv");
    std::fs::write(
        &file,
        "id,titre,description,eligibilite,types_aides,porteurs,cibles,eligibilite_geographique,date_mise_a_jour\n\
         a-1,Appel,Description,Critères,financement,,tous,CANTON-3501,2027-01-01\n",
    )?;
    let path = file.to_str().unwrap_or_default();
    let import = ["calls", "import", "--source", "etalab", path];
    let english = server.cli(&[&["--lang", "en"], &import[..]].concat()).await?;
    ensure!(
        !english.success
            && english.stderr.contains(&format!(
                "{path}:2: error: column “cibles”: unknown beneficiary “tous” \
                 (expected professionnels, particuliers, associations, secteur public)"
            ))
            && english.stderr.contains(&format!(
                "{path}:2: error: column “eligibilite_geographique”: invalid geographic code “CANTON-3501”"
            ))
            && english.stderr.contains("file rejected: 2 error(s)"),
        "English with --lang en: {english:?}"
    );
    ensure!(
        !english.stderr.contains("inconnu") && !english.stderr.contains("colonne"),
        "no French left: {english:?}"
    );
    let french = server.cli(&import).await?;
    ensure!(
        !french.success
            && french.stderr.contains(&format!(
                "{path}:2: erreur : colonne « cibles » : bénéficiaire inconnu « tous » \
                 (attendu professionnels, particuliers, associations, secteur public)"
            ))
            && french.stderr.contains("fichier refusé : 2"),
        "French by default: {french:?}"
    );
    Ok(())
}

#[tokio::test]
async fn the_console_shows_a_services_refusal_in_the_pages_language() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    // The demo's people and networks, as `vigie dev --demo` generated them.
    let set = dir.path().join("set");
    let today = chrono::Local::now().date_naive().to_string();
    let set_dir = set.to_str().unwrap_or_default();
    let generate = [
        "inventory",
        "generate",
        "--structures",
        "60",
        "--seed",
        "2026",
        "--today",
        &today,
        set_dir,
    ];
    ok(run_cli(&generate).await?)?;
    let networks: BTreeMap<String, String> = csv::Reader::from_path(set.join("structures.csv"))?
        .records()
        .filter_map(Result::ok)
        .map(|r| {
            (
                r.get(0).unwrap_or_default().to_owned(),
                r.get(2).unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let (person, network) = csv::Reader::from_path(set.join("people.csv"))?
        .records()
        .filter_map(Result::ok)
        .filter(|r| r.get(4).is_some_and(str::is_empty))
        .find_map(|r| Some((r.get(0)?.to_owned(), networks.get(r.get(1)?)?.clone())))
        .context("a current person")?;
    let sessions: Vec<Value> =
        serde_json::from_str(&ok(server.cli(&["training", "sessions", "--format", "json"]).await?)?.stdout)?;
    let session = sessions
        .iter()
        .find(|s| s["enrolled"].as_u64() < s["capacity"].as_u64())
        .and_then(|s| s["session_id"].as_str())
        .context("a session with a free seat")?
        .to_owned();
    let who = ["--session", session.as_str(), "--person", person.as_str()];
    ok(server.cli(&[&["training", "enrol"], &who[..]].concat()).await?)?;
    ok(server.cli(&[&["training", "complete"], &who[..]].concat()).await?)?;

    // Cancelling a completed enrolment: the service refuses, in words.
    let mut browser = Browser::new(&console);
    ensure!(browser.sign_in(&format!("trainer:{network}")).await? == "/formations");
    let csrf = browser.get("/formations").await?.field("csrf")?;
    let cancel = [
        ("csrf", csrf.as_str()),
        ("session", session.as_str()),
        ("person", person.as_str()),
        ("action", "cancel"),
    ];
    let french = browser.post("/formations/inscriptions", &cancel).await?;
    ensure!(
        french.status == StatusCode::UNPROCESSABLE_ENTITY && french.body.contains("inscription déjà formation suivie"),
        "{} {}",
        french.status,
        french.body
    );
    let switched = browser.post("/langue", &[("csrf", &csrf), ("lang", "en")]).await?;
    ensure!(switched.status == StatusCode::SEE_OTHER, "{}", switched.status);
    let english = browser.post("/formations/inscriptions", &cancel).await?;
    ensure!(
        english.status == StatusCode::UNPROCESSABLE_ENTITY
            && english.body.contains("enrolment already completed")
            && !english.body.contains("inscription déjà"),
        "{} {}",
        english.status,
        english.body
    );
    Ok(())
}
