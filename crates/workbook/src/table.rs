//! One table in a workbook: the data sheet of a one-sheet import (the
//! grants of issue 16, docs/grants.md) read with the same bounds as the
//! inventory set, and its template written with a « Lisez-moi » sheet.
//!
//! The data sheet is the one named as expected (any case), or else the only
//! sheet besides « Lisez-moi » (a person who renamed « Subventions » to
//! « Feuil1 » still gets their rows read); its row N becomes line N of the
//! CSV text, and every problem names the sheet as the workbook shows it.

use rust_xlsxwriter::{DataValidation, Format, Workbook};

use crate::read::{read_sheets, Problem, ReadError};
use crate::sheets::{SheetSpec, README_SHEET};
use crate::write::WriteError;

/// The data sheet of a workbook as CSV text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The sheet's name in the workbook.
    pub sheet: String,
    /// Its rows as CSV (`,`), row N on line N.
    pub csv: Vec<u8>,
}

/// What the template of a table holds.
#[derive(Debug, Clone, Copy)]
pub struct TableTemplate<'a> {
    /// The data sheet's name.
    pub sheet: &'static str,
    /// Its header row.
    pub header: &'a [&'a str],
    /// The read-me's title.
    pub title: &'a str,
    /// The read-me's lines: (title, text).
    pub readme: &'a [(&'a str, &'a str)],
    /// Closed lists offered by a drop-down (column, values); a blank cell
    /// stays allowed.
    pub lists: &'a [(&'a str, &'a [&'a str])],
}

/// Reads the data sheet named `sheet` (see the module comment) of an XLSX
/// or ODS workbook, with the bounds of [`crate::read_workbook`].
///
/// # Errors
/// Every problem found (the whole workbook, or cells by sheet and row).
pub fn read_table(bytes: &[u8], sheet: &'static str) -> Result<Table, ReadError> {
    let chosen = std::cell::RefCell::new(String::new());
    let plan = |names: &[String]| -> Result<Vec<(String, SheetSpec)>, ReadError> {
        let data: Vec<&String> = names
            .iter()
            .filter(|n| !n.trim().eq_ignore_ascii_case(README_SHEET))
            .collect();
        let name = data
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(sheet))
            .or_else(|| if data.len() == 1 { data.first() } else { None })
            .ok_or_else(|| {
                let fr = names.iter().map(|n| format!("« {n} »")).collect::<Vec<_>>().join(", ");
                let en = names.iter().map(|n| format!("“{n}”")).collect::<Vec<_>>().join(", ");
                vec![Problem::whole(vigie_words::words!(
                    "feuille « {sheet} » introuvable (feuilles : {fr}) : gardez une seule feuille de données, ou nommez-la « {sheet} »",
                    "sheet “{sheet}” not found (sheets: {en}): keep a single data sheet, or name it “{sheet}”"
                ))]
            })?;
        chosen.replace((*name).clone());
        Ok(vec![(
            (*name).clone(),
            SheetSpec {
                sheet,
                file: sheet,
                header: &[],
                ids: &[],
                dates: &[],
            },
        )])
    };
    let named = |mut problems: ReadError| {
        let actual = chosen.borrow().clone();
        for p in &mut problems {
            if p.sheet.is_some() {
                p.sheet = Some(actual.clone());
            }
        }
        problems
    };
    let mut sheets = read_sheets(bytes, &plan).map_err(named)?;
    let csv = sheets.pop().map(|(_, csv)| csv).unwrap_or_default();
    let sheet = chosen.into_inner();
    Ok(Table { sheet, csv })
}

