//! Writing a CSV set as an XLSX workbook: a first sheet « Lisez-moi » in
//! plain French, then one sheet per file with its header row bold and
//! frozen, identifier and date columns formatted as text (so that a value
//! typed later keeps its leading zeros), and drop-down lists.
//!
//! Function codes: the list offers the catalogue but only *warns* on another
//! code, because the import accepts custom functions (lowercase letters,
//! digits, `_`). Levels, criticality, roles and legal forms are closed lists.

use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, Format, Formula, Workbook, Worksheet, XlsxError};
use vigie_fragility_model::catalogue::{level_label_fr, CATALOGUE, MAX_LEVEL};
use vigie_fragility_model::model::{LegalForm, Role};
use vigie_inventory_set::CsvSetFiles;

use crate::sheets::{SheetSpec, README_SHEET, SHEETS};

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file of the set is not readable CSV.
    #[error("{0} : CSV illisible ({1})")]
    Csv(&'static str, csv::Error),
    /// The XLSX writer refused something (too many rows…).
    #[error("écriture du classeur impossible ({0})")]
    Xlsx(#[from] XlsxError),
}

/// Rows given drop-down lists beyond the data (room to add lines).
const SPARE_ROWS: u32 = 2_000;
/// Row (0-based) of the catalogue table's first code in « Lisez-moi ».
const CATALOGUE_ROW: u32 = 13;

/// The empty inventory as a workbook: headers, read-me and lists only.
///
/// # Errors
/// Only if the XLSX writer fails.
pub fn template() -> Result<Vec<u8>, WriteError> {
    write_workbook(&CsvSetFiles::default())
}

/// `files` as an XLSX workbook (see the module comment). Every value is
/// written as the text it had in the file, except levels and criticality
/// (numbers): reading the workbook back gives the same set.
///
/// # Errors
/// A file that is not CSV, or an XLSX writer failure.
pub fn write_workbook(files: &CsvSetFiles) -> Result<Vec<u8>, WriteError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    readme(wb.add_worksheet(), &bold)?;
    for spec in SHEETS {
        let bytes = match spec.file {
            f if f == SHEETS[0].file => &files.structures,
            f if f == SHEETS[1].file => &files.people,
            f if f == SHEETS[2].file => &files.functions,
            _ => &files.holdings,
        };
        let sheet = wb.add_worksheet();
        sheet.set_name(spec.sheet)?;
        data_sheet(sheet, &spec, bytes, &bold, &text)?;
    }
    Ok(wb.save_to_buffer()?)
}

fn is_text_column(spec: &SheetSpec, name: &str) -> bool {
    spec.ids.iter().any(|(c, _)| *c == name) || spec.dates.contains(&name)
}

fn data_sheet(
    sheet: &mut Worksheet,
    spec: &SheetSpec,
    bytes: &[u8],
    bold: &Format,
    text: &Format,
) -> Result<(), WriteError> {
    for (col, name) in spec.header.iter().enumerate() {
        let col = col as u16;
        if is_text_column(spec, name) {
            sheet.set_column_format(col, text)?;
        }
        sheet.set_column_width(col, (name.len() as f64 + 4.0).max(16.0))?;
        sheet.write_string_with_format(0, col, *name, bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut last = 0u32;
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| WriteError::Csv(spec.file, e))?;
        // Line 1 is the header, already written from the spec.
        let line = record.position().map_or(i as u64 + 1, csv::Position::line);
        if line <= 1 {
            continue;
        }
        let row = u32::try_from(line - 1).unwrap_or(u32::MAX);
        last = last.max(row);
        for (col, value) in record.iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            let name = spec.header.get(col).copied().unwrap_or("");
            let number = matches!(name, "level" | "criticality")
                .then(|| value.parse::<u8>().ok())
                .flatten();
            match number {
                Some(n) => sheet.write_number(row, col as u16, f64::from(n))?,
                None if is_text_column(spec, name) => sheet.write_string_with_format(row, col as u16, value, text)?,
                None => sheet.write_string(row, col as u16, value)?,
            };
        }
    }
    lists(sheet, spec, last + SPARE_ROWS)
}

fn closed_list(values: &[&str], title: &str, message: &str) -> Result<DataValidation, XlsxError> {
    DataValidation::new()
        .allow_list_strings(values)?
        .set_input_title(title)?
        .set_input_message(message)
}

