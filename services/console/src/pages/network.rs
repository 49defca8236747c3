//! `/reseaux/<network>` — the network coordinator's home — and its reminder
//! policy form (`POST /reseaux/<network>/rappels`). Every call carries the
//! person's token: a network outside her reach has no structure for her
//! (and its policy is refused), hence « Page introuvable ».
//!
//! The page is one pass over the network, five calls at once whatever its
//! size: ListStructures, ListFragility (streamed, filtered by network in the
//! request), ListProposals, GetNetworkPolicy, and ListCalls for the network
//! (each call closing within the fortnight with the structures it matches).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::TryStreamExt;
use vigie_proto::alerting::v1::{GetNetworkPolicyRequest, GrantStatsRequest, ListCallsRequest};
use vigie_proto::facilitation::v1::ListProposalsRequest;
use vigie_proto::inventory::v1::{ListFragilityRequest, ListStructuresRequest, StructureFragility};

use super::forms::SignedInForm;
use super::grants::{grant_views, GrantViews};
use super::network_view::{
    at_risk, band_choices, calls_by_structure, evaluated_on, function_choices, latest_requests, network_rollup,
    page_of, parse_policy, parse_query, place_service_refusal, policy_form, table, typed_form, AtRiskRow, PolicyForm,
    RollupView, Table, TableQuery, AT_RISK_DAYS, SHOWN_REQUESTS,
};
use super::views::{request_row, RequestRow};
use super::{error_page, or_error_page, render, signed_in, Layout};
use crate::error::PageError;
use crate::lang::Lang;
use crate::services::Clients;
use crate::session::Session;
use crate::{web, Console};

/// A help request with its structure's name.
pub struct NamedRequest {
    pub name: String,
    pub row: RequestRow,
}

#[derive(Template)]
#[template(path = "network.html")]
struct NetworkPage {
    layout: Layout,
    network: String,
    query: TableQuery,
    table: Table,
    /// (page number, address) of every page of the table.
    page_links: Vec<(usize, String)>,
    bands: Vec<(&'static str, &'static str)>,
    functions: Vec<(String, String)>,
    /// This page of the at-risk deadlines.
    at_risk: Vec<AtRiskRow>,
    /// Every at-risk deadline (all pages).
    at_risk_count: usize,
    risk_page: usize,
    risk_links: Vec<(usize, String)>,
    rollup: RollupView,
    requests: Vec<NamedRequest>,
    /// Requests of the network in all (only the most recent are shown).
    requests_total: usize,
    policy: PolicyForm,
    policy_inputs: Vec<PolicyInput>,
    /// « Subventions du réseau », when the alerting service answers.
    grants: Option<GrantViews>,
}

/// A field of the policy form as the template shows it.
pub struct PolicyInput {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub error: Option<String>,
    /// The input's type (text, email, url, password).
    pub kind: &'static str,
    pub autocomplete: &'static str,
}

/// `GET /reseaux/<network>`.
pub async fn page(
    State(console): State<Arc<Console>>,
    Path(network): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let (session, person) = signed_in(&console, &headers)?;
        let mut clients = console.services.for_token(&person.token)?;
        let query = parse_query(&params);
        show(&console, &session, &mut clients, &network, &query, None, StatusCode::OK).await
    }
    .await;
    or_error_page(&console, &headers, result)
}

