//! The import of applications and decisions from one sheet (issue 16,
//! docs/grants.md « Import d'un tableau »): a CSV file (UTF-8, `,` or `;`,
//! a BOM allowed) or the one data sheet of a workbook, already turned into
//! CSV text by the adapter with row N on line N.
//!
//! Everything is checked before anything is written, and every problem is
//! reported with its line, not only the first: a person fixing a file of a
//! few hundred rows wants the whole list at once. Each row is checked with
//! the rules of `RecordApplication` and `RecordGrant` ([`super::validate`]),
//! so a row is refused exactly when the same values sent one by one would
//! be. What depends on the database (does the structure exist, may the
//! caller act for it, does the call exist) is the adapter's, by line too.
//!
//! A re-import of the same file changes nothing: a row without a call is
//! identified by its key — the `clé` column, or, when empty, one derived
//! from the structure, the funder, the title and the date of submission
//! ([`derived_key`]) — and a row with a call by the call.

use std::collections::HashMap;

use chrono::NaiveDate;
use vigie_words::{shown, words, Words};

mod columns;
mod template;
mod values;

pub use columns::{header_fr, Column, Field, COLUMNS};
pub use template::{template_csv, template_readme, GRANTS_SHEET, TEMPLATE_LISTS, TEMPLATE_TITLE};
pub use values::{derived_key, euros_fr, parse_date, parse_euros, parse_outcome, parse_yes_no};

use columns::column_of;

use crate::validate::{
    bounded_text, field, idempotency_key, validate_application, validate_grant, ApplicationInput, GrantInput,
    MAX_TITLE_CHARS,
};

/// Largest file accepted (a workbook too, before it is read).
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;
/// Most data rows in one file (the header not counted).
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Longest structure or call identifier.
pub const MAX_ID_CHARS: usize = 100;
/// The prefix of the keys derived for rows without one: never chosen by a
/// person by chance, and recognisable in a database.
pub const DERIVED_KEY_PREFIX: &str = "import:";

/// What one row records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowAction {
    /// An application without a decision (`issue` empty).
    Application(ApplicationInput),
    /// A decision (`obtenu` or `refusé`).
    Decision(GrantInput),
}

/// One valid row, with its line in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The line (or sheet row) it was read from.
    pub line: u64,
    /// What it records, validated.
    pub action: RowAction,
}

impl ImportRow {
    /// The row's structure.
    pub fn structure_id(&self) -> &str {
        match &self.action {
            RowAction::Application(a) => &a.structure_id,
            RowAction::Decision(g) => &g.structure_id,
        }
    }

    /// The row's call ("" for none).
    pub fn call_id(&self) -> &str {
        match &self.action {
            RowAction::Application(a) => &a.call_id,
            RowAction::Decision(g) => &g.call_id,
        }
    }
}

/// A problem at a line (0 = the whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line, or 0.
    pub line: u64,
    /// In French and in English.
    pub message: Words,
}

impl Problem {
    /// `FILE:LINE: message` (`FILE: message` for the whole file); `file` is
    /// `grants.csv`, or `grants.xlsx/Subventions` for a workbook's sheet.
    pub fn render(&self, file: &str) -> Words {
        let prefix = if self.line == 0 {
            format!("{file}: ")
        } else {
            format!("{file}:{}: ", self.line)
        };
        self.message.prefixed(&prefix)
    }
}

/// The rows of a file, or every problem found in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The valid rows, in file order.
    pub rows: Vec<ImportRow>,
    /// Every problem, in file order; the import writes nothing when any.
    pub problems: Vec<Problem>,
}

/// The delimiter of a file: `;` when its first line has more semicolons
/// than commas (what Excel writes in French), `,` otherwise.
fn delimiter(doc: &[u8]) -> u8 {
    let first = doc.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| first.iter().filter(|&&b| b == d).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// The cells of one row by column.
struct Cells<'a> {
    values: HashMap<Field, &'a str>,
}

impl Cells<'_> {
    fn get(&self, field: Field) -> &str {
        self.values.get(&field).copied().unwrap_or("").trim()
    }
}

/// Collects the problems of one row while reading its cells.
struct RowCheck {
    problems: Vec<Words>,
}

