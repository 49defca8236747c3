//! `/accompagnement/demandes/<id>` — a facilitator records an intervention
//! on a request they took on (`RecordIntervention`): how long, for whom
//! (a structure's internal need, with the member helped, or the public),
//! that person's autonomy before and after (0–4 in words), and the
//! activity-report (CRA) fields: date, kind of activity, place, themes. A
//! request that is not theirs and accepted is « introuvable », as one
//! outside their reach; the service checks again.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use vigie_proto::dates::date_to_pb;
use vigie_proto::facilitation::v1::{HelpRequest, RecordInterventionRequest};
use vigie_proto::inventory::v1::{GetStructureRequest, Structure};

use super::facilitation::proposals;
use super::forms::{done, form_answer, FormAnswer};
use super::views::{level_choices, request_row_in, RequestRow};
use super::{checked_form, or_error_page, render, signed_in, Layout};
use crate::cra;
use crate::error::PageError;
use crate::labels;
use crate::lang::Lang;
use crate::services::Clients;
use crate::session::{Session, SignedIn};
use crate::Console;

/// Longest intervention accepted, in minutes (a full day).
pub const MAX_MINUTES: u32 = 24 * 60;

/// The form as typed, and its errors (each shown next to its field).
#[derive(Default, Debug)]
pub struct InterventionForm {
    pub minutes: String,
    pub beneficiary: String,
    pub person: String,
    pub autonomy_before: String,
    pub autonomy_after: String,
    pub on: String,
    pub activity_type: String,
    pub place: String,
    pub themes: Vec<String>,
    pub minutes_error: Option<String>,
    pub beneficiary_error: Option<String>,
    pub person_error: Option<String>,
    pub autonomy_error: Option<String>,
    pub on_error: Option<String>,
    pub activity_error: Option<String>,
    pub place_error: Option<String>,
    pub themes_error: Option<String>,
}

impl InterventionForm {
    /// A blank form: today, an individual support, somewhere else.
    pub fn blank(today: NaiveDate) -> Self {
        InterventionForm {
            on: today.format("%Y-%m-%d").to_string(),
            activity_type: "individuel".to_owned(),
            place: "autre".to_owned(),
            ..InterventionForm::default()
        }
    }

