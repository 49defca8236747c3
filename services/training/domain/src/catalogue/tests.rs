use super::*;
use crate::fixtures::local;

const T_H: &str =
    "training_id,title,provider,modality,duration_hours,cost_eur,funding,function,prerequisite_level,goal_level\n";
const S_H: &str = "session_id,training_id,starts_at,ends_at,timezone,commune_insee,remote_url,capacity\n";

/// A valid trainings.csv body (lines 2–5). T2's second row writes its
/// duration and cost differently but with the same values.
const T_OK: &str = "\
T2,\"Paie, DSN et net-entreprises\",Uniformation Formations,on_site,14,\"1200,50\",OPCO Uniformation,payroll,1,3
T1,Déposer une demande sur Dauphin,Le Mouvement associatif,remote,3.5,,,funding_applications,2,4
T2,\"Paie, DSN et net-entreprises\",Uniformation Formations,on_site,14.0,1200.5,OPCO Uniformation,accounting,0,2
T3,Agendas partagés,Coop numérique,hybrid,\"1,25\",0,,cantine_planning,1,3
";

/// A valid sessions.csv body (lines 2–5). S4 starts in the Paris DST fold.
const S_OK: &str = "\
S2,T2,2027-03-15T09:00,2027-03-16T17:00,,35238,,12
S1,T1,2027-02-01T14:00,2027-02-01T17:30,Europe/Paris,,https://visio.exemple.fr/dauphin,30
S3,T3,2027-05-03T09:00,2027-05-03T10:15,Indian/Reunion,97411,,8
S4,T3,2027-10-31T02:30,2027-10-31T02:45,,,https://visio.exemple.fr/agenda,5
";

/// A valid training row and a valid session row (of T1, remote) to vary
/// one cell at a time.
const T_ROW: [&str; 10] = [
    "T9",
    "Titre",
    "Organisme",
    "remote",
    "7",
    "100",
    "",
    "payroll",
    "1",
    "3",
];
const S_ROW: [&str; 8] = [
    "S9",
    "T1",
    "2027-02-01T14:00",
    "2027-02-01T17:00",
    "",
    "",
    "https://v.example.org/x",
    "10",
];

fn files(t: &str, s: &str) -> CatalogueFiles {
    CatalogueFiles {
        trainings: t.as_bytes().to_vec(),
        sessions: s.as_bytes().to_vec(),
    }
}

/// Headers followed by the given rows.
fn with_rows(t: &str, s: &str) -> CatalogueFiles {
    files(&format!("{T_H}{t}"), &format!("{S_H}{s}"))
}

fn errors(files: &CatalogueFiles) -> Vec<String> {
    match parse_catalogue(files) {
        Ok(c) => panic!("expected errors, parsed {} trainings", c.trainings.len()),
        Err(errs) => errs.iter().map(ToString::to_string).collect(),
    }
}

fn parsed(files: &CatalogueFiles) -> Catalogue {
    match parse_catalogue(files) {
        Ok(c) => c,
        Err(errs) => panic!("unexpected errors: {errs:#?}"),
    }
}

/// `row` with cell `col` replaced by `value`, as a CSV line (quoted).
fn vary(row: &[&str], col: usize, value: &str) -> String {
    let mut cells: Vec<String> = row.iter().map(|c| (*c).to_owned()).collect();
    cells[col] = value.to_owned();
    let mut out = String::new();
    let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
    push_row(&mut out, &refs);
    out
}

/// Errors of trainings.csv made of `T_ROW` with one cell changed (line 2).
fn training_cell(col: usize, value: &str) -> Vec<String> {
    errors(&with_rows(&vary(&T_ROW, col, value), ""))
}

/// Errors of sessions.csv made of `S_ROW` with one cell changed (line 2),
/// against the valid trainings.
fn session_cell(col: usize, value: &str) -> Vec<String> {
    errors(&with_rows(T_OK, &vary(&S_ROW, col, value)))
}

fn session_errors(rows: &str) -> Vec<String> {
    errors(&with_rows(T_OK, rows))
}

fn target(function: &str, prerequisite_level: u8, goal_level: u8) -> TrainingTarget {
    TrainingTarget {
        function: function.to_owned(),
        prerequisite_level,
        goal_level,
    }
}

