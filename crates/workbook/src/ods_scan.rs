//! A pass over an ODS `content.xml` before calamine reads it. ODS stores a
//! run of equal rows or cells once with a repeat count, and calamine expands
//! every repeated non-empty cell: a few bytes of XML can claim billions of
//! cells. Counting them first, while streaming, keeps the cost bounded.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use vigie_words::{words, Words};

use crate::limits::{MAX_ODS_CELLS, MAX_SHEETS};

fn repeat(e: &BytesStart<'_>, attr: &str) -> u64 {
    e.try_get_attribute(attr)
        .ok()
        .flatten()
        .and_then(|a| a.value.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

/// `Err` with the reason when the sheets would expand past the bounds.
pub(crate) fn check(content: &[u8]) -> Result<(), Words> {
    let mut reader = Reader::from_reader(content);
    let mut buf = Vec::new();
    let mut tables = 0usize;
    let mut total: u64 = 0;
    let (mut row_repeat, mut row_cells) = (1u64, 0u64);
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| words!("contenu ODS illisible ({e})", "unreadable ODS content ({e})"))?;
        let (e, has_children) = match &event {
            Event::Start(e) => (e, true),
            Event::Empty(e) => (e, false),
            Event::End(e) => {
                if e.name().as_ref() == "table:table-row" {
                    total = total.saturating_add(row_cells.saturating_mul(row_repeat));
                    if total > MAX_ODS_CELLS {
                        return Err(words!(
                            "le classeur ODS déclare plus de {MAX_ODS_CELLS} cellules remplies une fois ses lignes répétées comptées : refusé",
                            "the ODS workbook declares more than {MAX_ODS_CELLS} filled cells once its repeated rows are counted: refused"
                        ));
                    }
                    (row_repeat, row_cells) = (1, 0);
                }
                buf.clear();
                continue;
            }
            Event::Eof => break,
            _ => {
                buf.clear();
                continue;
            }
        };
        match e.name().as_ref() {
            "table:table" => {
                tables += 1;
                if tables > MAX_SHEETS {
                    return Err(words!(
                        "le classeur a plus de {MAX_SHEETS} feuilles : refusé",
                        "the workbook has more than {MAX_SHEETS} sheets: refused"
                    ));
                }
            }
            "table:table-row" if has_children => {
                row_repeat = repeat(e, "table:number-rows-repeated");
                row_cells = 0;
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let filled = has_children || e.try_get_attribute("office:value-type").ok().flatten().is_some();
                if filled {
                    row_cells = row_cells.saturating_add(repeat(e, "table:number-columns-repeated"));
                }
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"<office:document-content xmlns:office="o" xmlns:table="t" xmlns:text="x"><office:body><office:spreadsheet><table:table table:name="people">"#;
    const TAIL: &str = "</table:table></office:spreadsheet></office:body></office:document-content>";

    #[test]
    fn trailing_empty_repeats_are_fine() {
        let xml = format!(
            r#"{HEAD}<table:table-row><table:table-cell office:value-type="string"><text:p>a</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16383"/></table:table-row><table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>{TAIL}"#
        );
        assert_eq!(check(xml.as_bytes()), Ok(()));
    }

    #[test]
    fn repeated_filled_cells_are_a_bomb() {
        let xml = format!(
            r#"{HEAD}<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="1000"/></table:table-row>{TAIL}"#
        );
        assert!(check(xml.as_bytes()).unwrap_err().contains("refusé"));
    }
}
