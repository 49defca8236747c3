//! The gRPC adapter of `vigie.inventory.v1.InventoryService`: check the
//! caller against the matrix of [`authz`], decode the request, call the
//! application, encode the answer. No business rule lives here.

mod answers;
pub mod authz;
mod import;
mod routed;

use std::sync::Arc;
use vigie_platform::words::IntoStatus;

use futures::stream::BoxStream;
use futures::StreamExt;

use answers::Answers;
use bytes::Bytes;
use chrono::NaiveDate;
use prost::Message as _;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use vigie_fragility_model::explain::Lang;
use vigie_fragility_model::model::Evidence;
use vigie_inventory_set::scope::ImportScope;
use vigie_platform::auth::{authorize, principal, visible, Target, Visibility};
use vigie_platform::grpc::fields::non_empty;
use vigie_platform::words;
use vigie_platform::words::internal_status;
use vigie_proto::inventory::v1 as pb;
use vigie_proto::inventory::v1::inventory_service_server::InventoryService;

use crate::app::views::VersionedInventory;
use crate::app::{HoldingChange, Inventory, PersonLocation, RollupBy, LIST_CHUNK};
use crate::convert::{
    date_from_pb, date_to_pb, fragility_to_pb, holding_to_pb, lang_from_pb, person_to_pb, rollup_group_to_pb,
    structure_to_pb,
};
use crate::error::InventoryError;
pub use routed::InventoryGrpc;
use vigie_fragility_model::model::HoldingRecord;

/// Implements the inventory's gRPC API over the application service.
#[derive(Clone)]
pub struct InventoryApi {
    app: Inventory,
    /// Answers built from the cache's copies (`answers.rs`), shared by
    /// every clone.
    answers: Arc<KeptAnswers>,
}

/// The single-structure answers kept, by kind.
#[derive(Default)]
struct KeptAnswers {
    /// `pb::Structure`, encoded.
    structures: Answers<(), Bytes>,
    /// `pb::StructureFragility`, encoded, by the date assessed and the
    /// language of the explanations.
    fragility: Answers<(NaiveDate, Lang), Bytes>,
}

impl InventoryApi {
    /// Wraps the application service.
    pub fn new(app: Inventory) -> Self {
        InventoryApi {
            app,
            answers: Arc::default(),
        }
    }
}

/// The structure as an authorisation target.
fn target(stored: &VersionedInventory) -> Target<'_> {
    let s = &stored.inventory.structure;
    Target {
        network: &s.network,
        structure: Some(&s.id),
    }
}

/// Checks `method` without an object (instance-wide RPCs).
#[allow(clippy::result_large_err)]
fn authorize_call<T>(request: &Request<T>, method: &str) -> Result<(), Status> {
    authorize(principal(request)?, &authz::rule_for(method)?, None, || {
        words!("opération", "operation")
    })
}

impl InventoryApi {
    /// Loads structure `id` if the caller of `method` may see it; a structure
    /// outside the caller's reach is `NOT_FOUND` exactly like a missing one.
    async fn visible_structure<T>(
        &self,
        request: &Request<T>,
        method: &str,
        id: &str,
    ) -> Result<Arc<VersionedInventory>, Status> {
        let principal = principal(request)?;
        let rule = authz::rule_for(method)?;
        // Roles first: a caller without any granted role learns nothing.
        visible(principal, &rule)?;
        let stored = self.app.structure_shared(id).await?;
        authorize(principal, &rule, Some(target(&stored)), || {
            words!("structure « {id} »", "structure “{id}”")
        })?;
        Ok(stored)
    }
}

impl InventoryApi {
    /// Checks that the caller of `method` may act on person `id` (current or
    /// erased); a person outside the caller's reach is `NOT_FOUND` exactly
    /// like an unknown one.
    async fn visible_person<T>(&self, request: &Request<T>, method: &str, id: &str) -> Result<(), Status> {
        let principal = principal(request)?;
        let rule = authz::rule_for(method)?;
        visible(principal, &rule)?;
        let not_found = || words!("personne « {id} »", "person “{id}”");
        let (structure, network) = match self.app.locate_person(id).await? {
            Some(PersonLocation::Current(s, n) | PersonLocation::Erased(s, n)) => (s, n),
            None => return Err(InventoryError::NotFound(not_found()).into()),
        };
        let target = Target {
            network: &network,
            structure: Some(&structure),
        };
        authorize(principal, &rule, Some(target), not_found)
    }
}