#[test]
fn valid_catalogue_is_parsed_sorted_and_complete() {
    let c = parsed(&with_rows(T_OK, S_OK));
    assert_eq!(
        c.trainings,
        vec![
            Training {
                id: "T1".into(),
                title: "Déposer une demande sur Dauphin".into(),
                provider: "Le Mouvement associatif".into(),
                modality: Modality::Remote,
                duration_hours: 3.5,
                cost_eur: None,
                funding: String::new(),
                targets: vec![target("funding_applications", 2, 4)],
            },
            Training {
                id: "T2".into(),
                title: "Paie, DSN et net-entreprises".into(),
                provider: "Uniformation Formations".into(),
                modality: Modality::OnSite,
                duration_hours: 14.0,
                cost_eur: Some(1200.5),
                funding: "OPCO Uniformation".into(),
                targets: vec![target("accounting", 0, 2), target("payroll", 1, 3)],
            },
            Training {
                id: "T3".into(),
                title: "Agendas partagés".into(),
                provider: "Coop numérique".into(),
                modality: Modality::Hybrid,
                duration_hours: 1.25,
                cost_eur: Some(0.0),
                funding: String::new(),
                targets: vec![target("cantine_planning", 1, 3)],
            },
        ]
    );
    assert_eq!(
        c.sessions,
        vec![
            Session {
                id: "S1".into(),
                training_id: "T1".into(),
                starts_at: local(2027, 2, 1, 14, 0),
                ends_at: local(2027, 2, 1, 17, 30),
                timezone: Tz::Europe__Paris,
                commune_insee: None,
                remote_url: Some("https://visio.exemple.fr/dauphin".into()),
                capacity: 30,
            },
            Session {
                id: "S2".into(),
                training_id: "T2".into(),
                starts_at: local(2027, 3, 15, 9, 0),
                ends_at: local(2027, 3, 16, 17, 0),
                timezone: Tz::Europe__Paris,
                commune_insee: Some("35238".into()),
                remote_url: None,
                capacity: 12,
            },
            Session {
                id: "S3".into(),
                training_id: "T3".into(),
                starts_at: local(2027, 5, 3, 9, 0),
                ends_at: local(2027, 5, 3, 10, 15),
                timezone: Tz::Indian__Reunion,
                commune_insee: Some("97411".into()),
                remote_url: None,
                capacity: 8,
            },
            Session {
                id: "S4".into(),
                training_id: "T3".into(),
                starts_at: local(2027, 10, 31, 2, 30),
                ends_at: local(2027, 10, 31, 2, 45),
                timezone: Tz::Europe__Paris,
                commune_insee: None,
                remote_url: Some("https://visio.exemple.fr/agenda".into()),
                capacity: 5,
            },
        ]
    );
}

#[test]
fn input_order_does_not_change_the_catalogue() {
    let reversed = |body: &str| body.lines().rev().map(|l| format!("{l}\n")).collect::<String>();
    assert_eq!(
        parsed(&with_rows(&reversed(T_OK), &reversed(S_OK))),
        parsed(&with_rows(T_OK, S_OK))
    );
}

#[test]
fn trainings_file_is_required() {
    for content in ["", "\u{feff}", " \n\n"] {
        let errs = errors(&files(content, &format!("{S_H}{S_OK}")));
        assert_eq!(
            errs,
            ["trainings.csv:1: fichier vide ou absent : il doit commencer par l'en-tête « training_id,title,provider,\
              modality,duration_hours,cost_eur,funding,function,prerequisite_level,goal_level »"],
            "no session may be reported as of an unknown training: {content:?}"
        );
    }
}

#[test]
fn sessions_file_may_be_absent_or_header_only() {
    for sessions in [String::new(), S_H.to_owned(), "\n\n".to_owned()] {
        let c = parsed(&files(&format!("{T_H}{T_OK}"), &sessions));
        assert_eq!(c.trainings.len(), 3);
        assert!(c.sessions.is_empty());
    }
}

#[test]
fn wrong_header_names_the_expected_one_and_does_not_cascade() {
    let t = format!("{}{T_OK}", T_H.replace("cost_eur", "cost"));
    let errs = errors(&files(&t, &format!("{S_H}{}", vary(&S_ROW, 7, "0"))));
    assert_eq!(
        errs,
        [
            "trainings.csv:1: en-tête invalide : attendu « training_id,title,provider,modality,duration_hours,\
             cost_eur,funding,function,prerequisite_level,goal_level », trouvé « training_id,title,provider,\
             modality,duration_hours,cost,funding,function,prerequisite_level,goal_level »",
            // The session's own error is still reported, not "unknown training".
            "sessions.csv:2: capacité « 0 » invalide (attendu : un nombre entier de places, au moins 1)",
        ]
    );
    let s = "session_id;training_id;starts_at;ends_at;timezone;commune_insee;remote_url;capacity\n";
    assert_eq!(
        errors(&files(&format!("{T_H}{T_OK}"), s)),
        [
            "sessions.csv:1: en-tête invalide : attendu « session_id,training_id,starts_at,ends_at,timezone,\
          commune_insee,remote_url,capacity », trouvé « session_id;training_id;starts_at;ends_at;timezone;\
          commune_insee;remote_url;capacity » ; le séparateur doit être la virgule, pas le point-virgule"
        ]
    );
}

