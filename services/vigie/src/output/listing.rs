//! One description of a listing's columns, printed as a table, JSON or CSV.
//!
//! Each column says once what it is: its key for scripts (JSON and CSV),
//! its title for people (French and English) and how it reads a row. A
//! column may serve scripts alone (`data`; `json` or `csv` when one format
//! carries it in another form or leaves it out), people alone (`shown`), or
//! both (`column`), so a table can
//! keep its own order and words while JSON and CSV stay stable.
//!
//! JSON is an array of objects (keys sorted, as `serde_json` writes them);
//! CSV has one header line of keys, then one line per row, through the
//! neutralising writer of `vigie-csv-out`: a string as it is, a number or a
//! boolean as JSON writes it, an absent value empty, a list's items
//! joined by `;`.

use std::io::Write;

use serde_json::{Map, Value};

use super::Table;
use crate::cli::Format;
use crate::i18n::Lang;

type Read<'a, R> = Box<dyn Fn(&R) -> Value + 'a>;
type Show<'a, R> = Box<dyn Fn(&R) -> String + 'a>;

struct Column<'a, R> {
    /// Key in JSON and CSV; `None` for a column of the table alone.
    key: Option<&'static str>,
    /// Whether JSON carries it.
    in_json: bool,
    /// Whether the CSV carries it.
    in_csv: bool,
    /// Title in the table (French, English); `None` for scripts alone.
    title: Option<(&'static str, &'static str)>,
    /// Right-aligned in the table (numbers).
    right: bool,
    data: Option<Read<'a, R>>,
    /// The table's text, when it is not the CSV text of `data`.
    shown: Option<Show<'a, R>>,
}

/// The columns of a listing of `R` rows.
pub struct Listing<'a, R> {
    columns: Vec<Column<'a, R>>,
}

impl<R> Default for Listing<'_, R> {
    fn default() -> Self {
        Listing { columns: Vec::new() }
    }
}

