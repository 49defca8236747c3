//! `/accompagnement` — a facilitator's home: the requests and proposals
//! offered to them (accept or decline: `Respond`), those they took on (a
//! link to record an intervention), the other open requests of their
//! networks, and their own internal and external time (`Report`). Every
//! call carries their token: the facilitation service decides what they
//! see and may answer.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use vigie_proto::dates::date_to_pb;
use vigie_proto::facilitation::v1::{HelpRequest, ListProposalsRequest, ReportLine, ReportRequest, RespondRequest};

use super::forms::done;
use super::views::{request_row_in, RequestRow};
use super::{checked_form, or_error_page, render, signed_in, Layout};
use crate::error::PageError;
use crate::labels;
use crate::lang::Lang;
use crate::services::Clients;
use crate::session::SignedIn;
use crate::{web, Console};

/// Days of the time report (up to today).
pub const REPORT_DAYS: i64 = 30;

/// One open request of the page, with what the facilitator can do.
pub struct OpenRow {
    pub id: String,
    pub row: RequestRow,
    pub description: String,
}

/// The facilitator's own time over the report's period.
#[derive(Debug, PartialEq, Eq)]
pub struct TimeView {
    pub internal: String,
    pub external: String,
    pub share: Option<String>,
}

#[derive(Template)]
#[template(path = "facilitation.html")]
struct FacilitationPage {
    layout: Layout,
    offered: Vec<OpenRow>,
    accepted: Vec<OpenRow>,
    others: Vec<OpenRow>,
    time: Option<TimeView>,
    period: String,
}

/// Requests split for the page: offered to me, taken on by me, the rest.
/// A facilitator whose id is unknown (no demo profile) sees every offered
/// request as possibly theirs: the service decides on answering.
pub fn split(requests: &[HelpRequest], me: Option<&str>, lang: Lang) -> (Vec<OpenRow>, Vec<OpenRow>, Vec<OpenRow>) {
    let (mut offered, mut accepted, mut others) = (Vec::new(), Vec::new(), Vec::new());
    for r in requests {
        let mine = me.is_none_or(|me| r.facilitator_id == me);
        let open = OpenRow {
            id: r.request_id.clone(),
            row: request_row_in(r, lang),
            description: r.description.clone(),
        };
        match r.status.as_str() {
            "offered" if mine => offered.push(open),
            "accepted" if mine => accepted.push(open),
            _ => others.push(open),
        }
    }
    (offered, accepted, others)
}

/// Minutes in words: « 2 h 05 », « 45 min ».
pub fn duration(minutes: u64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m:02}"),
    }
}

/// The facilitator's own lines of the report (one per network), summed.
pub fn time_view(lines: &[ReportLine], me: &str, lang: Lang) -> Option<TimeView> {
    let mine: Vec<&ReportLine> = lines.iter().filter(|l| l.facilitator_id == me).collect();
    if mine.is_empty() {
        return None;
    }
    let internal: u64 = mine.iter().map(|l| l.internal_minutes).sum();
    let external: u64 = mine.iter().map(|l| l.external_minutes).sum();
    let total = internal + external;
    let share = (total > 0).then(|| {
        let percent = (internal * 100 + total / 2) / total;
        match lang {
            Lang::Fr => format!("{percent} % de votre temps est allé aux besoins internes des structures."),
            Lang::En => format!("{percent}% of your time went to the structures' internal needs."),
        }
    });
    Some(TimeView {
        internal: duration(internal),
        external: duration(external),
        share,
    })
}

/// The help requests and proposals the person may see (the service
/// decides), for this page and the intervention form's.
pub(super) async fn proposals(clients: &mut Clients) -> Result<Vec<HelpRequest>, PageError> {
    let request = ListProposalsRequest::default();
    Ok(clients
        .facilitation
        .list_proposals(request)
        .await?
        .into_inner()
        .proposals)
}

/// `GET /accompagnement`.
pub async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let result = async {
        let (session, person) = signed_in(&console, &headers)?;
        let lang = session.lang;
        let mut clients = console.services.for_token(&person.token)?;
        let requests = proposals(&mut clients).await?;
        let (offered, accepted, others) = split(&requests, person.facilitator_id.as_deref(), lang);
        let today = crate::dates::today();
        let from = today - Duration::days(REPORT_DAYS - 1);
        let time = own_time(&mut clients, &person, from, today, lang).await?;
        let page = FacilitationPage {
            layout: Layout::new(&console, lang.pick("Accompagnement", "Support"), Some(&session)),
            offered,
            accepted,
            others,
            time,
            period: match lang {
                Lang::Fr => format!("{REPORT_DAYS} derniers jours"),
                Lang::En => format!("last {REPORT_DAYS} days"),
            },
        };
        Ok::<_, PageError>(render(&console, Some(&session), StatusCode::OK, &page))
    }
    .await;
    or_error_page(&console, &headers, result)
}