    /// The form from its fields (`themes` repeats).
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        InterventionForm {
            minutes: get("minutes"),
            beneficiary: get("beneficiary"),
            person: get("person"),
            autonomy_before: get("autonomy_before"),
            autonomy_after: get("autonomy_after"),
            on: get("on"),
            activity_type: get("activity_type"),
            place: get("place"),
            themes: pairs
                .iter()
                .filter(|(k, _)| k == "themes")
                .map(|(_, v)| v.clone())
                .collect(),
            ..InterventionForm::default()
        }
    }

    /// Whether `code` is a chosen theme (for the template's checkboxes).
    pub fn has_theme(&self, code: &str) -> bool {
        self.themes.iter().any(|t| t == code)
    }

    /// Checks the form for `request_id` against the structure's people;
    /// `None` (and errors set) when something is wrong.
    pub fn check(
        &mut self,
        request_id: &str,
        people: &[String],
        today: NaiveDate,
        lang: Lang,
    ) -> Option<RecordInterventionRequest> {
        let minutes = self
            .minutes
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|m| (1..=MAX_MINUTES).contains(m));
        if minutes.is_none() {
            self.minutes_error = Some(
                lang.pick(
                    "indiquez la durée en minutes, entre 1 et 1440 (par exemple 90 pour une heure et demie).",
                    "give the duration in minutes, between 1 and 1440 (for example 90 for an hour and a half).",
                )
                .to_owned(),
            );
        }
        let internal = match self.beneficiary.as_str() {
            "internal" => Some(true),
            "external" => Some(false),
            _ => {
                self.beneficiary_error = Some(
                    lang.pick(
                        "indiquez pour qui : un besoin interne de la structure, ou une personne extérieure.",
                        "say for whom: an internal need of the structure, or an external person.",
                    )
                    .to_owned(),
                );
                None
            }
        };
        let level = |text: &str| -> Result<Option<u32>, ()> {
            match text.trim() {
                "" => Ok(None),
                t => t.parse::<u32>().ok().filter(|l| *l <= 4).map(Some).ok_or(()),
            }
        };
        let (before, after) = match (level(&self.autonomy_before), level(&self.autonomy_after)) {
            (Ok(before), Ok(after)) => (before, after),
            _ => {
                self.autonomy_error = Some(
                    lang.pick("choisissez un niveau entre 0 et 4.", "choose a level between 0 and 4.")
                        .to_owned(),
                );
                (None, None)
            }
        };
        let person = self.person.trim().to_owned();
        if !person.is_empty() && !people.contains(&person) {
            self.person_error = Some(
                lang.pick(
                    "choisissez une personne de la structure.",
                    "choose a person of the structure.",
                )
                .to_owned(),
            );
        } else if !person.is_empty() && internal == Some(false) {
            self.person_error = Some(
                lang.pick(
                    "une personne de la structure se note seulement pour un besoin interne ; laissez « aucune » pour une personne extérieure.",
                    "a member of the structure is recorded only for an internal need; leave “nobody” for an external person.",
                )
                .to_owned(),
            );
        } else if person.is_empty() && (before.is_some() || after.is_some()) {
            self.person_error = Some(
                lang.pick(
                    "l'autonomie se note pour une personne : choisissez la personne aidée.",
                    "autonomy is recorded for a person: choose the person helped.",
                )
                .to_owned(),
            );
        }
        let on = match NaiveDate::parse_from_str(self.on.trim(), "%Y-%m-%d") {
            Ok(date) if date <= today => Some(date),
            Ok(_) => {
                self.on_error = Some(
                    lang.pick("cette date est dans le futur.", "this date is in the future.")
                        .to_owned(),
                );
                None
            }
            Err(_) => {
                self.on_error = Some(
                    lang.pick(
                        "écrivez la date sous la forme 2026-12-11 (année-mois-jour).",
                        "write the date as 2026-12-11 (year-month-day).",
                    )
                    .to_owned(),
                );
                None
            }
        };
        if cra::label(cra::ACTIVITY_TYPES, &self.activity_type, lang).is_none() {
            self.activity_error = Some(
                lang.pick("choisissez le type d'activité.", "choose the kind of activity.")
                    .to_owned(),
            );
        }
        if cra::label(cra::PLACES, &self.place, lang).is_none() {
            self.place_error = Some(lang.pick("choisissez le lieu.", "choose the place.").to_owned());
        }
        if self.themes.iter().any(|t| cra::label(cra::THEMES, t, lang).is_none()) {
            self.themes_error = Some(
                lang.pick("une thématique choisie est inconnue.", "a chosen theme is unknown.")
                    .to_owned(),
            );
        }
        let errors = [
            &self.minutes_error,
            &self.beneficiary_error,
            &self.person_error,
            &self.autonomy_error,
            &self.on_error,
            &self.activity_error,
            &self.place_error,
            &self.themes_error,
        ];
        if errors.iter().any(|e| e.is_some()) {
            return None;
        }
        Some(RecordInterventionRequest {
            request_id: request_id.to_owned(),
            minutes: minutes.unwrap_or_default(),
            beneficiary: self.beneficiary.clone(),
            person_id: person,
            autonomy_after: after,
            autonomy_before: before,
            on: on.map(date_to_pb),
            key: String::new(),
            activity_type: self.activity_type.clone(),
            place: self.place.clone(),
            themes: self.themes.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "intervention.html")]
struct InterventionPage {
    layout: Layout,
    id: String,
    request: RequestRow,
    description: String,
    structure_name: String,
    people: Vec<(String, String)>,
    form: InterventionForm,
    levels: Vec<(u32, String)>,
    activities: Vec<(&'static str, &'static str)>,
    places: Vec<(&'static str, &'static str)>,
    themes: Vec<(&'static str, &'static str)>,
}

