//! `POST /structures/<id>/niveaux` — the director updates the inventory:
//! one person's level (0–4, in words) on one vital function, and when she
//! last practised it (`SetHolding`). The services decide who may: a
//! structure's managers and its network's admins. The API has no call to
//! add a person or a function, nor to change a person's end date (only the
//! CSV import does): the page offers only what `SetHolding` can do.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use vigie_proto::dates::date_to_pb;
use vigie_proto::inventory::v1::SetHoldingRequest;

use super::error_page;
use super::forms::{done, form_answer, FormAnswer, SignedInForm};
use super::structure::{people_and_functions, show_again, Forms};
use crate::labels;
use crate::lang::Lang;
use crate::Console;

/// The levels form's values and errors (empty on a first display).
#[derive(Default)]
pub struct HoldingForm {
    pub person: String,
    pub function: String,
    pub level: String,
    pub last_practised: String,
    pub person_error: Option<String>,
    pub function_error: Option<String>,
    pub level_error: Option<String>,
    pub date_error: Option<String>,
}

/// What a valid form asks for.
#[derive(Debug, PartialEq, Eq)]
pub struct HoldingChange {
    pub person: String,
    pub function: String,
    pub level: u32,
    pub last_practised: Option<NaiveDate>,
}

impl HoldingForm {
    /// The form as typed (values kept whole for a second display).
    pub fn from_fields(fields: &std::collections::HashMap<String, String>) -> Self {
        let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
        HoldingForm {
            person: get("person"),
            function: get("function"),
            level: get("level"),
            last_practised: get("last_practised"),
            ..HoldingForm::default()
        }
    }

    /// Checks the form against the structure's people and functions; the
    /// errors are written next to their field.
    pub fn check(
        &mut self,
        people: &[String],
        functions: &[String],
        today: NaiveDate,
        lang: Lang,
    ) -> Option<HoldingChange> {
        if !people.contains(&self.person) {
            self.person_error = Some(
                lang.pick(
                    "choisissez une personne de la structure.",
                    "choose a person of the structure.",
                )
                .to_owned(),
            );
        }
        if !functions.contains(&self.function) {
            self.function_error = Some(
                lang.pick(
                    "choisissez une fonction vitale de la structure.",
                    "choose a vital function of the structure.",
                )
                .to_owned(),
            );
        }
        let level = self.level.trim().parse::<u32>().ok().filter(|l| *l <= 4);
        if level.is_none() {
            self.level_error = Some(
                lang.pick(
                    "choisissez un niveau entre 0 (aucune compétence) et 4 (peut former d'autres personnes).",
                    "choose a level between 0 (none) and 4 (can train others).",
                )
                .to_owned(),
            );
        }
        let text = self.last_practised.trim();
        let date = if text.is_empty() {
            None
        } else {
            match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) if date <= today => Some(date),
                Ok(_) => {
                    self.date_error = Some(
                        lang.pick("cette date est dans le futur.", "this date is in the future.")
                            .to_owned(),
                    );
                    None
                }
                Err(_) => {
                    self.date_error = Some(
                        lang.pick(
                            "écrivez la date sous la forme 2026-12-11 (année-mois-jour), ou laissez vide.",
                            "write the date as 2026-12-11 (year-month-day), or leave it empty.",
                        )
                        .to_owned(),
                    );
                    None
                }
            }
        };
        let valid = self.person_error.is_none()
            && self.function_error.is_none()
            && self.level_error.is_none()
            && self.date_error.is_none();
        valid.then(|| HoldingChange {
            person: self.person.clone(),
            function: self.function.clone(),
            level: level.unwrap_or_default(),
            last_practised: date,
        })
    }
}

