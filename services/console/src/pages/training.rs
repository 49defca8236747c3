//! `/formations` — a trainer's home: the catalogue's sessions with their
//! seats (`ListSessions`, `ListTrainings`), and one form to enrol a person,
//! mark a completion (`Complete`: the inventory raises the person's levels)
//! or cancel an enrolment (`Cancel`). The training service decides who may
//! (a trainer within their networks). The API lists no enrolments by
//! person, only counts per session: the page shows the counts.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDateTime;
use vigie_proto::training::v1::{
    CancelRequest, CompleteRequest, EnrolRequest, ListSessionsRequest, ListTrainingsRequest,
    Session as TrainingSession, Training,
};

use super::forms::{done, SignedInForm};
use super::{error_page, or_error_page, render, signed_in, Layout};
use crate::dates::long;
use crate::error::PageError;
use crate::lang::Lang;
use crate::services::Clients;
use crate::session::Session;
use crate::Console;

/// One session's row.
#[derive(Debug)]
pub struct SessionRow {
    pub id: String,
    pub title: String,
    pub when: String,
    pub place: String,
    pub seats: String,
}

/// The enrolment form as typed, and its errors.
#[derive(Default)]
pub struct EnrolmentForm {
    pub session: String,
    pub person: String,
    pub action: String,
    pub session_error: Option<String>,
    pub person_error: Option<String>,
    pub action_error: Option<String>,
}

/// What the form asks.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Action {
    Enrol,
    Complete,
    Cancel,
}

impl Action {
    fn parse(code: &str) -> Option<Action> {
        match code {
            "enrol" => Some(Action::Enrol),
            "complete" => Some(Action::Complete),
            "cancel" => Some(Action::Cancel),
            _ => None,
        }
    }
}

impl EnrolmentForm {
    /// Checks the form against the sessions shown; the action if valid.
    pub fn check(&mut self, sessions: &[String], lang: Lang) -> Option<Action> {
        if !sessions.contains(&self.session) {
            self.session_error = Some(lang.pick("choisissez une session.", "choose a session.").to_owned());
        }
        let person = self.person.trim();
        if person.is_empty()
            || person.len() > 64
            || !person
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.person_error = Some(
                lang.pick(
                    "indiquez l'identifiant de la personne dans l'inventaire (par exemple P000004-2).",
                    "give the person's identifier in the inventory (for example P000004-2).",
                )
                .to_owned(),
            );
        }
        let action = Action::parse(&self.action);
        if action.is_none() {
            self.action_error = Some(
                lang.pick("choisissez ce qu'il faut faire.", "choose what to do.")
                    .to_owned(),
            );
        }
        if self.session_error.is_some() || self.person_error.is_some() {
            return None;
        }
        action
    }
}

/// « 11 décembre 2026, 09:30 – 17:00 » from the catalogue's local times.
pub fn when(starts_at: &str, ends_at: &str, lang: Lang) -> String {
    let parse = |t: &str| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").ok();
    match (parse(starts_at), parse(ends_at)) {
        (Some(start), Some(end)) if start.date() == end.date() => format!(
            "{}, {} – {}",
            long(start.date(), lang),
            start.format("%H:%M"),
            end.format("%H:%M")
        ),
        (Some(start), Some(end)) => format!(
            "{} {} {}",
            long(start.date(), lang),
            lang.pick("au", "to"),
            long(end.date(), lang)
        ),
        (Some(start), None) => long(start.date(), lang),
        _ => starts_at.to_owned(),
    }
}

