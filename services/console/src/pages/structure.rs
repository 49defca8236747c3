//! `/structures/<id>` — « Ma structure » — and its forms: acknowledging
//! a deadline and asking for help (here), setting a level (`holdings.rs`),
//! recording applications and grants (`grants.rs`). Every call carries the person's token: a
//! structure outside her reach is `NOT_FOUND` from the services, hence the
//! same « introuvable » page as an unknown id.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use vigie_proto::alerting::v1::{
    AcknowledgeRequest, GetFeedUrlRequest, ListCallsRequest, ListGrantsRequest, ListObligationsRequest,
};
use vigie_proto::facilitation::v1::{ListProposalsRequest, RequestHelpRequest};
use vigie_proto::inventory::v1::{GetFragilityRequest, GetStructureRequest, Structure};
use vigie_proto::training::v1::PlanRequest;

use super::forms::{done, form_answer, FormAnswer, SignedInForm};
use super::grants::{structure_grants, GrantForms, StructureGrants};
use super::holdings::HoldingForm;
use super::views::{level_choices, structure_view, StructureAnswers, StructureView};
use super::{error_page, or_error_page, render, signed_in, Layout};
use crate::error::PageError;
use crate::labels;
use crate::lang::Lang;
use crate::services::Clients;
use crate::session::Session;
use crate::{web, Console};

/// Longest help description accepted (the service stores it whole).
const MAX_DESCRIPTION: usize = 2000;

/// The help form's values and errors (empty on a first display).
#[derive(Default)]
pub struct HelpForm {
    function: String,
    description: String,
    function_error: Option<String>,
    description_error: Option<String>,
}

#[derive(Template)]
#[template(path = "structure.html")]
struct StructurePage {
    layout: Layout,
    s: StructureView,
    help: HelpForm,
    holding: HoldingForm,
    acknowledgements: [(&'static str, &'static str); 3],
    levels: Vec<(u32, String)>,
    /// « Subventions », when the alerting service answers.
    grants: Option<StructureGrants>,
    grant_forms: GrantForms,
}

/// The forms of the page, as typed (a form sent back with errors keeps
/// everything the person wrote).
#[derive(Default)]
pub struct Forms {
    pub help: HelpForm,
    pub holding: HoldingForm,
    pub grants: GrantForms,
}

/// `GET /structures/<id>`.
pub async fn page(State(console): State<Arc<Console>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let result = async {
        let (session, person) = signed_in(&console, &headers)?;
        let mut clients = console.services.for_token(&person.token)?;
        show(&console, &session, &mut clients, &id, Forms::default(), StatusCode::OK).await
    }
    .await;
    or_error_page(&console, &headers, result)
}

/// Reads everything the page shows, concurrently, then renders it.
pub(super) async fn show(
    console: &Console,
    session: &Session,
    clients: &mut Clients,
    id: &str,
    forms: Forms,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let structure_id = id.to_owned();
    // One clone per concurrent call (a client serves one call at a time).
    let (mut inventory, mut inventory2) = (clients.inventory.clone(), clients.inventory.clone());
    let (mut alerting, mut alerting2) = (clients.alerting.clone(), clients.alerting.clone());
    let (mut alerting3, mut alerting4) = (clients.alerting.clone(), clients.alerting.clone());
    let (structure, fragility, calls, feed, plan, requests, grants, obligations) = tokio::join!(
        inventory.get_structure(GetStructureRequest {
            structure_id: structure_id.clone(),
        }),
        inventory2.get_fragility(GetFragilityRequest {
            structure_id: structure_id.clone(),
            at: None,
            lang: lang.code().to_owned(),
        }),
        alerting.list_calls(ListCallsRequest {
            structure_id: structure_id.clone(),
            closing_within_days: None,
            include_closed: false,
            network: String::new(),
        }),
        alerting2.get_feed_url(GetFeedUrlRequest {
            structure_id: structure_id.clone(),
            network: String::new(),
        }),
        clients.training.plan(PlanRequest {
            structure_id: structure_id.clone(),
            at: None,
        }),
        clients.facilitation.list_proposals(ListProposalsRequest {
            structure_id: structure_id.clone(),
        }),
        alerting3.list_grants(ListGrantsRequest {
            structure_id: structure_id.clone(),
            network: String::new(),
        }),
        alerting4.list_obligations(ListObligationsRequest {
            structure_id: structure_id.clone(),
            network: String::new(),
        }),
    );
    // The structure itself decides the page (404 when out of reach); the
    // other parts show what they can, and a refused token signs out.
    let structure = structure?.into_inner();
    let fragility = fragility?.into_inner();
    let calls = optional(calls.map(|a| a.into_inner().calls), "calls")?.unwrap_or_default();
    let feed_url = optional(feed.map(|a| a.into_inner().url), "feed")?;
    let plan = optional(plan.map(tonic::Response::into_inner), "plan")?;
    let requests = optional(requests.map(|a| a.into_inner().proposals), "requests")?.unwrap_or_default();
    let grants = optional(grants.map(tonic::Response::into_inner), "grants")?;
    let obligations = optional(obligations.map(|a| a.into_inner().obligations), "obligations")?.unwrap_or_default();
    let today = crate::dates::today();
    let grants = grants.map(|g| structure_grants(&g, &obligations, today, lang));
    let view = structure_view(
        StructureAnswers {
            structure,
            fragility,
            calls,
            feed_url: feed_url.filter(|url| !url.is_empty()),
            plan,
            requests,
        },
        lang,
    );
    let page = StructurePage {
        layout: Layout::new(
            console,
            format!("{} — {}", view.name, lang.pick("ma structure", "my structure")),
            Some(session),
        ),
        s: view,
        help: forms.help,
        holding: forms.holding,
        acknowledgements: labels::acknowledgements(lang),
        levels: level_choices(lang),
        grants,
        grant_forms: forms.grants,
    };
    Ok(render(console, Some(session), status, &page))
}

