//! The import of applications and decisions with the real binary (issue 16,
//! docs/grants.md « Import d'un tableau »): on `vigie dev --demo`, the
//! templates written by `vigie grants template` (CSV and XLSX) are filled
//! and imported by `vigie grants import`; a file with problems lists them by
//! line, exits with code 2 and writes nothing; a dry run writes nothing; a
//! re-import changes nothing.

use anyhow::{ensure, Context, Result};
use chrono::Datelike;
use serde_json::Value;
use vigie_e2e::{run_cli, vigie_bin, VigieServer};

use crate::grants::{dev_demo_with_structure, STRUCTURE};
use crate::ok;

/// `vigie grants import FILE` against `server`: (exit code, stdout, stderr).
async fn import(server: &VigieServer, file: &std::path::Path, extra: &[&str]) -> Result<(Option<i32>, String, String)> {
    let out = tokio::process::Command::new(vigie_bin()?)
        .args(["grants", "import"])
        .arg(file)
        .args(extra)
        .args(["--endpoint", &server.endpoint])
        .env("LANG", "fr_FR.UTF-8")
        .env_remove("VIGIE_ENDPOINT")
        .env_remove("VIGIE_TOKEN")
        .stdin(std::process::Stdio::null())
        .output()
        .await?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

async fn grants(server: &VigieServer) -> Result<Vec<Value>> {
    let out = ok(server
        .cli(&["grants", "list", "--structure", STRUCTURE, "--format", "json"])
        .await?)?;
    let value: Value = serde_json::from_str(&out.stdout)?;
    Ok(value["grants"].as_array().cloned().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_are_imported_from_the_templates_with_the_cli() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = &dev_demo_with_structure(&data).await?;
    let year = chrono::Local::now().date_naive().year();

    // The CSV template: its header line, then rows typed the French way.
    let csv = dir.path().join("subventions.csv");
    ok(run_cli(&["grants", "template", "--out", csv.to_str().unwrap_or_default()]).await?)?;
    let template = std::fs::read_to_string(&csv)?;
    ensure!(
        template.starts_with("\u{feff}structure;financeur;intitulé;appel;"),
        "{template}"
    );
    let mut filled = template.clone();
    filled.push_str(&format!(
        "{STRUCTURE};Région Bretagne;Jardins partagés;;15/01/{year};20 000;obtenu;01/03/{year};12 500,50 €;31/12/{year};;;CONV-1;Jardins;oui;\r\n\
         {STRUCTURE};CAF;Accueil de loisirs;;01/02/{year};5000;;;;;;;;;;\r\n"
    ));
    std::fs::write(&csv, &filled)?;

    // A file with problems: every one by line, exit code 2, nothing written.
    let bad = dir.path().join("mauvais.csv");
    std::fs::write(
        &bad,
        format!(
            "{template}{STRUCTURE};Région;Projet;;32/01/{year};;;;;;;;;;;\r\nINCONNUE;Région;Projet;;;;;;;;;;;;;\r\n"
        ),
    )?;
    let (code, stdout, stderr) = import(server, &bad, &[]).await?;
    ensure!(code == Some(2), "{code:?}\n{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    ensure!(
        lines.len() == 2
            && lines[0].starts_with("mauvais.csv:2: date de dépôt")
            && lines[1] == "mauvais.csv:3: structure « INCONNUE » inconnue ou hors de votre périmètre",
        "{stdout}"
    );
    ensure!(
        stderr.contains("2 problème(s)") && stderr.contains("rien n'a été importé"),
        "{stderr}"
    );
    // The same problems for a reader of English.
    let (code, stdout, stderr) = import(server, &bad, &["--lang", "en"]).await?;
    let lines: Vec<&str> = stdout.lines().collect();
    ensure!(
        code == Some(2)
            && lines.len() == 2
            && lines[0] == format!("mauvais.csv:2: submission date “32/01/{year}”: this date does not exist")
            && lines[1] == "mauvais.csv:3: structure “INCONNUE” unknown or out of your reach"
            && stderr.contains("2 problem(s)"),
        "{code:?}\n{stdout}\n{stderr}"
    );
    ensure!(grants(server).await?.is_empty());

    // A dry run counts and writes nothing.
    let (code, stdout, stderr) = import(server, &csv, &["--dry-run"]).await?;
    ensure!(code == Some(0), "{stdout}\n{stderr}");
    ensure!(
        stdout.contains("rien n'a été écrit") && stdout.contains("2 ligne(s) à créer"),
        "{stdout}"
    );
    ensure!(grants(server).await?.is_empty());

    // The import, then the same file again: nothing changes.
    let (code, stdout, stderr) = import(server, &csv, &[]).await?;
    ensure!(
        code == Some(0) && stdout.contains("Import réussi : 2 ligne(s) créée(s)"),
        "{stdout}\n{stderr}"
    );
    let (code, stdout, _) = import(server, &csv, &[]).await?;
    ensure!(
        code == Some(0) && stdout.contains("0 ligne(s) créée(s), 0 modifiée(s), 2 déjà à jour"),
        "{stdout}"
    );
    let listed = grants(server).await?;
    ensure!(listed.len() == 2, "{listed:?}");
    let won = listed.iter().find(|g| g["stage"] == "won").context("the grant won")?;
    ensure!(
        won["amount_granted_cents"] == 1_250_050 && won["reference"] == "CONV-1",
        "{won}"
    );

    // The XLSX template: « Lisez-moi » and the data sheet with the same
    // header; filled as a spreadsheet would be (a date cell, a number).
    let xlsx = dir.path().join("subventions.xlsx");
    ok(run_cli(&["grants", "template", "--out", xlsx.to_str().unwrap_or_default()]).await?)?;
    let table =
        vigie_workbook::read_table(&std::fs::read(&xlsx)?, "Subventions").map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let header_line = String::from_utf8(table.csv)?;
    let header: Vec<&str> = header_line.trim_end().split(',').collect();
    ensure!(header == vigie_grants_sheet::import::header_fr(), "{header:?}");
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().set_name("Lisez-moi")?;
    let sheet = wb.add_worksheet();
    sheet.set_name("Subventions")?;
    for (col, name) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, *name)?;
    }
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .map(|c| c as u16)
            .context("column")
    };
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(u16::try_from(year)?, 12, 31)?;
    let date_format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_string(1, column("structure")?, STRUCTURE)?;
    sheet.write_string(1, column("financeur")?, "Département")?;
    sheet.write_string(1, column("intitulé")?, "Mobilité")?;
    sheet.write_string(1, column("issue")?, "obtenu")?;
    sheet.write_number(1, column("montant accordé")?, 8000.5)?;
    sheet.write_datetime_with_format(1, column("fin d'exercice")?, &date, &date_format)?;
    let filled = dir.path().join("rempli.xlsx");
    wb.save(&filled)?;
    let (code, stdout, stderr) = import(server, &filled, &[]).await?;
    ensure!(
        code == Some(0) && stdout.contains("1 ligne(s) créée(s)"),
        "{stdout}\n{stderr}"
    );
    let listed = grants(server).await?;
    let mobility = listed
        .iter()
        .find(|g| g["title"] == "Mobilité")
        .context("the imported grant")?;
    ensure!(
        mobility["amount_granted_cents"] == 800_050 && mobility["financial_year_end"] == format!("{year}-12-31"),
        "{mobility}"
    );
    // A workbook's problems name the sheet and the row.
    sheet_problem(server, dir.path()).await?;
    Ok(())
}

/// A row of a workbook with a bad amount is reported as `FILE/sheet:ROW`.
async fn sheet_problem(server: &VigieServer, dir: &std::path::Path) -> Result<()> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("Subventions")?;
    for (col, name) in ["structure", "financeur", "intitulé", "montant demandé"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *name)?;
    }
    for (col, value) in [STRUCTURE, "Région", "Projet", "beaucoup"].iter().enumerate() {
        sheet.write_string(3, col as u16, *value)?;
    }
    let path = dir.join("faux.xlsx");
    wb.save(&path)?;
    let (code, stdout, _) = import(server, &path, &[]).await?;
    ensure!(
        code == Some(2) && stdout.starts_with("faux.xlsx/Subventions:4: montant demandé « beaucoup »"),
        "{stdout}"
    );
    Ok(())
}
