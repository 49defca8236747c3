//! What the templates show, built from the services' answers by pure
//! functions (unit-tested without a server): sentences, French dates,
//! labels instead of codes.

use std::collections::HashMap;

use chrono::NaiveDate;
use vigie_proto::alerting::v1::Call;
use vigie_proto::dates::date_from_pb;
use vigie_proto::facilitation::v1::HelpRequest;
use vigie_proto::inventory::v1::{Structure, StructureFragility};
use vigie_proto::training::v1::StructurePlan;

use crate::dates::{days_from_now, french, french_pb};
use crate::labels;

/// One vital function's row.
pub struct FunctionRow {
    pub label: String,
    pub importance: &'static str,
    pub holders: String,
    /// The API's plain-French sentence for this function, verbatim.
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
    /// (code, label) of the functions one can ask help for.
    pub help_functions: Vec<(String, String)>,
    pub requests: Vec<RequestRow>,
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

fn importance(criticality: u32) -> &'static str {
    match criticality {
        3.. => "essentielle",
        2 => "importante",
        _ => "utile",
    }
}

/// « a, b et c ».
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} et {last}", init.join(", ")),
    }
}

/// Builds the page from the answers.
pub fn structure_view(answers: StructureAnswers) -> StructureView {
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
    let label_of = |code: &str| {
        fragility
            .functions
            .iter()
            .find(|f| f.code == code)
            .map_or_else(|| code.to_owned(), |f| f.label.clone())
    };
    let today = fragility.evaluated_on.as_ref().and_then(date_from_pb);
    let (band_words, band_meaning) = labels::band(fragility.band);

    // The sentences of the API, attached to their function ("Label : …").
    let mut explanations: Vec<Option<String>> = fragility.explanations.iter().cloned().map(Some).collect();
    let functions: Vec<FunctionRow> = fragility
        .functions
        .iter()
        .map(|f| {
            let prefix = format!("{} : ", f.label);
            let explanation = explanations
                .iter_mut()
                .find(|e| e.as_deref().is_some_and(|e| e.starts_with(&prefix)))
                .and_then(Option::take);
            let holders: Vec<String> = f.holder_ids.iter().map(|id| name_of(id)).collect();
            FunctionRow {
                label: f.label.clone(),
                importance: importance(f.criticality),
                holders: if holders.is_empty() {
                    "Personne".to_owned()
                } else {
                    and_list(&holders)
                },
                explanation,
            }
        })
        .collect();

    StructureView {
        id: structure.structure_id.clone(),
        name: structure.name.clone(),
        network: structure.network.clone(),
        evaluated_on: french_pb(fragility.evaluated_on.as_ref()).unwrap_or_else(|| "jour inconnu".to_owned()),
        score: fragility.score,
        band_words,
        band_meaning,
        band_class: labels::band_class(fragility.band),
        truck_sentence: truck_sentence(&fragility, &label_of),
        orphan_sentence: orphan_sentence(&fragility, &label_of),
        functions,
        other_explanations: explanations.into_iter().flatten().collect(),
        calls: call_rows(&calls, today),
        feed_url,
        plan: plan.map(|p| plan_view(&p, &name_of)),
        help_functions: structure
            .functions
            .iter()
            .map(|f| (f.code.clone(), f.label.clone()))
            .collect(),
        requests: requests.iter().map(request_row).collect(),
    }
}

/// « Si Anne Martin s'absente, 4 fonctions vitales s'arrêtent : … » — the
/// top key person and the functions they hold alone; else what the truck
/// factor says.
fn truck_sentence(fragility: &StructureFragility, label_of: &dyn Fn(&str) -> String) -> Option<String> {
    let top = &fragility.top_key_person_id;
    if !top.is_empty() {
        let alone: Vec<String> = fragility
            .functions
            .iter()
            .filter(|f| f.holder_ids.len() == 1 && f.holder_ids[0] == *top)
            .map(|f| label_of(&f.code))
            .collect();
        if !alone.is_empty() {
            return Some(format!(
                "Si {} s'absente, {} : {}.",
                fragility.top_key_person_name,
                labels::functions_stop(alone.len()),
                and_list(&alone)
            ));
        }
    }
    match fragility.truck_factor {
        Some(n) if n >= 2 => Some(format!(
            "Il faudrait que {n} personnes s'absentent en même temps pour qu'une fonction vitale s'arrête."
        )),
        _ => None,
    }
}

