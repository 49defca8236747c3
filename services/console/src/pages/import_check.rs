//! What the import page does before calling the service, without a server
//! (unit-tested here): turn the uploaded files into a CSV set (one workbook,
//! or the CSV files by name), validate it whole with the same code as the
//! inventory service, and keep it to the page's network. Every problem is a
//! line `FILE:LINE: message` (`inventaire.xlsx/people:12: …` for a workbook).
//!
//! The network check is the page's promise (« the import of network N »),
//! not an authorisation: the inventory service decides who may import.

use vigie_inventory_set::{
    parse_set, CsvSetFiles, FUNCTIONS_FILE, HOLDINGS_FILE, PEOPLE_FILE, STRUCTURES_FILE, STRUCTURES_HEADER,
};
use vigie_tabular::{read_rows, FileSpec};

use crate::lang::Lang;

/// Largest upload (all files together), as the workbook reader's own limit.
pub const MAX_UPLOAD_BYTES: usize = vigie_workbook::MAX_WORKBOOK_BYTES;

/// The files of the set, in the order the service reads them.
pub const SET_FILES: [&str; 4] = [STRUCTURES_FILE, PEOPLE_FILE, FUNCTIONS_FILE, HOLDINGS_FILE];

/// One uploaded file.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Its name as the browser sent it (a base name; a path is cut).
    pub name: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// Where the set came from, to name places in error lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// CSV files: `people.csv:12`.
    Csv,
    /// One workbook, by its file name: `inventaire.xlsx/people:12`.
    Workbook(String),
}

impl Origin {
    /// The error line for `file` (`people.csv`), line `line`.
    pub fn line(&self, file: &str, line: u64, message: &str) -> String {
        match self {
            Origin::Csv => format!("{file}:{line}: {message}"),
            Origin::Workbook(name) => format!("{}: {message}", vigie_workbook::locate(name, file, line)),
        }
    }
}

/// A set ready to validate and send.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Where it came from.
    pub origin: Origin,
    /// The four files (empty when absent).
    pub files: CsvSetFiles,
}

/// Why the upload cannot go further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// About the file field itself (nothing chosen, unknown name…): shown
    /// next to the field.
    Field(String),
    /// Problems in the files, one `FILE:LINE: message` each.
    Lines(Vec<String>),
}

/// The base name of an uploaded file (some browsers send a path).
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name).trim()
}

/// The uploaded files as a CSV set: one workbook alone, or CSV files named
/// like the files of the set (`structures.csv` required).
pub fn prepare(uploads: Vec<Upload>, lang: Lang) -> Result<Prepared, Refusal> {
    let uploads: Vec<Upload> = uploads
        .into_iter()
        .filter(|u| !u.name.is_empty() || !u.bytes.is_empty())
        .collect();
    if uploads.is_empty() {
        return Err(Refusal::Field(
            lang.pick(
                "choisissez un classeur (.xlsx ou .ods) ou les fichiers CSV de l'inventaire.",
                "choose a workbook (.xlsx or .ods) or the inventory's CSV files.",
            )
            .to_owned(),
        ));
    }
    let workbooks = uploads
        .iter()
        .filter(|u| vigie_workbook::detect(&u.bytes).is_some())
        .count();
    if workbooks > 0 {
        if uploads.len() > 1 {
            return Err(Refusal::Field(
                lang.pick(
                    "envoyez un seul classeur, ou seulement des fichiers CSV, pas les deux.",
                    "send one workbook, or only CSV files, not both.",
                )
                .to_owned(),
            ));
        }
        let upload = &uploads[0];
        let name = base_name(&upload.name).to_owned();
        return match vigie_workbook::read_workbook(&upload.bytes) {
            Ok(files) => Ok(Prepared {
                origin: Origin::Workbook(name),
                files,
            }),
            Err(problems) => Err(Refusal::Lines(
                problems
                    .iter()
                    .map(|p| p.render(&name).in_lang(lang).to_owned())
                    .collect(),
            )),
        };
    }
    let mut files = CsvSetFiles::default();
    let mut seen: Vec<&'static str> = Vec::new();
    for upload in uploads {
        let name = base_name(&upload.name).to_lowercase();
        let Some(&file) = SET_FILES.iter().find(|f| **f == name) else {
            return Err(Refusal::Field(format!(
                "« {} » : {}",
                base_name(&upload.name),
                lang.pick(
                    "ni un classeur (.xlsx, .ods) ni un fichier du jeu CSV (structures.csv, people.csv, functions.csv, holdings.csv).",
                    "neither a workbook (.xlsx, .ods) nor a file of the CSV set (structures.csv, people.csv, functions.csv, holdings.csv).",
                )
            )));
        };
        if seen.contains(&file) {
            return Err(Refusal::Field(format!(
                "« {file} » {}",
                lang.pick("est envoyé deux fois.", "is sent twice.")
            )));
        }
        seen.push(file);
        if let Some(slot) = files.file_mut(file) {
            *slot = upload.bytes;
        }
    }
    Ok(Prepared {
        origin: Origin::Csv,
        files,
    })
}