/// The person's time from the report of each of their networks.
async fn own_time(
    clients: &mut Clients,
    person: &SignedIn,
    from: NaiveDate,
    to: NaiveDate,
    lang: Lang,
) -> Result<Option<TimeView>, PageError> {
    let Some(me) = person.facilitator_id.as_deref() else {
        return Ok(None);
    };
    let mut lines = Vec::new();
    for network in &person.networks {
        let answer = clients
            .facilitation
            .report(ReportRequest {
                network: network.clone(),
                from: Some(date_to_pb(from)),
                to: Some(date_to_pb(to)),
            })
            .await;
        match answer {
            Ok(answer) => lines.extend(answer.into_inner().lines),
            Err(status) if status.code() == tonic::Code::Unauthenticated => return Err(PageError::SignedOut),
            // The report is a part of the page: without it, the rest shows.
            Err(status) => tracing::debug!(code = ?status.code(), "facilitator report unavailable"),
        }
    }
    Ok(time_view(&lines, me, lang))
}

/// `POST /accompagnement/reponse`: accept or decline an offered request.
pub async fn respond(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let result = async {
        let fields = form.map(|Form(fields)| fields).unwrap_or_default();
        let session = checked_form(&console, &headers, fields.get("csrf").map(String::as_str))?;
        let person = session.signed_in.clone().ok_or(PageError::SignedOut)?;
        let lang = session.lang;
        let accept = match fields.get("answer").map(String::as_str) {
            Some("accept") => true,
            Some("decline") => false,
            _ => {
                console.sessions.set_flash(
                    &session.id,
                    lang.pick(
                        "Réponse inconnue : rien n'a été enregistré.",
                        "Unknown answer: nothing was saved.",
                    ),
                );
                return Ok(web::see_other(crate::reach::FACILITATION));
            }
        };
        let mut clients = console.services.for_token(&person.token)?;
        let answer = clients
            .facilitation
            .respond(RespondRequest {
                request_id: fields.get("request_id").cloned().unwrap_or_default(),
                accept,
            })
            .await;
        let message = match answer {
            Ok(answer) => {
                let r = answer.into_inner();
                let function = labels::function(&r.function, lang);
                match (accept, lang) {
                    (true, Lang::Fr) => format!("Vous avez accepté la demande de {} ({function}).", r.structure_id),
                    (true, Lang::En) => format!("You accepted the request of {} ({function}).", r.structure_id),
                    (false, Lang::Fr) => format!(
                        "Vous avez décliné la demande de {} ({function}) : elle est proposée à quelqu'un d'autre.",
                        r.structure_id
                    ),
                    (false, Lang::En) => format!(
                        "You declined the request of {} ({function}): it is offered to someone else.",
                        r.structure_id
                    ),
                }
            }
            // Already answered, or no longer offered: say so, change nothing.
            Err(status) if status.code() == tonic::Code::FailedPrecondition => match lang {
                Lang::Fr => format!("Rien n'a changé : {}.", status.message()),
                Lang::En => "Nothing changed: this request is no longer waiting for an answer.".to_owned(),
            },
            Err(status) => return Err(PageError::from(status)),
        };
        done(&console, &session, message, crate::reach::FACILITATION)
    }
    .await;
    or_error_page(&console, &headers, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: &str, status: &str, facilitator: &str) -> HelpRequest {
        HelpRequest {
            request_id: id.to_owned(),
            status: status.to_owned(),
            facilitator_id: facilitator.to_owned(),
            function: "payroll".to_owned(),
            kind: "fragility".to_owned(),
            ..HelpRequest::default()
        }
    }

    #[test]
    fn requests_split_into_mine_to_answer_mine_taken_and_the_rest() {
        let all = [
            request("a", "offered", "CN-1"),
            request("b", "accepted", "CN-1"),
            request("c", "offered", "CN-2"),
            request("d", "unassigned", ""),
        ];
        let ids = |rows: &[OpenRow]| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        let (offered, accepted, others) = split(&all, Some("CN-1"), Lang::Fr);
        assert_eq!(
            (ids(&offered), ids(&accepted), ids(&others)),
            (
                vec!["a".to_owned()],
                vec!["b".to_owned()],
                vec!["c".to_owned(), "d".to_owned()]
            )
        );
        assert_eq!(offered[0].row.kind, "proposition (fragilité)");
        let (offered, _, _) = split(&all, None, Lang::En);
        assert_eq!(ids(&offered), ["a", "c"]);
        assert_eq!(offered[0].row.status, "offered to an adviser");
    }

    #[test]
    fn own_time_in_words_summed_over_networks() {
        let line = |id: &str, internal: u64, external: u64| ReportLine {
            facilitator_id: id.to_owned(),
            internal_minutes: internal,
            external_minutes: external,
            ..ReportLine::default()
        };
        let lines = [line("CN-1", 90, 30), line("CN-2", 500, 0), line("CN-1", 35, 0)];
        let view = time_view(&lines, "CN-1", Lang::Fr).unwrap();
        assert_eq!(view.internal, "2 h 05");
        assert_eq!(view.external, "30 min");
        assert_eq!(
            view.share.as_deref(),
            Some("81 % de votre temps est allé aux besoins internes des structures.")
        );
        assert_eq!(time_view(&lines, "CN-9", Lang::Fr), None);
        assert_eq!(duration(120), "2 h");
        assert_eq!(time_view(&[line("CN-1", 0, 0)], "CN-1", Lang::En).unwrap().share, None);
    }
}
