use super::*;
use vigie_proto::alerting::v1::Call;
use vigie_proto::common::v1::Date;
use vigie_proto::inventory::v1::{FunctionExposure, FunctionShare};

fn function(code: &str, holders: &[&str]) -> FunctionExposure {
    FunctionExposure {
        code: code.to_owned(),
        label: code.to_owned(),
        criticality: 3,
        holder_ids: holders.iter().map(|h| (*h).to_owned()).collect(),
        risk: 0.0,
    }
}

fn structure(
    id: &str,
    name: &str,
    band: Band,
    score: Option<u32>,
    functions: Vec<FunctionExposure>,
) -> StructureFragility {
    StructureFragility {
        structure_id: id.to_owned(),
        name: name.to_owned(),
        network: "n1".to_owned(),
        evaluated_on: Some(Date {
            year: 2026,
            month: 12,
            day: 1,
        }),
        band: band as i32,
        score,
        functions,
        ..StructureFragility::default()
    }
}

fn network() -> Vec<StructureFragility> {
    vec![
        structure(
            "S3",
            "Chantier",
            Band::Moderate,
            Some(40),
            vec![function(FUNDING_FUNCTION, &["p1", "p2"]), function("payroll", &["p1"])],
        ),
        structure(
            "S1",
            "atelier",
            Band::Critical,
            Some(90),
            vec![function(FUNDING_FUNCTION, &[]), function("payroll", &["p3"])],
        ),
        structure("S2", "Bazar", Band::Unknown, None, vec![]),
        structure(
            "S4",
            "Dépôt",
            Band::High,
            Some(70),
            vec![function(FUNDING_FUNCTION, &["p9"])],
        ),
    ]
}

