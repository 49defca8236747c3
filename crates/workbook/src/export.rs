//! The inventory as the services return it (`GetStructure`, one structure
//! at a time) → a CSV set that imports back unchanged.
//!
//! Two flavours, because the two outputs are opened differently:
//! - [`Flavour::Workbook`]: exact values, for [`crate::write_workbook`]
//!   (an XLSX cell written as a string is never run as a formula);
//! - [`Flavour::CsvFiles`]: written through `vigie-csv-out`, the writer of
//!   every CSV leaving Vigie, which prefixes a cell starting with `=`, `+`,
//!   `-`, `@` with `'` so that a spreadsheet does not run it. Such a value
//!   (a name starting with `-`, say) re-imports with its `'`: the price of
//!   the protection, documented in docs/cli.md.

use vigie_inventory_set::{CsvSetFiles, FUNCTIONS_HEADER, HOLDINGS_HEADER, PEOPLE_HEADER, STRUCTURES_HEADER};
use vigie_proto::dates::date_text;
use vigie_proto::inventory::v1 as pb;

/// Which output the set is for (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Exact values, for a workbook.
    Workbook,
    /// Neutralised values, for CSV files.
    CsvFiles,
}

/// Builds the four files, one structure at a time (memory: the files only).
#[derive(Debug)]
pub struct SetBuilder {
    flavour: Flavour,
    files: [String; 4],
    structures: u64,
}

/// RFC 4180 row, values untouched.
fn push_exact(out: &mut String, fields: &[&str]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
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

impl SetBuilder {
    /// An empty set (headers only).
    pub fn new(flavour: Flavour) -> Self {
        let mut b = SetBuilder {
            flavour,
            files: Default::default(),
            structures: 0,
        };
        b.push(0, &STRUCTURES_HEADER);
        b.push(1, &PEOPLE_HEADER);
        b.push(2, &FUNCTIONS_HEADER);
        b.push(3, &HOLDINGS_HEADER);
        b
    }

    fn push(&mut self, file: usize, fields: &[&str]) {
        match self.flavour {
            Flavour::Workbook => push_exact(&mut self.files[file], fields),
            Flavour::CsvFiles => vigie_csv_out::push_row(&mut self.files[file], fields),
        }
    }

    /// Appends one structure with its people, functions and holdings.
    pub fn add(&mut self, s: &pb::Structure) {
        self.structures += 1;
        self.push(
            0,
            &[
                &s.structure_id,
                &s.name,
                &s.network,
                &s.legal_form,
                &s.siret,
                &s.rna,
                &s.region_code,
                &s.department_code,
                &s.commune_insee,
            ],
        );
        for p in &s.people {
            let end = date_text(p.end_date.as_ref());
            self.push(
                1,
                &[&p.person_id, &s.structure_id, &p.display_name, &p.role, &end, &p.email],
            );
        }
        for f in &s.functions {
            let criticality = f.criticality.to_string();
            let tools = f.tools.join(";");
            self.push(2, &[&s.structure_id, &f.code, &criticality, &tools]);
        }
        for h in &s.holdings {
            let level = h.level.to_string();
            let last = date_text(h.last_practised.as_ref());
            self.push(3, &[&h.person_id, &h.function, &level, &last]);
        }
    }

    /// Structures added so far.
    pub fn structures(&self) -> u64 {
        self.structures
    }

    /// The four files.
    pub fn finish(self) -> CsvSetFiles {
        let [structures, people, functions, holdings] = self.files.map(String::into_bytes);
        CsvSetFiles {
            structures,
            people,
            functions,
            holdings,
        }
    }
}

#[cfg(test)]
mod tests {
    use vigie_proto::common::v1::Date;

    use super::*;

    fn structure() -> pb::Structure {
        pb::Structure {
            structure_id: "S-1".into(),
            name: "=Les Jardins, d'Ain".into(),
            network: "n".into(),
            legal_form: "association".into(),
            region_code: "84".into(),
            department_code: "01".into(),
            commune_insee: "01053".into(),
            people: vec![pb::Person {
                person_id: "0042".into(),
                display_name: "Jeanne".into(),
                role: "director".into(),
                end_date: Some(Date {
                    year: 2027,
                    month: 6,
                    day: 30,
                }),
                email: String::new(),
            }],
            functions: vec![pb::VitalFunction {
                code: "payroll".into(),
                criticality: 3,
                tools: vec!["Excel".into(), "Sage".into()],
                label: "Paie".into(),
            }],
            holdings: vec![pb::Holding {
                person_id: "0042".into(),
                function: "payroll".into(),
                level: 4,
                last_practised: Some(Date {
                    year: 2026,
                    month: 1,
                    day: 5,
                }),
                evidence: "import".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_structure_becomes_rows_of_each_file() {
        let mut b = SetBuilder::new(Flavour::Workbook);
        b.add(&structure());
        assert_eq!(b.structures(), 1);
        let set = b.finish();
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        assert!(text(&set.structures).ends_with("\nS-1,\"=Les Jardins, d'Ain\",n,association,,,84,01,01053\n"));
        assert!(text(&set.people).ends_with("\n0042,S-1,Jeanne,director,2027-06-30,\n"));
        assert!(text(&set.functions).ends_with("\nS-1,payroll,3,Excel;Sage\n"));
        assert!(text(&set.holdings).ends_with("\n0042,payroll,4,2026-01-05\n"));
    }

    #[test]
    fn csv_files_are_neutralised() {
        let mut b = SetBuilder::new(Flavour::CsvFiles);
        b.add(&structure());
        let set = b.finish();
        assert!(String::from_utf8_lossy(&set.structures).contains("\"'=Les Jardins, d'Ain\""));
    }
}