#[test]
fn bom_crlf_and_blank_lines_are_handled_with_physical_line_numbers() {
    let t = format!("\u{feff}{T_H}\r\n{}", T_OK.replace('\n', "\r\n"));
    let s = format!("\u{feff}{S_H}\n,,,,,,,\n{S_OK}");
    let c = parsed(&files(&t, &s));
    assert_eq!(c, parsed(&with_rows(T_OK, S_OK)));
    // A bad row after a blank line and an all-empty row is on line 4.
    let s = format!("{S_H}\n,,,,,,,\n{}", vary(&S_ROW, 7, "x"));
    assert_eq!(
        errors(&files(&format!("{T_H}{T_OK}"), &s)),
        ["sessions.csv:4: capacité « x » invalide (attendu : un nombre entier de places, au moins 1)"]
    );
}

#[test]
fn wrong_column_count_and_non_utf8() {
    assert_eq!(
        errors(&with_rows("T1,Titre,Org,remote,7,,,payroll,1\n", "")),
        [
            "trainings.csv:2: 9 colonnes au lieu de 10 (en-tête : training_id,title,provider,modality,duration_hours,\
          cost_eur,funding,function,prerequisite_level,goal_level)"
        ]
    );
    let mut f = with_rows(T_OK, "");
    f.sessions =
        b"session_id,training_id,starts_at,ends_at,timezone,commune_insee,remote_url,capacity\nS\xe9\n".to_vec();
    assert_eq!(
        errors(&f),
        [
            "sessions.csv:2: le fichier n'est pas encodé en UTF-8 (caractère invalide sur cette ligne) : \
          enregistrez-le au format « CSV UTF-8 »"
        ]
    );
}

#[test]
fn training_identity_and_text_rules() {
    assert_eq!(
        training_cell(0, ""),
        ["trainings.csv:2: colonne « training_id » vide (identifiant obligatoire)"]
    );
    assert_eq!(
        training_cell(0, &"x".repeat(101)),
        ["trainings.csv:2: colonne « training_id » : valeur trop longue (101 caractères, 100 au maximum)"]
    );
    assert_eq!(
        training_cell(1, ""),
        ["trainings.csv:2: colonne « title » vide (valeur obligatoire)"]
    );
    assert_eq!(
        training_cell(2, ""),
        ["trainings.csv:2: colonne « provider » vide (valeur obligatoire)"]
    );
    assert_eq!(
        training_cell(6, "OPCO\tAtlas"),
        [
            "trainings.csv:2: colonne « funding » : caractère de contrôle interdit (retour à la ligne, tabulation…) \
          dans « OPCO\\tAtlas »"
        ]
    );
    assert_eq!(
        training_cell(6, &"é".repeat(201)),
        ["trainings.csv:2: colonne « funding » : valeur trop longue (201 caractères, 200 au maximum)"]
    );
    // Funding is optional free text.
    let c = parsed(&with_rows(
        &vary(&T_ROW, 6, "Fonds de développement de la vie associative (FDVA)"),
        "",
    ));
    assert_eq!(
        c.trainings[0].funding,
        "Fonds de développement de la vie associative (FDVA)"
    );
}

#[test]
fn modality_rules() {
    assert_eq!(
        training_cell(3, "présentiel"),
        ["trainings.csv:2: modalité « présentiel » inconnue (attendu : on_site, remote, hybrid)"]
    );
    assert_eq!(
        training_cell(3, ""),
        ["trainings.csv:2: colonne « modality » vide (modalité obligatoire : on_site, remote ou hybrid)"]
    );
    for m in Modality::ALL {
        let c = parsed(&with_rows(&vary(&T_ROW, 3, m.as_str()), ""));
        assert_eq!(c.trainings[0].modality, *m);
    }
}

#[test]
fn duration_rules() {
    for (v, hours) in [
        ("7", 7.0),
        ("3.5", 3.5),
        ("3,5", 3.5),
        ("0.25", 0.25),
        ("1,75", 1.75),
        ("120", 120.0),
    ] {
        let c = parsed(&with_rows(&vary(&T_ROW, 4, v), ""));
        assert_eq!(c.trainings[0].duration_hours, hours, "{v}");
    }
    assert_eq!(
        training_cell(4, ""),
        ["trainings.csv:2: colonne « duration_hours » vide (durée obligatoire, en heures, ex. 7 ou 3.5)"]
    );
    for bad in [
        "0", "0.0", "-1", "+7", "1.33", "7h", "7 h", "1e2", "NaN", "inf", ".5", "5.", "1.2.3", "1 200",
    ] {
        assert_eq!(
            training_cell(4, bad),
            [format!(
                "trainings.csv:2: durée « {bad} » invalide (attendu : un nombre d'heures supérieur à 0, \
                 à la minute près, ex. 7, 3.5 ou 1,25)"
            )],
            "{bad}"
        );
    }
}