/// Reads everything the page shows, then renders it; `policy` is the form
/// as typed when it is shown again with its errors.
async fn show(
    console: &Console,
    session: &Session,
    clients: &mut Clients,
    network: &str,
    query: &TableQuery,
    policy: Option<PolicyForm>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = session.lang;
    let (mut inventory, mut inventory2) = (clients.inventory.clone(), clients.inventory.clone());
    let (mut alerting, mut alerting2) = (clients.alerting.clone(), clients.alerting.clone());
    let mut alerting3 = clients.alerting.clone();
    let fragility = async {
        let stream = inventory2
            .list_fragility(ListFragilityRequest {
                at: None,
                network: network.to_owned(),
                lang: lang.code().to_owned(),
            })
            .await?
            .into_inner();
        stream.try_collect::<Vec<StructureFragility>>().await
    };
    let (structures, fragility, requests, stored_policy, calls, grants) = tokio::join!(
        inventory.list_structures(ListStructuresRequest {
            network: network.to_owned(),
        }),
        fragility,
        clients.facilitation.list_proposals(ListProposalsRequest::default()),
        alerting.get_network_policy(GetNetworkPolicyRequest {
            network: network.to_owned(),
        }),
        // One call for the whole network: each call with the structures it matches.
        alerting2.list_calls(ListCallsRequest {
            structure_id: String::new(),
            closing_within_days: Some(AT_RISK_DAYS),
            include_closed: false,
            network: network.to_owned(),
        }),
        alerting3.grant_stats(GrantStatsRequest {
            network: network.to_owned(),
        }),
    );
    let structures = structures?.into_inner().structures;
    // No structure of this network in her reach: unknown or someone else's.
    if structures.is_empty() {
        return Err(PageError::NotFound);
    }
    let stored_policy = stored_policy?.into_inner();
    let mut fragility = fragility?;
    // Only the structures ListStructures gives (the same reach).
    let known: HashSet<&str> = structures.iter().map(|s| s.structure_id.as_str()).collect();
    fragility.retain(|s| known.contains(s.structure_id.as_str()));
    let names: HashMap<&str, &str> = structures
        .iter()
        .map(|s| (s.structure_id.as_str(), s.name.as_str()))
        .collect();
    let requests: Vec<_> = requests?
        .into_inner()
        .proposals
        .into_iter()
        .filter(|r| known.contains(r.structure_id.as_str()))
        .collect();
    let (requests, requests_total) = latest_requests(requests, SHOWN_REQUESTS);
    let calls = calls_by_structure(calls?.into_inner().calls);
    let today = evaluated_on(&fragility).unwrap_or_else(crate::dates::today);

    // The grants' views are a part of the page: shown when the service answers.
    let grants = match grants {
        Ok(answer) => Some(grant_views(&answer.into_inner(), crate::dates::today(), lang)),
        Err(status) if status.code() == tonic::Code::Unauthenticated => return Err(PageError::SignedOut),
        Err(status) => {
            tracing::debug!(code = ?status.code(), "grants of a network page unavailable");
            None
        }
    };
    let at_risk_rows = at_risk(&fragility, &calls, today, lang);
    let at_risk_count = at_risk_rows.len();
    let (at_risk_rows, risk_page, risk_pages) = page_of(at_risk_rows, query.risk_page);
    let risk_links = if risk_pages > 1 {
        (1..=risk_pages).map(|n| (n, query.risk_href(network, n))).collect()
    } else {
        Vec::new()
    };
    let table = table(&fragility, query, lang);
    let page_links = (1..=table.pages).map(|n| (n, query.href(network, n))).collect();
    let page = NetworkPage {
        layout: Layout::new(
            console,
            format!("{} {network}", lang.pick("Réseau", "Network")),
            Some(session),
        ),
        network: network.to_owned(),
        query: query.clone(),
        table,
        page_links,
        bands: band_choices(lang),
        functions: function_choices(&fragility, lang),
        at_risk: at_risk_rows,
        at_risk_count,
        risk_page,
        risk_links,
        rollup: network_rollup(network, &fragility, lang),
        requests_total,
        requests: requests
            .iter()
            .map(|r| NamedRequest {
                name: names
                    .get(r.structure_id.as_str())
                    .copied()
                    .unwrap_or_default()
                    .to_owned(),
                row: request_row(r),
            })
            .collect(),
        policy_inputs: Vec::new(),
        policy: policy.unwrap_or_else(|| policy_form(&stored_policy)),
        grants,
    };
    let page = NetworkPage {
        policy_inputs: policy_inputs(&page.policy, lang),
        ..page
    };
    Ok(render(console, Some(session), status, &page))
}

