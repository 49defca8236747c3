//! Which sheet holds which file of the CSV set, and the one place where a
//! server error on a file is turned back into a place in the workbook.

use vigie_inventory_set::{
    FUNCTIONS_FILE, FUNCTIONS_HEADER, HOLDINGS_FILE, HOLDINGS_HEADER, PEOPLE_FILE, PEOPLE_HEADER, STRUCTURES_FILE,
    STRUCTURES_HEADER,
};

/// The sheet explaining the others; ignored when reading.
pub const README_SHEET: &str = "Lisez-moi";

/// One data sheet: its name, its file in the CSV set, its header, and which
/// of its columns are identifiers (kept as text: a number loses its zeros).
#[derive(Debug, Clone, Copy)]
pub struct SheetSpec {
    /// Sheet name: the file name without `.csv`.
    pub sheet: &'static str,
    /// File name in the CSV set.
    pub file: &'static str,
    /// Columns, in order.
    pub header: &'static [&'static str],
    /// Identifier columns, each with its fixed number of digits when it has
    /// one (a shorter number certainly lost leading zeros).
    pub ids: &'static [(&'static str, Option<&'static [usize]>)],
    /// Date columns (written as text `YYYY-MM-DD`).
    pub dates: &'static [&'static str],
}

impl SheetSpec {
    /// Index of `column` in the header.
    pub fn column(&self, column: &str) -> Option<usize> {
        self.header.iter().position(|c| *c == column)
    }
}

/// The four data sheets, in the order of the set.
pub const SHEETS: [SheetSpec; 4] = [
    SheetSpec {
        sheet: "structures",
        file: STRUCTURES_FILE,
        header: &STRUCTURES_HEADER,
        ids: &[
            ("structure_id", None),
            ("network", None),
            ("siret", Some(&[14])),
            ("rna", None),
            ("region_code", Some(&[2])),
            ("department_code", Some(&[2, 3])),
            ("commune_insee", Some(&[5])),
        ],
        dates: &[],
    },
    SheetSpec {
        sheet: "people",
        file: PEOPLE_FILE,
        header: &PEOPLE_HEADER,
        ids: &[("person_id", None), ("structure_id", None)],
        dates: &["end_date"],
    },
    SheetSpec {
        sheet: "functions",
        file: FUNCTIONS_FILE,
        header: &FUNCTIONS_HEADER,
        ids: &[("structure_id", None)],
        dates: &[],
    },
    SheetSpec {
        sheet: "holdings",
        file: HOLDINGS_FILE,
        header: &HOLDINGS_HEADER,
        ids: &[("person_id", None)],
        dates: &["last_practised"],
    },
];

/// The sheet holding `file` (`people.csv` → `people`).
pub fn sheet_for_file(file: &str) -> Option<&'static str> {
    SHEETS.iter().find(|s| s.file == file).map(|s| s.sheet)
}

/// Where an error the server reported on `file`, line `line`, is in the
/// workbook called `workbook`: `inventaire.xlsx/people:12`. Row N of a sheet
/// is line N of its file ([`crate::read_workbook`] keeps them aligned), so
/// only the name changes. A file outside the set keeps its own name.
pub fn locate(workbook: &str, file: &str, line: u64) -> String {
    let place = sheet_for_file(file).unwrap_or(file);
    format!("{workbook}/{place}:{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_lines_map_to_sheet_rows() {
        assert_eq!(locate("inventaire.xlsx", "people.csv", 12), "inventaire.xlsx/people:12");
        assert_eq!(locate("a.ods", "structures.csv", 1), "a.ods/structures:1");
        assert_eq!(locate("a.ods", "other.csv", 3), "a.ods/other.csv:3");
    }

    #[test]
    fn every_id_and_date_column_exists() {
        for s in SHEETS {
            for (c, _) in s.ids {
                assert!(s.column(c).is_some(), "{}: {c}", s.sheet);
            }
            for c in s.dates {
                assert!(s.column(c).is_some(), "{}: {c}", s.sheet);
            }
        }
    }
}
