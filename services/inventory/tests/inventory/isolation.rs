//! The generated isolation matrix of the inventory's gRPC API: every RPC of
//! `vigie.inventory.v1.InventoryService` has a rule, and for every role a
//! caller of another network (or another structure) can neither read, list,
//! change nor infer the objects of the first, while a caller of that network can.
//! The handlers are called directly, with the principal in the request
//! extensions as `AuthLayer` puts it.

use anyhow::{bail, ensure, Context, Result};
use tokio_stream::StreamExt;
use vigie_inventory::grpc::{authz, InventoryApi};
use vigie_platform::auth::testing::{refused, request, IsolationMatrix, MatrixPlaces};
use vigie_platform::auth::{Principal, Role};
use vigie_proto::inventory::v1 as pb;
use vigie_proto::inventory::v1::inventory_service_server::InventoryService;

use crate::harness::{set, Harness};

const MATRIX: IsolationMatrix = IsolationMatrix {
    service: "vigie.inventory.v1.InventoryService",
    rule: authz::rule,
};

pub async fn every_rpc_has_a_rule(_h: Harness) -> Result<()> {
    MATRIX.every_rpc_has_a_rule(7)
}

pub async fn other_networks_see_nothing(h: Harness) -> Result<()> {
    let generated = set(30, 7);
    h.app.import(generated.to_files()?, |_, _, _| {}).await?;
    let api = InventoryApi::new(h.app.clone());
    let inventories = &generated.inventories;
    let first = inventories.first().context("empty set")?;
    let places = MatrixPlaces::pick(
        inventories
            .iter()
            .map(|i| (i.structure.network.as_str(), i.structure.id.as_str())),
    )?;
    let (net_a, s_a) = (places.a.clone(), places.a_structure.clone());
    let holding = first.holdings.first().context("no holding")?.clone();
    let version = |h: &Harness| {
        let app = h.app.clone();
        let id = s_a.clone();
        async move { anyhow::Ok(app.structure(&id).await?.version) }
    };
    let before = version(&h).await?;

    let principals = places.callers();

    for method in MATRIX.methods()? {
        for p in &principals {
            // `None`: the role is not granted, every call is refused.
            let reach = MATRIX.expected(&method, p, &net_a, Some(&s_a))?;
            check(
                &api,
                &method,
                p,
                reach.is_some(),
                reach == Some(true),
                &s_a,
                &net_a,
                &holding,
            )
            .await
            .with_context(|| format!("{method} as {}", p.subject))?;
        }
    }
    // Only callers reaching A changed A (idempotently: same holding set again).
    ensure!(version(&h).await? == before, "a holding write changed the structure");

    // Integrations get no personal data anywhere: whatever they may call
    // answers without any person's name or email.
    let mut marks: Vec<String> = Vec::new();
    for inventory in inventories {
        for person in &inventory.people {
            marks.push(person.display_name.clone());
            marks.extend(person.email.clone().filter(|e| !e.is_empty()));
        }
    }
    ensure!(!marks.is_empty(), "the fixture has people");
    let shows_nobody = |answer: String| -> Result<()> {
        for mark in &marks {
            ensure!(!answer.contains(mark.as_str()), "« {mark} » in {answer}");
        }
        Ok(())
    };
    for p in principals.iter().filter(|p| p.roles.contains(&Role::Integration)) {
        for network in ["", net_a.as_str()] {
            let list = pb::ListStructuresRequest {
                network: network.to_owned(),
            };
            if let Ok(answer) = api.list_structures(request(p, list)).await {
                shows_nobody(format!("{answer:?}"))?;
            }
            let list = pb::ListFragilityRequest {
                network: network.to_owned(),
                ..Default::default()
            };
            if let Ok(stream) = api.list_fragility(request(p, list)).await {
                let all: Vec<_> = stream.into_inner().collect().await;
                shows_nobody(format!("{all:?}"))?;
            }
        }
        let get = pb::GetStructureRequest {
            structure_id: s_a.clone(),
        };
        if let Ok(answer) = api.get_structure(request(p, get)).await {
            shows_nobody(format!("{answer:?}"))?;
        }
        let get = pb::GetFragilityRequest {
            structure_id: s_a.clone(),
            ..Default::default()
        };
        if let Ok(answer) = api.get_fragility(request(p, get)).await {
            shows_nobody(format!("{answer:?}"))?;
        }
        let export = pb::ExportPersonRequest {
            person_id: holding.person_id.clone(),
        };
        if let Ok(answer) = api.export_person(request(p, export)).await {
            shows_nobody(format!("{answer:?}"))?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn check(
    api: &InventoryApi,
    method: &str,
    p: &Principal,
    granted: bool,
    see: bool,
    s_a: &str,
    net_a: &str,
    holding: &vigie_fragility_model::model::HoldingRecord,
) -> Result<()> {
    let get = |id: &str| pb::GetStructureRequest {
        structure_id: id.to_owned(),
    };
    let fragility = |id: &str| pb::GetFragilityRequest {
        structure_id: id.to_owned(),
        ..Default::default()
    };
    match method {
        "GetStructure" => {
            let outcome = api
                .get_structure(request(p, get(s_a)))
                .await
                .map(|r| r.into_inner().structure_id);
            if see {
                ensure!(outcome.as_deref().ok() == Some(s_a), "{outcome:?}");
            } else {
                let missing = api.get_structure(request(p, get("absent-object"))).await.map(|_| ());
                refused(granted, &outcome.map(|_| ()), &missing, s_a)?;
            }
        }
        "GetFragility" => {
            let outcome = api
                .get_fragility(request(p, fragility(s_a)))
                .await
                .map(|r| r.into_inner().structure_id);
            if see {
                ensure!(outcome.as_deref().ok() == Some(s_a), "{outcome:?}");
            } else {
                let missing = api
                    .get_fragility(request(p, fragility("absent-object")))
                    .await
                    .map(|_| ());
                refused(granted, &outcome.map(|_| ()), &missing, s_a)?;
            }
        }
        "ListStructures" => {
            for network in ["", net_a] {
                let message = pb::ListStructuresRequest {
                    network: network.to_owned(),
                };
                let outcome = api.list_structures(request(p, message)).await;
                match outcome {
                    Ok(list) => {
                        ensure!(granted, "a role not granted listed");
                        let ids: Vec<_> = list
                            .into_inner()
                            .structures
                            .into_iter()
                            .map(|s| s.structure_id)
                            .collect();
                        ensure!(ids.iter().any(|id| id == s_a) == see, "{see}: {ids:?}");
                    }
                    Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
                }
            }
        }
        "ListFragility" => {
            for network in ["", net_a] {
                let message = pb::ListFragilityRequest {
                    network: network.to_owned(),
                    ..Default::default()
                };
                match api.list_fragility(request(p, message)).await {
                    Ok(stream) => {
                        ensure!(granted, "a role not granted listed");
                        let all: Vec<_> = stream.into_inner().collect().await;
                        let ids: Vec<String> = all
                            .into_iter()
                            .map(|m| m.map(|m| m.structure_id))
                            .collect::<Result<_, _>>()?;
                        ensure!(ids.iter().any(|id| id == s_a) == see, "{see}: {ids:?}");
                    }
                    Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
                }
            }
        }
        "SetHolding" => {
            let set = |person: &str| pb::SetHoldingRequest {
                person_id: person.to_owned(),
                function: holding.function.clone(),
                level: u32::from(holding.level),
                raise_only: true,
                ..Default::default()
            };
            let outcome = api.set_holding(request(p, set(&holding.person_id))).await.map(|_| ());
            if see {
                ensure!(outcome.is_ok(), "{outcome:?}");
            } else {
                let missing = api.set_holding(request(p, set("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, &holding.person_id)?;
            }
        }
        "ExportPerson" => {
            let export = |person: &str| pb::ExportPersonRequest {
                person_id: person.to_owned(),
            };
            let outcome = api.export_person(request(p, export(&holding.person_id))).await;
            if see {
                let person = outcome.map(|r| r.into_inner().person.map(|p| p.person_id));
                ensure!(
                    person.as_ref().ok() == Some(&Some(holding.person_id.clone())),
                    "{person:?}"
                );
            } else {
                let missing = api.export_person(request(p, export("absent-object"))).await.map(|_| ());
                refused(granted, &outcome.map(|_| ()), &missing, &holding.person_id)?;
            }
        }
        "ErasePerson" => {
            // Only the refusals here: a permitted erasure would change A (the
            // contract scenario `erasure_forgets_the_person` covers it; the
            // rule is the one ExportPerson checks above).
            if !see {
                let erase = |person: &str| pb::ErasePersonRequest {
                    person_id: person.to_owned(),
                };
                let outcome = api
                    .erase_person(request(p, erase(&holding.person_id)))
                    .await
                    .map(|_| ());
                let missing = api.erase_person(request(p, erase("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, &holding.person_id)?;
            }
        }
        "Rollup" => {
            let outcome = api.rollup(request(p, pb::RollupRequest::default())).await.map(|_| ());
            if see {
                ensure!(outcome.is_ok(), "{outcome:?}");
            } else {
                let Err(status) = outcome else {
                    bail!("a scoped caller got the roll-up")
                };
                ensure!(
                    matches!(status.code(), tonic::Code::PermissionDenied | tonic::Code::NotFound),
                    "{status:?}"
                );
            }
        }
        "Import" => {
            // A coordinator may import, within her networks only (checked
            // row by row: scenarios::a_coordinator_imports_only_within_her_network);
            // every other role is refused before reading anything.
            if !granted {
                let body = tonic::Streaming::new_request(
                    tonic::codec::Codec::decoder(&mut tonic_prost::ProstCodec::<(), pb::ImportRequest>::default()),
                    tonic::body::Body::empty(),
                    None,
                    None,
                );
                let Err(status) = api.import(request(p, body)).await else {
                    bail!("a scoped caller may import")
                };
                ensure!(
                    matches!(status.code(), tonic::Code::PermissionDenied | tonic::Code::NotFound),
                    "{status:?}"
                );
            }
        }
        other => bail!("RPC {other} has no isolation check: add one to tests/inventory/isolation.rs"),
    }
    Ok(())
}
