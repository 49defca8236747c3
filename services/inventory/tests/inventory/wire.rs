//! The routed service (`grpc/routed.rs`: `GetStructure` and `GetFragility`
//! sent from kept encodings) answers over the wire exactly as the generated
//! server does: two real tonic servers on loopback, the same calls to both.

use std::net::SocketAddr;

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use prost::Message as _;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use vigie_inventory::grpc::{InventoryApi, InventoryGrpc};
use vigie_platform::auth::testing::caller;
use vigie_platform::auth::{Principal, Role, Scope};
use vigie_platform::grpc::encoded::EncodedCodec;
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use vigie_proto::inventory::v1::inventory_service_server::InventoryServiceServer;
use vigie_proto::inventory::v1::{self as pb, GetFragilityRequest, GetStructureRequest, ListStructuresRequest};

const STRUCTURE: &str = "/vigie.inventory.v1.InventoryService/GetStructure";
const FRAGILITY: &str = "/vigie.inventory.v1.InventoryService/GetFragility";

use crate::harness::{set, Harness};

type Client = InventoryServiceClient<Channel>;

/// Serves `service` on a loopback port for callers signed in as `principal`
/// (the server's authentication layer, reduced to its outcome).
async fn serve<S>(service: S, principal: Principal, stop: CancellationToken) -> Result<Channel>
where
    S: tonic::codegen::Service<
            tonic::codegen::http::Request<tonic::body::Body>,
            Response = tonic::codegen::http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address: SocketAddr = listener.local_addr()?;
    let signed_in = tonic::service::InterceptorLayer::new(move |mut request: tonic::Request<()>| {
        request.extensions_mut().insert(principal.clone());
        Ok(request)
    });
    let server = Server::builder()
        .layer(signed_in)
        .add_service(service)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), stop.cancelled_owned());
    tokio::spawn(server);
    Ok(Channel::from_shared(format!("http://{address}"))?.connect().await?)
}

