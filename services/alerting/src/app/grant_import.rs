//! The import of applications and decisions from a sheet (issue 16,
//! docs/grants.md « Import d'un tableau »): decode the file (CSV, or the
//! data sheet of an XLSX/ODS workbook through `vigie_workbook`'s bounded
//! reader), check every row — its values by the domain
//! ([`vigie_grants_sheet::import`]), its structure and call
//! against the database and the caller's reach — and only when nothing is
//! wrong, write every row in one transaction with the events of
//! `RecordGrant`. A dry run does the same writes and rolls them back, so its
//! counts are the real ones.

use std::collections::HashMap;

use vigie_grants_sheet::import::{self, RowAction};
use vigie_platform::words::{words, Words};

use super::grants::Change;
use super::AlertingApp;
use crate::error::AlertingError;
use crate::storage;

/// The name the data sheet of a workbook is looked for under (the
/// template's); a workbook with a single data sheet is read whatever its name.
pub use vigie_grants_sheet::import::GRANTS_SHEET;

/// An import to run.
#[derive(Debug, Clone, Default)]
pub struct GrantImportInput {
    /// The file's name, for the positions (`FILE:LINE`).
    pub filename: String,
    /// CSV or XLSX/ODS.
    pub content: Vec<u8>,
    /// Check and count only.
    pub dry_run: bool,
    /// Restrict to one network's structures ("" = no restriction).
    pub network: String,
}

/// What an import did, or every problem that stopped it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantImportReport {
    /// `(position, message)`: `FILE:LINE` (`FILE/sheet:ROW` for a workbook).
    /// When any, nothing was written.
    pub problems: Vec<(String, Words)>,
    /// Rows that made a new application or grant.
    pub created: u32,
    /// Rows that changed an existing one.
    pub updated: u32,
    /// Rows already recorded as they are.
    pub unchanged: u32,
}

impl GrantImportReport {
    fn refused(problems: Vec<(String, Words)>) -> Self {
        GrantImportReport {
            problems,
            ..GrantImportReport::default()
        }
    }
}

/// The filename as shown in positions: its last path component, bounded,
/// without control characters ("fichier" when empty).
fn shown_name(filename: &str) -> String {
    let name = filename.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let name: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
    if name.is_empty() {
        "fichier".to_owned()
    } else {
        name
    }
}

impl AlertingApp {
    /// Runs an import; `reach(network, structure)` says whether the caller
    /// may act for a structure (a structure out of reach is reported like an
    /// unknown one, by line).
    ///
    /// # Errors
    /// Storage and outbox errors (the transaction is rolled back).
    pub async fn import_grants(
        &self,
        input: &GrantImportInput,
        reach: &(dyn Fn(&str, &str) -> bool + Send + Sync),
    ) -> Result<GrantImportReport, AlertingError> {
        let file = shown_name(&input.filename);
        if input.content.len() > import::MAX_IMPORT_BYTES {
            return Ok(GrantImportReport::refused(vec![(
                file,
                import::too_large(input.content.len()),
            )]));
        }
        // A workbook is recognised by its content, whatever its name: a zip
        // (XLSX, ODS, or a damaged one, reported as such) or an old `.xls`.
        let (prefix, csv) =
            if input.content.starts_with(b"PK\x03\x04") || input.content.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
                match vigie_workbook::read_table(&input.content, GRANTS_SHEET) {
                    Ok(table) => (format!("{file}/{}", table.sheet), table.csv),
                    Err(problems) => {
                        return Ok(GrantImportReport::refused(
                            problems
                                .iter()
                                .map(|p| match &p.sheet {
                                    Some(sheet) => (format!("{file}/{sheet}:{}", p.line), p.message.clone()),
                                    None => (file.clone(), p.message.clone()),
                                })
                                .collect(),
                        ))
                    }
                }
            } else {
                (file.clone(), input.content.clone())
            };
        let position = |line: u64| {
            if line == 0 {
                prefix.clone()
            } else {
                format!("{prefix}:{line}")
            }
        };
        let parsed = import::parse(&csv, self.today());
        let mut problems: Vec<(u64, Words)> = parsed.problems.into_iter().map(|p| (p.line, p.message)).collect();

        // What the database and the caller's reach say of each row.
        let mut conn = self.db.pool().acquire().await?;
        let networks: HashMap<String, String> = storage::structures(&mut conn)
            .await?
            .into_iter()
            .map(|s| (s.structure_id, s.network_id))
            .collect();
        let mut calls: HashMap<String, bool> = HashMap::new();
        let only = input.network.trim();
        for row in &parsed.rows {
            let structure = row.structure_id();
            match networks.get(structure) {
                Some(network) if reach(network, structure) => {
                    if !only.is_empty() && network != only {
                        problems.push((
                            row.line,
                            words!(
                                "la structure « {structure} » est dans le réseau « {network} » : cet import est limité au réseau « {only} »",
                                "the structure “{structure}” is in the network “{network}”: this import is limited to the network “{only}”"
                            ),
                        ));
                    }
                }
                // An unknown structure and one out of reach read the same:
                // the file must not tell which structures exist elsewhere.
                _ => problems.push((
                    row.line,
                    words!(
                        "structure « {structure} » inconnue ou hors de votre périmètre",
                        "structure “{structure}” unknown or out of your reach"
                    ),
                )),
            }
            let call = row.call_id();
            if !call.is_empty() {
                let known = match calls.get(call) {
                    Some(known) => *known,
                    None => {
                        let known = storage::call(&mut conn, call).await?.is_some();
                        calls.insert(call.to_owned(), known);
                        known
                    }
                };
                if !known {
                    problems.push((
                        row.line,
                        words!(
                            "appel « {call} » inconnu (voir vigie calls list)",
                            "unknown call “{call}” (see vigie calls list)"
                        ),
                    ));
                }
            }
        }
        drop(conn);
        if !problems.is_empty() {
            // In file order; the header's and the whole file's first.
            problems.sort_by_key(|(line, _)| *line);
            return Ok(GrantImportReport::refused(
                problems.into_iter().map(|(line, m)| (position(line), m)).collect(),
            ));
        }

        let mut report = GrantImportReport::default();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        for row in &parsed.rows {
            let (_, change) = match &row.action {
                RowAction::Application(a) => self.application_in(&mut tx, a, now).await?,
                RowAction::Decision(g) => self.grant_in(&mut tx, g, now).await?,
            };
            match change {
                Change::Created => report.created += 1,
                Change::Updated => report.updated += 1,
                Change::Unchanged => report.unchanged += 1,
            }
        }
        if input.dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
            if report.created + report.updated > 0 {
                self.relay.notify_one();
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::shown_name;

    #[test]
    fn positions_show_the_file_name_only() {
        assert_eq!(shown_name("/home/a/subventions.csv"), "subventions.csv");
        assert_eq!(shown_name("C:\\docs\\s.xlsx"), "s.xlsx");
        assert_eq!(shown_name(""), "fichier");
        assert_eq!(shown_name("a\u{7}b.csv"), "ab.csv");
        assert_eq!(shown_name(&"x".repeat(300)).len(), 100);
    }
}
