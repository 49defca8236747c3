//! Reading a workbook into the CSV set, bounded (see [`crate::limits`]).

use std::io::{Cursor, Read};

use calamine::{Ods, Reader, Xlsx};
use vigie_inventory_set::CsvSetFiles;
use vigie_words::{words, Words};

use crate::cells::{cell_text, column_letters, Kind, Value};
use crate::limits::{MAX_COLUMNS, MAX_ROWS, MAX_SHEETS, MAX_UNCOMPRESSED_BYTES, MAX_WORKBOOK_BYTES, MAX_ZIP_ENTRIES};
use crate::sheets::{SheetSpec, README_SHEET, SHEETS};

/// A workbook format, recognised by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML (Excel, LibreOffice, Google Sheets export).
    Xlsx,
    /// OpenDocument spreadsheet (LibreOffice).
    Ods,
}

/// One problem found while reading: in a sheet row (`sheet`, `line` = row
/// number, 1 for the header), or about the whole workbook (`sheet` `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Sheet name, `None` for the whole workbook.
    pub sheet: Option<String>,
    /// Row number in the sheet (0 for the whole workbook).
    pub line: u64,
    /// What is wrong, in French and in English.
    pub message: Words,
}

impl Problem {
    pub(crate) fn whole(message: Words) -> Self {
        Problem {
            sheet: None,
            line: 0,
            message,
        }
    }

    /// `inventaire.xlsx/people:12: message`, or `inventaire.xlsx: message`
    /// for the whole workbook — the same shape as the server's errors once
    /// mapped by [`crate::locate`].
    pub fn render(&self, workbook: &str) -> Words {
        let prefix = match &self.sheet {
            Some(sheet) => format!("{workbook}/{sheet}:{}: ", self.line),
            None => format!("{workbook}: "),
        };
        self.message.prefixed(&prefix)
    }
}

/// « classeur illisible (…) »: the workbook reader's own error `e`.
fn unreadable(e: &dyn std::fmt::Display) -> Words {
    words!("classeur illisible ({e})", "unreadable workbook ({e})")
}

/// Every problem of a workbook that could not become a CSV set.
pub type ReadError = Vec<Problem>;

const OLD_XLS: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ODS_MIME: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// The format of `bytes`, from the content: a zip holding `xl/workbook.xml`
/// is XLSX, one whose `mimetype` entry says so is ODS. `None` otherwise
/// (a CSV file, an old `.xls`, a text document…).
pub fn detect(bytes: &[u8]) -> Option<Format> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return None;
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    if zip.by_name("xl/workbook.xml").is_ok() {
        return Some(Format::Xlsx);
    }
    let mut mime = Vec::new();
    zip.by_name("mimetype").ok()?.take(128).read_to_end(&mut mime).ok()?;
    (mime.trim_ascii() == ODS_MIME).then_some(Format::Ods)
}

/// Reads an XLSX or ODS workbook into the CSV set: sheet `people` becomes
/// `people.csv`, row N line N. Sheet « Lisez-moi » is ignored; any other
/// unknown sheet is an error naming it. Every cell problem is reported (not
/// only the first), like the server does for the files.
///
/// # Errors
/// Every problem found, in sheet order then row order.
pub fn read_workbook(bytes: &[u8]) -> Result<CsvSetFiles, ReadError> {
    let sheets = read_sheets(bytes, &plan)?;
    let mut files = CsvSetFiles::default();
    for (spec, bytes) in sheets {
        if let Some(slot) = files.file_mut(spec.file) {
            *slot = bytes;
        }
    }
    Ok(files)
}

/// Picks the sheets to read from a workbook's sheet names, each with its spec.
pub(crate) type Plan<'a> = dyn Fn(&[String]) -> Result<Vec<(String, SheetSpec)>, ReadError> + 'a;

