//! PostgreSQL receives a statement's rows as ONE parameter: the rows of an
//! `INSERT` as a JSON array read by `json_to_recordset`, the keys of an `IN`
//! list as an array literal. The statement's text then no longer depends on
//! how many rows it carries: an `INSERT` is parsed and planned once per
//! connection and kept prepared, where a `VALUES` list of `$N` placeholders
//! was parsed anew for every batch size — a third of a consumer's server
//! time (docs/benchmarks.md, « Consumers »).

use std::fmt::Write as _;

use super::Value;

/// The SQL type a column's values are read as from the JSON rows.
fn sql_type(value: &Value) -> &'static str {
    match value {
        Value::Text(_) => "text",
        Value::Int(_) => "bigint",
        Value::Bytes(_) => "bytea",
    }
}

/// `INSERT INTO table (a, b) SELECT c0, c1 FROM json_to_recordset($1::json)
/// AS r(c0 text, c1 bigint) {suffix}`, the column types read from `sample`
/// (a row of the statement: every row has the same kinds).
pub(super) fn insert_sql(table: &str, columns: &[&str], sample: &[Value], suffix: &str) -> String {
    let fields: Vec<String> = (0..columns.len()).map(|n| format!("c{n}")).collect();
    let record: Vec<String> = fields
        .iter()
        .zip(sample)
        .map(|(field, value)| format!("{field} {}", sql_type(value)))
        .collect();
    format!(
        "INSERT INTO {table} ({}) SELECT {} FROM json_to_recordset($1::json) AS r({}) {suffix}",
        columns.join(", "),
        fields.join(", "),
        record.join(", ")
    )
}

/// `rows` as the JSON array [`insert_sql`] reads: `[{"c0":"…","c1":4},…]`;
/// bytes travel as bytea's hexadecimal input (`"\\x0a1b"`).
pub(super) fn json_rows(rows: &[Vec<Value>]) -> String {
    let keys: Vec<String> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| format!("\"c{c}\":"))
        .collect();
    let mut json = String::with_capacity(rows.len() * 64);
    json.push('[');
    for (r, row) in rows.iter().enumerate() {
        if r > 0 {
            json.push(',');
        }
        json.push('{');
        for (c, (value, key)) in row.iter().zip(&keys).enumerate() {
            if c > 0 {
                json.push(',');
            }
            json.push_str(key);
            match value {
                Value::Text(Some(text)) => push_json_string(&mut json, text),
                Value::Int(Some(int)) => {
                    let _ = write!(json, "{int}");
                }
                Value::Text(None) | Value::Int(None) => json.push_str("null"),
                Value::Bytes(bytes) => {
                    json.push_str("\"\\\\x");
                    push_hex(&mut json, bytes);
                    json.push('"');
                }
            }
        }
        json.push('}');
    }
    json.push(']');
    json
}

/// `bytes` in lowercase hexadecimal (a snapshot is a few hundred bytes:
/// one `write!` per byte was visible in a consumer's profile).
fn push_hex(json: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    json.reserve(bytes.len() * 2);
    for byte in bytes {
        json.push(char::from(DIGITS[usize::from(byte >> 4)]));
        json.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

/// `text` as a JSON string; runs that need no escape are copied whole.
fn push_json_string(json: &mut String, text: &str) {
    json.push('"');
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            json.push_str(&text[start..at]);
            match byte {
                b'"' => json.push_str("\\\""),
                b'\\' => json.push_str("\\\\"),
                control => {
                    let _ = write!(json, "\\u{control:04x}");
                }
            }
            start = at + 1;
        }
    }
    json.push_str(&text[start..]);
    json.push('"');
}

/// `{prefix} (SELECT unnest($1::text[]))`: an `IN` list of one parameter.
pub(super) fn keys_sql(prefix: &str) -> String {
    format!("{prefix} (SELECT unnest($1::text[]))")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_reads_its_rows_from_one_json_parameter() {
        let sample = [Value::from("s"), Value::from(1_i64), Value::Bytes(vec![])];
        assert_eq!(
            insert_sql(
                "t",
                &["id", "version", "snapshot"],
                &sample,
                "ON CONFLICT (id) DO NOTHING"
            ),
            "INSERT INTO t (id, version, snapshot) SELECT c0, c1, c2 FROM json_to_recordset($1::json) \
             AS r(c0 text, c1 bigint, c2 bytea) ON CONFLICT (id) DO NOTHING"
        );
    }

    #[test]
    fn rows_become_json_with_nulls_escapes_and_hexadecimal_bytes() {
        let rows = vec![
            vec![
                Value::from("a\"b\\c\n"),
                Value::from(-4_i64),
                Value::Bytes(vec![0, 0xab]),
            ],
            vec![Value::Text(None), Value::Int(None), Value::Bytes(vec![])],
        ];
        assert_eq!(
            json_rows(&rows),
            r#"[{"c0":"a\"b\\c\u000a","c1":-4,"c2":"\\x00ab"},{"c0":null,"c1":null,"c2":"\\x"}]"#
        );
        assert_eq!(json_rows(&[]), "[]");
    }
}