/// `POST /structures/<id>/niveaux`.
pub async fn set_level(State(console): State<Arc<Console>>, Path(id): Path<String>, form: SignedInForm) -> Response {
    let (session, mut clients, fields) = form.into_parts();
    let result = async {
        let lang = session.lang;
        let mut holding = HoldingForm::from_fields(&fields);
        // A person of another structure cannot be changed from this page.
        let (structure, people, functions) = people_and_functions(&mut clients, &id).await?;
        let today = crate::dates::today();
        let Some(change) = holding.check(&people, &functions, today, lang) else {
            let forms = Forms {
                holding,
                ..Forms::default()
            };
            return show_again(&console, &session, &mut clients, &id, forms).await;
        };
        let answer = clients
            .inventory
            .set_holding(SetHoldingRequest {
                person_id: change.person.clone(),
                function: change.function.clone(),
                level: change.level,
                last_practised: change.last_practised.map(date_to_pb),
                evidence: "manual".to_owned(),
                raise_only: false,
            })
            .await;
        let answer = match form_answer(answer, lang)? {
            FormAnswer::Accepted(answer) => answer,
            FormAnswer::Refused(message) => {
                holding.level_error = Some(message);
                let forms = Forms {
                    holding,
                    ..Forms::default()
                };
                return show_again(&console, &session, &mut clients, &id, forms).await;
            }
        };
        let name = structure
            .people
            .iter()
            .find(|p| p.person_id == change.person)
            .map_or(change.person.as_str(), |p| p.display_name.as_str());
        let words = labels::level(change.level, lang).unwrap_or_default();
        let function = labels::function(&change.function, lang);
        let score = answer
            .fragility
            .and_then(|f| f.score)
            .map(|s| match lang {
                Lang::Fr => format!(" Score de fragilité : {s} sur 100."),
                Lang::En => format!(" Fragility score: {s} out of 100."),
            })
            .unwrap_or_default();
        let message = match lang {
            Lang::Fr => format!(
                "Niveau enregistré : {name}, {function}, {} — {words}.{score}",
                change.level
            ),
            Lang::En => format!("Level saved: {name}, {function}, {} — {words}.{score}", change.level),
        };
        done(&console, &session, message, &format!("/structures/{id}#inventaire"))
    }
    .await;
    result.unwrap_or_else(|error| error_page(&console, Some(&session), &error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(person: &str, function: &str, level: &str, date: &str) -> HoldingForm {
        HoldingForm {
            person: person.to_owned(),
            function: function.to_owned(),
            level: level.to_owned(),
            last_practised: date.to_owned(),
            ..HoldingForm::default()
        }
    }

    #[test]
    fn the_levels_form_says_what_is_wrong_next_to_each_field() {
        let people = vec!["P1".to_owned()];
        let functions = vec!["payroll".to_owned()];
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();

        let mut good = form("P1", "payroll", "3", "2026-11-30");
        assert_eq!(
            good.check(&people, &functions, today, Lang::Fr),
            Some(HoldingChange {
                person: "P1".to_owned(),
                function: "payroll".to_owned(),
                level: 3,
                last_practised: NaiveDate::from_ymd_opt(2026, 11, 30),
            })
        );
        let mut no_date = form("P1", "payroll", "0", " ");
        assert_eq!(
            no_date
                .check(&people, &functions, today, Lang::Fr)
                .unwrap()
                .last_practised,
            None
        );

        let mut forged = form("P9", "banking", "7", "30/11/2026");
        assert_eq!(forged.check(&people, &functions, today, Lang::En), None);
        assert!(forged.person_error.is_some() && forged.function_error.is_some());
        assert!(forged.level_error.unwrap().contains("between 0"));
        assert!(forged.date_error.unwrap().contains("year-month-day"));

        let mut future = form("P1", "payroll", "2", "2027-01-01");
        assert_eq!(future.check(&people, &functions, today, Lang::Fr), None);
        assert_eq!(future.date_error.as_deref(), Some("cette date est dans le futur."));
        assert!(future.person_error.is_none() && future.level_error.is_none());
    }
}
