//! The gRPC adapter of `vigie.training.v1.TrainingService`: check the
//! caller against the matrix of [`authz`], decode the request, call the
//! application, encode the answer.

pub mod authz;

use tonic::{Request, Response, Status, Streaming};
use vigie_fragility_model::catalogue::label_fr;
use vigie_inventory_snapshot::band_to_pb;
use vigie_platform::auth::{authorize, principal, visible, Target, Visibility};
use vigie_platform::grpc::fields::{non_empty, optional_date};
use vigie_platform::words;
use vigie_platform::words::IntoStatus;
use vigie_platform::words::Words;
use vigie_proto::dates::date_to_pb;
use vigie_proto::inventory::v1 as inv;
use vigie_proto::training::v1 as pb;
use vigie_proto::training::v1::training_service_server::TrainingService;
use vigie_training_domain::catalogue::CatalogueFiles;
use vigie_training_domain::plan::Exposure;

use crate::app::{enrolment_words, EnrolmentView, TrainingApp};
use crate::error::TrainingError;

/// Largest catalogue accepted in one import.
const MAX_CATALOG_BYTES: usize = 64 * 1024 * 1024;
/// Local date-times as shown to clients.
const DATE_TIME: &str = "%Y-%m-%dT%H:%M";

/// Implements the training API over the application service.
#[derive(Clone)]
pub struct TrainingApi {
    app: TrainingApp,
}

impl TrainingApi {
    /// Wraps the application service.
    pub fn new(app: TrainingApp) -> Self {
        TrainingApi { app }
    }
}

fn date(value: Option<&vigie_proto::common::v1::Date>) -> Result<Option<chrono::NaiveDate>, TrainingError> {
    optional_date(value).map_err(TrainingError::Invalid)
}

/// Checks `method` without an object (instance-wide RPCs).
#[allow(clippy::result_large_err)]
fn authorize_call<T>(request: &Request<T>, method: &str) -> Result<(), Status> {
    authorize(principal(request)?, &authz::rule_for(method)?, None, || {
        words!("opération", "operation")
    })
}

/// Checks that the caller of `method` may act at the place `place_of` finds
/// (`(structure, network)`): roles first (a caller without any granted role
/// learns nothing), the lookup only when the caller's reach is not the whole
/// instance, and nothing found is `NOT_FOUND` « `what` introuvable » exactly
/// like a place outside the caller's reach. People and enrolments are
/// authorised alike; only their lookup differs.
async fn authorize_placed<T, Fut>(
    request: &Request<T>,
    method: &str,
    what: impl FnOnce() -> Words,
    place_of: impl FnOnce() -> Fut,
) -> Result<(), Status>
where
    Fut: std::future::Future<Output = Result<Option<(String, String)>, TrainingError>>,
{
    let principal = principal(request)?;
    let rule = authz::rule_for(method)?;
    if visible(principal, &rule)? == Visibility::All {
        return Ok(());
    }
    match place_of().await? {
        Some((structure, network)) => authorize(
            principal,
            &rule,
            Some(Target {
                network: &network,
                structure: Some(&structure),
            }),
            what,
        ),
        None => Err(TrainingError::NotFound(what()).into()),
    }
}

impl TrainingApi {
    /// Checks that the caller of `method` may act for person `person` (their
    /// structure in the inventory's read model); a person outside the
    /// caller's reach is `NOT_FOUND` exactly like an unknown one.
    async fn authorize_person<T>(&self, request: &Request<T>, method: &str, person: &str) -> Result<(), Status> {
        let what = || {
            words!(
                "personne « {person} » (absente de l'inventaire)",
                "person “{person}” (not in the inventory)"
            )
        };
        authorize_placed(request, method, what, || self.app.person_place(person)).await
    }

    /// Checks that the caller of `method` may act on the enrolment of
    /// `person` in `session` (the structure it was made for).
    async fn authorize_enrolment<T>(
        &self,
        request: &Request<T>,
        method: &str,
        session: &str,
        person: &str,
    ) -> Result<(), Status> {
        authorize_placed(
            request,
            method,
            || enrolment_words(session, person),
            || async {
                let row = self.app.enrolment(session, person).await?;
                Ok(row.map(|row| (row.structure_id, row.network_id)))
            },
        )
        .await
    }

    /// Checks that the caller of `method` may see structure `structure`.
    async fn authorize_structure<T>(&self, request: &Request<T>, method: &str, structure: &str) -> Result<(), Status> {
        vigie_platform::auth::authorize_structure_id(principal(request)?, &authz::rule_for(method)?, structure, || {
            self.app.structure_network(structure)
        })
        .await
    }
}