/// The sessions in rows, by start then title.
pub fn session_rows(sessions: &[TrainingSession], trainings: &[Training], lang: Lang) -> Vec<SessionRow> {
    let titles: HashMap<&str, &str> = trainings
        .iter()
        .map(|t| (t.training_id.as_str(), t.title.as_str()))
        .collect();
    let mut sorted: Vec<&TrainingSession> = sessions.iter().collect();
    sorted.sort_by(|a, b| {
        a.starts_at
            .cmp(&b.starts_at)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    sorted
        .into_iter()
        .map(|s| {
            let free = s.capacity.saturating_sub(s.enrolled);
            SessionRow {
                id: s.session_id.clone(),
                title: titles
                    .get(s.training_id.as_str())
                    .map_or_else(|| s.training_id.clone(), |t| (*t).to_owned()),
                when: when(&s.starts_at, &s.ends_at, lang),
                place: if !s.remote_url.is_empty() {
                    lang.pick("à distance", "remote").to_owned()
                } else if s.commune_insee.is_empty() {
                    "—".to_owned()
                } else {
                    format!("{} {}", lang.pick("commune", "municipality"), s.commune_insee)
                },
                seats: match lang {
                    Lang::Fr => format!(
                        "{} inscrits sur {} places, {free} libres, {} en attente",
                        s.enrolled, s.capacity, s.waiting
                    ),
                    Lang::En => format!(
                        "{} enrolled of {} seats, {free} free, {} waiting",
                        s.enrolled, s.capacity, s.waiting
                    ),
                },
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "training.html")]
struct TrainingPage {
    layout: Layout,
    sessions: Vec<SessionRow>,
    form: EnrolmentForm,
}

async fn show(
    console: &Console,
    session: &Session,
    clients: &mut Clients,
    form: EnrolmentForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let (sessions, trainings) = read(clients).await?;
    let page = TrainingPage {
        layout: Layout::new(console, lang.pick("Formations", "Training"), Some(session)),
        sessions: session_rows(&sessions, &trainings, lang),
        form,
    };
    Ok(render(console, Some(session), status, &page))
}

async fn read(clients: &mut Clients) -> Result<(Vec<TrainingSession>, Vec<Training>), PageError> {
    let mut training = clients.training.clone();
    let (sessions, trainings) = tokio::join!(
        clients.training.list_sessions(ListSessionsRequest::default()),
        training.list_trainings(ListTrainingsRequest::default()),
    );
    Ok((sessions?.into_inner().sessions, trainings?.into_inner().trainings))
}

/// `GET /formations`.
pub async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let result = async {
        let (session, person) = signed_in(&console, &headers)?;
        let mut clients = console.services.for_token(&person.token)?;
        show(
            &console,
            &session,
            &mut clients,
            EnrolmentForm::default(),
            StatusCode::OK,
        )
        .await
    }
    .await;
    or_error_page(&console, &headers, result)
}

/// `POST /formations/inscriptions`: enrol, complete or cancel.
pub async fn act(State(console): State<Arc<Console>>, form: SignedInForm) -> Response {
    let (session, mut clients, fields) = form.into_parts();
    let result = async {
        let lang = session.lang;
        let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
        let mut form = EnrolmentForm {
            session: get("session"),
            person: get("person"),
            action: get("action"),
            ..EnrolmentForm::default()
        };
        let (sessions, _) = read(&mut clients).await?;
        let ids: Vec<String> = sessions.iter().map(|s| s.session_id.clone()).collect();
        let Some(action) = form.check(&ids, lang) else {
            return show(&console, &session, &mut clients, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        };
        let (session_id, person_id) = (form.session.clone(), form.person.trim().to_owned());
        let answer = match action {
            Action::Enrol => clients
                .training
                .enrol(EnrolRequest {
                    session_id: session_id.clone(),
                    person_id: person_id.clone(),
                })
                .await
                .map(|a| a.into_inner().status),
            Action::Complete => clients
                .training
                .complete(CompleteRequest {
                    session_id: session_id.clone(),
                    person_id: person_id.clone(),
                    on: None,
                })
                .await
                .map(|a| a.into_inner().status),
            Action::Cancel => clients
                .training
                .cancel(CancelRequest {
                    session_id: session_id.clone(),
                    person_id: person_id.clone(),
                })
                .await
                .map(|_| "cancelled".to_owned()),
        };
        let status = match answer {
            Ok(status) => status,
            // Unknown person or enrolment, or out of the trainer's reach:
            // said next to the person, as for an unknown one.
            Err(status) if matches!(status.code(), tonic::Code::NotFound | tonic::Code::PermissionDenied) => {
                form.person_error = Some(
                    lang.pick(
                        "personne ou inscription introuvable (ou hors de vos réseaux) : rien n'a été modifié.",
                        "person or enrolment not found (or outside your networks): nothing was changed.",
                    )
                    .to_owned(),
                );
                return show(&console, &session, &mut clients, form, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::FailedPrecondition | tonic::Code::InvalidArgument
                ) =>
            {
                // The service's message is meant for people, in the page's language.
                form.action_error = Some(crate::error::service_message(&status, lang));
                return show(&console, &session, &mut clients, form, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            Err(status) => return Err(PageError::from(status)),
        };
        let words = match (status.as_str(), lang) {
            ("enrolled", Lang::Fr) => "inscrite",
            ("enrolled", Lang::En) => "enrolled",
            ("waitlisted", Lang::Fr) => "sur liste d'attente",
            ("waitlisted", Lang::En) => "on the waiting list",
            ("completed", Lang::Fr) => "formation terminée : ses niveaux sont relevés dans l'inventaire",
            ("completed", Lang::En) => "training completed: their levels are raised in the inventory",
            (_, Lang::Fr) => "inscription annulée",
            (_, Lang::En) => "enrolment cancelled",
        };
        let message = match lang {
            Lang::Fr => format!("Personne {person_id}, session {session_id} : {words}."),
            Lang::En => format!("Person {person_id}, session {session_id}: {words}."),
        };
        done(&console, &session, message, crate::reach::TRAINING)
    }
    .await;
    result.unwrap_or_else(|error| error_page(&console, Some(&session), &error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_read_with_their_dates_and_seats_in_words() {
        let sessions = [
            TrainingSession {
                session_id: "S2".to_owned(),
                training_id: "T1".to_owned(),
                starts_at: "2027-01-12T09:30".to_owned(),
                ends_at: "2027-01-12T17:00".to_owned(),
                capacity: 10,
                enrolled: 4,
                waiting: 0,
                remote_url: "https://visio.example.org".to_owned(),
                ..TrainingSession::default()
            },
            TrainingSession {
                session_id: "S1".to_owned(),
                training_id: "T9".to_owned(),
                starts_at: "2026-12-11T09:00".to_owned(),
                ends_at: "2026-12-12T12:00".to_owned(),
                commune_insee: "97302".to_owned(),
                capacity: 8,
                enrolled: 9,
                waiting: 2,
                ..TrainingSession::default()
            },
        ];
        let trainings = [Training {
            training_id: "T1".to_owned(),
            title: "Paie associative".to_owned(),
            ..Training::default()
        }];
        let rows = session_rows(&sessions, &trainings, Lang::Fr);
        assert_eq!(rows[0].id, "S1");
        assert_eq!(rows[0].when, "11 décembre 2026 au 12 décembre 2026");
        assert_eq!(rows[0].title, "T9", "an unknown training shows its id");
        assert_eq!(rows[0].seats, "9 inscrits sur 8 places, 0 libres, 2 en attente");
        assert_eq!(rows[1].when, "12 janvier 2027, 09:30 – 17:00");
        assert_eq!(
            (rows[1].title.as_str(), rows[1].place.as_str()),
            ("Paie associative", "à distance")
        );
        let english = session_rows(&sessions, &trainings, Lang::En);
        assert_eq!(english[1].when, "12 January 2027, 09:30 – 17:00");
    }

    #[test]
    fn the_enrolment_form_says_what_is_missing() {
        let sessions = vec!["S1".to_owned()];
        let mut good = EnrolmentForm {
            session: "S1".to_owned(),
            person: " P000123 ".to_owned(),
            action: "complete".to_owned(),
            ..EnrolmentForm::default()
        };
        assert_eq!(good.check(&sessions, Lang::Fr), Some(Action::Complete));
        let mut bad = EnrolmentForm {
            session: "S9".to_owned(),
            person: "<script>".to_owned(),
            action: "delete".to_owned(),
            ..EnrolmentForm::default()
        };
        assert_eq!(bad.check(&sessions, Lang::Fr), None);
        assert!(bad.session_error.is_some() && bad.person_error.is_some() && bad.action_error.is_some());
    }
}
