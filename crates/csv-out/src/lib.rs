//! The one CSV writer of every CSV that leaves Vigie: the server exports
//! (Etalab calls, training catalogue, facilitation reports) and every CLI
//! `--format csv`.
//!
//! Why one home: these files are opened in spreadsheets by networks and
//! funders, and many cells hold text that came from outside (call titles
//! imported from Aides-territoires or Etalab, display names, facilitators'
//! names). A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
//! is run as a formula by Excel or LibreOffice (`=cmd|' /C calc'!A0`,
//! `=HYPERLINK(…)`): such a cell is written with a leading `'` (the OWASP
//! "CSV injection" neutralisation, which spreadsheets hide). Writing every
//! CSV through [`push_row`], [`push_record`] or [`Writer`] makes it impossible to forget.
//!
//! One exception, on purpose: a cell that is *entirely* a decimal number
//! (`-12`, `+3.5`, `-0,25`) is kept as is. Such a cell cannot hold a formula
//! (a spreadsheet reads it as a number), and the system writes signed numbers
//! itself (differences, scores); quoting them would turn data into text.
//! Everything else from outside starting with a trigger is neutralised.
//!
//! Quoting is RFC 4180 with `\n` line ends, like the `csv` crate's default
//! writer: a field is quoted when it holds a comma, a double quote, CR or LF.

use std::borrow::Cow;
use std::io::{self, Write};

/// The characters that make a spreadsheet read a cell as a formula (or, for
/// tab and CR, that let one hide behind leading white space).
pub const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `cell` is a plain decimal number with an optional sign: digits,
/// at most one `.` or `,` between digits, nothing else.
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let (whole, fraction) = match digits.split_once(['.', ',']) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

/// The cell as a spreadsheet must see it: prefixed with `'` when it starts
/// with one of [`TRIGGERS`] and is not a plain number, unchanged otherwise.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(TRIGGERS) && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Appends one field, neutralised then quoted when needed.
fn push_field(out: &mut String, field: &str) {
    let field = neutralise(field);
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&field);
    }
}

/// Appends one row of borrowed texts (neutralised, RFC 4180 quoting, `\n`
/// line end) to `out`; `&[&a_string, "literal"]` works thanks to deref
/// coercion. See [`push_record`] for owned values.
pub fn push_row(out: &mut String, fields: &[&str]) {
    push_record(out, fields);
}

/// Appends one row (neutralised, RFC 4180 quoting, `\n` line end) to `out`.
///
/// A row of a single empty field is written `""`, so that it is not read back
/// as a blank line.
pub fn push_record<I, T>(out: &mut String, fields: I)
where
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    let mut count = 0;
    let mut only_empty = true;
    for field in fields {
        let field = field.as_ref();
        if count > 0 {
            out.push(',');
        }
        only_empty &= field.is_empty();
        push_field(out, field);
        count += 1;
    }
    if count == 1 && only_empty {
        out.push_str("\"\"");
    }
    out.push('\n');
}

/// A CSV writer over any [`Write`], with the API the CLI used from the `csv`
/// crate (`from_writer`, `write_record`, `flush`), writing through [`push_row`].
#[derive(Debug)]
pub struct Writer<W: Write> {
    inner: W,
    line: String,
}

impl<W: Write> Writer<W> {
    /// A writer appending rows to `inner`.
    pub fn from_writer(inner: W) -> Self {
        Writer {
            inner,
            line: String::new(),
        }
    }

    /// Writes one record.
    ///
    /// # Errors
    /// The error of the underlying writer.
    pub fn write_record<I, T>(&mut self, fields: I) -> io::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.line.clear();
        push_record(&mut self.line, fields);
        self.inner.write_all(self.line.as_bytes())
    }

    /// Flushes the underlying writer.
    ///
    /// # Errors
    /// The error of the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[&str]) -> String {
        let mut out = String::new();
        push_row(&mut out, fields);
        out
    }

    #[test]
    fn rows_are_quoted_only_when_needed() {
        assert_eq!(
            row(&["a", "b c", "d,e", "f\"g", "h\ni", ""]),
            "a,b c,\"d,e\",\"f\"\"g\",\"h\ni\",\n"
        );
        assert_eq!(row(&[""]), "\"\"\n");
        assert_eq!(row(&[]), "\n");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            row(&["=1+1", "+33 6", "-x", "@SUM(A1)", "\tx", "a=b", "=a,b", "\r=x"]),
            "'=1+1,'+33 6,'-x,'@SUM(A1),'\tx,a=b,\"'=a,b\",\"'\r=x\"\n"
        );
        assert_eq!(
            row(&["=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\",\"y\")"]),
            "'=cmd|' /C calc'!A0,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n"
        );
    }

    #[test]
    fn plain_numbers_are_kept() {
        for number in ["-12", "+3", "-0.25", "-0,25", "12", "+33612345678"] {
            assert_eq!(neutralise(number), number, "{number}");
        }
        for formula in ["-", "+", "-1+2", "-1.2.3", "-.5", "-5.", "+1e3", "-1 ", "-1\n=2"] {
            assert_eq!(neutralise(formula), format!("'{formula}"), "{formula:?}");
        }
    }

    #[test]
    fn the_writer_writes_rows() {
        let mut writer = Writer::from_writer(Vec::new());
        writer.write_record(["id", "title"]).unwrap();
        writer.write_record(vec!["1".to_owned(), "=2".to_owned()]).unwrap();
        writer.flush().unwrap();
        assert_eq!(String::from_utf8(writer.into_inner()).unwrap(), "id,title\n1,'=2\n");
    }

    #[test]
    fn the_csv_crate_reads_back_what_is_written() {
        let cells = ["a", "\"q\"", "x,y", "l1\r\nl2", "", "=f", "-3"];
        let mut out = String::new();
        push_record(&mut out, cells);
        // Quoted CRLF keeps the record whole: the field count is right.
        let fields: Vec<String> = split_record(&out);
        assert_eq!(fields.len(), cells.len());
        assert_eq!(fields[5], "'=f");
        assert_eq!(fields[6], "-3");
    }

    /// A minimal RFC 4180 reader for one record (tests only, no dependency).
    fn split_record(text: &str) -> Vec<String> {
        let mut fields = vec![String::new()];
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    fields.last_mut().unwrap().push('"');
                }
                (_, '"') => quoted = !quoted,
                (false, ',') => fields.push(String::new()),
                (false, '\n') => break,
                (_, c) => fields.last_mut().unwrap().push(c),
            }
        }
        fields
    }
}