#[test]
fn cost_rules() {
    for (v, cost) in [
        ("", None),
        ("0", Some(0.0)),
        ("450", Some(450.0)),
        ("1200.50", Some(1200.5)),
        ("1200,5", Some(1200.5)),
        ("99.99", Some(99.99)),
    ] {
        let c = parsed(&with_rows(&vary(&T_ROW, 5, v), ""));
        assert_eq!(c.trainings[0].cost_eur, cost, "{v}");
    }
    for bad in ["-5", "12.345", "gratuit", "1 200", "450€", "1.2e3", "+450"] {
        assert_eq!(
            training_cell(5, bad),
            [format!(
                "trainings.csv:2: coût « {bad} » invalide (attendu : un montant en euros, au centime près, \
                 ex. 450 ou 1200.50 ; vide si inconnu)"
            )],
            "{bad}"
        );
    }
}

#[test]
fn function_rules() {
    assert_eq!(
        training_cell(7, ""),
        ["trainings.csv:2: colonne « function » vide (code de fonction obligatoire)"]
    );
    assert_eq!(
        training_cell(7, "Paie"),
        [
            "trainings.csv:2: code de fonction « Paie » invalide (attendu : lettres minuscules sans accent, chiffres \
          et _, ex. payroll)"
        ]
    );
    // Catalogue and custom codes alike.
    for code in ["payroll", "equipment_backups", "billetterie_2"] {
        let c = parsed(&with_rows(&vary(&T_ROW, 7, code), ""));
        assert_eq!(c.trainings[0].targets[0].function, code);
    }
}

#[test]
fn level_rules() {
    assert_eq!(
        training_cell(8, ""),
        ["trainings.csv:2: colonne « prerequisite_level » vide (niveau prérequis obligatoire : 0, 1, 2, 3 ou 4)"]
    );
    assert_eq!(
        training_cell(8, "5"),
        ["trainings.csv:2: niveau prérequis « 5 » invalide (attendu : 0, 1, 2, 3 ou 4)"]
    );
    assert_eq!(
        training_cell(9, ""),
        ["trainings.csv:2: colonne « goal_level » vide (niveau visé obligatoire : 0, 1, 2, 3 ou 4)"]
    );
    assert_eq!(
        training_cell(9, "trois"),
        ["trainings.csv:2: niveau visé « trois » invalide (attendu : 0, 1, 2, 3 ou 4)"]
    );
    for (p, g) in [("1", "1"), ("3", "2"), ("4", "4")] {
        assert_eq!(
            errors(&with_rows(&format!("T9,Titre,Org,remote,7,,,payroll,{p},{g}\n"), "")),
            [format!(
                "trainings.csv:2: niveau visé {g} pas au-dessus du niveau prérequis {p} (la formation doit faire \
                 progresser : goal_level > prerequisite_level)"
            )]
        );
    }
    // The whole range is usable, including a goal under 3 (never a holder).
    let rows = "T9,Titre,Org,remote,7,,,payroll,0,4\nT9,Titre,Org,remote,7,,,invoicing,1,2\n";
    let c = parsed(&with_rows(rows, ""));
    assert_eq!(
        c.trainings[0].targets,
        [target("invoicing", 1, 2), target("payroll", 0, 4)]
    );
}

#[test]
fn rows_of_one_training_must_agree_naming_the_first_line() {
    // Lines 6–10 repeat T1 (first defined line 3) with one difference each.
    let rows = format!(
        "{T_OK}\
T1,Autre titre,Le Mouvement associatif,remote,3.5,,,funder_reporting,2,4
T1,Déposer une demande sur Dauphin,Le Mouvement associatif,hybrid,3.5,,,invoicing,2,4
T1,Déposer une demande sur Dauphin,Le Mouvement associatif,remote,\"3,50\",50,,accounting,2,4
T1,Déposer une demande sur Dauphin,Autre organisme,remote,4,,FDVA,payroll,2,4
T1,Déposer une demande sur Dauphin,Le Mouvement associatif,remote,3.5,,,scheduling,2,4
"
    );
    let why = "chaque ligne d'une même formation doit reprendre les mêmes valeurs";
    assert_eq!(
        errors(&with_rows(&rows, "")),
        [
            format!(
                "trainings.csv:6: formation « T1 » : colonne « title » différente de la ligne 3 (« Autre titre » \
                 au lieu de « Déposer une demande sur Dauphin ») ; {why}"
            ),
            format!(
                "trainings.csv:7: formation « T1 » : colonne « modality » différente de la ligne 3 (« hybrid » au \
                 lieu de « remote ») ; {why}"
            ),
            // 3,50 = 3.5: only the cost differs.
            format!(
                "trainings.csv:8: formation « T1 » : colonne « cost_eur » différente de la ligne 3 (« 50 » au lieu \
                 de vide) ; {why}"
            ),
            format!(
                "trainings.csv:9: formation « T1 » : colonne « provider » différente de la ligne 3 (« Autre \
                 organisme » au lieu de « Le Mouvement associatif ») ; {why}"
            ),
            format!(
                "trainings.csv:9: formation « T1 » : colonne « duration_hours » différente de la ligne 3 (« 4 » au \
                 lieu de « 3.5 ») ; {why}"
            ),
            format!(
                "trainings.csv:9: formation « T1 » : colonne « funding » différente de la ligne 3 (« FDVA » au lieu \
                 de vide) ; {why}"
            ),
        ]
    );
}