const STRUCTURES: FileSpec = FileSpec::new(STRUCTURES_FILE, &STRUCTURES_HEADER, true);

/// Every problem of the set, in file order then line order: the service's
/// own validation (same code, so the same lines and messages), and each
/// structure of another network than the page's.
pub fn validate(prepared: &Prepared, network: &str, lang: Lang) -> Vec<String> {
    let mut lines: Vec<(usize, u64, String)> = Vec::new();
    if let Err(errors) = parse_set(&prepared.files) {
        for e in errors {
            let order = SET_FILES.iter().position(|f| *f == e.file).unwrap_or(SET_FILES.len());
            lines.push((
                order,
                e.line,
                prepared.origin.line(&e.file, e.line, e.message.in_lang(lang)),
            ));
        }
    }
    let mut ignored = Vec::new();
    read_rows(
        &STRUCTURES,
        &prepared.files.structures,
        &mut ignored,
        |line, fields, _| {
            let (id, other) = (fields[0], fields[2]);
            if !other.is_empty() && other != network {
                let message = match lang {
                Lang::Fr => format!(
                    "la structure « {id} » est du réseau « {other} » : cette page n'importe que les structures du réseau « {network} »"
                ),
                Lang::En => format!(
                    "structure « {id} » belongs to network « {other} »: this page only imports structures of network « {network} »"
                ),
            };
                lines.push((0, line, prepared.origin.line(STRUCTURES_FILE, line, &message)));
            }
        },
    );
    // Stable: the service's messages first on a line shared with ours.
    lines.sort_by_key(|(order, line, _)| (*order, *line));
    lines.into_iter().map(|(_, _, text)| text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRUCTURES_CSV: &str =
        "structure_id,name,network,legal_form,siret,rna,region_code,department_code,commune_insee\n\
S1,Les Jardins,N1,association,,,84,01,01053\n\
S2,Scop,N2,scop,,,84,01,01004\n";

    fn csv(name: &str, text: &str) -> Upload {
        Upload {
            name: name.to_owned(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn csv_files_are_taken_by_name_and_others_refused() {
        let ok = prepare(vec![csv("C:\\Users\\x\\Structures.csv", STRUCTURES_CSV)], Lang::Fr).unwrap();
        assert_eq!(ok.origin, Origin::Csv);
        assert_eq!(ok.files.structures, STRUCTURES_CSV.as_bytes());
        let Err(Refusal::Field(message)) = prepare(vec![csv("notes.txt", "x")], Lang::Fr) else {
            panic!("unknown file accepted");
        };
        assert!(message.starts_with("« notes.txt » : ni un classeur"), "{message}");
        let twice = prepare(vec![csv("people.csv", ""), csv("people.csv", "")], Lang::En);
        assert!(matches!(twice, Err(Refusal::Field(m)) if m.contains("sent twice")));
        assert!(matches!(prepare(vec![], Lang::Fr), Err(Refusal::Field(_))));
    }

    #[test]
    fn every_problem_is_a_file_line_with_the_network_kept() {
        let people =
            "person_id,structure_id,display_name,role,end_date,email\nP1,S9,Jeanne,director,,\nP2,S1,Paul,chef,,\n";
        let prepared = prepare(
            vec![csv("structures.csv", STRUCTURES_CSV), csv("people.csv", people)],
            Lang::Fr,
        )
        .unwrap();
        let lines = validate(&prepared, "N1", Lang::Fr);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].starts_with("structures.csv:3: la structure « S2 » est du réseau « N2 »"),
            "{lines:?}"
        );
        assert!(lines[1].starts_with("people.csv:2: "), "{lines:?}");
        assert!(lines[2].starts_with("people.csv:3: "), "{lines:?}");
    }

    #[test]
    fn a_workbook_names_its_sheets() {
        let mut files = CsvSetFiles {
            structures: STRUCTURES_CSV.as_bytes().to_vec(),
            ..CsvSetFiles::default()
        };
        files.people = b"person_id,structure_id,display_name,role,end_date,email\nP1,S9,Jeanne,director,,\n".to_vec();
        let book = vigie_workbook::write_workbook(&files).unwrap();
        let prepared = prepare(
            vec![Upload {
                name: "inventaire.xlsx".to_owned(),
                bytes: book.clone(),
            }],
            Lang::Fr,
        )
        .unwrap();
        let lines = validate(&prepared, "N1", Lang::Fr);
        assert!(lines[0].starts_with("inventaire.xlsx/structures:3: "), "{lines:?}");
        assert!(lines[1].starts_with("inventaire.xlsx/people:2: "), "{lines:?}");
        // With another file: refused at the field.
        let both = prepare(
            vec![
                Upload {
                    name: "inventaire.xlsx".to_owned(),
                    bytes: book,
                },
                csv("people.csv", ""),
            ],
            Lang::Fr,
        );
        assert!(matches!(both, Err(Refusal::Field(_))));
    }
}