impl RowCheck {
    fn keep<T: Default>(&mut self, result: Result<T, Words>) -> T {
        result.unwrap_or_else(|message| {
            self.problems.push(message);
            T::default()
        })
    }
}

/// Reads one data row into what it records; every problem of the row.
fn read_row(cells: &Cells<'_>, today: NaiveDate) -> Result<RowAction, Vec<Words>> {
    let mut check = RowCheck { problems: Vec::new() };
    let structure_id = check.keep(bounded_text(
        cells.get(Field::Structure),
        MAX_ID_CHARS,
        field::STRUCTURE,
        true,
    ));
    let call_id = check.keep(bounded_text(cells.get(Field::Call), MAX_ID_CHARS, field::CALL, false));
    let funder = check.keep(bounded_text(
        cells.get(Field::Funder),
        MAX_TITLE_CHARS,
        field::FUNDER,
        call_id.is_empty(),
    ));
    let title = check.keep(bounded_text(
        cells.get(Field::Title),
        MAX_TITLE_CHARS,
        field::TITLE,
        call_id.is_empty(),
    ));
    let applied_on = check.keep(parse_date(cells.get(Field::AppliedOn), field::APPLIED_ON));
    let amount_asked = check.keep(parse_euros(cells.get(Field::AmountAsked), field::AMOUNT_ASKED));
    let outcome = check.keep(parse_outcome(cells.get(Field::Outcome)));
    let decided_on = check.keep(parse_date(cells.get(Field::DecidedOn), field::DECIDED_ON));
    let amount_granted = check.keep(parse_euros(cells.get(Field::AmountGranted), field::AMOUNT_GRANTED));
    let year_end = check.keep(parse_date(cells.get(Field::YearEnd), field::YEAR_END));
    let agreement_start = check.keep(parse_date(cells.get(Field::AgreementStart), field::AGREEMENT_START));
    let agreement_end = check.keep(parse_date(cells.get(Field::AgreementEnd), field::AGREEMENT_END));
    let public = check.keep(parse_yes_no(cells.get(Field::Public), field::PUBLIC));
    let key = check.keep(idempotency_key(cells.get(Field::Key)));
    if outcome.is_none() {
        // A decision's column filled on a row without a decision is a row
        // whose `issue` was forgotten: recording it as pending would lose
        // the grant's duties without a word.
        let decided: Vec<_> = [
            (Field::DecidedOn, field::DECIDED_ON),
            (Field::AmountGranted, field::AMOUNT_GRANTED),
            (Field::YearEnd, field::YEAR_END),
            (Field::AgreementStart, field::AGREEMENT_START),
            (Field::AgreementEnd, field::AGREEMENT_END),
        ]
        .into_iter()
        .filter(|(f, _)| !cells.get(*f).is_empty())
        .map(|(_, name)| name)
        .collect();
        if !decided.is_empty() {
            let fr = decided.iter().map(|name| name.fr).collect::<Vec<_>>().join(", ");
            let en = decided.iter().map(|name| name.en).collect::<Vec<_>>().join(", ");
            check.problems.push(words!(
                "issue vide (candidature en attente) mais {fr} renseigné(s) : indiquez obtenu ou refusé",
                "empty outcome (application pending) but {en} given: say won or refused"
            ));
        }
    }
    if !check.problems.is_empty() {
        return Err(check.problems);
    }
    let key = match (call_id.is_empty(), key.is_empty()) {
        // A call identifies the row by itself (one application per
        // structure and call); its key would be ignored.
        (false, _) => String::new(),
        (true, false) => key,
        (true, true) => derived_key(&structure_id, &funder, &title, applied_on),
    };
    let action = match outcome {
        None => validate_application(
            &ApplicationInput {
                structure_id,
                call_id,
                funder,
                title,
                applied_on,
                amount_asked: amount_asked.unwrap_or(0),
                idempotency_key: key,
            },
            today,
        )
        .map(RowAction::Application),
        Some(outcome) => validate_grant(
            &GrantInput {
                structure_id,
                grant_id: String::new(),
                call_id,
                funder,
                title,
                outcome: outcome.to_owned(),
                amount_granted: amount_granted.unwrap_or(0),
                decided_on,
                financial_year_end: year_end,
                agreement_start,
                agreement_end,
                reference: cells.get(Field::Reference).to_owned(),
                purpose: cells.get(Field::Purpose).to_owned(),
                public_subsidy: public,
                amount_asked: amount_asked.unwrap_or(0),
                applied_on,
                idempotency_key: key,
            },
            today,
        )
        .map(RowAction::Decision),
    };
    action.map_err(|message| vec![message])
}