#[test]
fn an_invalid_first_row_is_not_compared_with() {
    // The first row's modality is invalid (reported there); the second row
    // is not also reported as disagreeing with it.
    let rows = "T9,Titre,Org,distanciel,7,,,payroll,1,3\nT9,Titre,Org,remote,7,,,invoicing,1,3\n";
    assert_eq!(
        errors(&with_rows(rows, "")),
        ["trainings.csv:2: modalité « distanciel » inconnue (attendu : on_site, remote, hybrid)"]
    );
}

#[test]
fn duplicate_training_function_names_the_first_line() {
    let rows = format!("{T_OK}T2,\"Paie, DSN et net-entreprises\",Uniformation Formations,on_site,14,1200.5,OPCO Uniformation,payroll,2,4\n");
    assert_eq!(
        errors(&with_rows(&rows, "")),
        ["trainings.csv:6: fonction « payroll » en double pour la formation « T2 » (déjà ciblée ligne 2)"]
    );
    // The same function in two trainings is fine.
    let rows = format!("{T_OK}T4,Paie avancée,Uniformation Formations,on_site,14,,,payroll,3,4\n");
    assert_eq!(parsed(&with_rows(&rows, "")).trainings.len(), 4);
}

#[test]
fn session_id_and_training_rules() {
    assert_eq!(
        session_cell(0, ""),
        ["sessions.csv:2: colonne « session_id » vide (identifiant obligatoire)"]
    );
    assert_eq!(
        session_cell(1, ""),
        ["sessions.csv:2: colonne « training_id » vide (identifiant obligatoire)"]
    );
    assert_eq!(
        session_cell(1, "T9"),
        ["sessions.csv:2: formation « T9 » inconnue (absente de trainings.csv)"]
    );
    let rows = format!("{S_OK}S2,T1,2027-04-01T09:00,2027-04-01T12:00,,,https://v.example.org/y,5\n");
    assert_eq!(
        session_errors(&rows),
        ["sessions.csv:6: session_id « S2 » en double (déjà défini ligne 2)"]
    );
}

#[test]
fn session_of_a_training_with_invalid_rows_is_not_unknown() {
    let t = format!("{T_OK}T9,,Org,remote,7,,,payroll,1,3\n");
    let s = vary(&S_ROW, 1, "T9");
    assert_eq!(
        errors(&with_rows(&t, &s)),
        ["trainings.csv:6: colonne « title » vide (valeur obligatoire)"]
    );
}

#[test]
fn date_time_rules() {
    assert_eq!(
        session_cell(2, ""),
        [
            "sessions.csv:2: colonne « starts_at » vide (date-heure obligatoire, format AAAA-MM-JJTHH:MM, \
          ex. 2027-03-15T09:30)"
        ]
    );
    for bad in [
        "2027-02-01 14:00",
        "2027-02-01T14:00:00",
        "01/02/2027 14h00",
        "2027-02-01",
        "2027-2-01T14:00",
        "2027-02-01T1400",
        "2027-02-01t14:00",
    ] {
        assert_eq!(
            session_cell(3, bad),
            [format!(
                "sessions.csv:2: colonne « ends_at » : date-heure « {bad} » invalide (format attendu \
                 AAAA-MM-JJTHH:MM, heure locale, ex. 2027-03-15T09:30)"
            )],
            "{bad}"
        );
    }
    for missing in [
        "2027-02-30T14:00",
        "2027-13-01T14:00",
        "2027-02-01T24:00",
        "2027-02-01T14:60",
    ] {
        assert_eq!(
            session_cell(2, missing),
            [format!(
                "sessions.csv:2: colonne « starts_at » : la date-heure {missing} n'existe pas"
            )],
            "{missing}"
        );
    }
}

#[test]
fn ends_must_be_after_starts() {
    for ends in ["2027-02-01T14:00", "2027-02-01T13:59", "2027-01-31T18:00"] {
        assert_eq!(
            session_cell(3, ends),
            [format!(
                "sessions.csv:2: fin {ends} pas après le début 2027-02-01T14:00 (ends_at doit être après starts_at)"
            )],
            "{ends}"
        );
    }
    // One minute is enough.
    assert!(parse_catalogue(&with_rows(T_OK, &vary(&S_ROW, 3, "2027-02-01T14:01"))).is_ok());
}