/// The bounded reading every workbook goes through: size, format, zip
/// container, ODS repeats, then the sheets `plan` picks from the workbook's
/// sheet names, each turned into CSV text (row N on line N).
pub(crate) fn read_sheets(bytes: &[u8], plan: &Plan<'_>) -> Result<Vec<(SheetSpec, Vec<u8>)>, ReadError> {
    if bytes.len() > MAX_WORKBOOK_BYTES {
        let (size, limit) = (bytes.len() as f64 / 1_048_576.0, MAX_WORKBOOK_BYTES / 1_048_576);
        return Err(vec![Problem::whole(words!(
            "le classeur fait {size:.1} Mio, au-delà de la limite de {limit} Mio : découpez-le, ou importez le jeu de fichiers CSV",
            "the workbook is {size:.1} MiB, beyond the limit of {limit} MiB: split it, or import the set of CSV files"
        ))]);
    }
    let Some(format) = detect(bytes) else {
        let message = if bytes.starts_with(&OLD_XLS) {
            words!(
                "ancien format Excel (.xls) : enregistrez le classeur au format .xlsx puis importez-le",
                "old Excel format (.xls): save the workbook as .xlsx, then import it"
            )
        } else {
            words!(
                "ce fichier n'est ni un classeur XLSX ni un classeur ODS",
                "this file is neither an XLSX nor an ODS workbook"
            )
        };
        return Err(vec![Problem::whole(message)]);
    };
    let content = check_zip(bytes, format).map_err(|m| vec![Problem::whole(m)])?;
    if let Some(content) = content {
        crate::ods_scan::check(&content).map_err(|m| vec![Problem::whole(m)])?;
    }
    // calamine parses outside data: a panic in it (none known; tests/hostile.rs
    // looks for them) must end as a refused file, not as a dead request.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_checked(bytes, format, plan))).unwrap_or_else(|_| {
        Err(vec![Problem::whole(words!(
            "classeur illisible (le lecteur de classeurs a échoué sur ce fichier)",
            "unreadable workbook (the workbook reader failed on this file)"
        ))])
    })
}

/// [`read_sheets`] once the container passed every bound.
fn read_checked(bytes: &[u8], format: Format, plan: &Plan<'_>) -> Result<Vec<(SheetSpec, Vec<u8>)>, ReadError> {
    let unreadable = |e: &dyn std::fmt::Display| vec![Problem::whole(unreadable(e))];
    let mut sheets: Vec<SheetOut> = Vec::new();
    match format {
        Format::Xlsx => {
            let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
            for (name, spec) in plan(&wb.sheet_names())? {
                let mut out = SheetOut::new(spec);
                let mut cells = wb.worksheet_cells_reader(&name).map_err(|e| unreadable(&e))?;
                while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
                    let (row, col) = cell.get_position();
                    if !out.push(row, col, Value::from(cell.get_value())) {
                        break;
                    }
                }
                sheets.push(out);
            }
        }
        Format::Ods => {
            let mut wb: Ods<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
            for (name, spec) in plan(&wb.sheet_names())? {
                let mut out = SheetOut::new(spec);
                let range = wb.worksheet_range(&name).map_err(|e| unreadable(&e))?;
                let (r0, c0) = range.start().unwrap_or((0, 0));
                for (r, c, value) in range.used_cells() {
                    if !out.push(r0 + r as u32, c0 + c as u32, Value::from(value)) {
                        break;
                    }
                }
                sheets.push(out);
            }
        }
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for sheet in sheets {
        let spec = sheet.spec;
        let (_, bytes) = sheet.finish(&mut problems);
        out.push((spec, bytes));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Checks the zip container, decompressing every entry for real (declared
/// sizes can lie) up to [`MAX_UNCOMPRESSED_BYTES`] in all. Returns ODS's
/// `content.xml` for [`crate::ods_scan`].
fn check_zip(bytes: &[u8], format: Format) -> Result<Option<Vec<u8>>, Words> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(words!(
            "le classeur contient {} parties (plus de {MAX_ZIP_ENTRIES}) : fichier anormal, refusé",
            "the workbook holds {} parts (more than {MAX_ZIP_ENTRIES}): abnormal file, refused",
            zip.len()
        ));
    }
    let bomb = || {
        let limit = MAX_UNCOMPRESSED_BYTES / 1_048_576;
        words!(
            "le classeur se décompresse en plus de {limit} Mio : fichier anormal ou trop gros, refusé",
            "the workbook decompresses to more than {limit} MiB: abnormal or too large file, refused"
        )
    };
    let mut left = MAX_UNCOMPRESSED_BYTES;
    let mut content = None;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| unreadable(&e))?;
        let keep = format == Format::Ods && entry.name().is_ok_and(|n| n == "content.xml");
        let mut limited = (&mut entry).take(left + 1);
        let n = if keep {
            let mut buf = Vec::new();
            let n = limited.read_to_end(&mut buf);
            content = Some(buf);
            n.map(|n| n as u64)
        } else {
            std::io::copy(&mut limited, &mut std::io::sink())
        }
        .map_err(|e| unreadable(&e))?;
        left = left.checked_sub(n).ok_or_else(bomb)?;
    }
    Ok(content)
}

