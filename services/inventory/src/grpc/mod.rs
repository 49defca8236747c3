//! The gRPC adapter of `vigie.inventory.v1.InventoryService`: decode the
//! request, call the application, encode the answer. No rule lives here.

mod import;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use vigie_inventory_domain::model::Evidence;
use vigie_proto::inventory::v1 as pb;
use vigie_proto::inventory::v1::inventory_service_server::InventoryService;

use crate::app::{HoldingChange, Inventory, RollupBy};
use crate::convert::{
    date_from_pb, date_to_pb, fragility_to_pb, holding_to_pb, lang_from_pb, rollup_group_to_pb, structure_to_pb,
};
use crate::error::InventoryError;
use vigie_inventory_domain::model::HoldingRecord;

/// Implements the inventory's gRPC API over the application service.
#[derive(Clone)]
pub struct InventoryApi {
    app: Inventory,
}

impl InventoryApi {
    /// Wraps the application service.
    pub fn new(app: Inventory) -> Self {
        InventoryApi { app }
    }
}

fn non_empty(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

#[tonic::async_trait]
impl InventoryService for InventoryApi {
    type ImportStream = ReceiverStream<Result<pb::ImportProgress, Status>>;
    type ListFragilityStream = ReceiverStream<Result<pb::StructureFragility, Status>>;

    async fn import(
        &self,
        request: Request<Streaming<pb::ImportRequest>>,
    ) -> Result<Response<Self::ImportStream>, Status> {
        import::run(self.app.clone(), request.into_inner()).await
    }

    async fn get_structure(
        &self,
        request: Request<pb::GetStructureRequest>,
    ) -> Result<Response<pb::Structure>, Status> {
        let stored = self.app.structure(request.get_ref().structure_id.trim()).await?;
        Ok(Response::new(structure_to_pb(&stored)))
    }

    async fn list_structures(
        &self,
        request: Request<pb::ListStructuresRequest>,
    ) -> Result<Response<pb::ListStructuresResponse>, Status> {
        let structures = self.app.structures(non_empty(&request.get_ref().network)).await?;
        let structures = structures
            .iter()
            .map(|stored| {
                let s = &stored.inventory.structure;
                pb::StructureSummary {
                    structure_id: s.id.clone(),
                    name: s.name.clone(),
                    network: s.network.clone(),
                    legal_form: s.legal_form.as_str().to_owned(),
                    department_code: s.department_code.clone(),
                }
            })
            .collect();
        Ok(Response::new(pb::ListStructuresResponse { structures }))
    }

    async fn set_holding(
        &self,
        request: Request<pb::SetHoldingRequest>,
    ) -> Result<Response<pb::SetHoldingResponse>, Status> {
        let req = request.into_inner();
        let level = u8::try_from(req.level)
            .map_err(|_| InventoryError::Invalid(format!("niveau {} invalide (0 à 4)", req.level)))?;
        let evidence = match non_empty(&req.evidence) {
            None => Evidence::Manual,
            Some(code) => code.parse().map_err(|e: vigie_inventory_domain::model::UnknownCode| {
                InventoryError::Invalid(format!("preuve : {e}"))
            })?,
        };
        let holding = HoldingRecord {
            person_id: req.person_id.trim().to_owned(),
            function: req.function.trim().to_owned(),
            level,
            last_practised: req.last_practised.as_ref().map(date_from_pb).transpose()?,
            evidence,
        };
        let (holding, stored, assessment) = self
            .app
            .set_holding(HoldingChange {
                holding,
                raise_only: req.raise_only,
            })
            .await?;
        Ok(Response::new(pb::SetHoldingResponse {
            holding: Some(holding_to_pb(&holding)),
            fragility: Some(fragility_to_pb(&stored.inventory, &assessment, lang_from_pb(""))),
        }))
    }

    async fn get_fragility(
        &self,
        request: Request<pb::GetFragilityRequest>,
    ) -> Result<Response<pb::StructureFragility>, Status> {
        let req = request.get_ref();
        let at = req.at.as_ref().map(date_from_pb).transpose()?;
        let (stored, assessment) = self.app.fragility(req.structure_id.trim(), at).await?;
        Ok(Response::new(fragility_to_pb(
            &stored.inventory,
            &assessment,
            lang_from_pb(&req.lang),
        )))
    }

    async fn list_fragility(
        &self,
        request: Request<pb::ListFragilityRequest>,
    ) -> Result<Response<Self::ListFragilityStream>, Status> {
        let req = request.into_inner();
        let at = req.at.as_ref().map(date_from_pb).transpose()?;
        let lang = lang_from_pb(&req.lang);
        let all = self.app.fragility_all(non_empty(&req.network), at).await?;
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            for (stored, assessment) in all {
                let message = fragility_to_pb(&stored.inventory, &assessment, lang);
                if tx.send(Ok(message)).await.is_err() {
                    break; // the client went away
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn rollup(&self, request: Request<pb::RollupRequest>) -> Result<Response<pb::RollupResponse>, Status> {
        let req = request.get_ref();
        let at = req.at.as_ref().map(date_from_pb).transpose()?;
        let by = match pb::rollup_request::By::try_from(req.by).unwrap_or(pb::rollup_request::By::Unspecified) {
            pb::rollup_request::By::Unspecified | pb::rollup_request::By::Instance => RollupBy::Instance,
            pb::rollup_request::By::Network => RollupBy::Network,
            pb::rollup_request::By::Region => RollupBy::Region,
            pb::rollup_request::By::Department => RollupBy::Department,
        };
        let groups = self.app.rollup(by, at).await?;
        Ok(Response::new(pb::RollupResponse {
            evaluated_on: Some(date_to_pb(at.unwrap_or_else(|| self.app.today()))),
            groups: groups.iter().map(rollup_group_to_pb).collect(),
        }))
    }
}