#[test]
fn timezone_rules() {
    let c = parsed(&with_rows(T_OK, &vary(&S_ROW, 4, "")));
    assert_eq!(c.sessions[0].timezone, Tz::Europe__Paris, "empty means Paris");
    let c = parsed(&with_rows(T_OK, &vary(&S_ROW, 4, "America/Cayenne")));
    assert_eq!(c.sessions[0].timezone, Tz::America__Cayenne);
    for bad in ["Europe/Pariss", "CET+1", "europe/paris", "Paris", "UTC+1"] {
        assert_eq!(
            session_cell(4, bad),
            [format!(
                "sessions.csv:2: fuseau horaire « {bad} » inconnu (attendu : un nom IANA, ex. Europe/Paris, \
                 America/Cayenne ou Indian/Reunion ; vide pour Europe/Paris)"
            )],
            "{bad}"
        );
    }
}

#[test]
fn dst_gap_is_refused_in_the_session_time_zone() {
    // 2027-03-28 02:30 does not exist in Paris (clocks jump 02:00 → 03:00).
    let gap = "S9,T1,2027-03-28T02:30,2027-03-28T04:00,,,https://v.example.org/x,10\n";
    assert_eq!(
        session_errors(gap),
        [
            "sessions.csv:2: colonne « starts_at » : 2027-03-28T02:30 n'existe pas dans le fuseau Europe/Paris \
          (heure sautée lors d'un changement d'heure)"
        ]
    );
    let gap_end = "S9,T1,2027-03-28T01:00,2027-03-28T02:00,Europe/Paris,,https://v.example.org/x,10\n";
    assert_eq!(
        session_errors(gap_end),
        [
            "sessions.csv:2: colonne « ends_at » : 2027-03-28T02:00 n'existe pas dans le fuseau Europe/Paris \
          (heure sautée lors d'un changement d'heure)"
        ]
    );
    // The same local time exists in a zone without DST.
    let reunion = "S9,T1,2027-03-28T02:30,2027-03-28T04:00,Indian/Reunion,,https://v.example.org/x,10\n";
    assert!(parse_catalogue(&with_rows(T_OK, reunion)).is_ok());
}

#[test]
fn dst_fold_takes_the_earlier_instant() {
    // 2027-10-31 02:30 happens twice in Paris; the earlier is 00:30 UTC.
    let c = parsed(&with_rows(T_OK, S_OK));
    let s4 = &c.sessions[3];
    assert_eq!(s4.id, "S4");
    assert_eq!(
        s4.starts_utc().map(|d| d.to_rfc3339()),
        Some("2027-10-31T00:30:00+00:00".to_owned())
    );
    // Ending at 02:15 after starting at 02:30 is refused, even though the
    // later 02:15 (01:15 UTC) would be after the earlier 02:30: both ends
    // of a session take the earlier instant.
    let back = "S9,T1,2027-10-31T02:30,2027-10-31T02:15,,,https://v.example.org/x,10\n";
    assert_eq!(
        session_errors(back),
        [
            "sessions.csv:2: fin 2027-10-31T02:15 pas après le début 2027-10-31T02:30 (ends_at doit être après \
          starts_at)"
        ]
    );
}

#[test]
fn ends_after_starts_compares_instants_across_time_zones_of_the_clock_change() {
    // 01:30 → 03:30 on the spring-forward night lasts one hour, and is valid.
    let ok = "S9,T1,2027-03-28T01:30,2027-03-28T03:30,,,https://v.example.org/x,10\n";
    let c = parsed(&with_rows(T_OK, ok));
    let s = &c.sessions[0];
    let (Some(start), Some(end)) = (s.starts_utc(), s.ends_utc()) else {
        panic!("both instants exist");
    };
    assert_eq!((end - start).num_minutes(), 60);
}