/// Sends `body` as it is to `path`, as a hostile client can; the answer
/// decoded as `U` and encoded again, or the status code.
async fn raw<U>(channel: &Channel, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, tonic::Code>
where
    U: prost::Message + Default + Send + Sync + 'static,
{
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.map_err(|_| tonic::Code::Unavailable)?;
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
    let codec = EncodedCodec::<U>::default();
    outcome(grpc.unary(tonic::Request::new(Bytes::from(body)), path, codec).await)
}

/// Every outcome of a call, comparable: the message's bytes or the status code.
fn outcome<T: prost::Message>(result: Result<tonic::Response<T>, tonic::Status>) -> Result<Vec<u8>, tonic::Code> {
    result.map(|r| r.into_inner().encode_to_vec()).map_err(|s| s.code())
}

/// An outcome, short enough to read in a failure.
fn shown(outcome: &Result<Vec<u8>, tonic::Code>) -> String {
    match outcome {
        Ok(bytes) => format!("{} bytes", bytes.len()),
        Err(code) => format!("{code:?}"),
    }
}

pub async fn the_routed_service_answers_as_the_generated_one(h: Harness) -> Result<()> {
    let generated_set = set(12, 7);
    h.app.import(generated_set.to_files()?, |_, _, _| {}).await?;
    let target = generated_set
        .inventories
        .iter()
        .find(|i| !i.holdings.is_empty())
        .context("a structure with holdings")?;
    let (id, network) = (&target.structure.id, &target.structure.network);
    let other = generated_set
        .inventories
        .iter()
        .find(|i| i.structure.network != *network)
        .context("a structure of another network")?;
    let stop = CancellationToken::new();
    let reader = caller(Role::Facilitator, Scope::Network(network.clone()));
    let api = InventoryApi::new(h.app.clone());
    let mut routed = Client::new(serve(InventoryGrpc::new(api.clone()), reader.clone(), stop.clone()).await?);
    let mut generated =
        Client::new(serve(InventoryServiceServer::new(api.clone()), reader.clone(), stop.clone()).await?);

    let fragility = |structure_id: &str, lang: &str| GetFragilityRequest {
        structure_id: structure_id.to_owned(),
        lang: lang.to_owned(),
        at: None,
    };
    let structure = |structure_id: &str| GetStructureRequest {
        structure_id: structure_id.to_owned(),
    };
    // Twice: built, then kept.
    for round in 0..2 {
        for asked in [id.as_str(), other.structure.id.as_str(), "S-absent"] {
            let (a, b) = (
                outcome(routed.get_structure(structure(asked)).await),
                outcome(generated.get_structure(structure(asked)).await),
            );
            ensure!(
                a == b,
                "GetStructure {asked} (round {round}): {} vs {}",
                shown(&a),
                shown(&b)
            );
            for lang in ["", "en"] {
                let (a, b) = (
                    outcome(routed.get_fragility(fragility(asked, lang)).await),
                    outcome(generated.get_fragility(fragility(asked, lang)).await),
                );
                ensure!(
                    a == b,
                    "GetFragility {asked} {lang} (round {round}): {} vs {}",
                    shown(&a),
                    shown(&b)
                );
            }
        }
    }
    let seen = routed.get_structure(structure(id)).await?.into_inner();
    ensure!(seen.structure_id == *id, "the structure asked is answered");
    let kept = routed.get_fragility(fragility(id, "")).await?.into_inner();
    ensure!(
        kept.structure_id == *id && kept.evaluated_on.is_some(),
        "the fragility asked is answered"
    );
    let missing = routed.get_structure(structure("S-absent")).await;
    ensure!(
        matches!(&missing, Err(s) if s.code() == tonic::Code::NotFound),
        "a missing structure is NOT_FOUND: {missing:?}"
    );
    let other_network = routed.get_fragility(fragility(&other.structure.id, "")).await;
    ensure!(
        matches!(&other_network, Err(s) if s.code() == tonic::Code::NotFound),
        "another network's structure is NOT_FOUND like a missing one"
    );
    // Every other method goes to the generated server.
    let listed = routed
        .list_structures(ListStructuresRequest::default())
        .await?
        .into_inner();
    ensure!(
        listed.structures.iter().any(|s| s.structure_id == *id),
        "ListStructures is served"
    );

    // Hostile requests and the message size limits are met on the kept
    // methods as on the others.
    let (max_request, max_answer) = (1_024, 64);
    let limited_routed = serve(
        InventoryGrpc::new(api.clone())
            .max_decoding_message_size(max_request)
            .max_encoding_message_size(max_answer),
        reader.clone(),
        stop.clone(),
    )
    .await?;
    let limited_generated = serve(
        InventoryServiceServer::new(api)
            .max_decoding_message_size(max_request)
            .max_encoding_message_size(max_answer),
        reader,
        stop.clone(),
    )
    .await?;
    let too_long = GetStructureRequest {
        structure_id: "S".repeat(max_request * 2),
    };
    let cases: [(&str, &'static str, Vec<u8>); 5] = [
        ("an answer over the limit", STRUCTURE, structure(id).encode_to_vec()),
        ("a request over the limit", STRUCTURE, too_long.encode_to_vec()),
        ("a request that is not protobuf", STRUCTURE, vec![0xff; 16]),
        ("a request that is not protobuf", FRAGILITY, vec![0x0a, 0xff, 0x01]),
        ("a date that does not exist", FRAGILITY, {
            let mut bad = fragility(id, "");
            bad.at = Some(vigie_proto::common::v1::Date {
                year: 2026,
                month: 2,
                day: 30,
            });
            bad.encode_to_vec()
        }),
    ];
    for (what, path, body) in cases {
        let (a, b) = if path == STRUCTURE {
            (
                raw::<pb::Structure>(&limited_routed, path, body.clone()).await,
                raw::<pb::Structure>(&limited_generated, path, body).await,
            )
        } else {
            (
                raw::<pb::StructureFragility>(&limited_routed, path, body.clone()).await,
                raw::<pb::StructureFragility>(&limited_generated, path, body).await,
            )
        };
        ensure!(
            a.is_err() && a == b,
            "{what} ({path}) is refused alike: {} vs {}",
            shown(&a),
            shown(&b)
        );
    }
    stop.cancel();
    Ok(())
}