/// The structure a help request is about (its people are the form's
/// choices), with the person's token.
async fn structure_of(clients: &mut Clients, request: &HelpRequest) -> Result<Structure, PageError> {
    let structure_id = request.structure_id.clone();
    Ok(clients
        .inventory
        .get_structure(GetStructureRequest { structure_id })
        .await?
        .into_inner())
}

/// The request `id` if it is open, accepted, and (when known) the person's.
async fn taken_on(clients: &mut Clients, person: &SignedIn, id: &str) -> Result<HelpRequest, PageError> {
    let requests = proposals(clients).await?;
    requests
        .into_iter()
        .find(|r| {
            r.request_id == id
                && r.status == "accepted"
                && person.facilitator_id.as_deref().is_none_or(|me| r.facilitator_id == me)
        })
        .ok_or(PageError::NotFound)
}

/// Renders the page of `request` with `form`.
async fn show(
    console: &Console,
    session: &Session,
    clients: &mut Clients,
    request: &HelpRequest,
    form: InterventionForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let structure = structure_of(clients, request).await?;
    let page = InterventionPage {
        layout: Layout::new(
            console,
            lang.pick("Noter une intervention", "Record an intervention"),
            Some(session),
        ),
        id: request.request_id.clone(),
        request: request_row_in(request, lang),
        description: request.description.clone(),
        structure_name: structure.name,
        people: structure
            .people
            .iter()
            .map(|p| (p.person_id.clone(), p.display_name.clone()))
            .collect(),
        form,
        levels: level_choices(lang),
        activities: cra::choices(cra::ACTIVITY_TYPES, lang),
        places: cra::choices(cra::PLACES, lang),
        themes: cra::choices(cra::THEMES, lang),
    };
    Ok(render(console, Some(session), status, &page))
}

/// `GET /accompagnement/demandes/<id>`.
pub async fn page(State(console): State<Arc<Console>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let result = async {
        let (session, person) = signed_in(&console, &headers)?;
        let mut clients = console.services.for_token(&person.token)?;
        let request = taken_on(&mut clients, &person, &id).await?;
        let form = InterventionForm::blank(crate::dates::today());
        show(&console, &session, &mut clients, &request, form, StatusCode::OK).await
    }
    .await;
    or_error_page(&console, &headers, result)
}