/// The policy form's fields with their labels and hints.
fn policy_inputs(form: &PolicyForm, lang: Lang) -> Vec<PolicyInput> {
    let texts = [
        (
            "offsets",
            lang.pick("Rappels avant chaque échéance (en jours)", "Reminders before each deadline (in days)"),
            lang.pick(
                "Des nombres séparés par des virgules, par exemple 30, 14, 7, 2 : un rappel 30 jours avant, puis 14, 7 et 2.",
                "Numbers separated by commas, for example 30, 14, 7, 2: a reminder 30 days before, then 14, 7 and 2.",
            ),
        ),
        (
            "local_hour",
            lang.pick("Heure d'envoi", "Sending time"),
            lang.pick("Au format HH:MM, par exemple 09:00.", "As HH:MM, for example 09:00."),
        ),
        (
            "timezone",
            lang.pick("Fuseau horaire", "Time zone"),
            lang.pick(
                "Par exemple Europe/Paris, America/Cayenne ou Indian/Reunion.",
                "For example Europe/Paris, America/Cayenne or Indian/Reunion.",
            ),
        ),
        (
            "referent_name",
            lang.pick("Nom du ou de la référente du réseau", "Name of the network's referent"),
            lang.pick(
                "La personne prévenue quand un dépôt de dossier ne repose sur personne ou sur une seule personne, à partir de 14 jours avant l'échéance.",
                "The person told when an application rests on nobody or on one person, from 14 days before the deadline.",
            ),
        ),
        (
            "referent_email",
            lang.pick("Adresse électronique du ou de la référente", "Referent's email address"),
            lang.pick("Par exemple prenom.nom@reseau.org.", "For example first.last@network.org."),
        ),
        (
            "webhook_url",
            lang.pick("Adresse du webhook (facultatif)", "Webhook address (optional)"),
            lang.pick(
                "Une adresse https:// où Vigie envoie aussi chaque rappel, signé. Laissez vide si vous n'en avez pas.",
                "An https:// address where Vigie also sends each reminder, signed. Leave empty if you have none.",
            ),
        ),
        (
            "webhook_secret",
            lang.pick("Secret du webhook", "Webhook secret"),
            lang.pick(
                "16 caractères au moins. Il n'est jamais réaffiché : laissez vide pour garder le secret actuel, tapez-en un pour le remplacer.",
                "16 characters at least. It is never shown again: leave empty to keep the current secret, type one to replace it.",
            ),
        ),
    ];
    texts
        .into_iter()
        .map(|(name, label, hint)| {
            let field = form.fields.iter().find(|f| f.name == name);
            let (kind, autocomplete) = match name {
                "referent_email" => ("email", "email"),
                "webhook_url" => ("url", "url"),
                "webhook_secret" => ("password", "new-password"),
                "referent_name" => ("text", "name"),
                _ => ("text", "off"),
            };
            PolicyInput {
                name,
                label,
                hint,
                // The secret is write-only: never a value.
                value: if name == "webhook_secret" {
                    String::new()
                } else {
                    field.map(|f| f.value.clone()).unwrap_or_default()
                },
                error: field.and_then(|f| f.error.clone()),
                kind,
                autocomplete,
            }
        })
        .collect()
}

/// `POST /reseaux/<network>/rappels`: the reminder policy.
pub async fn set_policy(
    State(console): State<Arc<Console>>,
    Path(network): Path<String>,
    form: SignedInForm,
) -> Response {
    let (session, mut clients, fields) = form.into_parts();
    let result = async {
        let lang = session.lang;
        // The stored policy: out of reach is « introuvable » like the page.
        let current = clients
            .alerting
            .get_network_policy(GetNetworkPolicyRequest {
                network: network.clone(),
            })
            .await?
            .into_inner();
        let query = TableQuery::default();
        let request = match parse_policy(&network, &fields, current.webhook_secret_set, lang) {
            Ok(request) => request,
            Err(form) => {
                return show(
                    &console,
                    &session,
                    &mut clients,
                    &network,
                    &query,
                    Some(form),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        };
        match clients.alerting.set_network_policy(request).await {
            Ok(_) => {
                console.sessions.set_flash(
                    &session.id,
                    lang.pick(
                        "La politique de rappel du réseau est enregistrée.",
                        "The network's reminder policy is saved.",
                    ),
                );
                Ok(web::see_other(&format!("/reseaux/{network}#rappels")))
            }
            Err(status) if status.code() == tonic::Code::InvalidArgument => {
                let mut form = typed_form(&fields, current.webhook_secret_set);
                place_service_refusal(
                    &mut form,
                    status.message(),
                    &crate::error::service_message(&status, lang),
                );
                show(
                    &console,
                    &session,
                    &mut clients,
                    &network,
                    &query,
                    Some(form),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(status) => Err(status.into()),
        }
    }
    .await;
    result.unwrap_or_else(|error| error_page(&console, Some(&session), &error))
}