fn query(pairs: &[(&str, &str)]) -> TableQuery {
    parse_query(&pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
}

fn ids(table: &Table) -> Vec<&str> {
    table.rows.iter().map(|r| r.id.as_str()).collect()
}

#[test]
fn the_query_reads_known_values_and_ignores_the_rest() {
    let q = query(&[
        ("bande", "critical"),
        ("fonction", "payroll"),
        ("tri", "nom"),
        ("page", "3"),
    ]);
    assert_eq!(q.band.as_deref(), Some("critical"));
    assert_eq!(q.function.as_deref(), Some("payroll"));
    assert_eq!((q.sort, q.page), (Sort::Name, 3));
    let odd = query(&[("bande", "rouge"), ("tri", "x"), ("page", "0"), ("fonction", " ")]);
    assert_eq!(
        odd,
        TableQuery {
            page: 1,
            risk_page: 1,
            ..TableQuery::default()
        }
    );
    assert_eq!(
        q.href("n1", 2),
        "/reseaux/n1?bande=critical&fonction=payroll&tri=nom&page=2#structures"
    );
    // The at-risk deadlines page on their own, the table's query kept.
    let both = query(&[("tri", "bande"), ("page", "2"), ("risque", "3")]);
    assert_eq!(both.risk_page, 3);
    assert_eq!(both.href("n1", 1), "/reseaux/n1?tri=bande&page=1&risque=3#structures");
    assert_eq!(both.risk_href("n1", 1), "/reseaux/n1?tri=bande&page=2#a-risque");
    assert_eq!(
        both.risk_href("n1", 4),
        "/reseaux/n1?tri=bande&page=2&risque=4#a-risque"
    );
}

#[test]
fn long_lists_are_cut_into_pages() {
    let rows: Vec<usize> = (0..401).collect();
    let (first, page, pages) = page_of(rows.clone(), 0);
    assert_eq!((first.len(), first[0], page, pages), (200, 0, 1, 3));
    let (last, page, _) = page_of(rows.clone(), 7);
    assert_eq!((last, page), (vec![400], 3));
    let (empty, page, pages) = page_of(Vec::<usize>::new(), 2);
    assert_eq!((empty.len(), page, pages), (0, 1, 1));
}

#[test]
fn the_table_sorts_by_score_name_or_band() {
    let all = network();
    let by_score = table(&all, &query(&[]), Lang::Fr);
    // Unknown (no score) last.
    assert_eq!(ids(&by_score), ["S1", "S4", "S3", "S2"]);
    assert_eq!(
        ids(&table(&all, &query(&[("tri", "nom")]), Lang::Fr)),
        ["S1", "S2", "S3", "S4"]
    );
    assert_eq!(
        ids(&table(&all, &query(&[("tri", "bande")]), Lang::Fr)),
        ["S1", "S4", "S3", "S2"]
    );
    let first = &by_score.rows[0];
    assert_eq!(
        (first.band_words, first.score, first.fragile_functions),
        ("critique", Some(90), 2)
    );
    assert_eq!(by_score.rows[2].fragile_functions, 1, "two holders is not fragile");
    assert_eq!(table(&all, &query(&[]), Lang::En).rows[0].band_words, "critical");
}

#[test]
fn the_table_filters_by_band_and_by_fragile_function() {
    let all = network();
    let critical = table(&all, &query(&[("bande", "critical")]), Lang::Fr);
    assert_eq!((ids(&critical), critical.matching), (vec!["S1"], 1));
    assert_eq!(ids(&table(&all, &query(&[("bande", "unknown")]), Lang::Fr)), ["S2"]);
    // S3 records payroll on one person, S1 too; funding rests on two in S3.
    assert_eq!(
        ids(&table(&all, &query(&[("fonction", "payroll")]), Lang::Fr)),
        ["S1", "S3"]
    );
    assert_eq!(
        ids(&table(&all, &query(&[("fonction", FUNDING_FUNCTION)]), Lang::Fr)),
        ["S1", "S4"]
    );
    // A minimum score: unknown (no score) is left out.
    assert_eq!(
        ids(&table(&all, &query(&[("score_min", "70")]), Lang::Fr)),
        ["S1", "S4"]
    );
    assert_eq!(
        ids(&table(&all, &query(&[("score_min", "0")]), Lang::Fr)),
        ["S1", "S4", "S3"]
    );
    assert_eq!(query(&[("score_min", "101")]).score_min, None);
    assert_eq!(
        query(&[("score_min", "70"), ("tri", "nom")]).href("n1", 1),
        "/reseaux/n1?score_min=70&tri=nom&page=1#structures"
    );
    let none = table(&all, &query(&[("bande", "low")]), Lang::Fr);
    assert!(none.rows.is_empty() && none.pages == 1);
}

#[test]
fn a_large_network_is_cut_into_pages_of_at_most_200_rows() {
    let many: Vec<StructureFragility> = (0..450)
        .map(|i| structure(&format!("S{i:04}"), "x", Band::Low, Some(i % 100), vec![]))
        .collect();
    let first = table(&many, &query(&[("tri", "nom")]), Lang::Fr);
    assert_eq!(
        (first.rows.len(), first.matching, first.pages, first.page),
        (200, 450, 3, 1)
    );
    let last = table(&many, &query(&[("tri", "nom"), ("page", "3")]), Lang::Fr);
    assert_eq!((last.rows.len(), last.page), (50, 3));
    assert_eq!(last.rows[0].id, "S0400");
    assert_eq!(table(&many, &TableQuery::default(), Lang::Fr).page, 1);
    // Beyond the last page: the last page.
    assert_eq!(table(&many, &query(&[("page", "99")]), Lang::Fr).page, 3);
}

#[test]
fn the_filter_offers_the_functions_recorded_with_their_labels() {
    let choices = function_choices(&network(), Lang::Fr);
    let codes: Vec<&str> = choices.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(codes, [FUNDING_FUNCTION, "payroll"]);
    assert!(choices[0].1.starts_with("Dépôt en ligne"));
    assert_eq!(
        function_choices(&network(), Lang::En)[0].1,
        "Online funding applications and responses to calls for projects"
    );
    assert_eq!(band_choices(Lang::Fr)[0], ("critical", "critique"));
}

fn call(title: &str, days_left: Option<i64>) -> Call {
    Call {
        call_id: title.to_lowercase(),
        title: title.to_owned(),
        info_url: format!("https://aides.example/{}", title.to_lowercase()),
        days_left,
        ..Call::default()
    }
}

#[test]
fn deadlines_are_at_risk_when_funding_rests_on_one_person_or_nobody() {
    let mut all = network();
    all[3].top_key_person_id = "p9".to_owned();
    all[3].top_key_person_name = "Anne Martin".to_owned();
    let calls: HashMap<String, Vec<Call>> = [
        (
            "S1",
            vec![
                call("Fonds vert", Some(3)),
                call("Permanent", None),
                call("Passé", Some(-1)),
            ],
        ),
        // S3's funding rests on two people: not at risk whatever its calls.
        ("S3", vec![call("Région", Some(1))]),
        ("S4", vec![call("Région", Some(14)), call("Trop tard", Some(15))]),
    ]
    .into_iter()
    .map(|(id, calls)| (id.to_owned(), calls))
    .collect();
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let rows = at_risk(&all, &calls, today, Lang::Fr);
    let got: Vec<(&str, &str, i64, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.structure_id.as_str(),
                r.call_title.as_str(),
                r.days_left,
                r.deadline.as_str(),
                r.holder.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("S1", "Fonds vert", 3, "4 décembre 2026", "personne"),
            ("S4", "Région", 14, "15 décembre 2026", "Anne Martin"),
        ]
    );
    assert_eq!(rows[0].days_words, "dans 3 jours");
    assert_eq!(rows[0].structure_name, "atelier");
    let english = at_risk(&all, &calls, today, Lang::En);
    assert_eq!(
        (english[0].holder.as_str(), english[0].deadline.as_str()),
        ("nobody", "4 December 2026")
    );
    assert_eq!(english[0].days_words, "in 3 days");
    // A sole holder who is not the top key person shows by id.
    all[3].top_key_person_id = "p1".to_owned();
    assert_eq!(at_risk(&all, &calls, today, Lang::Fr)[1].holder, "p9");
    assert!(at_risk(&all, &HashMap::new(), today, Lang::Fr).is_empty());
}