/// « 2 fonctions vitales ne reposent sur personne aujourd'hui : … ».
fn orphan_sentence(fragility: &StructureFragility, label_of: &dyn Fn(&str) -> String) -> Option<String> {
    let orphans: Vec<String> = fragility.orphan_functions.iter().map(|c| label_of(c)).collect();
    match orphans.len() {
        0 => None,
        1 => Some(format!(
            "1 fonction vitale ne repose sur personne aujourd'hui : {}.",
            orphans[0]
        )),
        n => Some(format!(
            "{n} fonctions vitales ne reposent sur personne aujourd'hui : {}.",
            and_list(&orphans)
        )),
    }
}

/// The calls still open, by next deadline (the first stage on or after
/// `today`; cancelled calls and passed deadlines are left out).
fn call_rows(calls: &[Call], today: Option<NaiveDate>) -> Vec<CallRow> {
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
            let at = stage.time.as_deref().map(|t| format!(" à {t}")).unwrap_or_default();
            let distance = today
                .map(|t| format!(", {}", days_from_now((date - t).num_days())))
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
                    deadline: format!("{}{at} ({}{distance})", french(date), labels::stage_kind(&stage.kind)),
                    acknowledgement: labels::acknowledgement(&c.acknowledgement).unwrap_or("Pas encore indiqué"),
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

fn plan_view(plan: &StructurePlan, name_of: &dyn Fn(&str) -> String) -> PlanView {
    let (current, _) = labels::band(plan.current_band);
    let (predicted, _) = labels::band(plan.predicted_band);
    let summary = match (plan.current_score, plan.predicted_score) {
        _ if plan.items.is_empty() => "Aucune formation n'est nécessaire : aucune fonction vitale ne repose sur une seule personne ou sur personne.".to_owned(),
        (Some(now), Some(then)) => format!(
            "Si ce plan est suivi, le score de fragilité passera de {now} à {then} sur 100 (fragilité {current} aujourd'hui, {predicted} ensuite)."
        ),
        _ => format!("Fragilité {current} aujourd'hui, {predicted} si ce plan est suivi."),
    };
    let items = plan
        .items
        .iter()
        .map(|item| {
            let what = if item.trainings.is_empty() {
                "aucune formation du catalogue ne couvre encore cette fonction ; une demande d'aide peut suffire."
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
                            .map(|d| format!(", prochaine session le {}", french(d)))
                            .unwrap_or_default();
                        if learners.is_empty() {
                            format!("formation « {} »{when}", t.title)
                        } else {
                            format!("formation « {} » pour {}{when}", t.title, and_list(&learners))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ; ")
            };
            PlanItemRow {
                label: item.label.clone(),
                exposure: if item.exposure == "orphan" {
                    "ne repose sur personne"
                } else {
                    "repose sur une seule personne"
                },
                what,
            }
        })
        .collect();
    PlanView { summary, items }
}

/// A help request or proposal in words.
pub fn request_row(r: &HelpRequest) -> RequestRow {
    RequestRow {
        structure_id: r.structure_id.clone(),
        // The French label, as everywhere a person reads a function.
        function: vigie_inventory_domain::catalogue::label_fr(&r.function),
        kind: match r.kind.as_str() {
            "fragility" => "proposition (fragilité)",
            "co-submission" => "proposition (dépôt d'un dossier)",
            _ => "demande de la structure",
        },
        status: match r.status.as_str() {
            "offered" => "proposée à un conseiller",
            "accepted" => "prise en charge",
            "unassigned" => "en attente d'un conseiller",
            "escalated" => "transmise à la coordination",
            "closed" => "terminée",
            _ => "en cours",
        },
        created_on: french_pb(r.created_on.as_ref()).unwrap_or_default(),
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
        let view = structure_view(answers());
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
    fn explanations_are_the_apis_verbatim_beside_their_function() {
        let view = structure_view(answers());
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
        let view = structure_view(answers());
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
            truck_sentence(&fragility, &|c: &str| c.to_owned()).as_deref(),
            Some("Il faudrait que 2 personnes s'absentent en même temps pour qu'une fonction vitale s'arrête.")
        );
    }
}