/// The empty table as an XLSX workbook: « Lisez-moi » first, then the data
/// sheet with its header bold and frozen, every column formatted as text
/// (identifiers keep their zeros, dates and amounts stay as typed), and the
/// drop-down lists.
///
/// # Errors
/// Only if the XLSX writer fails.
pub fn table_template(t: &TableTemplate<'_>) -> Result<Vec<u8>, WriteError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let text = Format::new().set_num_format("@");
    let readme = wb.add_worksheet();
    readme.set_name(README_SHEET)?;
    readme.set_column_width(0, 26)?;
    readme.set_column_width(1, 100)?;
    readme.write_string_with_format(0, 0, t.title, &bold)?;
    for (i, (title, body)) in t.readme.iter().enumerate() {
        let row = 2 + i as u32;
        readme.write_string_with_format(row, 0, *title, &bold)?;
        readme.write_string_with_format(row, 1, *body, &wrap)?;
    }
    let data = wb.add_worksheet();
    data.set_name(t.sheet)?;
    for (col, name) in t.header.iter().enumerate() {
        let col = col as u16;
        data.set_column_format(col, &text)?;
        data.set_column_width(col, (name.chars().count() as f64 + 4.0).max(16.0))?;
        data.write_string_with_format(0, col, *name, &bold)?;
    }
    data.set_freeze_panes(1, 0)?;
    for (column, values) in t.lists {
        let Some(col) = t.header.iter().position(|h| h == column) else {
            continue;
        };
        let validation = DataValidation::new().allow_list_strings(values)?;
        data.add_data_validation(1, col as u16, 2_000, col as u16, &validation)?;
    }
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: [&str; 3] = ["structure", "montant", "date"];

    fn template() -> Vec<u8> {
        table_template(&TableTemplate {
            sheet: "Subventions",
            header: &HEADER,
            title: "Mode d'emploi",
            readme: &[("Colonnes", "…")],
            lists: &[("montant", &["a", "b"])],
        })
        .unwrap()
    }

    #[test]
    fn the_template_reads_back_as_its_header() {
        let table = read_table(&template(), "Subventions").unwrap();
        assert_eq!(table.sheet, "Subventions");
        assert_eq!(String::from_utf8(table.csv).unwrap(), "structure,montant,date\n");
    }

    #[test]
    fn rows_keep_their_numbers_and_dates_and_numbers_become_text() {
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("Feuil1").unwrap();
        for (c, h) in HEADER.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        sheet.write_string(3, 0, "S1").unwrap();
        sheet.write_number(3, 1, 12500.5).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 15).unwrap();
        let format = Format::new().set_num_format("dd/mm/yyyy");
        sheet.write_datetime_with_format(3, 2, &date, &format).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        // A single data sheet is read whatever its name.
        let table = read_table(&bytes, "Subventions").unwrap();
        assert_eq!(table.sheet, "Feuil1");
        assert_eq!(
            String::from_utf8(table.csv).unwrap(),
            "structure,montant,date\n\n\nS1,12500.5,2026-01-15\n"
        );
    }

    #[test]
    fn two_data_sheets_without_the_expected_name_are_refused() {
        let mut wb = Workbook::new();
        wb.add_worksheet().set_name("A").unwrap();
        wb.add_worksheet().set_name("B").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let err = read_table(&bytes, "Subventions").unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(
            err[0].render("f.xlsx").contains("feuille « Subventions » introuvable"),
            "{err:?}"
        );
    }

    #[test]
    fn an_ods_sheet_is_read_by_its_name_among_others() {
        // The inventory's fixture: several sheets, « people » among them.
        // Rows end at their last cell (no header to pad them to): the
        // import reads a short row's missing cells as empty.
        let ods = include_bytes!("../tests/fixtures/inventaire.ods");
        let table = read_table(ods, "people").unwrap();
        assert_eq!(table.sheet, "people");
        assert_eq!(
            String::from_utf8(table.csv).unwrap(),
            "person_id,structure_id,display_name,role,end_date,email\n\
0042,S-0001,Jeanne,director,2027-06-30,jeanne@exemple.fr\n\n\
0043,S-0001,Paul,volunteer\n"
        );
    }

    #[test]
    fn a_csv_file_is_not_a_workbook() {
        let err = read_table(b"structure\nS1\n", "Subventions").unwrap_err();
        assert!(err[0].message.contains("ni un classeur XLSX"));
    }

    #[test]
    fn a_cell_problem_names_the_sheet_as_shown() {
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("Mes subventions").unwrap();
        sheet.write_string(0, 0, "structure").unwrap();
        sheet.write_string(4, 0, "deux\nlignes").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let err = read_table(&bytes, "Subventions").unwrap_err();
        assert_eq!(
            err[0].render("g.xlsx").split(": ").next(),
            Some("g.xlsx/Mes subventions:5")
        );
    }
}