#[test]
fn a_network_listing_of_calls_is_split_by_the_structures_each_matches() {
    let mut region = call("Région", Some(4));
    region.matched_structures = vec!["S1".to_owned(), "S4".to_owned()];
    let mut local = call("Commune", Some(9));
    local.matched_structures = vec!["S4".to_owned()];
    let by = calls_by_structure(vec![region, local, call("Personne", Some(1))]);
    let titles = |id: &str| by[id].iter().map(|c| c.title.as_str()).collect::<Vec<_>>();
    assert_eq!(titles("S1"), ["Région"]);
    assert_eq!(titles("S4"), ["Région", "Commune"]);
    assert_eq!(by.len(), 2, "a call matching nobody is nobody's");
}

#[test]
fn the_network_rollup_counts_bands_mean_and_fragile_functions() {
    let view = network_rollup("n1", &network(), Lang::Fr);
    assert_eq!(view.structures, 4);
    let counts: Vec<(&str, u64)> = view.bands.iter().map(|b| (b.0, b.2)).collect();
    assert_eq!(
        counts,
        [
            ("critique", 1),
            ("élevée", 1),
            ("modérée", 1),
            ("faible", 0),
            ("inconnue", 1)
        ]
    );
    // (40 + 90 + 70) / 3
    assert_eq!(view.mean_score.as_deref(), Some("66,7"));
    assert_eq!(
        network_rollup("n1", &network(), Lang::En).mean_score.as_deref(),
        Some("66.7")
    );
    let top: Vec<(&str, u64)> = view.top_functions.iter().map(|f| (f.0.as_str(), f.1)).collect();
    assert_eq!(
        top,
        [
            (
                "Dépôt en ligne des demandes de financement et réponses aux appels à projets",
                2
            ),
            ("Paie et déclarations sociales (DSN)", 2)
        ]
    );
    assert_eq!(network_rollup("n1", &[], Lang::Fr).mean_score, None);
}

