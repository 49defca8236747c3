//! `vigie grants import FILE` and `vigie grants template --out FILE`: a
//! sheet of applications and decisions sent to the alerting service's
//! `ImportGrants` (issue 16, docs/grants.md « Import d'un tableau »), and
//! the empty sheet to fill, with its read-me. The columns and the read-me
//! are the domain's ([`vigie_grants_sheet::import::COLUMNS`],
//! `template_readme`), the workbook is `vigie_workbook::grants_template`, as
//! the console's download: the template and the server's parser cannot
//! drift apart.

use std::path::Path;

use anyhow::Context;
use vigie_grants_sheet::import::{template_csv, MAX_IMPORT_BYTES};
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_client::AlertingServiceClient;

use super::{connect, Answered};
use crate::i18n::Lang;

/// The import found problems in the file (listed on stdout); `main` exits
/// with code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProblemsFound(pub String);

/// `vigie grants import FILE [--dry-run] [--network N]`.
///
/// # Errors
/// An unreadable or too large file, an unreachable server, a refused call;
/// [`ProblemsFound`] when the file has problems (nothing was written).
pub async fn import(
    endpoint: &str,
    file: &Path,
    dry_run: bool,
    network: Option<&str>,
    lang: Lang,
) -> anyhow::Result<()> {
    let reading = || format!("{} {}", lang.pick("lecture de", "reading"), file.display());
    let size = std::fs::metadata(file).with_context(reading)?.len();
    if size > MAX_IMPORT_BYTES as u64 {
        anyhow::bail!(
            "{} : {:.1} Mio, {} {} Mio",
            file.display(),
            size as f64 / 1_048_576.0,
            lang.pick("au-delà de la limite de", "over the limit of"),
            MAX_IMPORT_BYTES / 1_048_576
        );
    }
    let content = std::fs::read(file).with_context(reading)?;
    let filename = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let response = super::sized!(AlertingServiceClient::new(connect(endpoint, lang).await?))
        .import_grants(pb::ImportGrantsRequest {
            filename,
            content,
            dry_run,
            network: network.unwrap_or_default().to_owned(),
        })
        .await
        .answered(lang)?;
    if !response.problems.is_empty() {
        for p in &response.problems {
            println!("{}: {}", p.position, p.message_in(lang));
        }
        let n = response.problems.len();
        return Err(ProblemsFound(match lang {
            Lang::Fr => format!("{n} problème(s) dans le fichier : rien n'a été importé. Corrigez-les puis relancez."),
            Lang::En => format!("{n} problem(s) in the file: nothing was imported. Fix them and run again."),
        })
        .into());
    }
    let (created, updated, unchanged) = (response.created, response.updated, response.unchanged);
    match (lang, dry_run) {
        (Lang::Fr, true) => println!(
            "Vérification réussie, rien n'a été écrit (--dry-run) : {created} ligne(s) à créer, {updated} à modifier, {unchanged} déjà à jour."
        ),
        (Lang::Fr, false) => println!(
            "Import réussi : {created} ligne(s) créée(s), {updated} modifiée(s), {unchanged} déjà à jour. Les obligations : vigie grants obligations"
        ),
        (Lang::En, true) => println!(
            "Check passed, nothing written (--dry-run): {created} row(s) to create, {updated} to update, {unchanged} up to date."
        ),
        (Lang::En, false) => println!(
            "Imported: {created} row(s) created, {updated} updated, {unchanged} up to date. Duties: vigie grants obligations"
        ),
    }
    Ok(())
}

/// `vigie grants template --out FILE.xlsx|FILE.csv`: the empty sheet.
///
/// # Errors
/// Another extension, or a write failure.
pub fn template(out: &Path, lang: Lang) -> anyhow::Result<()> {
    let extension = out
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let bytes = match extension.as_str() {
        "xlsx" => vigie_workbook::grants_template()?,
        "csv" => template_csv(),
        _ => anyhow::bail!(
            "{}",
            lang.pick(
                "le modèle s'écrit en .xlsx ou en .csv : donnez un fichier avec l'une de ces extensions",
                "the template is written as .xlsx or .csv: give a file with one of these extensions"
            )
        ),
    };
    std::fs::write(out, bytes).with_context(|| format!("{} {}", lang.pick("écriture de", "writing"), out.display()))?;
    println!("{} {}", lang.pick("Modèle écrit :", "Template written:"), out.display());
    Ok(())
}