fn enrolment_to_pb(view: &EnrolmentView) -> pb::Enrolment {
    pb::Enrolment {
        session_id: view.row.session_id.clone(),
        person_id: view.row.person_id.clone(),
        structure_id: view.row.structure_id.clone(),
        status: view.row.status.clone(),
        waiting_position: view.waiting_position.unwrap_or(0),
        completed_on: view.row.completed_on.map(date_to_pb),
    }
}

#[tonic::async_trait]
impl TrainingService for TrainingApi {
    async fn import_catalog(
        &self,
        request: Request<Streaming<pb::CatalogChunk>>,
    ) -> Result<Response<pb::ImportCatalogResponse>, Status> {
        authorize_call(&request, "ImportCatalog")?;
        let mut stream = request.into_inner();
        let mut files = CatalogueFiles::default();
        let mut received = 0;
        while let Some(chunk) = stream.message().await? {
            received += chunk.chunk.len();
            if received > MAX_CATALOG_BYTES {
                return Err(words!(
                    "catalogue trop volumineux (64 Mio au plus)",
                    "catalogue too large (64 MiB at most)"
                )
                .into_status(tonic::Code::InvalidArgument));
            }
            let Some(target) = files.file_mut(&chunk.file_name) else {
                return Err(words!(
                    "fichier « {} » inattendu (attendus : trainings.csv, sessions.csv)",
                    "unexpected file “{}” (expected: trainings.csv, sessions.csv)",
                    chunk.file_name
                )
                .into_status(tonic::Code::InvalidArgument));
            };
            target.extend_from_slice(&chunk.chunk);
        }
        match self.app.import_catalog(files).await {
            Ok((trainings, sessions)) => Ok(Response::new(pb::ImportCatalogResponse {
                errors: vec![],
                trainings: trainings as u64,
                sessions: sessions as u64,
            })),
            Err(TrainingError::Rejected(errors)) => Ok(Response::new(pb::ImportCatalogResponse {
                errors: errors
                    .into_iter()
                    .map(|e| inv::ImportError::new(e.file, e.line, e.message))
                    .collect(),
                trainings: 0,
                sessions: 0,
            })),
            Err(other) => Err(other.into()),
        }
    }

    async fn export_catalog(
        &self,
        request: Request<pb::ExportCatalogRequest>,
    ) -> Result<Response<pb::ExportCatalogResponse>, Status> {
        authorize_call(&request, "ExportCatalog")?;
        let files = self.app.export_catalog().await?;
        Ok(Response::new(pb::ExportCatalogResponse {
            trainings_csv: files.trainings,
            sessions_csv: files.sessions,
        }))
    }

    async fn list_trainings(
        &self,
        request: Request<pb::ListTrainingsRequest>,
    ) -> Result<Response<pb::ListTrainingsResponse>, Status> {
        authorize_call(&request, "ListTrainings")?;
        let trainings = self.app.trainings(non_empty(&request.get_ref().function)).await?;
        let trainings = trainings
            .into_iter()
            .map(|t| pb::Training {
                training_id: t.id,
                title: t.title,
                provider: t.provider,
                modality: t.modality.as_str().to_owned(),
                duration_hours: t.duration_hours,
                cost_eur: t.cost_eur,
                funding: t.funding,
                targets: t
                    .targets
                    .into_iter()
                    .map(|target| pb::TrainingTarget {
                        function: target.function,
                        prerequisite_level: u32::from(target.prerequisite_level),
                        goal_level: u32::from(target.goal_level),
                    })
                    .collect(),
            })
            .collect();
        Ok(Response::new(pb::ListTrainingsResponse { trainings }))
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        authorize_call(&request, "ListSessions")?;
        let sessions = self.app.sessions(non_empty(&request.get_ref().training_id)).await?;
        let sessions = sessions
            .into_iter()
            .map(|s| pb::Session {
                session_id: s.session.id,
                training_id: s.session.training_id,
                starts_at: s.session.starts_at.format(DATE_TIME).to_string(),
                ends_at: s.session.ends_at.format(DATE_TIME).to_string(),
                timezone: s.session.timezone.name().to_owned(),
                commune_insee: s.session.commune_insee.unwrap_or_default(),
                remote_url: s.session.remote_url.unwrap_or_default(),
                capacity: s.session.capacity,
                enrolled: s.enrolled,
                waiting: s.waiting,
            })
            .collect();
        Ok(Response::new(pb::ListSessionsResponse { sessions }))
    }

