//! The empty workbook of the grants import (issue 16, docs/grants.md
//! « Import d'un tableau »): its columns, read-me and lists are the alerting
//! domain's, so `vigie grants template` and the console's
//! `/reseaux/<n>/subventions/modele.xlsx` give the same file, and it is the
//! one the import reads.

use vigie_grants_sheet::import::{header_fr, template_readme, GRANTS_SHEET, TEMPLATE_LISTS, TEMPLATE_TITLE};

use crate::table::{table_template, TableTemplate};
use crate::write::WriteError;

/// The grants template as an XLSX workbook: « Lisez-moi », then the data
/// sheet « Subventions » with its header and drop-downs.
///
/// # Errors
/// The workbook writer's failure (not expected for these fixed contents).
pub fn grants_template() -> Result<Vec<u8>, WriteError> {
    let header = header_fr();
    let readme = template_readme();
    table_template(&TableTemplate {
        sheet: GRANTS_SHEET,
        header: &header,
        title: TEMPLATE_TITLE,
        readme: &readme,
        lists: &TEMPLATE_LISTS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_table;

    #[test]
    fn the_template_reads_back_as_its_header_in_the_grants_sheet() {
        let bytes = grants_template().unwrap();
        let table = read_table(&bytes, GRANTS_SHEET).unwrap();
        assert_eq!(table.sheet, GRANTS_SHEET);
        let text = String::from_utf8(table.csv).unwrap();
        let first = text.lines().next().unwrap();
        assert_eq!(first.split(',').collect::<Vec<_>>(), header_fr());
    }
}
