//! What the empty sheet of the grants import holds besides its header: the
//! data sheet's name (the one the import looks for first), the read-me and
//! the drop-down lists. One home for the CLI's `vigie grants template` and
//! the console's download (both write it with `vigie_workbook::grants_template`),
//! beside the columns the parser reads, so the three cannot drift apart.

use super::columns::{header_fr, COLUMNS};

/// The name of the template's data sheet (the import looks for it first).
pub const GRANTS_SHEET: &str = "Subventions";

/// The read-me's title.
pub const TEMPLATE_TITLE: &str = "Candidatures et subventions : mode d'emploi";

/// Closed lists offered by a drop-down in the data sheet (a blank cell stays
/// allowed: an application awaiting its decision).
pub const TEMPLATE_LISTS: [(&str, &[&str]); 2] = [
    ("issue", &["obtenu", "refusé"]),
    ("subvention publique", &["oui", "non"]),
];

/// What « Lisez-moi » says before the columns.
const README: [(&str, &str); 6] = [
    ("", "Une ligne par candidature ou par subvention, dans la feuille « Subventions ». Ne changez pas la première ligne (les noms de colonnes). Cette feuille-ci est ignorée à l'import : dans la console, page du réseau, « Importer des subventions » ; en ligne de commande, vigie grants import FICHIER.xlsx"),
    ("Issue", "Vide : candidature en attente. « obtenu » : subvention obtenue (montant accordé et fin d'exercice obligatoires ; Vigie en déduit les comptes rendus dus). « refusé » : candidature refusée."),
    ("Montants", "En euros : 12500, 12 500, 12 500,50 ou 12 500 €."),
    ("Dates", "JJ/MM/AAAA (15/01/2026) ou AAAA-MM-JJ (2026-01-15)."),
    ("Réimport", "Réimporter le même fichier ne change rien : une ligne est reconnue par son appel, sa clé, ou à défaut par structure, financeur, intitulé et date de dépôt. Modifier une ligne puis réimporter met la subvention à jour."),
    ("Erreurs", "Rien n'est écrit s'il reste un problème. Chaque problème donne la feuille et la ligne : « subventions.xlsx/Subventions:12 » veut dire feuille Subventions, ligne 12. 20 Mio et 100 000 lignes au plus."),
];

/// The read-me's lines (title, text): how to fill the sheet, then each
/// column with what it holds.
pub fn template_readme() -> Vec<(&'static str, &'static str)> {
    let mut lines = README.to_vec();
    lines.push(("", ""));
    lines.push(("Colonne", "Contenu"));
    lines.extend(COLUMNS.iter().map(|c| (c.fr, c.help_fr)));
    lines
}

/// The empty sheet as CSV: a BOM and `;`, what a French spreadsheet opens
/// with its accents and columns right (the import reads `,` as well).
pub fn template_csv() -> Vec<u8> {
    format!("\u{feff}{}\r\n", header_fr().join(";")).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_explains_every_column_and_the_lists_name_columns_of_the_header() {
        let readme = template_readme();
        assert_eq!(readme.len(), README.len() + 2 + COLUMNS.len());
        for c in COLUMNS.iter() {
            assert!(readme.contains(&(c.fr, c.help_fr)), "{}", c.fr);
        }
        let header = header_fr();
        for (column, values) in TEMPLATE_LISTS {
            assert!(header.contains(&column), "{column}");
            assert!(!values.is_empty());
        }
        assert!(readme[0].1.contains("Importer des subventions") && readme[0].1.contains(GRANTS_SHEET));
    }

    #[test]
    fn the_csv_template_is_the_header_alone_and_reads_back_as_an_empty_import() {
        let csv = template_csv();
        assert!(csv.starts_with("\u{feff}".as_bytes()) && csv.ends_with(b"\r\n"));
        let text = String::from_utf8(csv.clone()).unwrap();
        assert_eq!(text.lines().count(), 1);
        let parsed = super::super::parse(&csv, chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert!(parsed.rows.is_empty());
    }
}