impl<'a, R> Listing<'a, R> {
    /// A listing without columns yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, column: Column<'a, R>) -> Self {
        self.columns.push(column);
        self
    }

    /// A value for scripts (JSON and CSV), not shown in the table.
    pub fn data<V: Into<Value>>(self, key: &'static str, read: impl Fn(&R) -> V + 'a) -> Self {
        self.push(Column {
            key: Some(key),
            in_json: true,
            in_csv: true,
            title: None,
            right: false,
            data: Some(Box::new(move |row| read(row).into())),
            shown: None,
        })
    }

    /// A value for JSON alone (nested, or left out of the CSV contract).
    pub fn json<V: Into<Value>>(self, key: &'static str, read: impl Fn(&R) -> V + 'a) -> Self {
        let mut listing = self.data(key, read);
        if let Some(last) = listing.columns.last_mut() {
            last.in_csv = false;
        }
        listing
    }

    /// A value for CSV alone (a JSON key carries it in another form).
    pub fn csv<V: Into<Value>>(self, key: &'static str, read: impl Fn(&R) -> V + 'a) -> Self {
        let mut listing = self.data(key, read);
        if let Some(last) = listing.columns.last_mut() {
            last.in_json = false;
        }
        listing
    }

    /// A column in every format; the table shows its CSV text unless
    /// [`Listing::showing`] says otherwise.
    pub fn column<V: Into<Value>>(
        self,
        key: &'static str,
        title: (&'static str, &'static str),
        read: impl Fn(&R) -> V + 'a,
    ) -> Self {
        let mut listing = self.data(key, read);
        if let Some(last) = listing.columns.last_mut() {
            last.title = Some(title);
        }
        listing
    }

    /// A column of the table alone.
    pub fn shown(self, title: (&'static str, &'static str), text: impl Fn(&R) -> String + 'a) -> Self {
        self.push(Column {
            key: None,
            in_json: false,
            in_csv: false,
            title: Some(title),
            right: false,
            data: None,
            shown: Some(Box::new(text)),
        })
    }

    /// The last column shows `text` in the table instead of its data.
    pub fn showing(mut self, text: impl Fn(&R) -> String + 'a) -> Self {
        if let Some(last) = self.columns.last_mut() {
            last.shown = Some(Box::new(text));
        }
        self
    }

    /// The last column is right-aligned in the table.
    pub fn right(mut self) -> Self {
        if let Some(last) = self.columns.last_mut() {
            last.right = true;
        }
        self
    }

    /// Prints `rows` in `format`: an aligned table in `lang`, a JSON array
    /// or CSV.
    ///
    /// # Errors
    /// I/O errors of `out`.
    pub fn write<'r, W: Write>(
        &self,
        rows: impl IntoIterator<Item = &'r R>,
        format: Format,
        lang: Lang,
        out: W,
    ) -> anyhow::Result<()>
    where
        R: 'r,
    {
        let mut printer = self.printer(format, lang, out)?;
        printer.rows(rows)?;
        printer.finish()?;
        Ok(())
    }

    /// A printer to which rows are given as they arrive (a server stream):
    /// CSV and JSON are written at once, a table keeps its cells until
    /// [`Printer::finish`] (its widths need every row).
    ///
    /// # Errors
    /// I/O errors of `out` (the CSV header is written at once).
    pub fn printer<W: Write>(&self, format: Format, lang: Lang, mut out: W) -> std::io::Result<Printer<'_, 'a, R, W>> {
        let table = match format {
            Format::Table => Some(self.table(std::iter::empty(), lang)),
            Format::Json => None,
            Format::Csv => {
                let mut line = String::new();
                vigie_csv_out::push_record(&mut line, self.csv_columns().iter().map(|(key, _)| *key));
                out.write_all(line.as_bytes())?;
                None
            }
        };
        Ok(Printer {
            listing: self,
            format,
            out,
            table,
            count: 0,
        })
    }

    fn csv_columns(&self) -> Vec<(&'static str, &Read<'a, R>)> {
        self.columns
            .iter()
            .filter(|column| column.in_csv)
            .filter_map(|column| Some((column.key?, column.data.as_ref()?)))
            .collect()
    }

    /// The table's cells of one row.
    pub fn cells(&self, row: &R) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.title.is_some())
            .map(|column| cell_text(column, row))
            .collect()
    }

    /// One row as a JSON object of its keyed columns.
    pub fn json_object(&self, row: &R) -> Value {
        let mut object = Map::new();
        for column in self.columns.iter().filter(|column| column.in_json) {
            if let (Some(key), Some(read)) = (column.key, &column.data) {
                object.insert(key.to_owned(), read(row));
            }
        }
        Value::Object(object)
    }

    /// The rows as a JSON array of objects.
    pub fn json_array<'r>(&self, rows: impl IntoIterator<Item = &'r R>) -> Value
    where
        R: 'r,
    {
        Value::Array(rows.into_iter().map(|row| self.json_object(row)).collect())
    }

    /// The rows as CSV: the header of keys, then a line per row.
    ///
    /// # Errors
    /// I/O errors of `out`.
    pub fn write_csv<'r>(&self, rows: impl IntoIterator<Item = &'r R>, out: impl Write) -> std::io::Result<()>
    where
        R: 'r,
    {
        let mut printer = self.printer(Format::Csv, Lang::Fr, out)?;
        printer.rows(rows)?;
        printer.finish().map(drop)
    }

    /// The rows as a table of the titled columns, in `lang`.
    pub fn table<'r>(&self, rows: impl IntoIterator<Item = &'r R>, lang: Lang) -> Table
    where
        R: 'r,
    {
        let shown: Vec<&Column<'a, R>> = self.columns.iter().filter(|c| c.title.is_some()).collect();
        let titles: Vec<&str> = shown
            .iter()
            .filter_map(|c| c.title.map(|(fr, en)| lang.pick(fr, en)))
            .collect();
        let right: Vec<bool> = shown.iter().map(|c| c.right).collect();
        let mut table = Table::new(&titles, &right);
        for row in rows {
            table.row(self.cells(row));
        }
        table
    }
}

/// Prints a listing's rows as they are given (see [`Listing::printer`]).
pub struct Printer<'l, 'a, R, W: Write> {
    listing: &'l Listing<'a, R>,
    format: Format,
    out: W,
    /// The table being filled (table format only).
    table: Option<Table>,
    /// Rows printed so far.
    count: usize,
}

