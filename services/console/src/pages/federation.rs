//! `/federation` — the federation's home: its networks with their
//! roll-ups (inventory Rollup by network and for the instance), each
//! linked to the network's page, and the instance's grants by funder and
//! programme (alerting GrantStats without a network). Rollup is the federation's RPC: anyone
//! else gets « Page introuvable ».

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use vigie_proto::alerting::v1::GrantStatsRequest;
use vigie_proto::inventory::v1::rollup_request::By;
use vigie_proto::inventory::v1::RollupRequest;

use super::grants::{grant_views, GrantViews};
use super::network_view::{federation_rollups, RollupView};
use super::{or_error_page, render, signed_in, Layout};
use crate::error::PageError;
use crate::Console;

#[derive(Template)]
#[template(path = "federation.html")]
struct FederationPage {
    layout: Layout,
    evaluated_on: String,
    instance: Option<RollupView>,
    networks: Vec<RollupView>,
    /// The instance's grants by funder (no structure named: the duties at
    /// risk stay on the networks' pages).
    grants: Option<GrantViews>,
}

/// `GET /federation`.
pub async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let result = async {
        let (session, person) = signed_in(&console, &headers)?;
        let clients = console.services.for_token(&person.token)?;
        let lang = session.lang;
        let (mut a, mut b) = (clients.inventory.clone(), clients.inventory.clone());
        let mut alerting = clients.alerting.clone();
        let (networks, instance, grants) = tokio::join!(
            a.rollup(RollupRequest {
                by: By::Network as i32,
                at: None,
            }),
            b.rollup(RollupRequest {
                by: By::Instance as i32,
                at: None,
            }),
            alerting.grant_stats(GrantStatsRequest::default()),
        );
        let networks = networks?.into_inner();
        let instance = instance?.into_inner();
        let evaluated_on = networks
            .evaluated_on
            .as_ref()
            .and_then(vigie_proto::dates::date_from_pb)
            .map(|d| crate::dates::long(d, lang))
            .unwrap_or_default();
        let grants = match grants {
            Ok(answer) => {
                let mut views = grant_views(&answer.into_inner(), chrono::Local::now().date_naive(), lang);
                views.at_risk.clear();
                Some(views)
            }
            Err(status) if status.code() == tonic::Code::Unauthenticated => return Err(PageError::SignedOut),
            Err(status) => {
                tracing::debug!(code = ?status.code(), "grants of the federation page unavailable");
                None
            }
        };
        let page = FederationPage {
            layout: Layout::new(&console, lang.pick("Fédération", "Federation"), Some(&session)),
            evaluated_on,
            instance: federation_rollups(&instance.groups, lang).into_iter().next(),
            networks: federation_rollups(&networks.groups, lang),
            grants,
        };
        Ok::<_, PageError>(render(&console, Some(&session), StatusCode::OK, &page))
    }
    .await;
    or_error_page(&console, &headers, result)
}
