//! The workbook crate against real files: XLSX written by rust_xlsxwriter
//! (ours, and hand-made ones playing a person's spreadsheet), an ODS fixture
//! (fixtures/make_ods.py), and hostile archives.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;

use rust_xlsxwriter::Workbook;
use vigie_inventory_set::parse_set;
use vigie_workbook::{detect, read_workbook, template, write_workbook, CsvSetFiles, Format, Problem};

fn sample() -> CsvSetFiles {
    CsvSetFiles {
        structures: b"structure_id,name,network,legal_form,siret,rna,region_code,department_code,commune_insee\n\
S-0001,\"Les Jardins, d'Ain\",reseau-ain,association,,W012345678,84,01,01053\n\
S-0002,Scop Bleue,reseau-ain,scop,,,84,01,01004\n"
            .to_vec(),
        people: b"person_id,structure_id,display_name,role,end_date,email\n\
0042,S-0001,Jeanne,director,2027-06-30,jeanne@exemple.fr\n\
0043,S-0002,Paul,volunteer,,\n"
            .to_vec(),
        functions: b"structure_id,function,criticality,tools\n\
S-0001,payroll,3,Excel;Sage\n\
S-0002,billetterie,2,\n"
            .to_vec(),
        holdings: b"person_id,function,level,last_practised\n\
0042,payroll,4,2026-01-05\n\
0043,billetterie,2,\n"
            .to_vec(),
    }
}

fn messages(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(|p| p.render("inventaire.xlsx").fr).collect()
}

#[test]
fn a_set_survives_the_workbook_byte_for_byte() {
    let set = sample();
    parse_set(&set).expect("the sample is a valid set");
    let xlsx = write_workbook(&set).unwrap();
    assert_eq!(detect(&xlsx), Some(Format::Xlsx));
    let back = read_workbook(&xlsx).unwrap_or_else(|p| panic!("{:?}", messages(&p)));
    assert_eq!(
        String::from_utf8_lossy(&back.structures),
        String::from_utf8_lossy(&set.structures)
    );
    assert_eq!(back, set);
}

#[test]
fn the_template_reads_as_an_empty_set_with_headers() {
    let xlsx = template().unwrap();
    let back = read_workbook(&xlsx).unwrap();
    assert!(back.structures.starts_with(b"structure_id,name,"));
    assert_eq!(
        back.people,
        b"person_id,structure_id,display_name,role,end_date,email\n"
    );
}

/// A spreadsheet as a person makes it: sheet names, then rows of cells.
fn hand_made(sheets: &[(&str, &[&[Cell]])]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::T(t) => ws.write_string(r as u32, c as u16, *t).unwrap(),
                    Cell::N(n) => ws.write_number(r as u32, c as u16, *n).unwrap(),
                    Cell::E => ws,
                };
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

enum Cell {
    T(&'static str),
    N(f64),
    E,
}
use Cell::{E, N, T};

const PEOPLE_HEAD: &[Cell] = &[
    T("person_id"),
    T("structure_id"),
    T("display_name"),
    T("role"),
    T("end_date"),
    T("email"),
];

#[test]
fn numbers_become_text_without_dot_zero_and_rows_stay_lines() {
    let xlsx = hand_made(&[(
        "holdings",
        &[
            &[T("person_id"), T("function"), T("level"), T("last_practised")],
            &[],
            &[T("p1"), T("payroll"), N(3.0), E],
        ],
    )]);
    let back = read_workbook(&xlsx).unwrap();
    // Row 2 is empty: line 2 blank, so row 3 is line 3.
    assert_eq!(
        back.holdings,
        b"person_id,function,level,last_practised\n\np1,payroll,3,\n"
    );
    assert!(back.structures.is_empty());
}

#[test]
fn a_numeric_identifier_is_an_error_naming_the_cell() {
    let xlsx = hand_made(&[
        (
            "people",
            &[
                PEOPLE_HEAD,
                &[T("0042"), T("S-1"), T("Jeanne"), T("director")],
                &[N(43.0), T("S-1"), T("Paul"), T("volunteer")],
            ],
        ),
        (
            "structures",
            &[&[T("structure_id")], &[T("S-1"), E, E, E, E, E, E, N(1.0), N(1053.0)]],
        ),
    ]);
    let got = messages(&read_workbook(&xlsx).unwrap_err());
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got[0].starts_with("inventaire.xlsx/people:3: cellule A3, colonne « person_id »"),
        "{got:?}"
    );
    assert!(
        got[1].starts_with("inventaire.xlsx/structures:2: cellule H2, colonne « department_code »"),
        "{got:?}"
    );
    assert!(got[1].contains("« 01 »"), "{got:?}");
    assert!(got[2].contains("cellule I2") && got[2].contains("« 01053 »"), "{got:?}");
}