    async fn enrol(&self, request: Request<pb::EnrolRequest>) -> Result<Response<pb::Enrolment>, Status> {
        let req = request.get_ref();
        self.authorize_person(&request, "Enrol", req.person_id.trim()).await?;
        let view = self.app.enrol(req.session_id.trim(), req.person_id.trim()).await?;
        Ok(Response::new(enrolment_to_pb(&view)))
    }

    async fn cancel(&self, request: Request<pb::CancelRequest>) -> Result<Response<pb::CancelResponse>, Status> {
        let req = request.get_ref();
        self.authorize_enrolment(&request, "Cancel", req.session_id.trim(), req.person_id.trim())
            .await?;
        let (cancelled, promoted) = self.app.cancel(req.session_id.trim(), req.person_id.trim()).await?;
        Ok(Response::new(pb::CancelResponse {
            cancelled: Some(enrolment_to_pb(&cancelled)),
            promoted: promoted.as_ref().map(enrolment_to_pb),
        }))
    }

    async fn complete(&self, request: Request<pb::CompleteRequest>) -> Result<Response<pb::Enrolment>, Status> {
        let req = request.get_ref();
        let on = date(req.on.as_ref())?;
        self.authorize_enrolment(&request, "Complete", req.session_id.trim(), req.person_id.trim())
            .await?;
        let view = self
            .app
            .complete(req.session_id.trim(), req.person_id.trim(), on)
            .await?;
        Ok(Response::new(enrolment_to_pb(&view)))
    }

    async fn plan(&self, request: Request<pb::PlanRequest>) -> Result<Response<pb::StructurePlan>, Status> {
        let req = request.get_ref();
        let at = date(req.at.as_ref())?;
        self.authorize_structure(&request, "Plan", req.structure_id.trim())
            .await?;
        let (_, plan) = self.app.plan(req.structure_id.trim(), at).await?;
        Ok(Response::new(pb::StructurePlan {
            structure_id: plan.structure_id.clone(),
            evaluated_on: Some(date_to_pb(plan.evaluated_on)),
            current_band: band_to_pb(plan.current.band) as i32,
            current_score: plan.current.score,
            predicted_band: band_to_pb(plan.predicted.band) as i32,
            predicted_score: plan.predicted.score,
            items: plan
                .items
                .iter()
                .map(|item| pb::PlanItem {
                    function: item.function.clone(),
                    label: label_fr(&item.function),
                    criticality: u32::from(item.criticality),
                    exposure: match item.exposure {
                        Exposure::Orphan => "orphan",
                        Exposure::Spof => "spof",
                    }
                    .to_owned(),
                    weighted_risk: item.weighted_risk,
                    candidates: item
                        .candidates
                        .iter()
                        .map(|c| pb::Candidate {
                            person_id: c.person_id.clone(),
                            display_name: c.display_name.clone(),
                            level: u32::from(c.level),
                            functions_held: c.functions_held as u32,
                        })
                        .collect(),
                    trainings: item
                        .trainings
                        .iter()
                        .map(|t| pb::PlannedTraining {
                            training_id: t.training_id.clone(),
                            title: t.title.clone(),
                            learners: t.learners.clone(),
                            next_session_id: t.next_session.clone().unwrap_or_default(),
                            next_session_starts: t
                                .next_session_starts
                                .map(|d| d.format(DATE_TIME).to_string())
                                .unwrap_or_default(),
                        })
                        .collect(),
                })
                .collect(),
        }))
    }

    async fn network_plan(
        &self,
        request: Request<pb::NetworkPlanRequest>,
    ) -> Result<Response<pb::NetworkPlanResponse>, Status> {
        let req = request.get_ref();
        let at = date(req.at.as_ref())?;
        let visibility = visible(principal(&request)?, &authz::rule_for("NetworkPlan")?)?;
        let network = req.network.trim();
        // A network outside the caller's reach answers like an unknown one: no lines.
        if !visibility.covers(Target {
            network,
            structure: None,
        }) {
            return Ok(Response::new(pb::NetworkPlanResponse { lines: vec![] }));
        }
        let lines = self.app.network_plan(network, at).await?;
        Ok(Response::new(pb::NetworkPlanResponse {
            lines: lines
                .into_iter()
                .map(|l| pb::NetworkPlanLine {
                    training_id: l.training_id,
                    title: l.title,
                    department_code: l.department_code,
                    learners: l.learners as u32,
                    structures: l.structures as u32,
                })
                .collect(),
        }))
    }
}
