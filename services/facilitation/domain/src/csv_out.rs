//! Writing CSV rows for the exports (RFC 4180, `\n` line ends).
//!
//! The exports are opened in spreadsheets by funders and networks, and some
//! cells are user text (display names, ids): a cell starting with `=`, `+`,
//! `-`, `@`, a tab or a carriage return would be run as a formula there, so it
//! is written with a leading `'` (the usual neutralisation, which spreadsheets
//! hide). Numbers and dates written by this crate never start with those.

/// Appends one row to `out`, quoting the fields that need it.
pub(crate) fn push_row(out: &mut String, fields: &[&str]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let neutralised;
        let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            neutralised = format!("'{field}");
            neutralised.as_str()
        } else {
            field
        };
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_quoted_only_when_needed() {
        let mut out = String::new();
        push_row(&mut out, &["a", "b c", "d,e", "f\"g", "h\ni", ""]);
        assert_eq!(out, "a,b c,\"d,e\",\"f\"\"g\",\"h\ni\",\n");
    }

    #[test]
    fn formulas_are_neutralised() {
        let mut out = String::new();
        push_row(&mut out, &["=1+1", "+33", "-x", "@SUM(A1)", "\tx", "a=b", "=a,b"]);
        assert_eq!(out, "'=1+1,'+33,'-x,'@SUM(A1),'\tx,a=b,\"'=a,b\"\n");
    }
}
