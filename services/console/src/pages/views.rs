//! What the templates show, built from the services' answers by pure
//! functions (unit-tested without a server): sentences, dates in words,
//! labels instead of codes, in the session's language.

use std::collections::HashMap;

use chrono::NaiveDate;
use vigie_proto::alerting::v1::Call;
use vigie_proto::dates::date_from_pb;
use vigie_proto::facilitation::v1::HelpRequest;
use vigie_proto::inventory::v1::{Structure, StructureFragility};
use vigie_proto::training::v1::StructurePlan;

use crate::dates::{days_from_now, long, long_pb};
use crate::labels;
use crate::lang::Lang;

/// One vital function's row.
pub struct FunctionRow {
    pub label: String,
    pub importance: &'static str,
    pub holders: String,
    /// The API's plain sentence for this function, verbatim.
    pub explanation: Option<String>,
}

/// One call's row.
pub struct CallRow {
    pub id: String,
    pub title: String,
    pub url: String,
    pub deadline: String,
    pub acknowledgement: &'static str,
}

/// The training plan in sentences.
pub struct PlanView {
    pub summary: String,
    pub items: Vec<PlanItemRow>,
}

/// One function of the plan.
pub struct PlanItemRow {
    pub label: String,
    pub exposure: &'static str,
    pub what: String,
}

/// A help request or proposal.
pub struct RequestRow {
    pub structure_id: String,
    pub function: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub created_on: String,
}

/// One recorded level: who, on what, how well, last practised when.
pub struct HoldingRow {
    pub person: String,
    pub function: String,
    pub level: String,
    pub last_practised: String,
}

/// Everything « Ma structure » shows.
pub struct StructureView {
    pub id: String,
    pub name: String,
    pub network: String,
    pub evaluated_on: String,
    pub score: Option<u32>,
    pub band_words: &'static str,
    pub band_meaning: &'static str,
    pub band_class: &'static str,
    pub truck_sentence: Option<String>,
    pub orphan_sentence: Option<String>,
    pub functions: Vec<FunctionRow>,
    /// Explanations no function row took (none in practice).
    pub other_explanations: Vec<String>,
    pub calls: Vec<CallRow>,
    pub feed_url: Option<String>,
    pub plan: Option<PlanView>,
    /// (code, label) of the structure's vital functions (help and levels forms).
    pub help_functions: Vec<(String, String)>,
    pub requests: Vec<RequestRow>,
    /// The levels recorded, by function then person.
    pub holdings: Vec<HoldingRow>,
    /// (id, name) of the structure's people (levels form).
    pub people: Vec<(String, String)>,
}

/// The answers a structure page is built from.
pub struct StructureAnswers {
    pub structure: Structure,
    pub fragility: StructureFragility,
    pub calls: Vec<Call>,
    pub feed_url: Option<String>,
    pub plan: Option<StructurePlan>,
    pub requests: Vec<HelpRequest>,
}

fn importance(criticality: u32, lang: Lang) -> &'static str {
    match criticality {
        3.. => lang.pick("essentielle", "essential"),
        2 => lang.pick("importante", "important"),
        _ => lang.pick("utile", "useful"),
    }
}

/// « a, b et c », "a, b and c".
fn and_list(items: &[String], lang: Lang) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {} {last}", init.join(", "), lang.pick("et", "and")),
    }
}

/// The levels of the 0–4 scale in words, for a form's choices.
pub fn level_choices(lang: Lang) -> Vec<(u32, String)> {
    (0..=4)
        .filter_map(|l| labels::level(l, lang).map(|words| (l, format!("{l} — {words}"))))
        .collect()
}