/// The line of a byte offset, for offsets that only grow.
struct LineCounter<'a> {
    doc: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(doc: &'a [u8]) -> Self {
        LineCounter {
            doc,
            offset: 0,
            line: 1,
        }
    }

    /// The line (from 1) of the record starting at byte `at`: the reader
    /// may give the offset of the line ends skipped before it.
    fn at(&mut self, at: u64) -> u64 {
        let mut at = usize::try_from(at).unwrap_or(usize::MAX).min(self.doc.len());
        while at < self.doc.len() && matches!(self.doc[at], b'\r' | b'\n') {
            at += 1;
        }
        if at > self.offset {
            let newlines = self.doc[self.offset..at].iter().filter(|&&b| b == b'\n').count();
            self.line += newlines as u64;
            self.offset = at;
        }
        self.line
    }
}

/// Checks a header line: every name known, none twice, the required ones
/// there. Returns the column of each position.
fn read_header(names: &[&str]) -> Result<Vec<Option<Field>>, Words> {
    let mut fields = Vec::with_capacity(names.len());
    let mut unknown = Vec::new();
    let mut twice = Vec::new();
    for name in names {
        if name.trim().is_empty() {
            fields.push(None);
            continue;
        }
        match column_of(name) {
            Some(column) if fields.contains(&Some(column.field)) => twice.push(format!("« {} »", shown(name.trim()))),
            Some(column) => fields.push(Some(column.field)),
            None => unknown.push(format!("« {} »", shown(name.trim()))),
        }
    }
    let missing: Vec<String> = COLUMNS
        .iter()
        .filter(|c| c.required && !fields.contains(&Some(c.field)))
        .map(|c| format!("« {} »", c.fr))
        .collect();
    let mut message: Vec<Words> = Vec::new();
    if !unknown.is_empty() {
        let names = unknown.join(", ");
        message.push(words!("colonne(s) inconnue(s) {names}", "unknown column(s) {names}"));
    }
    if !twice.is_empty() {
        let names = twice.join(", ");
        message.push(words!("colonne(s) en double {names}", "duplicate column(s) {names}"));
    }
    if !missing.is_empty() {
        let names = missing.join(", ");
        message.push(words!("colonne(s) manquante(s) {names}", "missing column(s) {names}"));
    }
    if message.is_empty() {
        Ok(fields)
    } else {
        let fr = message.iter().map(|m| m.fr.as_str()).collect::<Vec<_>>().join(" ; ");
        let en = message.iter().map(|m| m.en.as_str()).collect::<Vec<_>>().join("; ");
        let expected = header_fr().join(", ");
        Err(words!(
            "en-tête : {fr} ; colonnes attendues : {expected}",
            "header: {en}; expected columns: {expected}"
        ))
    }
}

/// The problem of a file of `size` bytes, beyond [`MAX_IMPORT_BYTES`] (a
/// workbook is refused with it too, before it is read).
pub fn too_large(size: usize) -> Words {
    let (size, limit) = (size as f64 / 1_048_576.0, MAX_IMPORT_BYTES / 1_048_576);
    words!(
        "le fichier fait {size:.1} Mio, au-delà de la limite de {limit} Mio : découpez-le",
        "the file is {size:.1} MiB, beyond the limit of {limit} MiB: split it"
    )
}

