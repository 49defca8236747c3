//! Hostile workbooks never panic the reader: mutated files, and files whose
//! XML parts are mutated then zipped again (so that calamine's parsers, not
//! only the zip layer, meet the damage). Every case ends in a set or in
//! problems — and never through the reader's panic guard, which would hide
//! a panic of calamine. Every problem says in both languages what is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{Read, Write};

use vigie_mutate::Mutator;
use vigie_workbook::{read_workbook, write_workbook, CsvSetFiles};

/// Reads `bytes`; panics if the reader panicked, even behind its guard.
fn read(bytes: &[u8]) {
    if let Err(problems) = read_workbook(bytes) {
        assert!(
            !problems
                .iter()
                .any(|p| p.message.contains("lecteur de classeurs a échoué")),
            "calamine panicked"
        );
        for problem in &problems {
            assert_ne!(
                problem.message.en, problem.message.fr,
                "every problem has its English form: {}",
                problem.message
            );
        }
    }
}

const ODS: &[u8] = include_bytes!("fixtures/inventaire.ods");

fn xlsx() -> Vec<u8> {
    write_workbook(&CsvSetFiles {
        structures: b"structure_id,name,network,legal_form,siret,rna,region_code,department_code,commune_insee\nS1,\"A, b\",n,association,,,84,01,01053\n".to_vec(),
        people: b"person_id,structure_id,display_name,role,end_date,email\n0042,S1,Jeanne,director,2027-06-30,\n".to_vec(),
        functions: b"structure_id,function,criticality,tools\nS1,payroll,3,Excel\n".to_vec(),
        holdings: b"person_id,function,level,last_practised\n0042,payroll,4,2026-01-05\n".to_vec(),
    })
    .unwrap()
}

#[test]
fn mutated_files_never_panic() {
    let xlsx = xlsx();
    vigie_mutate::for_each_case(0x5EE7, &[&xlsx, ODS], 300, |bytes| {
        read(bytes);
    });
}

/// The entries of a zip, in order.
fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            (entry.name().unwrap().to_string(), content)
        })
        .collect()
}

fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in entries {
        out.start_file(name.as_str(), stored).unwrap();
        out.write_all(content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn mutated_xml_parts_never_panic() {
    let mut mutator = Mutator::new(0xCA1A);
    for (label, source) in [("xlsx", xlsx()), ("ods", ODS.to_vec())] {
        let parts = entries(&source);
        // The parts calamine parses: sheets, shared strings, workbook, styles, content.
        let xml: Vec<usize> = (0..parts.len())
            .filter(|&i| parts[i].0.ends_with(".xml") || parts[i].0.ends_with(".rels"))
            .collect();
        for case in 0..300 {
            let mut damaged = parts.clone();
            let target = xml[case % xml.len()];
            damaged[target].1 = mutator.mutate(&parts[target].1);
            let bytes = rezip(&damaged);
            let outcome = std::panic::catch_unwind(|| read(&bytes));
            assert!(
                outcome.is_ok(),
                "{label} case {case}: panic on damaged {}:\n{}",
                parts[target].0,
                String::from_utf8_lossy(&damaged[target].1)
                    .chars()
                    .take(2000)
                    .collect::<String>()
            );
        }
    }
}