/// Builds the page from the answers.
pub fn structure_view(answers: StructureAnswers, lang: Lang) -> StructureView {
    let StructureAnswers {
        structure,
        fragility,
        calls,
        feed_url,
        plan,
        requests,
    } = answers;
    let names: HashMap<&str, &str> = structure
        .people
        .iter()
        .map(|p| (p.person_id.as_str(), p.display_name.as_str()))
        .collect();
    let name_of = |id: &str| names.get(id).map_or_else(|| id.to_owned(), |n| (*n).to_owned());
    // French: the API's label; English: the catalogue's English label.
    let label_of = |code: &str| match lang {
        Lang::Fr => fragility
            .functions
            .iter()
            .find(|f| f.code == code)
            .map_or_else(|| labels::function(code, lang), |f| f.label.clone()),
        Lang::En => labels::function(code, lang),
    };
    let today = fragility.evaluated_on.as_ref().and_then(date_from_pb);
    let (band_words, band_meaning) = labels::band_in(fragility.band, lang);

    // The sentences of the API, attached to their function ("Label : …").
    let mut explanations: Vec<Option<String>> = fragility.explanations.iter().cloned().map(Some).collect();
    let functions: Vec<FunctionRow> = fragility
        .functions
        .iter()
        .map(|f| {
            let label = label_of(&f.code);
            let prefix = match lang {
                Lang::Fr => format!("{label} : "),
                Lang::En => format!("{label}: "),
            };
            let explanation = explanations
                .iter_mut()
                .find(|e| e.as_deref().is_some_and(|e| e.starts_with(&prefix)))
                .and_then(Option::take);
            let holders: Vec<String> = f.holder_ids.iter().map(|id| name_of(id)).collect();
            FunctionRow {
                label,
                importance: importance(f.criticality, lang),
                holders: if holders.is_empty() {
                    lang.pick("Personne", "Nobody").to_owned()
                } else {
                    and_list(&holders, lang)
                },
                explanation,
            }
        })
        .collect();
    let mut holdings: Vec<HoldingRow> = structure
        .holdings
        .iter()
        .map(|h| HoldingRow {
            person: name_of(&h.person_id),
            function: label_of(&h.function),
            level: labels::level(h.level, lang).map_or_else(|| h.level.to_string(), |w| format!("{} — {w}", h.level)),
            last_practised: long_pb(h.last_practised.as_ref(), lang).unwrap_or_else(|| "—".to_owned()),
        })
        .collect();
    holdings.sort_by(|a, b| a.function.cmp(&b.function).then_with(|| a.person.cmp(&b.person)));

    StructureView {
        id: structure.structure_id.clone(),
        name: structure.name.clone(),
        network: structure.network.clone(),
        evaluated_on: long_pb(fragility.evaluated_on.as_ref(), lang)
            .unwrap_or_else(|| lang.pick("jour inconnu", "unknown day").to_owned()),
        score: fragility.score,
        band_words,
        band_meaning,
        band_class: labels::band_class(fragility.band),
        truck_sentence: truck_sentence(&fragility, &label_of, lang),
        orphan_sentence: orphan_sentence(&fragility, &label_of, lang),
        functions,
        other_explanations: explanations.into_iter().flatten().collect(),
        calls: call_rows(&calls, today, lang),
        feed_url,
        plan: plan.map(|p| plan_view(&p, &name_of, lang)),
        help_functions: structure
            .functions
            .iter()
            .map(|f| (f.code.clone(), label_of(&f.code)))
            .collect(),
        requests: requests.iter().map(|r| request_row_in(r, lang)).collect(),
        holdings,
        people: structure
            .people
            .iter()
            .map(|p| (p.person_id.clone(), p.display_name.clone()))
            .collect(),
    }
}

