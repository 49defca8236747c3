//! The generated isolation matrix of the facilitation's gRPC API: every RPC
//! of `vigie.facilitation.v1.FacilitationService` has a rule, and for every
//! role a caller of another network (or another structure) can neither ask
//! for help, answer, record time, list nor report on the requests and
//! structures of the first, while a caller of that network can. The handlers are called
//! directly, with the principal in the request extensions as `AuthLayer` puts it.

use anyhow::{bail, ensure, Context, Result};
use vigie_facilitation::app::HelpInput;
use vigie_facilitation::grpc::{authz, FacilitationApi};
use vigie_platform::auth::testing::{allowed, matrix_callers, refused, request, IsolationMatrix};
use vigie_platform::auth::{Principal, Role, Scope};
use vigie_proto::facilitation::v1 as pb;
use vigie_proto::facilitation::v1::facilitation_service_server::FacilitationService;

use crate::harness::{today, Harness};

const MATRIX: IsolationMatrix = IsolationMatrix {
    service: "vigie.facilitation.v1.FacilitationService",
    rule: authz::rule,
};

pub async fn every_rpc_has_a_rule(_h: Harness) -> Result<()> {
    MATRIX.every_rpc_has_a_rule(7)
}

const NET_A: &str = "N1";
const NET_B: &str = "N2";
const S_A: &str = "S1";
const SIBLING: &str = "S2";

pub async fn other_networks_see_nothing(h: Harness) -> Result<()> {
    h.import(&[
        "F-DEP,Alice Départ,conseiller_numerique,,,35,payroll;accounting,10,50%,CnFS,",
        "F-COM,Bruno Commune,mediateur,,,35238,payroll,4,50%,,",
    ])
    .await?;
    h.structure(S_A, NET_A, "35238", &["P1", "P2"]).await?;
    h.structure(SIBLING, NET_A, "35238", &["P3"]).await?;
    h.structure("S3", NET_B, "35238", &["P4"]).await?;
    let ask = |structure: &str| HelpInput {
        structure_id: structure.to_owned(),
        function: "payroll".to_owned(),
        description: "Déclarer la paie du mois".to_owned(),
        estimated_minutes: Some(30),
        ..HelpInput::default()
    };
    let request_a = h.app.request_help(ask(S_A)).await?.request_id;
    h.app.request_help(ask("S3")).await?;
    let api = FacilitationApi::new(h.app.clone());

    let principals = matrix_callers(NET_A, NET_B, S_A, SIBLING);

    for method in MATRIX.methods()? {
        for p in &principals {
            // The report targets the whole network, the rest A's structure.
            let structure = (method != "Report").then_some(S_A);
            let reach = MATRIX.expected(&method, p, NET_A, structure)?;
            check(&api, &method, p, reach.is_some(), reach == Some(true), &request_a)
                .await
                .with_context(|| format!("{method} as {}", p.subject))?;
        }
    }
    Ok(())
}

async fn check(
    api: &FacilitationApi,
    method: &str,
    p: &Principal,
    granted: bool,
    see: bool,
    request_a: &str,
) -> Result<()> {
    let help = |structure: &str| pb::RequestHelpRequest {
        structure_id: structure.to_owned(),
        function: "payroll".to_owned(),
        description: "Déclarer la paie du mois".to_owned(),
        estimated_minutes: 30,
        ..Default::default()
    };
    let respond = |id: &str| pb::RespondRequest {
        request_id: id.to_owned(),
        accept: true,
    };
    let record = |id: &str| pb::RecordInterventionRequest {
        request_id: id.to_owned(),
        minutes: 15,
        beneficiary: "internal".to_owned(),
        ..Default::default()
    };
    let date = || {
        let d = today();
        Some(vigie_proto::common::v1::Date {
            year: chrono::Datelike::year(&d),
            month: chrono::Datelike::month(&d),
            day: chrono::Datelike::day(&d),
        })
    };
    match method {
        "ImportFacilitators" => {
            // An allowed import would replace the facilitators: only refusals are checked.
            if !see {
                let body = tonic::Streaming::new_request(
                    tonic::codec::Codec::decoder(&mut tonic_prost::ProstCodec::<(), pb::FacilitatorsChunk>::default()),
                    tonic::body::Body::empty(),
                    None,
                    None,
                );
                let Err(status) = api.import_facilitators(request(p, body)).await else {
                    bail!("a scoped caller may import")
                };
                ensure!(
                    matches!(status.code(), tonic::Code::PermissionDenied | tonic::Code::NotFound),
                    "{status:?}"
                );
            }
        }
        "ListFacilitators" => {
            let outcome = api
                .list_facilitators(request(p, pb::ListFacilitatorsRequest::default()))
                .await;
            match outcome {
                Ok(list) => ensure!(see && list.into_inner().facilitators.len() == 2, "{see}"),
                Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
            }
        }
        "RequestHelp" => {
            let outcome = api.request_help(request(p, help(S_A))).await.map(|_| ());
            if see {
                allowed(&outcome)?;
            } else {
                let missing = api.request_help(request(p, help("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, S_A)?;
            }
        }
        "Respond" => {
            let outcome = api.respond(request(p, respond(request_a))).await.map(|_| ());
            if see {
                allowed(&outcome)?;
            } else {
                let missing = api.respond(request(p, respond("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, request_a)?;
            }
        }
        "RecordIntervention" => {
            let outcome = api.record_intervention(request(p, record(request_a))).await.map(|_| ());
            if see {
                allowed(&outcome)?;
            } else {
                let missing = api
                    .record_intervention(request(p, record("absent-object")))
                    .await
                    .map(|_| ());
                refused(granted, &outcome, &missing, request_a)?;
            }
        }
        "ListProposals" => {
            for structure in ["", S_A] {
                let message = pb::ListProposalsRequest {
                    structure_id: structure.to_owned(),
                };
                match api.list_proposals(request(p, message)).await {
                    Ok(list) => {
                        ensure!(granted, "a role not granted listed");
                        let rows = list.into_inner().proposals;
                        let ids: Vec<_> = rows.iter().map(|r| r.request_id.as_str()).collect();
                        ensure!(ids.contains(&request_a) == see, "{see}: {ids:?}");
                        // Never a request of another network or structure.
                        ensure!(
                            rows.iter().all(|r| p.scopes.iter().any(|scope| match scope {
                                Scope::Network(n) => *n == r.network,
                                Scope::Structure { network, structure } => {
                                    *network == r.network
                                        && (*structure == r.structure_id || p.roles.contains(&Role::Facilitator))
                                }
                            }) || p.roles.contains(&Role::FederationAdmin)),
                            "{ids:?}"
                        );
                    }
                    Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
                }
            }
        }
        "Report" => {
            let ask = |network: &str| pb::ReportRequest {
                network: network.to_owned(),
                from: date(),
                to: date(),
            };
            let outcome = api.report(request(p, ask(NET_A))).await.map(|r| r.into_inner());
            match outcome {
                Ok(report) => {
                    ensure!(granted, "a role not granted got a report");
                    if !see {
                        // Out of reach: exactly the answer for a network without activity.
                        let missing = api.report(request(p, ask("absent-object"))).await?.into_inner();
                        ensure!(report == missing, "{report:?} differs from {missing:?}");
                    }
                }
                Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
            }
        }
        other => bail!("RPC {other} has no isolation check: add one to tests/facilitation/isolation.rs"),
    }
    Ok(())
}
