//! `vigie inventory import|export|template` with workbooks: a workbook
//! imports like the CSV set it holds, errors point at sheet rows, and an
//! export (workbook or CSV set) imports back with nothing changed.

use anyhow::{ensure, Result};
use vigie_e2e::{generate_set, run_cli, VigieServer};
use vigie_workbook::CsvSetFiles;

use crate::ok;

fn read_set(dir: &std::path::Path) -> Result<CsvSetFiles> {
    Ok(CsvSetFiles {
        structures: std::fs::read(dir.join("structures.csv"))?,
        people: std::fs::read(dir.join("people.csv"))?,
        functions: std::fs::read(dir.join("functions.csv"))?,
        holdings: std::fs::read(dir.join("holdings.csv"))?,
    })
}

async fn server_with_generated_set(dir: &std::path::Path) -> Result<(VigieServer, std::path::PathBuf)> {
    let set = dir.join("set");
    generate_set(&set, 20, 5, None).await?;
    let data = dir.join("data");
    let server = VigieServer::dev(&data, &[], &[]).await?;
    Ok((server, set))
}

const UNCHANGED: &str = "0 nouvelles, 0 modifiées, 20 inchangées";

#[tokio::test]
async fn a_workbook_imports_like_its_csv_set_and_exports_round_trip() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, set) = server_with_generated_set(dir.path()).await?;
    let book = dir.path().join("inventaire.xlsx");
    std::fs::write(&book, vigie_workbook::write_workbook(&read_set(&set)?)?)?;
    let book_arg = book.to_str().unwrap_or_default();

    let first = ok(server.cli(&["inventory", "import", book_arg]).await?)?;
    ensure!(first.stdout.contains("20 nouvelles"), "{}", first.stdout);
    // The CSV set itself then changes nothing: both carried the same inventory.
    let same = ok(server
        .cli(&["inventory", "import", set.to_str().unwrap_or_default()])
        .await?)?;
    ensure!(
        same.stdout.contains(UNCHANGED) && same.stdout.contains("0 événements"),
        "{}",
        same.stdout
    );

    // Export as a workbook and as a CSV set; each imports back unchanged.
    let exported = dir.path().join("export.xlsx");
    let out = ok(server
        .cli(&["inventory", "export", "--out", exported.to_str().unwrap_or_default()])
        .await?)?;
    ensure!(out.stdout.contains("20 structure(s) exportée(s)"), "{}", out.stdout);
    let again = ok(server
        .cli(&["inventory", "import", exported.to_str().unwrap_or_default()])
        .await?)?;
    ensure!(again.stdout.contains(UNCHANGED), "{}", again.stdout);
    let exported_dir = dir.path().join("export");
    ok(server
        .cli(&[
            "inventory",
            "export",
            "--out",
            exported_dir.to_str().unwrap_or_default(),
        ])
        .await?)?;
    let again = ok(server
        .cli(&["inventory", "import", exported_dir.to_str().unwrap_or_default()])
        .await?)?;
    ensure!(again.stdout.contains(UNCHANGED), "{}", again.stdout);

    // --network keeps that network's structures only.
    let structures = String::from_utf8(read_set(&exported_dir)?.structures)?;
    let network = structures
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').nth(2))
        .unwrap_or_default()
        .to_owned();
    let expected = structures
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) == Some(&network))
        .count();
    let one = dir.path().join("one");
    let out = ok(server
        .cli(&[
            "inventory",
            "export",
            "--network",
            &network,
            "--out",
            one.to_str().unwrap_or_default(),
        ])
        .await?)?;
    ensure!(
        out.stdout.starts_with(&format!("{expected} structure(s)")),
        "{}",
        out.stdout
    );

    // --from converts a CSV set offline; it reads back as the same set.
    let converted = dir.path().join("converti.xlsx");
    ok(run_cli(&[
        "inventory",
        "template",
        "--from",
        set.to_str().unwrap_or_default(),
        "--out",
        converted.to_str().unwrap_or_default(),
    ])
    .await?)?;
    let back = vigie_workbook::read_workbook(&std::fs::read(&converted)?).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    ensure!(
        back == read_set(&set)?,
        "the converted workbook differs from its CSV set"
    );

    // The template is a readable, empty workbook.
    let template = dir.path().join("modele.xlsx");
    ok(run_cli(&["inventory", "template", "--out", template.to_str().unwrap_or_default()]).await?)?;
    let empty = vigie_workbook::read_workbook(&std::fs::read(&template)?).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    ensure!(
        empty.structures.starts_with(b"structure_id,"),
        "template without header"
    );
    Ok(())
}

#[tokio::test]
async fn workbook_errors_point_at_sheet_rows_and_change_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, set) = server_with_generated_set(dir.path()).await?;
    let mut files = read_set(&set)?;
    // A server-side error: a person of an unknown structure, on the last row.
    files.people.extend_from_slice(b"PX1,S999999,Inconnu,director,,\n");
    let bad_row = String::from_utf8_lossy(&files.people).lines().count();
    let book = dir.path().join("inventaire.xlsx");
    std::fs::write(&book, vigie_workbook::write_workbook(&files)?)?;
    let book_arg = book.to_str().unwrap_or_default();
    let rejected = server.cli(&["inventory", "import", book_arg]).await?;
    ensure!(!rejected.success, "a bad workbook must be refused");
    let expected = format!("{book_arg}/people:{bad_row}: ");
    ensure!(
        rejected.stderr.contains(&expected),
        "missing {expected} in:\n{}",
        rejected.stderr
    );
    ensure!(rejected.stderr.contains("rien n'a été modifié"), "{}", rejected.stderr);

    // A file that is no workbook is refused before anything is sent.
    let ods = dir.path().join("autre.ods");
    std::fs::write(&ods, b"PK\x03\x04 not really a zip")?;
    let refused = server
        .cli(&["inventory", "import", ods.to_str().unwrap_or_default()])
        .await?;
    ensure!(
        !refused.success && refused.stderr.contains("ni un classeur XLSX ou ODS"),
        "{}",
        refused.stderr
    );

    // Nothing was imported by either attempt.
    let csv = ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?;
    ensure!(
        csv.stdout.lines().count() == 1,
        "a refused import changed the inventory:\n{}",
        csv.stdout
    );

    // An ODS workbook (the crate's LibreOffice-like fixture) imports too.
    let ods = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/workbook/tests/fixtures/inventaire.ods"
    );
    let imported = ok(server.cli(&["inventory", "import", ods]).await?)?;
    ensure!(imported.stdout.contains("1 nouvelles"), "{}", imported.stdout);
    Ok(())
}
