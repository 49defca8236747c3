//! The grant RPCs the scenarios call again and again: the listings' requests
//! for one structure or a whole network, and the answers unwrapped, so that
//! a scenario reads as what it checks.

use anyhow::Result;
use vigie_alerting::grpc::AlertingApi;
use vigie_platform::auth::testing::request;
use vigie_platform::auth::Principal;
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_server::AlertingService;

/// `ListGrants` of one structure.
pub fn grants_of(structure: &str) -> pb::ListGrantsRequest {
    pb::ListGrantsRequest {
        structure_id: structure.to_owned(),
        ..Default::default()
    }
}

/// `ListGrants` of a whole network.
pub fn grants_in(network: &str) -> pb::ListGrantsRequest {
    pb::ListGrantsRequest {
        network: network.to_owned(),
        ..Default::default()
    }
}

/// `ListObligations` of one structure.
pub fn obligations_of(structure: &str) -> pb::ListObligationsRequest {
    pb::ListObligationsRequest {
        structure_id: structure.to_owned(),
        ..Default::default()
    }
}

/// `ListObligations` of a whole network.
pub fn obligations_in(network: &str) -> pb::ListObligationsRequest {
    pb::ListObligationsRequest {
        network: network.to_owned(),
        ..Default::default()
    }
}

/// The grants and pipeline `p` is answered for `ask`.
pub async fn list_grants(
    api: &AlertingApi,
    p: &Principal,
    ask: pb::ListGrantsRequest,
) -> Result<pb::ListGrantsResponse> {
    Ok(api.list_grants(request(p, ask)).await?.into_inner())
}

/// The duties `p` is answered for `ask`.
pub async fn list_obligations(
    api: &AlertingApi,
    p: &Principal,
    ask: pb::ListObligationsRequest,
) -> Result<Vec<pb::Obligation>> {
    Ok(api.list_obligations(request(p, ask)).await?.into_inner().obligations)
}

/// The grant `p` records with `ask`.
pub async fn record_grant(api: &AlertingApi, p: &Principal, ask: pb::RecordGrantRequest) -> Result<pb::Grant> {
    Ok(api.record_grant(request(p, ask)).await?.into_inner())
}

/// The duty as `ask` dates it.
pub async fn set_agreement_date(
    api: &AlertingApi,
    p: &Principal,
    ask: pb::SetAgreementDateRequest,
) -> Result<pb::Obligation> {
    Ok(api.set_agreement_date(request(p, ask)).await?.into_inner())
}