#[test]
fn the_federation_rollups_read_in_words_by_network() {
    let groups = vec![
        RollupGroup {
            key: "zeta".to_owned(),
            structures: 10,
            unknown: 2,
            low: 3,
            moderate: 3,
            high: 1,
            critical: 1,
            mean_score: Some(42.25),
            functions: vec![
                FunctionShare {
                    code: "payroll".to_owned(),
                    structures: 8,
                    orphan_share: 0.25,
                    spof_share: 0.5,
                },
                FunctionShare {
                    code: "invoicing".to_owned(),
                    structures: 8,
                    orphan_share: 0.0,
                    spof_share: 0.0,
                },
            ],
        },
        RollupGroup {
            key: "alpha".to_owned(),
            structures: 1,
            unknown: 1,
            ..RollupGroup::default()
        },
    ];
    let views = federation_rollups(&groups, Lang::Fr);
    assert_eq!(views[0].key, "alpha");
    assert_eq!(views[0].mean_score, None);
    let zeta = &views[1];
    assert_eq!(zeta.mean_score.as_deref(), Some("42,2"));
    assert_eq!(zeta.bands.iter().map(|b| b.2).collect::<Vec<_>>(), [1, 1, 3, 3, 2]);
    // 75 % of the 8 inventoried structures; invoicing is never fragile.
    assert_eq!(
        zeta.top_functions,
        [("Paie et déclarations sociales (DSN)".to_owned(), 6)]
    );
}

fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn the_policy_form_shows_the_policy_but_never_the_secret() {
    let policy = NetworkPolicy {
        network: "n1".to_owned(),
        offsets_days: vec![30, 7],
        local_hour: "08:30".to_owned(),
        timezone: "America/Cayenne".to_owned(),
        referent_name: "Léa".to_owned(),
        referent_email: "lea@reseau.org".to_owned(),
        webhook_url: "https://hooks.example/v".to_owned(),
        webhook_secret: "never-returned-anyway".to_owned(),
        webhook_secret_set: true,
        draft_days: None,
    };
    let form = policy_form(&policy);
    assert_eq!(form.value("offsets"), "30, 7");
    assert_eq!(form.value("timezone"), "America/Cayenne");
    assert_eq!(form.value("webhook_secret"), "");
    assert!(form.secret_set && !form.has_errors());
}

#[test]
fn the_policy_form_parses_offsets_and_keeps_what_was_typed_on_error() {
    let typed = fields(&[
        ("offsets", " 30, 14;7 2 "),
        ("local_hour", " 08:00 "),
        ("timezone", "Europe/Paris"),
        ("referent_name", "Léa Roux"),
        ("referent_email", "lea@reseau.org"),
        ("webhook_url", ""),
        ("webhook_secret", "a-secret-of-16-chars"),
    ]);
    let request = parse_policy("n1", &typed, false, Lang::Fr).unwrap();
    assert_eq!(request.offsets_days, [30, 14, 7, 2]);
    assert_eq!((request.local_hour.as_str(), request.network.as_str()), ("08:00", "n1"));
    assert_eq!(request.webhook_secret, "a-secret-of-16-chars");

    let mut wrong = typed.clone();
    wrong.insert("offsets".to_owned(), "30, deux".to_owned());
    let form = parse_policy("n1", &wrong, true, Lang::Fr).unwrap_err();
    let offsets = form.fields.iter().find(|f| f.name == "offsets").unwrap();
    assert!(offsets.error.as_deref().unwrap().contains("« deux »"), "{offsets:?}");
    assert_eq!(form.value("offsets"), "30, deux");
    assert_eq!(form.value("referent_name"), "Léa Roux");
    assert_eq!(form.value("webhook_secret"), "", "the secret is never shown back");
    assert!(form.secret_set);
    let english = parse_policy("n1", &wrong, true, Lang::En).unwrap_err();
    assert!(english.fields[0]
        .error
        .as_deref()
        .unwrap()
        .contains("not a number of days"));
    // Empty offsets: the service's defaults.
    assert!(parse_policy("n1", &fields(&[]), false, Lang::Fr)
        .unwrap()
        .offsets_days
        .is_empty());
}