#[test]
fn unknown_sheets_are_named() {
    let xlsx = hand_made(&[
        ("structures", &[]),
        ("Feuil1", &[]),
        ("peoples", &[]),
        ("Lisez-moi", &[]),
    ]);
    let got = messages(&read_workbook(&xlsx).unwrap_err());
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("« Feuil1 », « peoples »"), "{got:?}");
}

#[test]
fn bounds_are_refused_in_french() {
    // Too big a file.
    let mut big = b"PK\x03\x04".to_vec();
    big.resize(vigie_workbook::MAX_WORKBOOK_BYTES + 1, 0);
    assert!(messages(&read_workbook(&big).unwrap_err())[0].contains("au-delà de la limite de 20 Mio"));
    // Not a workbook, an old .xls.
    assert!(messages(&read_workbook(b"a,b\n1,2\n").unwrap_err())[0].contains("ni un classeur XLSX"));
    let xls = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
    assert!(messages(&read_workbook(&xls).unwrap_err())[0].contains(".xls"));
    // A cell far away: refused at that cell, nothing allocated for the gap.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("people").unwrap();
    ws.write_string(0, 0, "person_id").unwrap();
    ws.write_string(1_000_000, 0, "x").unwrap();
    ws.write_string(3, 200, "y").unwrap();
    let got = messages(&read_workbook(&wb.save_to_buffer().unwrap()).unwrap_err());
    assert!(
        got[0].starts_with("inventaire.xlsx/people:4: cellule GS4 : au-delà des limites"),
        "{got:?}"
    );
    // Too many sheets.
    let names: Vec<String> = (0..9).map(|i| format!("s{i}")).collect();
    let mut wb = Workbook::new();
    for n in &names {
        wb.add_worksheet().set_name(n).unwrap();
    }
    let got = messages(&read_workbook(&wb.save_to_buffer().unwrap()).unwrap_err());
    assert!(got[0].contains("9 feuilles"), "{got:?}");
}

#[test]
fn a_decompression_bomb_is_refused_before_calamine() {
    // One 16 MiB entry of zeros compressed once, copied raw under 17 names:
    // a ~300 KB file that expands to 272 MiB.
    let mut one = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflate = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    one.start_file("zeros", deflate).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..16 {
        one.write_all(&zeros).unwrap();
    }
    let one = one.finish().unwrap().into_inner();
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(one)).unwrap();
    let mut bomb = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    bomb.start_file("xl/workbook.xml", deflate).unwrap();
    bomb.write_all(b"<workbook/>").unwrap();
    for i in 0..17 {
        let entry = source.by_index(0).unwrap();
        bomb.raw_copy_file_rename(entry, format!("xl/media/{i}.bin")).unwrap();
    }
    let bomb = bomb.finish().unwrap().into_inner();
    assert!(bomb.len() < 1 << 20);
    let got = messages(&read_workbook(&bomb).unwrap_err());
    assert!(got[0].contains("se décompresse en plus de 256 Mio"), "{got:?}");
}

#[test]
fn an_ods_reads_like_the_csv_set() {
    let ods = include_bytes!("fixtures/inventaire.ods");
    assert_eq!(detect(ods), Some(Format::Ods));
    let set = read_workbook(ods).unwrap_or_else(|p| panic!("{:?}", messages(&p)));
    assert_eq!(
        String::from_utf8_lossy(&set.people),
        "person_id,structure_id,display_name,role,end_date,email\n\
0042,S-0001,Jeanne,director,2027-06-30,jeanne@exemple.fr\n\n\
0043,S-0001,Paul,volunteer,,\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&set.holdings),
        "person_id,function,level,last_practised\n0042,payroll,4,2026-01-05\n0043,payroll,1,\n"
    );
    assert!(set
        .structures
        .ends_with(b"S-0001,Les Jardins,reseau-ain,association,,,84,01,01053\n"));
    parse_set(&set).expect("the fixture is a valid set");
}
