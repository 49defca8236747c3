//! gRPC adapter of `vigie.federation.v1.FederationService`: decode, check
//! the caller, call the app, encode.

mod authz;

pub use authz::rule;

use tonic::{Request, Response, Status};
use vigie_federation_domain::rollup::By;
use vigie_platform::auth::{authorize, principal};
use vigie_proto::dates::date_to_pb;
use vigie_proto::federation::v1 as pb;
use vigie_proto::federation::v1::federation_service_server::FederationService;
use vigie_proto::federation::v1::rollup_request::By as PbBy;

use crate::app::{FederationApp, FederationError};
use crate::convert;

/// The tonic service.
pub struct FederationApi {
    app: FederationApp,
}

impl FederationApi {
    /// The adapter over the application service.
    pub fn new(app: FederationApp) -> Self {
        FederationApi { app }
    }
}

#[allow(clippy::result_large_err)]
fn authorize_call<T>(request: &Request<T>, method: &str) -> Result<(), Status> {
    authorize(principal(request)?, &authz::rule_for(method)?, None, || {
        vigie_platform::words!("agrégats", "aggregates")
    })
}

fn internal(error: FederationError) -> Status {
    vigie_platform::words::internal_status("federation", "service de fédération", &error)
}

/// The French label of a vital function (a network's own function reads as
/// its code in words).
fn function_label(code: &str) -> String {
    vigie_fragility_model::catalogue::label_fr(code)
}

#[tonic::async_trait]
impl FederationService for FederationApi {
    async fn rollup(&self, request: Request<pb::RollupRequest>) -> Result<Response<pb::RollupResponse>, Status> {
        authorize_call(&request, "Rollup")?;
        let by = match PbBy::try_from(request.get_ref().by).unwrap_or(PbBy::Unspecified) {
            PbBy::Unspecified | PbBy::Region => By::Region,
            PbBy::Network => By::Network,
            PbBy::Department => By::Department,
            PbBy::Function => By::Function,
        };
        let function_labels = matches!(by, By::Function);
        let rows = self.app.rollup(by).await.map_err(internal)?;
        let rows = rows
            .iter()
            .map(|row| {
                let label = if function_labels {
                    function_label(&row.key)
                } else {
                    String::new()
                };
                convert::row_to_pb(row, label)
            })
            .collect();
        Ok(Response::new(pb::RollupResponse { rows }))
    }

    async fn regions(&self, request: Request<pb::RegionsRequest>) -> Result<Response<pb::RegionsResponse>, Status> {
        authorize_call(&request, "Regions")?;
        let regions = self.app.regions().await.map_err(internal)?;
        let regions = regions
            .into_iter()
            .map(|r| pb::RegionStatus {
                region: r.row.region,
                evaluated_on: Some(date_to_pb(r.row.evaluated_on)),
                sequence: r.row.sequence,
                received_at: r.row.received_at,
                stale: r.stale,
                networks: r.networks,
                departments: r.departments,
            })
            .collect();
        Ok(Response::new(pb::RegionsResponse { regions }))
    }
}

#[cfg(test)]
mod tests {
    use super::function_label;

    #[test]
    fn catalogue_functions_have_their_label_and_others_read_as_words() {
        assert_eq!(function_label("payroll"), "Paie et déclarations sociales (DSN)");
        assert_eq!(function_label("boutique_en_ligne"), "Boutique en ligne");
        assert_eq!(function_label(""), "");
    }
}