impl<R, W: Write> Printer<'_, '_, R, W> {
    /// Prints (or, for a table, keeps) `rows`.
    ///
    /// # Errors
    /// I/O errors of the output.
    pub fn rows<'r>(&mut self, rows: impl IntoIterator<Item = &'r R>) -> std::io::Result<()>
    where
        R: 'r,
    {
        for row in rows {
            match self.format {
                Format::Table => {
                    if let Some(table) = &mut self.table {
                        table.row(self.listing.cells(row));
                    }
                }
                Format::Json => {
                    // serde_json's pretty layout of the whole array, one element at a time.
                    let element = serde_json::to_string_pretty(&self.listing.json_object(row))?.replace('\n', "\n  ");
                    write!(self.out, "{}\n  {element}", if self.count == 0 { "[" } else { "," })?;
                }
                Format::Csv => {
                    let mut line = String::new();
                    let columns = self.listing.csv_columns();
                    vigie_csv_out::push_record(&mut line, columns.iter().map(|(_, read)| csv_text(&read(row))));
                    self.out.write_all(line.as_bytes())?;
                }
            }
            self.count += 1;
        }
        Ok(())
    }

    /// How many rows were given.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Ends the listing (closes the JSON array, writes the table) and
    /// gives the output back for what follows it.
    ///
    /// # Errors
    /// I/O errors of the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        match self.format {
            Format::Table => {
                if let Some(table) = &self.table {
                    table.write(&mut self.out)?;
                }
            }
            Format::Json => writeln!(self.out, "{}", if self.count == 0 { "[]" } else { "\n]" })?,
            Format::Csv => {}
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

fn cell_text<R>(column: &Column<'_, R>, row: &R) -> String {
    match (&column.shown, &column.data) {
        (Some(show), _) => show(row),
        (None, Some(read)) => csv_text(&read(row)),
        (None, None) => String::new(),
    }
}

/// A value as one CSV cell.
fn csv_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(csv_text).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row {
        id: &'static str,
        seats: u32,
        remote: bool,
        tags: Vec<&'static str>,
        note: Option<i32>,
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                id: "S1",
                seats: 12,
                remote: false,
                tags: vec!["a", "b"],
                note: Some(3),
            },
            Row {
                id: "=S2",
                seats: 7,
                remote: true,
                tags: vec![],
                note: None,
            },
        ]
    }

    fn listing<'a>() -> Listing<'a, Row> {
        Listing::new()
            .column("id", ("identifiant", "id"), |r: &Row| r.id)
            .column("seats", ("places", "seats"), |r: &Row| r.seats)
            .right()
            .data("remote", |r: &Row| r.remote)
            .json("note", |r: &Row| r.note)
            .data("tags", |r: &Row| r.tags.clone())
            .shown(("lieu", "place"), |r: &Row| {
                if r.remote {
                    "à distance".into()
                } else {
                    "sur place".into()
                }
            })
    }

    fn printed(format: Format, lang: Lang) -> String {
        let mut out = Vec::new();
        listing().write(&rows(), format, lang, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_table_shows_titled_columns_in_the_language_asked() {
        assert_eq!(
            printed(Format::Table, Lang::Fr),
            "identifiant  places  lieu\n───────────  ──────  ──────────\nS1               12  sur place\n=S2               7  à distance\n"
        );
        assert!(printed(Format::Table, Lang::En).starts_with("id   seats  place\n"));
    }

    #[test]
    fn csv_has_the_keys_then_neutralised_cells_without_json_only_values() {
        assert_eq!(
            printed(Format::Csv, Lang::Fr),
            "id,seats,remote,tags\nS1,12,false,a;b\n'=S2,7,true,\n"
        );
    }

    #[test]
    fn json_is_an_array_of_objects_with_every_keyed_column() {
        let value: Value = serde_json::from_str(&printed(Format::Json, Lang::En)).unwrap();
        assert_eq!(
            value,
            serde_json::json!([
                {"id": "S1", "seats": 12, "remote": false, "note": 3, "tags": ["a", "b"]},
                {"id": "=S2", "seats": 7, "remote": true, "note": null, "tags": []},
            ])
        );
    }
}
