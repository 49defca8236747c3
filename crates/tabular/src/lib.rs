//! Reading CSV files received as bytes, shared by every import of the
//! project (the inventory's CSV set, the training catalogue): BOM, encoding,
//! exact header, blank lines, column count, physical line numbers and the
//! `FILE:LINE: message` error type, whose message is in French and in
//! English ([`Words`]). Field-level rules common to several files live in
//! [`fields`]; rules specific to one file stay with its parser.
//!
//! Formats read here: UTF-8 (an optional BOM is dropped), header row checked
//! exactly, RFC 4180 quoting, fields trimmed (including non-breaking spaces),
//! blank lines and all-empty rows (`,,,,`) skipped.

pub mod fields;

pub use vigie_words::{shown, words, Words};

/// Most columns a file may have: lets a row's fields live in a fixed array
/// instead of a fresh `Vec` per row. [`FileSpec::new`] refuses wider headers.
pub const MAX_COLUMNS: usize = 16;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Most characters of a wrong header that its message repeats.
const MAX_HEADER_SHOWN: usize = 1_000;

/// One problem in one row (or in the header, line 1) of one file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RowError {
    /// File name within the set (`people.csv`).
    pub file: String,
    /// Physical line number in the file, the header being line 1 (for a
    /// quoted value spanning several lines, the line where the row starts).
    pub line: u64,
    /// What is wrong and what is expected, in French and in English.
    pub message: Words,
}

impl RowError {
    /// `FILE:LINE: message` in English when `english`, else in French (the
    /// `Display` form).
    pub fn line_in(&self, english: bool) -> String {
        format!("{}:{}: {}", self.file, self.line, self.message.pick(english))
    }

    /// `FILE:LINE: message` in both languages.
    pub fn to_words(&self) -> Words {
        self.message.prefixed(&format!("{}:{}: ", self.file, self.line))
    }
}

/// One file of a set and what its header must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSpec {
    name: &'static str,
    header: &'static [&'static str],
    required: bool,
}

impl FileSpec {
    /// A file called `name` (used in every error) whose first non-blank line
    /// must be exactly `header`; when `required`, an empty or missing file
    /// is an error, otherwise it means "no rows".
    ///
    /// # Panics
    ///
    /// When `header` has more than [`MAX_COLUMNS`] columns — at compile time
    /// when used, as intended, to define a `const`.
    pub const fn new(name: &'static str, header: &'static [&'static str], required: bool) -> Self {
        assert!(header.len() <= MAX_COLUMNS, "header wider than MAX_COLUMNS");
        Self { name, header, required }
    }

    /// The file name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The expected header, column by column.
    pub fn header(&self) -> &'static [&'static str] {
        self.header
    }

    /// Whether an empty or missing file is an error.
    pub fn required(&self) -> bool {
        self.required
    }
}

/// Records `r`'s error message (if any) in `msgs` and returns its value:
/// lets a row parser check every column and report every problem at once.
pub fn keep<T>(msgs: &mut Vec<Words>, r: Result<T, Words>) -> Option<T> {
    r.map_err(|m| msgs.push(m)).ok()
}

/// Turns the messages gathered for one row into [`RowError`]s of `file` at
/// `line`, in the order they were found.
pub fn flush(file: &str, line: u64, msgs: Vec<Words>, errors: &mut Vec<RowError>) {
    errors.extend(msgs.into_iter().map(|message| RowError {
        file: file.to_owned(),
        line,
        message,
    }));
}

/// A field as trimmed text. Whole-file validation guarantees UTF-8, so the
/// fallback is unreachable; it only avoids a panic path.
fn text(field: &[u8]) -> &str {
    std::str::from_utf8(field).unwrap_or("").trim()
}

/// The line where a record really starts. The csv reader reports the
/// position where it *began reading*, which includes the blank lines it
/// skipped (and, after a CRLF, the pending LF): count those back in.
fn physical_line(bytes: &[u8], position: &csv::Position) -> u64 {
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .filter(|&&b| b == b'\n')
        .count();
    position.line() + skipped as u64
}