#[test]
fn place_rules() {
    assert_eq!(
        session_cell(5, "3523"),
        [
            "sessions.csv:2: code commune INSEE « 3523 » invalide (attendu : 5 caractères : code département (01 à \
          95, 2A, 2B) puis 3 chiffres, ou 971 à 978 / 984 à 989 puis 2 chiffres, ex. 35238)"
        ]
    );
    for bad in [
        "ftp://v.example.org/x",
        "visio.example.org/x",
        "https://",
        "https:///x",
        "https://v.example.org/une salle",
        "mailto:a@b.fr",
    ] {
        assert_eq!(
            session_cell(6, bad),
            [format!(
                "sessions.csv:2: colonne « remote_url » : lien « {bad} » invalide (attendu : une adresse http:// \
                 ou https://, ex. https://visio.exemple.fr/formation)"
            )],
            "{bad}"
        );
    }
    assert_eq!(
        session_cell(6, &format!("https://v.example.org/{}", "a".repeat(2000))),
        ["sessions.csv:2: colonne « remote_url » : valeur trop longue (2022 caractères, 2000 au maximum)"]
    );
    for good in [
        "http://v.example.org",
        "HTTPS://V.example.org/x?y=1#z",
        "https://10.0.0.1:8443/salle",
    ] {
        let c = parsed(&with_rows(T_OK, &vary(&S_ROW, 6, good)));
        assert_eq!(c.sessions[0].remote_url.as_deref(), Some(good));
    }
}

#[test]
fn place_depends_on_the_modality() {
    // T1 remote, T2 on site, T3 hybrid.
    let rows = "\
S1,T1,2027-02-01T14:00,2027-02-01T17:00,,35238,,10
S2,T2,2027-02-01T14:00,2027-02-01T17:00,,,https://v.example.org/x,10
S3,T3,2027-02-01T14:00,2027-02-01T17:00,,,,10
S4,T2,2027-02-01T14:00,2027-02-01T17:00,,,,10
S5,T9,2027-02-01T14:00,2027-02-01T17:00,,,,10
";
    assert_eq!(
        session_errors(rows),
        [
            "sessions.csv:2: formation « T1 » à distance : remote_url obligatoire (lien pour rejoindre la session)",
            "sessions.csv:3: formation « T2 » en présentiel : commune_insee obligatoire (code INSEE du lieu de la \
             session)",
            "sessions.csv:4: ni commune_insee ni remote_url : indiquez le lieu de la session (code commune INSEE), \
             son lien à distance, ou les deux",
            "sessions.csv:5: formation « T2 » en présentiel : commune_insee obligatoire (code INSEE du lieu de la \
             session)",
            "sessions.csv:6: formation « T9 » inconnue (absente de trainings.csv)",
            "sessions.csv:6: ni commune_insee ni remote_url : indiquez le lieu de la session (code commune INSEE), \
             son lien à distance, ou les deux",
        ]
    );
    // What each modality accepts: hybrid either or both; on site and remote
    // may add the other (a room with a link, a remote session's venue).
    let rows = "\
S1,T3,2027-02-01T14:00,2027-02-01T17:00,,35238,,10
S2,T3,2027-02-01T14:00,2027-02-01T17:00,,,https://v.example.org/x,10
S3,T3,2027-02-01T14:00,2027-02-01T17:00,,35238,https://v.example.org/x,10
S4,T2,2027-02-01T14:00,2027-02-01T17:00,,35238,https://v.example.org/x,10
S5,T1,2027-02-01T14:00,2027-02-01T17:00,,35238,https://v.example.org/x,10
";
    assert_eq!(parsed(&with_rows(T_OK, rows)).sessions.len(), 5);
}

#[test]
fn capacity_rules() {
    assert_eq!(
        session_cell(7, ""),
        ["sessions.csv:2: colonne « capacity » vide (nombre de places obligatoire, au moins 1)"]
    );
    for bad in ["0", "-1", "+3", "2.5", "dix", "99999999999"] {
        assert_eq!(
            session_cell(7, bad),
            [format!(
                "sessions.csv:2: capacité « {bad} » invalide (attendu : un nombre entier de places, au moins 1)"
            )],
            "{bad}"
        );
    }
    assert_eq!(parsed(&with_rows(T_OK, &vary(&S_ROW, 7, "1"))).sessions[0].capacity, 1);
}

#[test]
fn every_error_of_both_files_in_file_then_line_order() {
    let t = format!("{T_OK}T5,,Org,remote,0,,,Paie,1,3\nT6,Titre,Org,remote,7,,,payroll,3,3\n");
    let s = "\
S1,T1,2027-02-01T14:00,2027-02-01T13:00,Mars/Olympus,,https://v.example.org/x,0
S2,T1,2027-03-28T02:30,2027-03-28T04:00,,,https://v.example.org/x,10
";
    assert_eq!(
        errors(&with_rows(&t, s)),
        [
            "trainings.csv:6: colonne « title » vide (valeur obligatoire)",
            "trainings.csv:6: durée « 0 » invalide (attendu : un nombre d'heures supérieur à 0, à la minute près, \
             ex. 7, 3.5 ou 1,25)",
            "trainings.csv:6: code de fonction « Paie » invalide (attendu : lettres minuscules sans accent, \
             chiffres et _, ex. payroll)",
            "trainings.csv:7: niveau visé 3 pas au-dessus du niveau prérequis 3 (la formation doit faire \
             progresser : goal_level > prerequisite_level)",
            "sessions.csv:2: fuseau horaire « Mars/Olympus » inconnu (attendu : un nom IANA, ex. Europe/Paris, \
             America/Cayenne ou Indian/Reunion ; vide pour Europe/Paris)",
            "sessions.csv:2: capacité « 0 » invalide (attendu : un nombre entier de places, au moins 1)",
            "sessions.csv:3: colonne « starts_at » : 2027-03-28T02:30 n'existe pas dans le fuseau Europe/Paris \
             (heure sautée lors d'un changement d'heure)",
        ]
    );
}

