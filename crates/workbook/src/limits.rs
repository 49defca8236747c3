//! Bounds of a workbook read by [`crate::read_workbook`]. A workbook comes
//! from a browser upload or a file given to the CLI: it is compressed XML,
//! so its size says little about what expanding it costs. Every bound is
//! checked before calamine builds anything in memory.

/// Largest workbook file accepted (the console's upload limit too).
pub const MAX_WORKBOOK_BYTES: usize = 20 * 1024 * 1024;
/// Most entries in the zip container (a real workbook has a few dozen).
pub const MAX_ZIP_ENTRIES: usize = 1_000;
/// Most bytes all entries may expand to together, counted while actually
/// decompressing (the sizes a zip declares can lie): a bomb stops here.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;
/// Most sheets (the four of the set, « Lisez-moi », and some slack).
pub const MAX_SHEETS: usize = 8;
/// Most rows per sheet, header included.
pub const MAX_ROWS: u32 = 500_000;
/// Most columns per sheet (the widest file, structures.csv, has 9).
pub const MAX_COLUMNS: u32 = 32;
/// Most non-empty cells an ODS sheet may expand to once its repeated rows
/// and cells are counted (`table:number-rows-repeated` can turn one row of
/// XML into a million).
pub const MAX_ODS_CELLS: u64 = 5_000_000;