/// « Si Anne Martin s'absente, 4 fonctions vitales s'arrêtent : … » — the
/// top key person and the functions they hold alone; else what the truck
/// factor says.
fn truck_sentence(fragility: &StructureFragility, label_of: &dyn Fn(&str) -> String, lang: Lang) -> Option<String> {
    let top = &fragility.top_key_person_id;
    if !top.is_empty() {
        let alone: Vec<String> = fragility
            .functions
            .iter()
            .filter(|f| f.holder_ids.len() == 1 && f.holder_ids[0] == *top)
            .map(|f| label_of(&f.code))
            .collect();
        if !alone.is_empty() {
            let who = &fragility.top_key_person_name;
            let stop = labels::functions_stop_in(alone.len(), lang);
            let list = and_list(&alone, lang);
            return Some(match lang {
                Lang::Fr => format!("Si {who} s'absente, {stop} : {list}."),
                Lang::En => format!("If {who} is away, {stop}: {list}."),
            });
        }
    }
    match fragility.truck_factor {
        Some(n) if n >= 2 => Some(match lang {
            Lang::Fr => {
                format!("Il faudrait que {n} personnes s'absentent en même temps pour qu'une fonction vitale s'arrête.")
            }
            Lang::En => format!("{n} people would have to be away at the same time for a vital function to stop."),
        }),
        _ => None,
    }
}

/// « 2 fonctions vitales ne reposent sur personne aujourd'hui : … ».
fn orphan_sentence(fragility: &StructureFragility, label_of: &dyn Fn(&str) -> String, lang: Lang) -> Option<String> {
    let orphans: Vec<String> = fragility.orphan_functions.iter().map(|c| label_of(c)).collect();
    let list = and_list(&orphans, lang);
    match (orphans.len(), lang) {
        (0, _) => None,
        (1, Lang::Fr) => Some(format!(
            "1 fonction vitale ne repose sur personne aujourd'hui : {list}."
        )),
        (1, Lang::En) => Some(format!("1 vital function rests on nobody today: {list}.")),
        (n, Lang::Fr) => Some(format!(
            "{n} fonctions vitales ne reposent sur personne aujourd'hui : {list}."
        )),
        (n, Lang::En) => Some(format!("{n} vital functions rest on nobody today: {list}.")),
    }
}

/// The calls still open, by next deadline (the first stage on or after
/// `today`; cancelled calls and passed deadlines are left out).
fn call_rows(calls: &[Call], today: Option<NaiveDate>, lang: Lang) -> Vec<CallRow> {
    let mut rows: Vec<(NaiveDate, CallRow)> = calls
        .iter()
        .filter(|c| !c.cancelled)
        .filter_map(|c| {
            let (date, stage) = c
                .stages
                .iter()
                .filter_map(|s| s.date.as_ref().and_then(date_from_pb).map(|d| (d, s)))
                .filter(|(d, _)| today.is_none_or(|t| *d >= t))
                .min_by_key(|(d, _)| *d)?;
            let at = stage
                .time
                .as_deref()
                .map(|t| format!(" {} {t}", lang.pick("à", "at")))
                .unwrap_or_default();
            let distance = today
                .map(|t| format!(", {}", days_from_now((date - t).num_days(), lang)))
                .unwrap_or_default();
            let url = if c.application_url.is_empty() {
                &c.info_url
            } else {
                &c.application_url
            };
            Some((
                date,
                CallRow {
                    id: c.call_id.clone(),
                    title: c.title.clone(),
                    url: safe_url(url),
                    deadline: format!(
                        "{}{at} ({}{distance})",
                        long(date, lang),
                        labels::stage_kind_in(&stage.kind, lang)
                    ),
                    acknowledgement: labels::acknowledgement_in(&c.acknowledgement, lang)
                        .unwrap_or(lang.pick("Pas encore indiqué", "Not given yet")),
                },
            ))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.title.cmp(&b.1.title)));
    rows.into_iter().map(|(_, row)| row).collect()
}

/// Only web links are shown as links (a `javascript:` URL from an imported
/// feed must not become one).
fn safe_url(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        url.trim().to_owned()
    } else {
        String::new()
    }
}