/// Drop-down lists on rows 2..=`last` of the columns that have one.
fn lists(sheet: &mut Worksheet, spec: &SheetSpec, last: u32) -> Result<(), WriteError> {
    let catalogue = format!(
        "='{README_SHEET}'!$A${}:$A${}",
        CATALOGUE_ROW + 1,
        CATALOGUE_ROW + CATALOGUE.len() as u32
    );
    let levels: Vec<String> = (0..=MAX_LEVEL).map(|l| l.to_string()).collect();
    let levels: Vec<&str> = levels.iter().map(String::as_str).collect();
    let level_help = (0..=MAX_LEVEL)
        .map(|l| format!("{l} {}", level_label_fr(l).unwrap_or("")))
        .collect::<Vec<_>>()
        .join(" · ");
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let forms: Vec<&str> = LegalForm::ALL.iter().map(|f| f.as_str()).collect();
    for (col, name) in spec.header.iter().enumerate() {
        let validation = match (spec.sheet, *name) {
            (_, "function") => DataValidation::new()
                .allow_list_formula(Formula::new(&catalogue))
                .set_error_style(DataValidationErrorStyle::Warning)
                .set_error_title("Fonction hors catalogue")?
                .set_error_message(
                    "Ce code n'est pas dans le catalogue (feuille « Lisez-moi »). Un code personnalisé est accepté : lettres minuscules, chiffres et _.",
                )?,
            (_, "level") => closed_list(&levels, "Niveau de 0 à 4", &level_help)?,
            (_, "criticality") => closed_list(
                &["1", "2", "3"],
                "Criticité de 1 à 3",
                "3 = la plus vitale. Laissez vide pour la valeur du catalogue.",
            )?,
            (_, "role") => closed_list(&roles, "Rôle", "Choisissez le rôle dans la liste.")?,
            (_, "legal_form") => closed_list(&forms, "Forme juridique", "Choisissez la forme dans la liste.")?,
            _ => continue,
        };
        sheet.add_data_validation(1, col as u16, last, col as u16, &validation)?;
    }
    Ok(())
}

/// « Lisez-moi »: what each sheet holds, in plain French, then the catalogue
/// of functions (the source of the function drop-down list) and the levels.
fn readme(sheet: &mut Worksheet, bold: &Format) -> Result<(), WriteError> {
    sheet.set_name(README_SHEET)?;
    let wrap = Format::new().set_text_wrap();
    sheet.set_column_width(0, 26)?;
    sheet.set_column_width(1, 90)?;
    sheet.set_column_width(2, 18)?;
    sheet.write_string_with_format(0, 0, "Inventaire Vigie : mode d'emploi", bold)?;
    let lines: [(&str, &str); 9] = [
        ("", "Ce classeur contient l'inventaire de vos structures, une feuille par sujet. Remplissez une ligne par élément. Ne changez ni la première ligne des feuilles (les noms de colonnes) ni le nom des feuilles. Cette feuille est ignorée à l'import."),
        ("structures", "Une ligne par structure : identifiant, nom, réseau, forme juridique, SIRET, RNA, code région, code département et code commune INSEE."),
        ("people", "Une ligne par personne : identifiant, identifiant de sa structure, nom affiché, rôle, date de fin de mission (AAAA-MM-JJ, vide si aucune) et e-mail."),
        ("functions", "Les fonctions vitales de chaque structure : identifiant de la structure, code de la fonction, criticité de 1 à 3 (vide = valeur du catalogue) et outils utilisés, séparés par « ; »."),
        ("holdings", "Qui sait faire quoi : identifiant de la personne, code de la fonction, niveau de 0 à 4 et date de dernière pratique (AAAA-MM-JJ)."),
        ("Identifiants", "Les colonnes d'identifiants et de dates sont au format Texte : les zéros du début (01053) sont gardés. Ne les passez pas au format Nombre."),
        ("Fonctions", "La liste déroulante propose le catalogue ci-dessous. Un autre code est accepté (lettres minuscules, chiffres et _) : le tableur avertit sans bloquer."),
        ("Erreurs", "À l'import, rien n'est modifié s'il reste une erreur. Chaque erreur donne la feuille et la ligne : « inventaire.xlsx/people:12 » veut dire feuille people, ligne 12."),
        ("Taille", "20 Mio au plus. Au-delà, importez le jeu de fichiers CSV."),
    ];
    for (i, (title, body)) in lines.iter().enumerate() {
        let row = 2 + i as u32;
        sheet.write_string_with_format(row, 0, *title, bold)?;
        sheet.write_string_with_format(row, 1, *body, &wrap)?;
    }
    let head = CATALOGUE_ROW - 1;
    sheet.write_string_with_format(head, 0, "Code de fonction", bold)?;
    sheet.write_string_with_format(head, 1, "Fonction", bold)?;
    sheet.write_string_with_format(head, 2, "Criticité par défaut", bold)?;
    for (i, entry) in CATALOGUE.iter().enumerate() {
        let row = CATALOGUE_ROW + i as u32;
        sheet.write_string(row, 0, entry.code)?;
        sheet.write_string(row, 1, entry.label_fr)?;
        sheet.write_number(row, 2, f64::from(entry.default_criticality))?;
    }
    let head = CATALOGUE_ROW + CATALOGUE.len() as u32 + 1;
    sheet.write_string_with_format(head, 0, "Niveau", bold)?;
    sheet.write_string_with_format(head, 1, "Signification", bold)?;
    for level in 0..=MAX_LEVEL {
        let row = head + 1 + u32::from(level);
        sheet.write_number(row, 0, f64::from(level))?;
        sheet.write_string(row, 1, level_label_fr(level).unwrap_or(""))?;
    }
    Ok(())
}