/// The sheets to read, each with its spec; every unknown sheet is an error
/// (a misspelt `peoples` would otherwise silently import nobody).
fn plan(names: &[String]) -> Result<Vec<(String, SheetSpec)>, ReadError> {
    if names.len() > MAX_SHEETS {
        return Err(vec![Problem::whole(words!(
            "le classeur a {} feuilles, plus que les {MAX_SHEETS} acceptées",
            "the workbook has {} sheets, more than the {MAX_SHEETS} accepted",
            names.len()
        ))]);
    }
    let mut plan = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
        let trimmed = name.trim();
        if trimmed.eq_ignore_ascii_case(README_SHEET) {
            continue;
        }
        match SHEETS.iter().find(|s| s.sheet.eq_ignore_ascii_case(trimmed)) {
            Some(spec) => plan.push((name.clone(), *spec)),
            None => unknown.push(format!("« {name} »")),
        }
    }
    if unknown.is_empty() {
        Ok(plan)
    } else {
        let (sheets, names) = (
            if unknown.len() == 1 { "feuille" } else { "feuilles" },
            unknown.join(", "),
        );
        let plural = if unknown.len() == 1 { "" } else { "s" };
        Err(vec![Problem::whole(words!(
            "{sheets} inconnue(s) : {names} ; les feuilles attendues sont structures, people, functions et holdings (et « {README_SHEET} », ignorée) — renommez ou supprimez-la(les)",
            "unknown sheet{plural}: {names}; the expected sheets are structures, people, functions and holdings (and “{README_SHEET}”, ignored) — rename or delete it (them)"
        ))])
    }
}

/// One sheet being turned into its CSV file.
struct SheetOut {
    spec: SheetSpec,
    /// (row, column, text), in reading order.
    cells: Vec<(u32, u32, String)>,
    problems: Vec<Problem>,
}

impl SheetOut {
    fn new(spec: SheetSpec) -> Self {
        SheetOut {
            spec,
            cells: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn kind(&self, col: usize) -> Kind {
        let Some(name) = self.spec.header.get(col) else {
            return Kind::Plain;
        };
        if let Some((_, widths)) = self.spec.ids.iter().find(|(c, _)| c == name) {
            Kind::Id(*widths)
        } else if self.spec.dates.contains(name) {
            Kind::Date
        } else {
            Kind::Plain
        }
    }

    /// Adds a cell; `false` when the sheet goes past the bounds (reading stops).
    fn push(&mut self, row: u32, col: u32, value: Value<'_>) -> bool {
        if matches!(value, Value::Empty) || matches!(value, Value::Text(s) if s.is_empty()) {
            return true;
        }
        let cell = format!("{}{}", column_letters(col), u64::from(row) + 1);
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            self.problems.push(Problem {
                sheet: Some(self.spec.sheet.to_owned()),
                line: u64::from(row) + 1,
                message: words!(
                    "cellule {cell} : au-delà des limites d'une feuille ({MAX_ROWS} lignes, colonnes A à {}) ; feuille non lue",
                    "cell {cell}: beyond the bounds of a sheet ({MAX_ROWS} rows, columns A to {}); sheet not read",
                    column_letters(MAX_COLUMNS - 1)
                ),
            });
            return false;
        }
        // The header row is checked by the server against the exact names.
        let kind = if row == 0 { Kind::Plain } else { self.kind(col as usize) };
        let column = self.spec.header.get(col as usize).copied().unwrap_or("?");
        match cell_text(value, column, kind) {
            Ok(text) => self.cells.push((row, col, text)),
            Err(message) => self.problems.push(Problem {
                sheet: Some(self.spec.sheet.to_owned()),
                line: u64::from(row) + 1,
                message: Words::new(
                    format!("cellule {cell}, {}", message.fr),
                    format!("cell {cell}, {}", message.en),
                ),
            }),
        }
        true
    }

    /// The CSV file: one line per sheet row (empty rows as blank lines, so
    /// line numbers stay the row numbers).
    fn finish(mut self, problems: &mut Vec<Problem>) -> (&'static str, Vec<u8>) {
        problems.append(&mut self.problems);
        self.cells.sort_by_key(|&(r, c, _)| (r, c));
        let width = self.spec.header.len();
        let mut out = Vec::new();
        let mut next_row = 0u32;
        let mut cells = self.cells.into_iter().peekable();
        while let Some(&(row, ..)) = cells.peek() {
            while next_row < row {
                out.push(b'\n');
                next_row += 1;
            }
            let mut fields: Vec<String> = Vec::with_capacity(width);
            while let Some((_, col, text)) = cells.next_if(|(r, ..)| *r == row) {
                let col = col as usize;
                if fields.len() < col {
                    fields.resize(col, String::new());
                }
                fields.push(text);
            }
            if fields.len() < width {
                fields.resize(width, String::new());
            }
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(&mut out);
            // Writing to a Vec cannot fail.
            let _ = writer.write_record(&fields);
            let _ = writer.flush();
            drop(writer);
            next_row = row + 1;
        }
        (self.spec.file, out)
    }
}