/// The single-structure reads. The routed service ([`routed`]) answers them
/// with the kept encoding of the answer; the generated trait's methods build
/// it each time (the reference the tests compare the kept bytes with).
impl InventoryApi {
    /// `GetStructure`, encoded, kept with the copy it was built from.
    ///
    /// # Errors
    /// As `GetStructure`: the structure is missing or out of the caller's reach.
    pub async fn get_structure_encoded(
        &self,
        request: Request<pb::GetStructureRequest>,
    ) -> Result<Response<Bytes>, Status> {
        let stored = self.structure_asked(&request).await?;
        let answer = self.answers.structures.get_or_build(&stored, (), || {
            structure_to_pb(&stored.inventory, stored.version)
                .encode_to_vec()
                .into()
        });
        Ok(Response::new(answer))
    }

    /// `GetFragility`, encoded, kept with the copy it was assessed on, for
    /// its date and language.
    ///
    /// # Errors
    /// As `GetFragility`: a bad date, a structure missing or out of reach.
    pub async fn get_fragility_encoded(
        &self,
        request: Request<pb::GetFragilityRequest>,
    ) -> Result<Response<Bytes>, Status> {
        let (stored, at, lang) = self.fragility_asked(&request).await?;
        let answer = self.answers.fragility.get_or_build(&stored, (at, lang), || {
            self.fragility_answer(&stored, at, lang).encode_to_vec().into()
        });
        Ok(Response::new(answer))
    }

    async fn structure_asked(
        &self,
        request: &Request<pb::GetStructureRequest>,
    ) -> Result<Arc<VersionedInventory>, Status> {
        self.visible_structure(request, "GetStructure", request.get_ref().structure_id.trim())
            .await
    }

    /// The structure (one load serves the authorisation check and the
    /// assessment), the date and the language asked.
    async fn fragility_asked(
        &self,
        request: &Request<pb::GetFragilityRequest>,
    ) -> Result<(Arc<VersionedInventory>, NaiveDate, Lang), Status> {
        let req = request.get_ref();
        let at = match &req.at {
            Some(at) => date_from_pb(at)?,
            None => self.app.today(),
        };
        let stored = self
            .visible_structure(request, "GetFragility", req.structure_id.trim())
            .await?;
        Ok((stored, at, lang_from_pb(&req.lang)))
    }

    fn fragility_answer(&self, stored: &VersionedInventory, at: NaiveDate, lang: Lang) -> pb::StructureFragility {
        fragility_to_pb(&stored.inventory, &self.app.assess(stored, Some(at)), lang)
    }
}

#[tonic::async_trait]
impl InventoryService for InventoryApi {
    type ImportStream = ReceiverStream<Result<pb::ImportProgress, Status>>;
    type ListFragilityStream = BoxStream<'static, Result<pb::StructureFragility, Status>>;

    async fn import(
        &self,
        request: Request<Streaming<pb::ImportRequest>>,
    ) -> Result<Response<Self::ImportStream>, Status> {
        let scope = match visible(principal(&request)?, &authz::rule_for("Import")?)? {
            Visibility::All => ImportScope::Instance,
            Visibility::Only { networks, .. } if !networks.is_empty() => {
                ImportScope::Networks(networks.into_iter().collect())
            }
            Visibility::Only { .. } => {
                return Err(words!(
                    "import réservé à la fédération et aux coordinations de réseau",
                    "import reserved to the federation and the network coordinators"
                )
                .into_status(tonic::Code::PermissionDenied))
            }
        };
        import::run(self.app.clone(), scope, request.into_inner()).await
    }

    async fn get_structure(
        &self,
        request: Request<pb::GetStructureRequest>,
    ) -> Result<Response<pb::Structure>, Status> {
        let stored = self.structure_asked(&request).await?;
        Ok(Response::new(structure_to_pb(&stored.inventory, stored.version)))
    }