fn plan_view(plan: &StructurePlan, name_of: &dyn Fn(&str) -> String, lang: Lang) -> PlanView {
    let (current, _) = labels::band_in(plan.current_band, lang);
    let (predicted, _) = labels::band_in(plan.predicted_band, lang);
    let summary = match (plan.current_score, plan.predicted_score) {
        _ if plan.items.is_empty() => lang
            .pick(
                "Aucune formation n'est nécessaire : aucune fonction vitale ne repose sur une seule personne ou sur personne.",
                "No training is needed: no vital function rests on one person only or on nobody.",
            )
            .to_owned(),
        (Some(now), Some(then)) => match lang {
            Lang::Fr => format!(
                "Si ce plan est suivi, le score de fragilité passera de {now} à {then} sur 100 (fragilité {current} aujourd'hui, {predicted} ensuite)."
            ),
            Lang::En => format!(
                "If this plan is followed, the fragility score will go from {now} to {then} out of 100 ({current} fragility today, {predicted} afterwards)."
            ),
        },
        _ => match lang {
            Lang::Fr => format!("Fragilité {current} aujourd'hui, {predicted} si ce plan est suivi."),
            Lang::En => format!("Fragility {current} today, {predicted} if this plan is followed."),
        },
    };
    let items = plan
        .items
        .iter()
        .map(|item| {
            let what = if item.trainings.is_empty() {
                lang.pick(
                    "aucune formation du catalogue ne couvre encore cette fonction ; une demande d'aide peut suffire.",
                    "no training of the catalogue covers this function yet; a help request may be enough.",
                )
                .to_owned()
            } else {
                item.trainings
                    .iter()
                    .map(|t| {
                        let learners: Vec<String> = t.learners.iter().map(|l| name_of(l)).collect();
                        let when = t
                            .next_session_starts
                            .get(..10)
                            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                            .map(|d| {
                                format!(
                                    ", {} {}",
                                    lang.pick("prochaine session le", "next session on"),
                                    long(d, lang)
                                )
                            })
                            .unwrap_or_default();
                        let training = lang.pick("formation", "training");
                        if learners.is_empty() {
                            format!("{training} « {} »{when}", t.title)
                        } else {
                            format!(
                                "{training} « {} » {} {}{when}",
                                t.title,
                                lang.pick("pour", "for"),
                                and_list(&learners, lang)
                            )
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ; ")
            };
            PlanItemRow {
                label: labels::function(&item.function, lang),
                exposure: if item.exposure == "orphan" {
                    lang.pick("ne repose sur personne", "rests on nobody")
                } else {
                    lang.pick("repose sur une seule personne", "rests on one person only")
                },
                what,
            }
        })
        .collect();
    PlanView { summary, items }
}

/// A help request or proposal in French words (the home page's).
pub fn request_row(r: &HelpRequest) -> RequestRow {
    request_row_in(r, Lang::Fr)
}

/// A help request or proposal in words, in `lang`.
pub fn request_row_in(r: &HelpRequest, lang: Lang) -> RequestRow {
    RequestRow {
        structure_id: r.structure_id.clone(),
        function: labels::function(&r.function, lang),
        kind: match r.kind.as_str() {
            "fragility" => lang.pick("proposition (fragilité)", "proposal (fragility)"),
            "co-submission" => lang.pick(
                "proposition (dépôt d'un dossier)",
                "proposal (submitting an application)",
            ),
            _ => lang.pick("demande de la structure", "request from the structure"),
        },
        status: match r.status.as_str() {
            "offered" => lang.pick("proposée à un conseiller", "offered to an adviser"),
            "accepted" => lang.pick("prise en charge", "taken on"),
            "unassigned" => lang.pick("en attente d'un conseiller", "waiting for an adviser"),
            "escalated" => lang.pick("transmise à la coordination", "handed to the coordination"),
            "closed" => lang.pick("terminée", "closed"),
            _ => lang.pick("en cours", "in progress"),
        },
        created_on: long_pb(r.created_on.as_ref(), lang).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_proto::alerting::v1::Stage;
    use vigie_proto::common::v1::Date;
    use vigie_proto::inventory::v1::{Band, FunctionExposure, Person};

    fn date(y: i32, m: u32, d: u32) -> Option<Date> {
        Some(Date {
            year: y,
            month: m,
            day: d,
        })
    }

    fn exposure(code: &str, label: &str, holders: &[&str]) -> FunctionExposure {
        FunctionExposure {
            code: code.to_owned(),
            label: label.to_owned(),
            criticality: 3,
            holder_ids: holders.iter().map(|h| (*h).to_owned()).collect(),
            risk: 0.5,
        }
    }

    fn answers() -> StructureAnswers {
        StructureAnswers {
            structure: Structure {
                structure_id: "S1".to_owned(),
                name: "Collectif".to_owned(),
                network: "guyane".to_owned(),
                people: vec![
                    Person {
                        person_id: "P1".to_owned(),
                        display_name: "Anne".to_owned(),
                        ..Person::default()
                    },
                    Person {
                        person_id: "P2".to_owned(),
                        display_name: "Paul".to_owned(),
                        ..Person::default()
                    },
                ],
                ..Structure::default()
            },
            fragility: StructureFragility {
                evaluated_on: date(2026, 12, 1),
                band: Band::High as i32,
                score: Some(48),
                truck_factor: Some(0),
                orphan_functions: vec!["payroll".to_owned()],
                top_key_person_id: "P1".to_owned(),
                top_key_person_name: "Anne".to_owned(),
                functions: vec![
                    exposure("submission", "Dépôt des dossiers", &["P1"]),
                    exposure("banking", "Banque en ligne", &["P1"]),
                    exposure("payroll", "Paie", &[]),
                    exposure("invoicing", "Facturation", &["P1", "P2"]),
                ],
                explanations: vec![
                    "Paie : personne ne l'assure aujourd'hui — risque 100 %.".to_owned(),
                    "Dépôt des dossiers : une seule personne (Anne, direction) — risque 50 %.".to_owned(),
                ],
                ..StructureFragility::default()
            },
            calls: vec![
                Call {
                    call_id: "late".to_owned(),
                    title: "Fonds B".to_owned(),
                    info_url: "javascript:alert(1)".to_owned(),
                    stages: vec![Stage {
                        kind: "submission".to_owned(),
                        date: date(2026, 12, 11),
                        ..Stage::default()
                    }],
                    acknowledgement: "in_progress".to_owned(),
                    ..Call::default()
                },
                Call {
                    call_id: "soon".to_owned(),
                    title: "Fonds A".to_owned(),
                    application_url: "https://example.org/a".to_owned(),
                    stages: vec![
                        Stage {
                            kind: "letter_of_intent".to_owned(),
                            date: date(2026, 11, 20),
                            ..Stage::default()
                        },
                        Stage {
                            kind: "submission".to_owned(),
                            date: date(2026, 12, 2),
                            time: Some("12:00".to_owned()),
                            ..Stage::default()
                        },
                    ],
                    ..Call::default()
                },
                Call {
                    call_id: "passed".to_owned(),
                    title: "Fonds C".to_owned(),
                    stages: vec![Stage {
                        date: date(2026, 11, 1),
                        ..Stage::default()
                    }],
                    ..Call::default()
                },
            ],
            feed_url: None,
            plan: None,
            requests: Vec::new(),
        }
    }

    #[test]
    fn the_truck_factor_names_the_key_person_and_what_stops() {
        let view = structure_view(answers(), Lang::Fr);
        assert_eq!(
            view.truck_sentence.as_deref(),
            Some("Si Anne s'absente, 2 fonctions vitales s'arrêtent : Dépôt des dossiers et Banque en ligne.")
        );
        assert_eq!(
            view.orphan_sentence.as_deref(),
            Some("1 fonction vitale ne repose sur personne aujourd'hui : Paie.")
        );
        assert_eq!((view.band_words, view.score), ("élevée", Some(48)));
        assert_eq!(view.evaluated_on, "1er décembre 2026");
    }

    #[test]
    fn the_page_reads_in_english_with_the_catalogues_english_labels() {
        let mut english = answers();
        // The API answers `lang: "en"` with English sentences.
        english.fragility.explanations =
            vec!["Payroll and social security returns (DSN): nobody performs it today — risk 100%.".to_owned()];
        english.fragility.functions[2].code = "payroll".to_owned();
        english.fragility.orphan_functions = vec!["payroll".to_owned()];
        let view = structure_view(english, Lang::En);
        assert_eq!(
            (view.band_words, view.evaluated_on.as_str()),
            ("high", "1 December 2026")
        );
        assert_eq!(
            view.orphan_sentence.as_deref(),
            Some("1 vital function rests on nobody today: Payroll and social security returns (DSN).")
        );
        let payroll = view.functions.iter().find(|f| f.label.starts_with("Payroll")).unwrap();
        assert_eq!((payroll.holders.as_str(), payroll.importance), ("Nobody", "essential"));
        assert!(payroll
            .explanation
            .as_deref()
            .unwrap()
            .starts_with("Payroll and social security returns (DSN): "));
        assert!(view.truck_sentence.unwrap().starts_with("If Anne is away, "));
        assert_eq!(view.calls[0].acknowledgement, "Not given yet");
        assert!(view.calls[0]
            .deadline
            .starts_with("2 December 2026 at 12:00 (application deadline, tomorrow)"));
    }

    #[test]
    fn levels_are_offered_in_words() {
        let levels = level_choices(Lang::Fr);
        assert_eq!(levels.len(), 5);
        assert_eq!(levels[0], (0, "0 — aucune".to_owned()));
        assert_eq!(levels[4], (4, "4 — peut former".to_owned()));
        assert_eq!(level_choices(Lang::En)[3].1, "3 — autonomous");
    }

    #[test]
    fn explanations_are_the_apis_verbatim_beside_their_function() {
        let view = structure_view(answers(), Lang::Fr);
        let row = |label: &str| view.functions.iter().find(|f| f.label == label).unwrap();
        assert_eq!(
            row("Paie").explanation.as_deref(),
            Some("Paie : personne ne l'assure aujourd'hui — risque 100 %.")
        );
        assert_eq!(row("Paie").holders, "Personne");
        assert_eq!(row("Facturation").holders, "Anne et Paul");
        assert_eq!(row("Facturation").explanation, None);
        assert!(view.other_explanations.is_empty());
    }

    #[test]
    fn open_calls_by_next_deadline_in_french_without_unsafe_links() {
        let view = structure_view(answers(), Lang::Fr);
        let ids: Vec<&str> = view.calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["soon", "late"]);
        assert_eq!(
            view.calls[0].deadline,
            "2 décembre 2026 à 12:00 (dépôt du dossier, demain)"
        );
        assert_eq!(view.calls[0].url, "https://example.org/a");
        assert_eq!(view.calls[0].acknowledgement, "Pas encore indiqué");
        assert_eq!(view.calls[1].url, "", "a javascript: link is not shown");
        assert_eq!(view.calls[1].acknowledgement, "En cours");
    }

    #[test]
    fn a_well_spread_structure_gets_the_truck_factor_in_words() {
        let fragility = StructureFragility {
            truck_factor: Some(2),
            functions: vec![exposure("invoicing", "Facturation", &["P1", "P2"])],
            ..StructureFragility::default()
        };
        assert_eq!(
            truck_sentence(&fragility, &|c: &str| c.to_owned(), Lang::Fr).as_deref(),
            Some("Il faudrait que 2 personnes s'absentent en même temps pour qu'une fonction vitale s'arrête.")
        );
    }
}