/// Reads a file of applications and decisions; `today` bounds the dates
/// (as for `RecordGrant`). Every problem is listed with its line; `rows` is
/// only worth writing when `problems` is empty.
pub fn parse(content: &[u8], today: NaiveDate) -> Parsed {
    let mut parsed = Parsed::default();
    let whole = |parsed: &mut Parsed, message: Words| parsed.problems.push(Problem { line: 0, message });
    if content.len() > MAX_IMPORT_BYTES {
        whole(&mut parsed, too_large(content.len()));
        return parsed;
    }
    let doc = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(doc))
        .from_reader(doc);
    let mut record = csv::ByteRecord::new();
    let mut header: Option<Vec<Option<Field>>> = None;
    // (structure, key or call) → first line, to refuse a row given twice.
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    let mut data_rows = 0usize;
    // The reader's own line count drifts over blank lines and CRLF: lines
    // are counted here from byte offsets, which it keeps exact.
    let mut lines = LineCounter::new(doc);
    loop {
        let start = reader.position().byte();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = lines.at(e.position().map_or(start, csv::Position::byte));
                parsed.problems.push(Problem {
                    line,
                    message: words!("CSV illisible : {e}", "unreadable CSV: {e}"),
                });
                break;
            }
        }
        let line = lines.at(record.position().map_or(start, csv::Position::byte));
        let Ok(texts) = record.iter().map(std::str::from_utf8).collect::<Result<Vec<&str>, _>>() else {
            parsed.problems.push(Problem {
                line,
                message: words!(
                    "ligne qui n'est pas en UTF-8 : enregistrez le fichier en « CSV UTF-8 »",
                    "line not in UTF-8: save the file as “CSV UTF-8”"
                ),
            });
            continue;
        };
        if texts.iter().all(|t| t.trim().is_empty()) {
            continue;
        }
        let Some(fields) = &header else {
            match read_header(&texts) {
                Ok(fields) => header = Some(fields),
                Err(message) => {
                    parsed.problems.push(Problem { line, message });
                    return parsed;
                }
            }
            continue;
        };
        data_rows += 1;
        if data_rows > MAX_IMPORT_ROWS {
            parsed.problems.push(Problem {
                line,
                message: words!(
                    "plus de {MAX_IMPORT_ROWS} lignes : découpez le fichier",
                    "more than {MAX_IMPORT_ROWS} rows: split the file"
                ),
            });
            break;
        }
        if texts.len() > fields.len() && texts[fields.len()..].iter().any(|t| !t.trim().is_empty()) {
            parsed.problems.push(Problem {
                line,
                message: words!(
                    "{} champs pour {} colonnes d'en-tête (un séparateur en trop ?)",
                    "{} fields for {} header columns (one separator too many?)",
                    texts.len(),
                    fields.len()
                ),
            });
            continue;
        }
        let cells = Cells {
            values: fields
                .iter()
                .zip(texts.iter())
                .filter_map(|(f, t)| f.map(|f| (f, *t)))
                .collect(),
        };
        match read_row(&cells, today) {
            Ok(action) => {
                let row = ImportRow { line, action };
                let identity = match &row.action {
                    RowAction::Application(a) if a.call_id.is_empty() => a.idempotency_key.clone(),
                    RowAction::Decision(g) if g.call_id.is_empty() => g.idempotency_key.clone(),
                    _ => format!("appel:{}", row.call_id()),
                };
                let id = (row.structure_id().to_owned(), identity);
                if let Some(first) = seen.get(&id) {
                    let call = row.call_id();
                    let message = if call.is_empty() {
                        words!(
                            "ligne en double de la ligne {first} (même structure et même clé (ou mêmes financeur, \
                             intitulé et date de dépôt))",
                            "row repeating line {first} (same structure and same key (or same funder, title and \
                             submission date))"
                        )
                    } else {
                        words!(
                            "ligne en double de la ligne {first} (même structure et même appel « {call} »)",
                            "row repeating line {first} (same structure and same call “{call}”)"
                        )
                    };
                    parsed.problems.push(Problem { line, message });
                    continue;
                }
                seen.insert(id, line);
                parsed.rows.push(row);
            }
            Err(messages) => parsed
                .problems
                .extend(messages.into_iter().map(|message| Problem { line, message })),
        }
    }
    if header.is_none() && parsed.problems.is_empty() {
        let expected = header_fr().join(", ");
        whole(
            &mut parsed,
            words!(
                "fichier vide : la première ligne doit nommer les colonnes ({expected})",
                "empty file: the first line must name the columns ({expected})"
            ),
        );
    }
    parsed
}

#[cfg(test)]
mod tests;
