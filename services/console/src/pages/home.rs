//! `/`: a director goes to her structure; everyone else gets a home listing
//! what their role reaches (structures by network, open requests), read
//! with their own token.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use vigie_proto::facilitation::v1::ListProposalsRequest;
use vigie_proto::inventory::v1::ListStructuresRequest;

use super::views::{request_row, RequestRow};
use super::{error_page, render, session, signed_in, Layout};
use crate::error::PageError;
use crate::lang::Lang;
use crate::{web, Console};

struct Network {
    name: String,
    /// (structure id, name)
    structures: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    intro: String,
    networks: Vec<Network>,
    requests: Vec<RequestRow>,
}

/// `GET /`.
pub async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    match home(&console, &headers).await {
        Ok(response) => response,
        Err(error) => error_page(&console, session(&console, &headers).as_ref(), &error),
    }
}

async fn home(console: &Console, headers: &HeaderMap) -> Result<Response, PageError> {
    let (session, person) = signed_in(console, headers)?;
    // Each role has its own page; only a person reaching several networks
    // or structures stays here.
    if let Some(path) = person.home.path() {
        return Ok(web::see_other(&path));
    }
    let mut clients = console.services.for_token(&person.token)?;
    // A role the RPC does not grant sees nothing here rather than an error.
    let structures = match clients
        .inventory
        .list_structures(ListStructuresRequest::default())
        .await
    {
        Ok(answer) => answer.into_inner().structures,
        Err(status) if status.code() == tonic::Code::PermissionDenied => Vec::new(),
        Err(status) => return Err(status.into()),
    };
    let requests = match clients
        .facilitation
        .list_proposals(ListProposalsRequest::default())
        .await
    {
        Ok(answer) => answer.into_inner().proposals,
        Err(status) if status.code() == tonic::Code::PermissionDenied => Vec::new(),
        Err(status) => return Err(status.into()),
    };
    let mut by_network: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for s in structures {
        by_network.entry(s.network).or_default().push((s.structure_id, s.name));
    }
    let count: usize = by_network.values().map(Vec::len).sum();
    let lang = session.lang;
    let intro = match (by_network.len(), count) {
        (_, 0) => lang
            .pick(
                "Votre profil ne donne accès à aucune structure pour l'instant.",
                "Your profile gives access to no structure yet.",
            )
            .to_owned(),
        (1, 1) => lang
            .pick(
                "Votre profil donne accès à une structure.",
                "Your profile gives access to one structure.",
            )
            .to_owned(),
        (1, n) => match lang {
            Lang::Fr => format!("Votre profil donne accès à {n} structures d'un réseau."),
            Lang::En => format!("Your profile gives access to {n} structures of one network."),
        },
        (r, n) => match lang {
            Lang::Fr => format!("Votre profil donne accès à {n} structures de {r} réseaux."),
            Lang::En => format!("Your profile gives access to {n} structures of {r} networks."),
        },
    };
    let page = HomePage {
        layout: Layout::new(console, lang.pick("Accueil", "Home"), Some(&session)),
        intro,
        networks: by_network
            .into_iter()
            .map(|(name, structures)| Network { name, structures })
            .collect(),
        requests: requests.iter().map(request_row).collect(),
    };
    Ok(render(console, Some(&session), StatusCode::OK, &page))
}