/// Shows the page again with `forms` as typed and their errors (422).
pub(super) async fn show_again(
    console: &Console,
    session: &Session,
    clients: &mut Clients,
    id: &str,
    forms: Forms,
) -> Result<Response, PageError> {
    show(console, session, clients, id, forms, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// The structure's people and functions (ids and codes): what its forms
/// may name. `NOT_FOUND` when it is out of the person's reach, as the page.
pub(super) async fn people_and_functions(
    clients: &mut Clients,
    id: &str,
) -> Result<(Structure, Vec<String>, Vec<String>), PageError> {
    let structure = clients
        .inventory
        .get_structure(GetStructureRequest {
            structure_id: id.to_owned(),
        })
        .await?
        .into_inner();
    let people = structure.people.iter().map(|p| p.person_id.clone()).collect();
    let functions = structure.functions.iter().map(|f| f.code.clone()).collect();
    Ok((structure, people, functions))
}

/// A part of the page that may be missing: shown when the service answers,
/// left out otherwise — except a refused token, which signs out.
fn optional<T>(result: Result<T, tonic::Status>, what: &str) -> Result<Option<T>, PageError> {
    match result {
        Ok(answer) => Ok(Some(answer)),
        Err(status) if status.code() == tonic::Code::Unauthenticated => Err(PageError::SignedOut),
        Err(status) => {
            tracing::debug!(part = what, code = ?status.code(), "part of a structure page unavailable");
            Ok(None)
        }
    }
}

/// `POST /structures/<id>/echeances`: déposé / en cours / pas concerné.
pub async fn acknowledge(State(console): State<Arc<Console>>, Path(id): Path<String>, form: SignedInForm) -> Response {
    let (session, mut clients, fields) = form.into_parts();
    let result = async {
        let status = fields.get("status").map(String::as_str).unwrap_or_default();
        let lang = session.lang;
        let Some(words) = labels::acknowledgement_in(status, lang) else {
            console.sessions.set_flash(
                &session.id,
                lang.pick(
                    "Choix inconnu : rien n'a été enregistré.",
                    "Unknown choice: nothing was saved.",
                ),
            );
            return Ok(web::see_other(&format!("/structures/{id}#echeances")));
        };
        clients
            .alerting
            .acknowledge(AcknowledgeRequest {
                structure_id: id.clone(),
                call_id: fields.get("call_id").cloned().unwrap_or_default(),
                status: status.to_owned(),
            })
            .await?;
        let message = match lang {
            Lang::Fr => format!("Votre suivi de l'échéance est enregistré : {words}."),
            Lang::En => format!("Your follow-up of the deadline is saved: {words}."),
        };
        done(&console, &session, message, &format!("/structures/{id}#echeances"))
    }
    .await;
    result.unwrap_or_else(|error| error_page(&console, Some(&session), &error))
}

/// The help form's errors, in French, tied to their field by the template.
fn check_help(form: &mut HelpForm, functions: &[String], lang: Lang) -> bool {
    if form.function.is_empty() || !functions.contains(&form.function) {
        form.function_error = Some(
            lang.pick(
                "choisissez la fonction pour laquelle vous demandez de l'aide.",
                "choose the function you ask help for.",
            )
            .to_owned(),
        );
    }
    let description = form.description.trim();
    let count = description.chars().count();
    if description.is_empty() {
        form.description_error = Some(
            lang.pick(
                "décrivez votre besoin en quelques mots.",
                "describe your need in a few words.",
            )
            .to_owned(),
        );
    } else if count > MAX_DESCRIPTION {
        form.description_error = Some(match lang {
            Lang::Fr => {
                format!("votre description fait {count} caractères ; raccourcissez-la à 2 000 caractères au plus.")
            }
            Lang::En => format!("your description is {count} characters long; shorten it to 2,000 at most."),
        });
    }
    form.function_error.is_none() && form.description_error.is_none()
}

/// `POST /structures/<id>/aide`: a help request to the facilitation service.
pub async fn ask_for_help(State(console): State<Arc<Console>>, Path(id): Path<String>, form: SignedInForm) -> Response {
    let (session, mut clients, fields) = form.into_parts();
    let result = async {
        let lang = session.lang;
        let mut help = HelpForm {
            function: fields.get("function").cloned().unwrap_or_default(),
            description: fields.get("description").cloned().unwrap_or_default(),
            ..HelpForm::default()
        };
        let (_, _, functions) = people_and_functions(&mut clients, &id).await?;
        if !check_help(&mut help, &functions, lang) {
            let forms = Forms {
                help,
                ..Forms::default()
            };
            return show_again(&console, &session, &mut clients, &id, forms).await;
        }
        let answer = clients
            .facilitation
            .request_help(RequestHelpRequest {
                structure_id: id.clone(),
                function: help.function.clone(),
                description: help.description.trim().to_owned(),
                ..RequestHelpRequest::default()
            })
            .await;
        let request = match form_answer(answer, lang)? {
            FormAnswer::Accepted(request) => request,
            FormAnswer::Refused(message) => {
                help.description_error = Some(message);
                let forms = Forms {
                    help,
                    ..Forms::default()
                };
                return show_again(&console, &session, &mut clients, &id, forms).await;
            }
        };
        let name = &request.facilitator_name;
        let message = match (lang, name.is_empty()) {
            (Lang::Fr, true) => "Votre demande d'aide est envoyée : elle attend qu'un conseiller ou une conseillère numérique se libère.".to_owned(),
            (Lang::Fr, false) => format!("Votre demande d'aide est envoyée : elle est proposée à {name}."),
            (Lang::En, true) => "Your help request is sent: it waits for a digital adviser to be free.".to_owned(),
            (Lang::En, false) => format!("Your help request is sent: it is offered to {name}."),
        };
        done(&console, &session, message, &format!("/structures/{id}#aide"))
    }
    .await;
    result.unwrap_or_else(|error| error_page(&console, Some(&session), &error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_form_says_what_is_missing() {
        let functions = vec!["submission".to_owned()];
        let mut empty = HelpForm::default();
        assert!(!check_help(&mut empty, &functions, Lang::Fr));
        assert!(empty.function_error.is_some() && empty.description_error.is_some());

        let mut unknown = HelpForm {
            function: "other".to_owned(),
            description: "aide".to_owned(),
            ..HelpForm::default()
        };
        assert!(!check_help(&mut unknown, &functions, Lang::Fr));
        assert!(unknown.function_error.is_some() && unknown.description_error.is_none());

        let mut long = HelpForm {
            function: "submission".to_owned(),
            description: "é".repeat(MAX_DESCRIPTION + 1),
            ..HelpForm::default()
        };
        assert!(!check_help(&mut long, &functions, Lang::Fr));
        assert!(long.description_error.unwrap().contains("2001 caractères"));

        let mut good = HelpForm {
            function: "submission".to_owned(),
            description: "  personne d'autre ne sait déposer  ".to_owned(),
            ..HelpForm::default()
        };
        assert!(check_help(&mut good, &functions, Lang::Fr));
    }
}
