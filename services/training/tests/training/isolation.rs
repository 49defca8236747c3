//! The generated isolation matrix of the training's gRPC API: every RPC of
//! `vigie.training.v1.TrainingService` has a rule, and for every role a
//! caller of another network (or another structure) can neither enrol,
//! cancel, complete, plan nor infer anything about the people and structures
//! of the first, while a caller of that network can. The handlers are called
//! directly, with the principal in the request extensions as `AuthLayer` puts it.

use anyhow::{bail, ensure, Context, Result};
use vigie_platform::auth::testing::{allowed, refused, request, IsolationMatrix, MatrixPlaces};
use vigie_platform::auth::Principal;
use vigie_proto::training::v1 as pb;
use vigie_proto::training::v1::training_service_server::TrainingService;
use vigie_training::grpc::{authz, TrainingApi};

use crate::harness::{set, Harness};

const MATRIX: IsolationMatrix = IsolationMatrix {
    service: "vigie.training.v1.TrainingService",
    rule: authz::rule,
};

pub async fn every_rpc_has_a_rule(_h: Harness) -> Result<()> {
    MATRIX.every_rpc_has_a_rule(9)
}

/// What the checks act on: network A, its structure and person, a session.
struct Fixture {
    net_a: String,
    s_a: String,
    person: String,
    session: String,
}

pub async fn other_networks_see_nothing(h: Harness) -> Result<()> {
    h.import(vigie_training::demo::catalogue(crate::harness::today()))
        .await?;
    let generated = set(30, 7);
    h.feed_inventories(&generated.inventories, 1).await?;
    let api = TrainingApi::new(h.app.clone());
    let inventories = &generated.inventories;
    let first = inventories.first().context("empty set")?;
    let places = MatrixPlaces::pick(
        inventories
            .iter()
            .map(|i| (i.structure.network.as_str(), i.structure.id.as_str())),
    )?;
    let (net_a, s_a) = (places.a.clone(), places.a_structure.clone());
    let person = first.people.first().context("no people")?.id.clone();
    let session = h
        .app
        .sessions(None)
        .await?
        .first()
        .context("no session")?
        .session
        .id
        .clone();
    // An enrolment to cancel and complete.
    h.app.enrol(&session, &person).await?;
    let fixture = Fixture {
        net_a: net_a.clone(),
        s_a: s_a.clone(),
        person,
        session,
    };

    let principals = places.callers();

    for method in MATRIX.methods()? {
        for p in &principals {
            // The network plan targets the whole network, the rest A's structure.
            let structure = (method != "NetworkPlan").then_some(s_a.as_str());
            let reach = MATRIX.expected(&method, p, &net_a, structure)?;
            check(&api, &method, p, reach.is_some(), reach == Some(true), &fixture)
                .await
                .with_context(|| format!("{method} as {}", p.subject))?;
        }
    }
    Ok(())
}

async fn check(api: &TrainingApi, method: &str, p: &Principal, granted: bool, see: bool, f: &Fixture) -> Result<()> {
    let enrol = |person: &str| pb::EnrolRequest {
        session_id: f.session.clone(),
        person_id: person.to_owned(),
    };
    let cancel = |person: &str| pb::CancelRequest {
        session_id: f.session.clone(),
        person_id: person.to_owned(),
    };
    let complete = |person: &str| pb::CompleteRequest {
        session_id: f.session.clone(),
        person_id: person.to_owned(),
        on: None,
    };
    let plan = |id: &str| pb::PlanRequest {
        structure_id: id.to_owned(),
        at: None,
    };
    let instance_only = |outcome: Result<(), tonic::Status>| -> Result<()> {
        if see {
            ensure!(outcome.is_ok(), "{outcome:?}");
        } else {
            let Err(status) = outcome else {
                bail!("a scoped caller was allowed")
            };
            ensure!(
                matches!(status.code(), tonic::Code::PermissionDenied | tonic::Code::NotFound),
                "{status:?}"
            );
        }
        Ok(())
    };
    match method {
        "ImportCatalog" => {
            // An allowed import would replace the catalogue: only refusals are checked.
            if !see {
                let body = tonic::Streaming::new_request(
                    tonic::codec::Codec::decoder(&mut tonic_prost::ProstCodec::<(), pb::CatalogChunk>::default()),
                    tonic::body::Body::empty(),
                    None,
                    None,
                );
                instance_only(api.import_catalog(request(p, body)).await.map(|_| ()))?;
            }
        }
        "ExportCatalog" => {
            let outcome = api
                .export_catalog(request(p, pb::ExportCatalogRequest::default()))
                .await
                .map(|_| ());
            instance_only(outcome)?;
        }
        "ListTrainings" => {
            let outcome = api
                .list_trainings(request(p, pb::ListTrainingsRequest::default()))
                .await;
            match outcome {
                Ok(list) => ensure!(see && !list.into_inner().trainings.is_empty(), "{see}"),
                Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
            }
        }
        "ListSessions" => {
            let outcome = api.list_sessions(request(p, pb::ListSessionsRequest::default())).await;
            match outcome {
                Ok(list) => ensure!(see && !list.into_inner().sessions.is_empty(), "{see}"),
                Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
            }
        }
        "Enrol" => {
            let outcome = api.enrol(request(p, enrol(&f.person))).await.map(|_| ());
            if see {
                allowed(&outcome)?;
            } else {
                let missing = api.enrol(request(p, enrol("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, &f.person)?;
            }
        }
        "Cancel" => {
            let outcome = api.cancel(request(p, cancel(&f.person))).await.map(|_| ());
            if see {
                allowed(&outcome)?;
            } else {
                let missing = api.cancel(request(p, cancel("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, &f.person)?;
            }
        }
        "Complete" => {
            let outcome = api.complete(request(p, complete(&f.person))).await.map(|_| ());
            if see {
                allowed(&outcome)?;
            } else {
                let missing = api.complete(request(p, complete("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, &f.person)?;
            }
        }
        "Plan" => {
            let outcome = api
                .plan(request(p, plan(&f.s_a)))
                .await
                .map(|r| r.into_inner().structure_id);
            if see {
                ensure!(outcome.as_deref().ok() == Some(f.s_a.as_str()), "{outcome:?}");
            } else {
                let missing = api.plan(request(p, plan("absent-object"))).await.map(|_| ());
                refused(granted, &outcome.map(|_| ()), &missing, &f.s_a)?;
            }
        }
        "NetworkPlan" => {
            let ask = |network: &str| pb::NetworkPlanRequest {
                network: network.to_owned(),
                at: None,
            };
            let outcome = api.network_plan(request(p, ask(&f.net_a))).await;
            match outcome {
                Ok(plan) => {
                    ensure!(granted, "a role not granted got a network plan");
                    let lines = plan.into_inner().lines;
                    // Out of reach: the answer for an unknown network, no lines.
                    ensure!(see || lines.is_empty(), "{lines:?}");
                }
                Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
            }
        }
        other => bail!("RPC {other} has no isolation check: add one to tests/training/isolation.rs"),
    }
    Ok(())
}
