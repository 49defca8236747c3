//! The files side of `vigie inventory`: what `import` sends (a directory
//! holding the CSV set, or an XLSX/ODS workbook), `template`, and `export`
//! (the inventory read back through ListStructures + GetStructure, written
//! as a CSV set or a workbook that imports back unchanged).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use vigie_proto::inventory::v1 as pb;
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use vigie_workbook::export::{Flavour, SetBuilder};
use vigie_workbook::CsvSetFiles;

use super::inventory::SET_FILES;
use super::{connect, Answered};
use crate::i18n::Lang;

/// Where an imported set came from, to point errors back at it.
#[derive(Debug)]
pub enum Origin {
    /// A directory of CSV files: `DIR/people.csv:12`.
    Dir(PathBuf),
    /// A workbook: `inventaire.xlsx/people:12` (row 12 of sheet `people`).
    Workbook(String),
}

impl Origin {
    /// The place of line `line` of `file` (`people.csv`) in what the person gave.
    pub fn locate(&self, file: &str, line: u64) -> String {
        match self {
            Origin::Dir(dir) => format!("{}:{line}", dir.join(file).display()),
            Origin::Workbook(name) => vigie_workbook::locate(name, file, line),
        }
    }
}

/// A set ready to send: the files present, in [`SET_FILES`] order.
#[derive(Debug)]
pub struct Loaded {
    /// Where it came from.
    pub origin: Origin,
    /// (file name, bytes).
    pub files: Vec<(&'static str, Vec<u8>)>,
}

/// Reads the set at `path`: a directory (as before), or a workbook file
/// (XLSX/ODS, recognised by content). A workbook's own problems (a numeric
/// identifier, an unknown sheet, a bound) are printed like the server's
/// errors, and nothing is sent.
///
/// # Errors
/// Unreadable files, a file that is no workbook, or the workbook's problems.
pub fn load(path: &Path, lang: Lang) -> anyhow::Result<Loaded> {
    if path.is_dir() {
        return load_dir(path, lang);
    }
    let reading = || format!("{} {}", lang.pick("lecture de", "reading"), path.display());
    // Bounded read: one byte past the limit is enough to refuse.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .with_context(reading)?
        .take(vigie_workbook::MAX_WORKBOOK_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(reading)?;
    let name = path.display().to_string();
    if vigie_workbook::detect(&bytes).is_none() && bytes.len() <= vigie_workbook::MAX_WORKBOOK_BYTES {
        anyhow::bail!(
            "{name} {}",
            lang.pick(
                "n'est ni un répertoire de fichiers CSV ni un classeur XLSX ou ODS",
                "is neither a directory of CSV files nor an XLSX or ODS workbook"
            )
        );
    }
    match vigie_workbook::read_workbook(&bytes) {
        Ok(set) => Ok(Loaded {
            origin: Origin::Workbook(name),
            files: present(set),
        }),
        Err(problems) => {
            let mut err = std::io::stderr().lock();
            for p in &problems {
                writeln!(err, "{}", p.render(&name).in_lang(lang))?;
            }
            anyhow::bail!(
                "{} {} {}",
                lang.pick("classeur refusé :", "workbook rejected:"),
                problems.len(),
                lang.pick("erreur(s), rien n'a été envoyé.", "error(s), nothing was sent.")
            )
        }
    }
}

/// The non-empty files of a set (an empty file means "none").
fn present(set: CsvSetFiles) -> Vec<(&'static str, Vec<u8>)> {
    let CsvSetFiles {
        structures,
        people,
        functions,
        holdings,
    } = set;
    SET_FILES
        .into_iter()
        .zip([structures, people, functions, holdings])
        .filter(|(name, bytes)| *name == SET_FILES[0] || !bytes.is_empty())
        .collect()
}

fn load_dir(dir: &Path, lang: Lang) -> anyhow::Result<Loaded> {
    let mut files = Vec::new();
    for name in SET_FILES {
        let path = dir.join(name);
        if path.exists() {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("{} {}", lang.pick("lecture de", "reading"), path.display()))?;
            files.push((name, bytes));
        } else if name == SET_FILES[0] {
            anyhow::bail!(
                "{} {}",
                path.display(),
                lang.pick(
                    "est introuvable : un jeu d'inventaire commence par structures.csv",
                    "is missing: an inventory set starts with structures.csv"
                )
            );
        }
    }
    Ok(Loaded {
        origin: Origin::Dir(dir.to_owned()),
        files,
    })
}

fn is_xlsx(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// `vigie inventory template --out FILE.xlsx [--from DIR]`: the empty
/// template, or the CSV set in `DIR` as a workbook (offline conversion).
///
/// # Errors
/// A path that is not `.xlsx`, an unreadable set, or a write failure.
pub fn template(out: &Path, from: Option<&Path>, lang: Lang) -> anyhow::Result<()> {
    if !is_xlsx(out) {
        anyhow::bail!(
            "{}",
            lang.pick(
                "le modèle est un classeur : donnez un fichier .xlsx",
                "the template is a workbook: give a .xlsx file"
            )
        );
    }
    let bytes = match from {
        None => vigie_workbook::template()?,
        Some(dir) => {
            let mut set = CsvSetFiles::default();
            for (name, bytes) in load_dir(dir, lang)?.files {
                if let Some(slot) = set.file_mut(name) {
                    *slot = bytes;
                }
            }
            vigie_workbook::write_workbook(&set)?
        }
    };
    std::fs::write(out, bytes).with_context(|| format!("{} {}", lang.pick("écriture de", "writing"), out.display()))?;
    println!(
        "{} {}",
        lang.pick("Classeur écrit :", "Workbook written:"),
        out.display()
    );
    Ok(())
}

/// `vigie inventory export --out DIR|FILE.xlsx [--network N]`: every
/// structure the caller's token may read, one GetStructure at a time (the
/// memory held is the files being built, never a whole answer list of
/// structures with their people).
///
/// # Errors
/// An unreachable server, a refused call, or a write failure.
pub async fn export(endpoint: &str, out: &Path, network: Option<&str>, lang: Lang) -> anyhow::Result<()> {
    let mut client = super::sized!(InventoryServiceClient::new(connect(endpoint, lang).await?));
    let list = client
        .list_structures(pb::ListStructuresRequest {
            network: network.unwrap_or_default().to_owned(),
        })
        .await
        .answered(lang)?;
    let workbook = is_xlsx(out);
    let mut set = SetBuilder::new(if workbook { Flavour::Workbook } else { Flavour::CsvFiles });
    for summary in list.structures {
        let structure = client
            .get_structure(pb::GetStructureRequest {
                structure_id: summary.structure_id,
            })
            .await
            .answered(lang)?;
        set.add(&structure);
    }
    let count = set.structures();
    let files = set.finish();
    let writing = || format!("{} {}", lang.pick("écriture de", "writing"), out.display());
    if workbook {
        std::fs::write(out, vigie_workbook::write_workbook(&files)?).with_context(writing)?;
    } else {
        std::fs::create_dir_all(out).with_context(writing)?;
        let CsvSetFiles {
            structures,
            people,
            functions,
            holdings,
        } = files;
        for (name, bytes) in SET_FILES.into_iter().zip([structures, people, functions, holdings]) {
            std::fs::write(out.join(name), bytes).with_context(writing)?;
        }
    }
    println!(
        "{count} {} {}",
        lang.pick("structure(s) exportée(s) dans", "structure(s) exported to"),
        out.display()
    );
    Ok(())
}
