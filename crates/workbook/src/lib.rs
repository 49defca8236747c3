//! The inventory CSV set (structures, people, functions, holdings) as one
//! spreadsheet workbook, for people who edit their inventory in Excel or
//! LibreOffice rather than in four CSV files.
//!
//! - [`read_workbook`]: an XLSX or ODS workbook (recognised by its content,
//!   not its name) → the [`CsvSetFiles`] the inventory `Import` RPC takes.
//!   Sheet `people` becomes `people.csv`, and row N of the sheet is line N of
//!   the file, so that every server error `people.csv:12: …` points at row 12
//!   of sheet `people` ([`locate`]). Bounded: size, zip entries, sheets, rows,
//!   columns and ODS repeats are checked before anything is expanded.
//! - [`write_workbook`]: a CSV set → an XLSX workbook (one sheet per file, a
//!   first sheet « Lisez-moi », identifiers formatted as text, drop-down
//!   lists). [`template`] is the empty set written the same way.
//!
//! - [`export::SetBuilder`]: the structures `GetStructure` returns → a CSV
//!   set (for the CLI's and the console's export).
//!
//! - [`read_table`] / [`table_template`]: one data sheet of another import
//!   (the grants of issue 16), read with the same bounds, and its template;
//!   [`grants_template`] is the grants' own (the CLI's and the console's).
//!
//! ODS is read, not written: the XLSX written here opens in LibreOffice.

mod cells;
pub mod export;
mod grants;
mod limits;
mod ods_scan;
mod read;
mod sheets;
mod table;
mod write;

pub use grants::grants_template;
pub use limits::{MAX_COLUMNS, MAX_ROWS, MAX_SHEETS, MAX_UNCOMPRESSED_BYTES, MAX_WORKBOOK_BYTES, MAX_ZIP_ENTRIES};
pub use read::{detect, read_workbook, Format, Problem, ReadError};
pub use sheets::{locate, sheet_for_file, SheetSpec, README_SHEET, SHEETS};
pub use table::{read_table, table_template, Table, TableTemplate};
pub use vigie_inventory_set::CsvSetFiles;
pub use write::{template, write_workbook, WriteError};