#[test]
fn file_mut_maps_the_two_names() {
    let mut f = CatalogueFiles::default();
    for (name, byte) in [(TRAININGS_FILE, b't'), (SESSIONS_FILE, b's')] {
        match f.file_mut(name) {
            Some(buf) => buf.push(byte),
            None => panic!("{name} not mapped"),
        }
    }
    assert_eq!(f.trainings, b"t");
    assert_eq!(f.sessions, b"s");
    assert!(f.file_mut("people.csv").is_none());
    assert!(f.file_mut("Trainings.csv").is_none());
}

#[test]
fn headers_match_the_constants() {
    assert_eq!(format!("{}\n", TRAININGS_HEADER.join(",")), T_H);
    assert_eq!(format!("{}\n", SESSIONS_HEADER.join(",")), S_H);
}

#[test]
fn export_round_trips() {
    let c = parsed(&with_rows(T_OK, S_OK));
    let exported = catalogue_to_csv(&c);
    assert_eq!(parsed(&exported), c);
    let text = String::from_utf8(exported.trainings).unwrap_or_default();
    assert!(text.starts_with(T_H), "{text}");
    assert!(
        text.contains("T2,\"Paie, DSN et net-entreprises\",Uniformation Formations,on_site,14,1200.5,"),
        "{text}"
    );
    let sessions = String::from_utf8(exported.sessions).unwrap_or_default();
    assert!(
        sessions.contains("S2,T2,2027-03-15T09:00,2027-03-16T17:00,Europe/Paris,35238,,12\n"),
        "{sessions}"
    );
    // Quotes in a value survive.
    let mut quoted = c.clone();
    quoted.trainings[0].title = "Le « bon » dossier, \"vite\"".into();
    assert_eq!(parsed(&catalogue_to_csv(&quoted)), quoted);
}

/// Random and mutated catalogues (one file damaged at a time): never a
/// panic, every error `FILE:LINE: message` on one of the two files.
#[test]
fn hostile_catalogues_never_panic_and_errors_are_positioned() {
    let trainings = format!("{T_H}{T_OK}");
    let sessions = format!("{S_H}{S_OK}");
    let mut index = 0;
    vigie_mutate::for_each_case(0xCA7A, &[trainings.as_bytes(), sessions.as_bytes()], 400, |damaged| {
        let mut files = CatalogueFiles {
            trainings: trainings.as_bytes().to_vec(),
            sessions: sessions.as_bytes().to_vec(),
        };
        if index % 2 == 0 {
            files.trainings = damaged.to_vec();
        } else {
            files.sessions = damaged.to_vec();
        }
        index += 1;
        if let Err(errors) = parse_catalogue(&files) {
            assert!(!errors.is_empty());
            for error in errors {
                assert!(
                    ["trainings.csv", "sessions.csv"].contains(&error.file.as_str()),
                    "{error}"
                );
                assert!(error.line >= 1 && !error.message.is_empty(), "{error}");
                assert!(
                    !error.message.en.is_empty() && error.message.en != error.message.fr,
                    "every message has its English form: {error}"
                );
            }
        }
    });
}

/// The catalogue export goes through the one CSV writer: a title from
/// outside that a spreadsheet would run as a formula comes out neutralised.
#[test]
fn exported_titles_are_neutralised() {
    let trainings = format!(
        "{T_H}T1,=cmd|' /C calc'!A0,@Organisme,remote,3,,,payroll,1,3\n\
         T2,\"=HYPERLINK(\"\"https://x.example\"\",\"\"clic\"\")\",Org,remote,3,,,payroll,1,3\n"
    );
    let c = parse_catalogue(&CatalogueFiles {
        trainings: trainings.into_bytes(),
        sessions: S_H.as_bytes().to_vec(),
    })
    .unwrap();
    let exported = String::from_utf8(catalogue_to_csv(&c).trainings).unwrap();
    let lines: Vec<&str> = exported.lines().collect();
    assert_eq!(lines[1], "T1,'=cmd|' /C calc'!A0,'@Organisme,remote,3,,,payroll,1,3");
    assert_eq!(
        lines[2],
        "T2,\"'=HYPERLINK(\"\"https://x.example\"\",\"\"clic\"\")\",Org,remote,3,,,payroll,1,3"
    );
}