    async fn list_structures(
        &self,
        request: Request<pb::ListStructuresRequest>,
    ) -> Result<Response<pb::ListStructuresResponse>, Status> {
        let visibility = visible(principal(&request)?, &authz::rule_for("ListStructures")?)?;
        let structures = self
            .app
            .summaries_in(non_empty(&request.get_ref().network), &visibility)
            .await?;
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
        {
            let principal = principal(&request)?;
            let rule = authz::rule_for("SetHolding")?;
            visible(principal, &rule)?;
            let person = request.get_ref().person_id.trim();
            let owner = self.app.structure_of_person(person).await?;
            let not_found = || words!("personne « {person} »", "person “{person}”");
            match &owner {
                Some(stored) => authorize(principal, &rule, Some(target(stored)), not_found)?,
                None => return Err(InventoryError::NotFound(not_found()).into()),
            }
        }
        let req = request.into_inner();
        let level = u8::try_from(req.level).map_err(|_| {
            InventoryError::Invalid(words!(
                "niveau {} invalide (0 à 4)",
                "invalid level {} (0 to 4)",
                req.level
            ))
        })?;
        let evidence = match non_empty(&req.evidence) {
            None => Evidence::Manual,
            Some(code) => code.parse().map_err(|e: vigie_fragility_model::model::UnknownCode| {
                InventoryError::Invalid(words!("preuve : {e}", "evidence: {e}"))
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
        let (stored, at, lang) = self.fragility_asked(&request).await?;
        Ok(Response::new(self.fragility_answer(&stored, at, lang)))
    }

    async fn list_fragility(
        &self,
        request: Request<pb::ListFragilityRequest>,
    ) -> Result<Response<Self::ListFragilityStream>, Status> {
        let visibility = visible(principal(&request)?, &authz::rule_for("ListFragility")?)?;
        let req = request.into_inner();
        let at = req.at.as_ref().map(date_from_pb).transpose()?;
        let lang = lang_from_pb(&req.lang);
        let at = at.unwrap_or_else(|| self.app.today());
        // Who sees what is decided here, on the ids and networks; the
        // structures are then read a chunk at a time and sent as they are
        // assessed.
        let listed = self.app.listed_in(non_empty(&req.network), &visibility).await?;
        let app = self.app.clone();
        // Pages of encoded answers, one per chunk: a page is one hand-off
        // between tasks where one answer each was 500.
        let (tx, rx) = mpsc::channel::<Result<Vec<pb::StructureFragility>, Status>>(2);
        tokio::spawn(async move {
            // Each chunk is read, assessed and encoded on its own task, two at
            // a time: the database reads the next chunk, and a second core
            // assesses it, while this one's answers leave (order kept, two
            // chunks held at most). Each task owns its chunk, moved out of
            // the list.
            let mut listed = listed.into_iter();
            let owned = std::iter::from_fn(move || {
                let chunk: Vec<_> = listed.by_ref().take(LIST_CHUNK).collect();
                (!chunk.is_empty()).then_some(chunk)
            });
            let mut pages = futures::stream::iter(owned)
                .map(|chunk| {
                    let app = app.clone();
                    tokio::spawn(async move {
                        let assessed = app.fragility_of(&chunk, at).await?;
                        Ok::<_, InventoryError>(
                            assessed
                                .iter()
                                .map(|(stored, assessment)| fragility_to_pb(&stored.inventory, assessment, lang))
                                .collect::<Vec<_>>(),
                        )
                    })
                })
                .buffered(2);
            while let Some(page) = pages.next().await {
                let page = match page {
                    Ok(Ok(page)) => Ok(page),
                    Ok(Err(error)) => Err(Status::from(error)),
                    Err(panicked) => Err(internal_status("inventory", "service d'inventaire", &panicked)),
                };
                let failed = page.is_err();
                // A failed page ends the stream with its error: a partial
                // list is never taken for the whole.
                if tx.send(page).await.is_err() || failed {
                    return; // the client went away, or the list failed
                }
            }
        });
        let answers = ReceiverStream::new(rx).flat_map(|page| match page {
            Ok(answers) => futures::stream::iter(answers).map(Ok).left_stream(),
            Err(error) => futures::stream::once(async { Err(error) }).right_stream(),
        });
        Ok(Response::new(answers.boxed()))
    }

    async fn rollup(&self, request: Request<pb::RollupRequest>) -> Result<Response<pb::RollupResponse>, Status> {
        authorize_call(&request, "Rollup")?;
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

    async fn erase_person(
        &self,
        request: Request<pb::ErasePersonRequest>,
    ) -> Result<Response<pb::ErasePersonResponse>, Status> {
        let id = request.get_ref().person_id.trim().to_owned();
        self.visible_person(&request, "ErasePerson", &id).await?;
        let erasure = self.app.erase_person(&id).await?;
        // No answer kept here names the person any more.
        self.answers.structures.forget(&erasure.structure_id);
        self.answers.fragility.forget(&erasure.structure_id);
        Ok(Response::new(pb::ErasePersonResponse {
            person_id: erasure.person_id,
            structure_id: erasure.structure_id,
            already_erased: erasure.already_erased,
        }))
    }

    async fn export_person(
        &self,
        request: Request<pb::ExportPersonRequest>,
    ) -> Result<Response<pb::ExportPersonResponse>, Status> {
        let id = request.get_ref().person_id.trim().to_owned();
        self.visible_person(&request, "ExportPerson", &id).await?;
        let export = self.app.export_person(&id).await?;
        let s = &export.structure.inventory.structure;
        Ok(Response::new(pb::ExportPersonResponse {
            person: Some(person_to_pb(&export.person)),
            structure_id: s.id.clone(),
            structure_name: s.name.clone(),
            network: s.network.clone(),
            holdings: export.holdings.iter().map(holding_to_pb).collect(),
        }))
    }
}
