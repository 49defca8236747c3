//! The console's inventory import (`/reseaux/<network>/import`) with the
//! real `vigie dev --demo`: a workbook with three errors shows the three
//! `FILE:LINE` lines and changes nothing (checked through the CLI export), a
//! good workbook imports (the coordinator's own network, then the
//! federation's), downloads are attachments, other people get « introuvable »,
//! and an oversized upload gets a page.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, COOKIE, LOCATION};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use vigie_e2e::console_client::Browser;
use vigie_e2e::VigieServer;
use vigie_workbook::CsvSetFiles;

use crate::ok;

const BOUNDARY: &str = "----vigie-e2e-boundary";

/// A multipart upload as a browser sends the page's form: `csrf` first.
async fn upload(
    base: &str,
    session: &str,
    network: &str,
    csrf: &str,
    file: &str,
    bytes: &[u8],
) -> Result<(StatusCode, String, String)> {
    upload_files(base, session, network, csrf, &[(file, bytes)]).await
}

/// The same form with several files in the one field (`multiple`).
async fn upload_files(
    base: &str,
    session: &str,
    network: &str,
    csrf: &str,
    files: &[(&str, &[u8])],
) -> Result<(StatusCode, String, String)> {
    let mut body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").into_bytes();
    for (file, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichiers\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{base}/reseaux/{network}/import"))
        .header(COOKIE, format!("vigie_session={session}"))
        .header(CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Full::new(Bytes::from(body)))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await?;
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = String::from_utf8(response.into_body().collect().await?.to_bytes().to_vec())?;
    Ok((status, location, text))
}

async fn download(browser: &mut Browser, base: &str, path: &str) -> Result<Vec<u8>> {
    let request = Request::builder()
        .uri(format!("{base}{path}"))
        .header(
            COOKIE,
            format!("vigie_session={}", browser.session.clone().unwrap_or_default()),
        )
        .body(Full::new(Bytes::new()))?;
    let response = Client::builder(TokioExecutor::new())
        .build_http()
        .request(request)
        .await?;
    ensure!(response.status() == StatusCode::OK, "{path}: {}", response.status());
    let headers = response.headers().clone();
    let disposition = headers
        .get(CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ensure!(
        disposition.starts_with("attachment; filename="),
        "{path}: {disposition}"
    );
    ensure!(headers[CACHE_CONTROL] == "no-store", "{path} cached");
    Ok(response.into_body().collect().await?.to_bytes().to_vec())
}

fn read_dir_set(dir: &std::path::Path) -> Result<CsvSetFiles> {
    Ok(CsvSetFiles {
        structures: std::fs::read(dir.join("structures.csv"))?,
        people: std::fs::read(dir.join("people.csv"))?,
        functions: std::fs::read(dir.join("functions.csv"))?,
        holdings: std::fs::read(dir.join("holdings.csv"))?,
    })
}

/// The whole inventory as the CLI exports it (the API's view).
async fn export(server: &VigieServer, dir: &std::path::Path, name: &str) -> Result<CsvSetFiles> {
    let out = dir.join(name);
    ok(server
        .cli(&["inventory", "export", "--out", out.to_str().unwrap_or_default()])
        .await?)?;
    read_dir_set(&out)
}

/// The records of a CSV file (header included).
fn records(file: &[u8]) -> Result<Vec<Vec<String>>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(file);
    let mut out = Vec::new();
    for record in reader.records() {
        out.push(record?.iter().map(str::to_owned).collect());
    }
    Ok(out)
}

/// Replaces record `line` (1-based, the header is 1) by `edit(fields)`.
fn edit_line(file: &mut Vec<u8>, line: usize, edit: impl FnOnce(&mut Vec<String>)) -> Result<()> {
    let mut rows = records(file)?;
    edit(rows.get_mut(line - 1).context("no such line")?);
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for row in &rows {
        writer.write_record(row)?;
    }
    *file = writer.into_inner()?;
    Ok(())
}

fn items(body: &str) -> Vec<String> {
    body.split("<li>")
        .skip(1)
        .map(|li| li.split("</li>").next().unwrap_or_default().to_owned())
        .filter(|li| li.starts_with("inventaire.xlsx/"))
        .collect()
}

#[tokio::test]
async fn console_import_of_a_workbook_lists_every_error_then_imports() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = VigieServer::dev(dir.path().join("data"), &["--demo"], &[]).await?;
    let base = server.console.clone().context("vigie dev announced no console")?;
    let before = export(&server, dir.path(), "before").await?;
    let all = records(&before.structures)?;
    let first = all.get(1).context("demo without structures")?;
    let (structure_id, network) = (first[0].clone(), first[2].clone());
    let page_path = format!("/reseaux/{network}/import");

    // A director, and a coordinator of another network: « introuvable ».
    let mut director = Browser::new(&base);
    director.sign_in(&format!("director:{structure_id}")).await?;
    ensure!(director.get(&page_path).await?.status == StatusCode::NOT_FOUND);
    let mut coordinator = Browser::new(&base);
    coordinator.sign_in(&format!("coordinator:{network}")).await?;
    ensure!(coordinator.get("/reseaux/un-autre-reseau/import").await?.status == StatusCode::NOT_FOUND);

    let page = coordinator.get(&page_path).await?;
    ensure!(page.status == StatusCode::OK, "{}", page.status);
    ensure!(page.body.contains("enctype=\"multipart/form-data\""), "{}", page.body);
    let csrf = page.field("csrf")?;
    let session = coordinator.session.clone().unwrap_or_default();

    // The downloads: the template, and the network's inventory now.
    let template = download(&mut coordinator, &base, &format!("/reseaux/{network}/modele.xlsx")).await?;
    vigie_workbook::read_workbook(&template).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let current = download(&mut coordinator, &base, &format!("/reseaux/{network}/inventaire.xlsx")).await?;
    let set = vigie_workbook::read_workbook(&current).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let in_network = records(&set.structures)?.len() - 1;
    let expected = all.iter().skip(1).filter(|r| r[2] == network).count();
    ensure!(
        in_network == expected && expected > 0,
        "{in_network} structures exported, {expected} in {network}"
    );

    // Three errors, one per sheet: an empty name, an unknown structure, a
    // criticality out of range.
    let mut bad = set.clone();
    edit_line(&mut bad.structures, 2, |f| f[1].clear())?;
    bad.people.extend_from_slice(b"PX1,S999999,Inconnu,director,,\n");
    let people_line = records(&bad.people)?.len();
    edit_line(&mut bad.functions, 2, |f| f[2] = "9".into())?;
    let book = vigie_workbook::write_workbook(&bad)?;
    let (status, _, body) = upload(&base, &session, &network, &csrf, "inventaire.xlsx", &book).await?;
    ensure!(status == StatusCode::UNPROCESSABLE_ENTITY, "{status}\n{body}");
    let lines = items(&body);
    ensure!(lines.len() == 3, "three FILE:LINE items expected:\n{lines:#?}\n{body}");
    ensure!(lines[0].starts_with("inventaire.xlsx/structures:2: "), "{lines:#?}");
    ensure!(
        lines[1].starts_with(&format!("inventaire.xlsx/people:{people_line}: ")),
        "{lines:#?}"
    );
    ensure!(lines[2].starts_with("inventaire.xlsx/functions:2: "), "{lines:#?}");
    ensure!(body.contains("aria-invalid=\"true\""), "the field is marked invalid");
    ensure!(
        export(&server, dir.path(), "after-errors").await? == before,
        "a refused import changed the inventory"
    );

    // A good workbook: one structure renamed.
    let mut good = set.clone();
    edit_line(&mut good.structures, 2, |f| f[1] = "Nom changé par la console".into())?;
    let book = vigie_workbook::write_workbook(&good)?;
    let summary = format!(
        "{expected} structures importées (0 nouvelles, 1 modifiées, {} inchangées)",
        expected - 1
    );
    // The coordinator imports her network's workbook.
    let (status, location, body) = upload(&base, &session, &network, &csrf, "inventaire.xlsx", &book).await?;
    ensure!(
        status == StatusCode::SEE_OTHER && location == page_path,
        "{status} {location}\n{body}"
    );
    let done = coordinator.get(&page_path).await?;
    ensure!(done.body.contains(&summary), "missing « {summary} » in\n{}", done.body);
    // The federation imports for any network: another name.
    let mut again = good.clone();
    edit_line(&mut again.structures, 3, |f| {
        f[1] = "Nom changé par la fédération".into()
    })?;
    let book = vigie_workbook::write_workbook(&again)?;
    let mut federation = Browser::new(&base);
    federation.sign_in("federation").await?;
    let page = federation.get(&page_path).await?;
    ensure!(page.status == StatusCode::OK, "{}", page.status);
    let fed_csrf = page.field("csrf")?;
    let fed_session = federation.session.clone().unwrap_or_default();
    let (status, location, body) = upload(&base, &fed_session, &network, &fed_csrf, "inventaire.xlsx", &book).await?;
    ensure!(
        status == StatusCode::SEE_OTHER && location == page_path,
        "{status} {location}\n{body}"
    );
    let done = federation.get(&page_path).await?;
    ensure!(done.body.contains(&summary), "missing « {summary} » in\n{}", done.body);
    let after = export(&server, dir.path(), "after").await?;
    ensure!(
        records(&after.structures)?
            .iter()
            .any(|r| r[1] == "Nom changé par la console")
            && records(&after.structures)?
                .iter()
                .any(|r| r[1] == "Nom changé par la fédération"),
        "the API does not show the new names"
    );

    // The CSV files of the network (CLI export) through the page: unchanged.
    let folder = dir.path().join("csv-network");
    ok(server
        .cli(&[
            "inventory",
            "export",
            "--network",
            &network,
            "--out",
            folder.to_str().unwrap_or_default(),
        ])
        .await?)?;
    let csv = read_dir_set(&folder)?;
    let files: [(&str, &[u8]); 4] = [
        ("structures.csv", &csv.structures),
        ("people.csv", &csv.people),
        ("functions.csv", &csv.functions),
        ("holdings.csv", &csv.holdings),
    ];
    let (status, location, body) = upload_files(&base, &fed_session, &network, &fed_csrf, &files).await?;
    ensure!(
        status == StatusCode::SEE_OTHER && location == page_path,
        "{status} {location}\n{body}"
    );
    let done = federation.get(&page_path).await?;
    let unchanged =
        format!("Import terminé : {expected} structures importées (0 nouvelles, 0 modifiées, {expected} inchangées)");
    ensure!(
        done.body.contains(&unchanged),
        "missing « {unchanged} » in\n{}",
        done.body
    );

    // An ODS workbook (the crate's fixture, network reseau-ain) through the page.
    let ods = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/workbook/tests/fixtures/inventaire.ods"
    ))?;
    let ain = "/reseaux/reseau-ain/import";
    let fed_csrf_ain = federation.get(ain).await?.field("csrf")?;
    let (status, location, body) =
        upload(&base, &fed_session, "reseau-ain", &fed_csrf_ain, "inventaire.ods", &ods).await?;
    ensure!(
        status == StatusCode::SEE_OTHER && location == ain,
        "{status} {location}\n{body}"
    );
    let done = federation.get(ain).await?;
    ensure!(
        done.body
            .contains("Import terminé (inventaire.ods) : 1 structures importées (1 nouvelles"),
        "{}",
        done.body
    );

    // An upload over 20 MiB: a page saying so, not a reset.
    let huge = vec![b'x'; vigie_workbook::MAX_WORKBOOK_BYTES + 200 * 1024];
    let (status, _, body) = upload(&base, &fed_session, &network, &fed_csrf, "structures.csv", &huge).await?;
    ensure!(
        status == StatusCode::PAYLOAD_TOO_LARGE && body.contains("20 Mio"),
        "{status}\n{body}"
    );
    Ok(())
}
