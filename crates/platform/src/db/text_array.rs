//! PostgreSQL's text form of `text[]` values, both ways: written to send a
//! list of keys as one parameter ([`write`]), read to take a read's
//! aggregated rows as one value ([`read_rows`]).
//!
//! Why a read may want it: `CAST(array_agg(ARRAY[a, b, …]) AS TEXT)`
//! aggregates a structure's rows in about two thirds of the server time of
//! `json_agg(json_build_array(a, b, …))` (no JSON typing of each value;
//! docs/benchmarks.md, « Eighth round »). The format (PostgreSQL manual,
//! « Arrays », « Array Input and Output Syntax »): `{…}` around elements
//! separated by `,`; an element is `NULL` (unquoted), a bare word, or a
//! double-quoted string in which `\` escapes the next character. PostgreSQL
//! quotes every element that is empty, holds a delimiter, a brace, a quote,
//! a backslash or white space, or spells `NULL`.

use std::fmt;

/// `keys` as an array literal, every element quoted: `{"a","b\"c"}`.
pub fn write(keys: &[String]) -> String {
    let mut literal = String::with_capacity(keys.iter().map(|k| k.len() + 3).sum::<usize>() + 2);
    literal.push('{');
    for (n, key) in keys.iter().enumerate() {
        if n > 0 {
            literal.push(',');
        }
        literal.push('"');
        for ch in key.chars() {
            if ch == '"' || ch == '\\' {
                literal.push('\\');
            }
            literal.push(ch);
        }
        literal.push('"');
    }
    literal.push('}');
    literal
}

/// A value that is not the text of a one- or two-dimensional `text[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Byte offset where reading stopped.
    pub at: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tableau PostgreSQL illisible à l'octet {} : {} attendu",
            self.at, self.expected
        )
    }
}

impl std::error::Error for Malformed {}

/// The rows of a two-dimensional `text[]` (`{{a,NULL},{"b c",d}}`), or of a
/// one-dimensional one as a single row (`{a,b}`); `{}` has none. Reads in
/// one pass, without recursion, and fails on anything else — including a
/// third dimension or bounds decoration (`[0:1]=…`), which the reads that
/// use it never produce.
///
/// # Errors
/// [`Malformed`] where the text is not such an array.
pub fn read_rows(text: &str) -> Result<Vec<Vec<Option<String>>>, Malformed> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        width: 0,
    };
    reader.expect(b'{', "{")?;
    let rows = match reader.peek() {
        Some(b'}') => {
            reader.at += 1;
            vec![]
        }
        Some(b'{') => {
            let mut rows = Vec::new();
            loop {
                reader.expect(b'{', "{")?;
                rows.push(reader.elements()?);
                if reader.closes()? {
                    break;
                }
            }
            rows
        }
        _ => vec![reader.elements()?],
    };
    if reader.at != text.len() {
        return Err(reader.malformed("la fin du texte"));
    }
    Ok(rows)
}

struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    at: usize,
    /// Elements of the last row: the rows of a two-dimensional array all
    /// have as many.
    width: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn malformed(&self, expected: &'static str) -> Malformed {
        Malformed { at: self.at, expected }
    }

    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), Malformed> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.malformed(expected))
        }
    }

    /// Takes the `,` between two elements (`false`) or the `}` that closes
    /// them (`true`).
    fn closes(&mut self) -> Result<bool, Malformed> {
        let closes = match self.peek() {
            Some(b',') => false,
            Some(b'}') => true,
            _ => return Err(self.malformed(", ou }")),
        };
        self.at += 1;
        Ok(closes)
    }

    /// The elements after an opening `{`, through its closing `}`.
    fn elements(&mut self) -> Result<Vec<Option<String>>, Malformed> {
        let mut row = Vec::with_capacity(self.width);
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(row);
        }
        loop {
            row.push(self.element()?);
            if self.closes()? {
                self.width = row.len();
                return Ok(row);
            }
        }
    }

    /// One element. Every slice taken starts and ends at an ASCII
    /// delimiter of the UTF-8 text, so it is whole characters: no copy is
    /// checked again.
    fn element(&mut self) -> Result<Option<String>, Malformed> {
        if self.peek() == Some(b'"') {
            self.at += 1;
            let mut value = String::new();
            let mut from = self.at;
            loop {
                match self.peek() {
                    Some(b'"') => {
                        value.push_str(&self.text[from..self.at]);
                        self.at += 1;
                        return Ok(Some(value));
                    }
                    Some(b'\\') => {
                        value.push_str(&self.text[from..self.at]);
                        self.at += 1;
                        let escaped = self.text[self.at..]
                            .chars()
                            .next()
                            .ok_or_else(|| self.malformed("un caractère"))?;
                        value.push(escaped);
                        self.at += escaped.len_utf8();
                        from = self.at;
                    }
                    Some(_) => self.at += 1,
                    None => return Err(self.malformed("\"")),
                }
            }
        }
        let start = self.at;
        while let Some(byte) = self.peek() {
            match byte {
                b',' | b'}' => break,
                b'{' | b'"' | b'\\' => return Err(self.malformed("un élément")),
                _ => self.at += 1,
            }
        }
        let word = &self.text[start..self.at];
        if word.is_empty() {
            return Err(self.malformed("un élément"));
        }
        if word.eq_ignore_ascii_case("NULL") {
            return Ok(None);
        }
        Ok(Some(word.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_owned)).collect()
    }

    #[test]
    fn keys_become_a_quoted_array_literal() {
        let keys = ["a", "b\"c", "d\\,{e}", ""].map(String::from);
        assert_eq!(write(&keys), r#"{"a","b\"c","d\\,{e}",""}"#);
        assert_eq!(write(&[]), "{}");
    }

    #[test]
    fn rows_come_back_with_nulls_quotes_and_escapes() {
        let text = r#"{{P1,"Marie \"Mimi\" Dupont",NULL,"",3},{"NULL","a,b{c}\\d",été,"x y",-1}}"#;
        assert_eq!(
            read_rows(text).unwrap(),
            vec![
                row(&[Some("P1"), Some("Marie \"Mimi\" Dupont"), None, Some(""), Some("3")]),
                row(&[Some("NULL"), Some("a,b{c}\\d"), Some("été"), Some("x y"), Some("-1")]),
            ]
        );
    }

    #[test]
    fn one_dimension_is_one_row_and_braces_alone_are_none() {
        assert_eq!(read_rows("{a,null}").unwrap(), vec![row(&[Some("a"), None])]);
        assert_eq!(read_rows(r#"{"\é",ü}"#).unwrap(), vec![row(&[Some("é"), Some("ü")])]);
        assert_eq!(read_rows("{}").unwrap(), Vec::<Vec<Option<String>>>::new());
        assert_eq!(read_rows("{{}}").unwrap(), vec![row(&[])]);
    }

    #[test]
    fn what_we_write_reads_back() {
        let keys = ["a", "b\"c", "d\\,{e}", "", "NULL", " ", "é"].map(String::from);
        let back = read_rows(&write(&keys)).unwrap();
        assert_eq!(back, vec![keys.iter().map(|k| Some(k.clone())).collect::<Vec<_>>()]);
    }

    #[test]
    fn anything_else_is_refused_where_it_goes_wrong() {
        for (text, at) in [
            ("", 0),
            ("a", 0),
            ("{a", 2),
            ("{a,}", 3),
            ("{\"a}", 4),
            ("{a\"b}", 2),
            ("{{a}{b}}", 4),
            ("{{{a}}}", 2),
            ("[0:1]={a,b}", 0),
            ("{a} ", 3),
            ("{\"a\\", 4),
        ] {
            let error = read_rows(text).unwrap_err();
            assert_eq!(error.at, at, "{text}: {error}");
        }
    }
}