fn error(spec: &FileSpec, line: u64, message: Words) -> RowError {
    RowError {
        file: spec.name.to_owned(),
        line,
        message,
    }
}

/// Reads every data row of `bytes` and calls `row(line, fields)` with the
/// trimmed fields (exactly `spec.header.len()` of them).
///
/// File-level problems (not UTF-8, empty required file, wrong header) are
/// pushed to `errors` and make the function return `false` without reading
/// any row: the columns cannot be trusted, and the caller then skips the
/// cross-file checks that depend on this file so that one bad header does not
/// bury the user under thousands of derived errors. Row-level problems that
/// this layer sees (wrong column count) are reported and the row is skipped.
pub fn read_rows(
    spec: &FileSpec,
    bytes: &[u8],
    errors: &mut Vec<RowError>,
    mut row: impl FnMut(u64, &[&str], &mut Vec<RowError>),
) -> bool {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let expected_header = spec.header.join(",");

    if bytes.iter().all(u8::is_ascii_whitespace) {
        if spec.required {
            errors.push(error(
                spec,
                1,
                words!(
                    "fichier vide ou absent : il doit commencer par l'en-tête « {expected_header} »",
                    "empty or missing file: it must start with the header “{expected_header}”"
                ),
            ));
            return false;
        }
        // An optional file left out means "none of these".
        return true;
    }

    // Check the encoding once for the whole file: a spreadsheet saved as
    // Latin-1 is one mistake, not one per accented row. Once the whole buffer
    // is valid UTF-8 every field is too, since CSV only splits on ASCII bytes.
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u64;
        errors.push(error(
            spec,
            line,
            words!(
                "le fichier n'est pas encodé en UTF-8 (caractère invalide sur cette ligne) : \
                 enregistrez-le au format « CSV UTF-8 »",
                "the file is not UTF-8 encoded (invalid character on this line): \
                 save it as “CSV UTF-8”"
            ),
        ));
        return false;
    }

    // `flexible` so that a short or long row is our error (with our message)
    // rather than the reader's; no trimming by the reader because it only
    // trims ASCII whitespace and we also want non-breaking spaces gone.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut header_seen = false;
    let width = spec.header.len();

    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            // Reading from memory cannot fail with I/O errors and the
            // flexible reader accepts any shape; kept for completeness.
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(error(
                    spec,
                    line,
                    words!("lecture CSV impossible : {e}", "unreadable CSV: {e}"),
                ));
                return false;
            }
        }
        let line = record.position().map_or(0, |p| physical_line(bytes, p));

        // A line of spaces, or a spreadsheet's trailing ",,,,," row, carries
        // nothing: skip it rather than report empty mandatory columns.
        if record.iter().all(|f| text(f).is_empty()) {
            continue;
        }

        if !header_seen {
            header_seen = true;
            let found: Vec<&str> = record.iter().map(text).collect();
            if found != spec.header {
                let raw = found.join(",");
                let semicolons = found.len() == 1 && raw.contains(';');
                // Cut far later than a value: a header must show whole, to be
                // compared with the expected one (16 columns fit easily).
                let found = vigie_words::shown_up_to(&raw, MAX_HEADER_SHOWN);
                let (hint_fr, hint_en) = if semicolons {
                    (
                        " ; le séparateur doit être la virgule, pas le point-virgule",
                        "; the separator must be a comma, not a semicolon",
                    )
                } else {
                    ("", "")
                };
                errors.push(error(
                    spec,
                    line,
                    words!(
                        "en-tête invalide : attendu « {expected_header} », trouvé « {found} »{hint_fr}",
                        "invalid header: expected “{expected_header}”, found “{found}”{hint_en}"
                    ),
                ));
                return false;
            }
            continue;
        }

        if record.len() != width {
            let found = record.len();
            let plural = if found > 1 { "s" } else { "" };
            let (hint_fr, hint_en) = if found > width {
                (
                    " ; une valeur contenant une virgule doit être entre guillemets",
                    "; a value containing a comma must be quoted",
                )
            } else {
                ("", "")
            };
            errors.push(error(
                spec,
                line,
                words!(
                    "{found} colonne{plural} au lieu de {width} (en-tête : {expected_header}){hint_fr}",
                    "{found} column{plural} instead of {width} (header: {expected_header}){hint_en}"
                ),
            ));
            continue;
        }
        let mut fields: [&str; MAX_COLUMNS] = [""; MAX_COLUMNS];
        for (slot, f) in fields.iter_mut().zip(record.iter()) {
            *slot = text(f);
        }
        row(line, &fields[..width], errors);
    }

    if !header_seen {
        // Every line was blank, e.g. only ",,,," rows: same as an empty file.
        if spec.required {
            errors.push(error(
                spec,
                1,
                words!(
                    "en-tête manquant : attendu « {expected_header} »",
                    "missing header: expected “{expected_header}”"
                ),
            ));
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: [&str; 2] = ["id", "name"];
    const SPEC: FileSpec = FileSpec::new("things.csv", &HEADER, false);

    type Rows = Vec<(u64, Vec<String>)>;

    fn rows(bytes: &[u8]) -> (bool, Rows, Vec<String>) {
        let mut errors = Vec::new();
        let mut seen = Vec::new();
        let usable = read_rows(&SPEC, bytes, &mut errors, |line, fields, _| {
            seen.push((line, fields.iter().map(|f| (*f).to_owned()).collect()));
        });
        (usable, seen, errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn spec_accessors() {
        assert_eq!(SPEC.name(), "things.csv");
        assert_eq!(SPEC.header(), ["id", "name"]);
        assert!(!SPEC.required());
    }

    #[test]
    #[should_panic(expected = "header wider than MAX_COLUMNS")]
    fn spec_refuses_headers_wider_than_max_columns() {
        static WIDE: [&str; MAX_COLUMNS + 1] = [""; MAX_COLUMNS + 1];
        let _ = FileSpec::new("wide.csv", &WIDE, false);
    }

    #[test]
    fn rows_are_trimmed_with_physical_line_numbers() {
        let (usable, seen, errors) = rows(b"\xEF\xBB\xBFid,name\r\n\r\n a ,\xC2\xA0B\xC2\xA0\r\n,\r\nc,\"d, e\"\r\n");
        assert!(usable);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            seen,
            [
                (3, vec!["a".to_owned(), "B".to_owned()]),
                (5, vec!["c".to_owned(), "d, e".to_owned()])
            ]
        );
    }

    #[test]
    fn an_optional_empty_file_has_no_rows_and_a_bad_header_none_either() {
        assert_eq!(rows(b""), (true, vec![], vec![]));
        let (usable, seen, errors) = rows(b"id,nom\nx,y\n");
        assert!(!usable);
        assert!(seen.is_empty());
        assert_eq!(
            errors,
            ["things.csv:1: en-tête invalide : attendu « id,name », trouvé « id,nom »"]
        );
        let mut english = Vec::new();
        read_rows(&SPEC, b"id;nom\nx;y\n", &mut english, |_, _, _| {});
        assert_eq!(
            english[0].line_in(true),
            "things.csv:1: invalid header: expected “id,name”, found “id;nom”; \
             the separator must be a comma, not a semicolon"
        );
    }

    #[test]
    fn keep_and_flush_gather_every_message_of_a_row() {
        let mut msgs = Vec::new();
        assert_eq!(keep(&mut msgs, Ok::<u8, Words>(3)), Some(3));
        assert_eq!(keep::<u8>(&mut msgs, Err(words!("premier", "first"))), None);
        assert_eq!(keep::<u8>(&mut msgs, Err(words!("second", "second"))), None);
        let mut errors = Vec::new();
        flush("things.csv", 7, msgs, &mut errors);
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["things.csv:7: premier", "things.csv:7: second"]);
        assert_eq!(errors[0].line_in(true), "things.csv:7: first");
        assert_eq!(errors[0].to_words().en, "things.csv:7: first");
        assert_eq!(errors[1].to_words().fr, "things.csv:7: second");
    }
}