#[test]
fn a_service_refusal_goes_next_to_the_field_it_names_else_on_top() {
    let typed = fields(&[("timezone", "Mars/Olympus"), ("webhook_secret", "short")]);
    let cases = [
        ("délai de rappel 400 jours : au plus 366", "offsets"),
        ("heure d'envoi « 9h » : attendu HH:MM, par exemple 09:00", "local_hour"),
        ("fuseau « Mars/Olympus » inconnu : attendu un nom IANA", "timezone"),
        ("adresse du référent « x » invalide", "referent_email"),
        ("webhook « ftp://x » : attendu une URL http(s)", "webhook_url"),
        ("adresse de webhook refusée", "webhook_url"),
        (
            "un webhook demande un secret d'au moins 16 caractères (--webhook-secret)",
            "webhook_secret",
        ),
    ];
    for (message, field) in cases {
        let mut form = typed_form(&typed, false);
        place_service_refusal(&mut form, message, message);
        let errors: Vec<&str> = form
            .fields
            .iter()
            .filter(|f| f.error.is_some())
            .map(|f| f.name)
            .collect();
        assert_eq!(errors, [field], "{message}");
        assert!(form.top_error.is_none());
        assert_eq!(form.value("timezone"), "Mars/Olympus");
        assert_eq!(form.value("webhook_secret"), "");
    }
    let mut form = typed_form(&typed, false);
    place_service_refusal(&mut form, "réseau manquant", "réseau manquant");
    assert_eq!(form.top_error.as_deref(), Some("réseau manquant"));
    assert!(form.fields.iter().all(|f| f.error.is_none()));

    // In English, the field is still found from the service's French words.
    let mut form = typed_form(&typed, false);
    let shown = "unknown time zone “Mars/Olympus”: expected an IANA name";
    place_service_refusal(
        &mut form,
        "fuseau « Mars/Olympus » inconnu : attendu un nom IANA",
        shown,
    );
    let placed: Vec<(&str, Option<&str>)> = form
        .fields
        .iter()
        .filter(|f| f.error.is_some())
        .map(|f| (f.name, f.error.as_deref()))
        .collect();
    assert_eq!(placed, [("timezone", Some(shown))]);
}

#[test]
fn words_follow_the_language() {
    let date = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    assert_eq!(dates::long(date, Lang::Fr), "1er mars 2027");
    assert_eq!(dates::long(date, Lang::En), "1 March 2027");
    assert_eq!(dates::days_from_now(1, Lang::En), "tomorrow");
    assert_eq!(dates::days_from_now(0, Lang::Fr), "aujourd'hui");
    assert_eq!(band_words(Band::Moderate as i32, Lang::En), "moderate");
    assert_eq!(band_words(Band::Unspecified as i32, Lang::Fr), "inconnue");
    assert_eq!(evaluated_on(&network()), NaiveDate::from_ymd_opt(2026, 12, 1));
}

#[test]
fn the_network_page_shows_the_most_recent_requests_only() {
    use vigie_proto::facilitation::v1::HelpRequest;
    let request = |id: &str, day: u32| HelpRequest {
        request_id: id.to_owned(),
        created_on: Some(Date {
            year: 2026,
            month: 11,
            day,
        }),
        ..HelpRequest::default()
    };
    let all = vec![request("R1", 1), request("R3", 20), request("R2", 20), request("R4", 5)];
    let (shown, total) = latest_requests(all.clone(), 2);
    assert_eq!(total, 4);
    assert_eq!(
        shown.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(),
        ["R3", "R2"]
    );
    let (shown, total) = latest_requests(all, 10);
    assert_eq!((shown.len(), total), (4, 4));
}