/// `POST /accompagnement/demandes/<id>`.
pub async fn record(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let result = async {
        let pairs = form.map(|Form(pairs)| pairs).unwrap_or_default();
        let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
        let session = checked_form(&console, &headers, csrf)?;
        let person = session.signed_in.clone().ok_or(PageError::SignedOut)?;
        let lang = session.lang;
        let mut clients = console.services.for_token(&person.token)?;
        let request = taken_on(&mut clients, &person, &id).await?;
        let structure = structure_of(&mut clients, &request).await?;
        let people: Vec<String> = structure.people.iter().map(|p| p.person_id.clone()).collect();
        let mut form = InterventionForm::from_pairs(&pairs);
        let today = crate::dates::today();
        // Refused by the form's checks or by the service: the form again, as typed.
        let recorded = match form.check(&id, &people, today, lang) {
            None => None,
            Some(call) => match form_answer(clients.facilitation.record_intervention(call.clone()).await, lang)? {
                FormAnswer::Accepted(answer) => Some((call, answer)),
                FormAnswer::Refused(message) => {
                    form.minutes_error = Some(message);
                    None
                }
            },
        };
        let Some((call, answer)) = recorded else {
            return show(
                &console,
                &session,
                &mut clients,
                &request,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        };
        let function = labels::function(&request.function, lang);
        let name = structure
            .people
            .iter()
            .find(|p| p.person_id == call.person_id)
            .map(|p| p.display_name.clone());
        let mut message = match (answer.recorded, lang) {
            (true, Lang::Fr) => format!(
                "Intervention notée : {} min pour {} ({function}).",
                call.minutes, request.structure_id
            ),
            (true, Lang::En) => format!(
                "Intervention recorded: {} min for {} ({function}).",
                call.minutes, request.structure_id
            ),
            (false, Lang::Fr) => "Cette intervention était déjà notée : elle n'est pas comptée deux fois.".to_owned(),
            (false, Lang::En) => "This intervention was already recorded: it is not counted twice.".to_owned(),
        };
        if let (true, Some(name)) = (answer.autonomy_published, name) {
            message.push_str(&match lang {
                Lang::Fr => format!(
                    " {name} est désormais autonome sur cette fonction : l'inventaire de la structure est mis à jour."
                ),
                Lang::En => {
                    format!(" {name} is now autonomous on this function: the structure's inventory is updated.")
                }
            });
        }
        done(&console, &session, message, crate::reach::FACILITATION)
    }
    .await;
    or_error_page(&console, &headers, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    #[test]
    fn a_complete_internal_intervention_becomes_the_rpcs_request() {
        let mut form = InterventionForm::from_pairs(&pairs(&[
            ("minutes", "90"),
            ("beneficiary", "internal"),
            ("person", "P1"),
            ("autonomy_before", "1"),
            ("autonomy_after", "3"),
            ("on", "2026-12-02"),
            ("activity_type", "individuel"),
            ("place", "domicile"),
            ("themes", "bureautique"),
            ("themes", "email"),
        ]));
        let call = form.check("R1", &["P1".to_owned()], today(), Lang::Fr).unwrap();
        assert_eq!(
            (call.minutes, call.autonomy_before, call.autonomy_after),
            (90, Some(1), Some(3))
        );
        assert_eq!(call.themes, ["bureautique", "email"]);
        assert_eq!(call.person_id, "P1");
        assert_eq!(call.on.map(|d| (d.year, d.month, d.day)), Some((2026, 12, 2)));
        assert!(form.has_theme("email") && !form.has_theme("sante"));
    }

    #[test]
    fn every_mistake_is_said_next_to_its_field_and_nothing_typed_is_lost() {
        let mut form = InterventionForm::from_pairs(&pairs(&[
            ("minutes", "0"),
            ("beneficiary", "someone"),
            ("person", "P9"),
            ("autonomy_after", "7"),
            ("on", "2027-01-01"),
            ("activity_type", "x"),
            ("place", "lune"),
            ("themes", "astrologie"),
        ]));
        assert!(form.check("R1", &["P1".to_owned()], today(), Lang::Fr).is_none());
        for error in [
            &form.minutes_error,
            &form.beneficiary_error,
            &form.person_error,
            &form.autonomy_error,
            &form.on_error,
            &form.activity_error,
            &form.place_error,
            &form.themes_error,
        ] {
            assert!(error.is_some(), "{form:?}");
        }
        assert_eq!((form.minutes.as_str(), form.place.as_str()), ("0", "lune"));
        assert_eq!(form.themes, ["astrologie"]);

        // Autonomy without a person, a person for the public.
        let mut no_person = InterventionForm::from_pairs(&pairs(&[
            ("minutes", "30"),
            ("beneficiary", "internal"),
            ("autonomy_after", "3"),
            ("on", "2026-12-03"),
            ("activity_type", "collectif"),
            ("place", "autre"),
        ]));
        assert!(no_person.check("R1", &[], today(), Lang::En).is_none());
        assert!(no_person.person_error.unwrap().contains("choose the person helped"));
        let mut public = InterventionForm::from_pairs(&pairs(&[
            ("minutes", "30"),
            ("beneficiary", "external"),
            ("person", "P1"),
            ("on", "2026-12-03"),
            ("activity_type", "individuel"),
            ("place", "a_distance"),
        ]));
        assert!(public.check("R1", &["P1".to_owned()], today(), Lang::Fr).is_none());
        assert!(public.person_error.unwrap().contains("besoin interne"));
    }

    #[test]
    fn a_blank_form_proposes_today_and_defaults() {
        let form = InterventionForm::blank(today());
        assert_eq!(
            (form.on.as_str(), form.activity_type.as_str(), form.place.as_str()),
            ("2026-12-03", "individuel", "autre")
        );
    }
}
