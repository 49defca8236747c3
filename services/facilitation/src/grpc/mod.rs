//! The gRPC adapter of `vigie.facilitation.v1.FacilitationService`: check
//! the caller against the matrix of [`authz`], decode the request, call the
//! application, encode the answer.

pub mod authz;

use tonic::{Request, Response, Status, Streaming};
use vigie_facilitation_domain::facilitators_csv::FACILITATORS_FILE;
use vigie_facilitation_domain::report::{activity_csv, report_csv, unhelped_csv};
use vigie_platform::auth::{authorize, principal, visible, Target, Visibility};
use vigie_platform::grpc::fields::{non_empty, optional_date};
use vigie_platform::words;
use vigie_platform::words::IntoStatus;
use vigie_proto::dates::rfc3339;
use vigie_proto::facilitation::v1 as pb;
use vigie_proto::facilitation::v1::facilitation_service_server::FacilitationService;
use vigie_proto::inventory::v1 as inv;

use crate::app::views::HelpRequest;
use crate::app::{FacilitationApp, HelpInput, InterventionInput};
use crate::convert::date_to_pb;
use crate::error::FacilitationError;

/// Largest facilitators file accepted in one import.
const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Implements the facilitation API over the application service.
#[derive(Clone)]
pub struct FacilitationApi {
    app: FacilitationApp,
}

impl FacilitationApi {
    /// Wraps the application service.
    pub fn new(app: FacilitationApp) -> Self {
        FacilitationApi { app }
    }
}

fn date(value: Option<&vigie_proto::common::v1::Date>) -> Result<Option<chrono::NaiveDate>, FacilitationError> {
    optional_date(value).map_err(FacilitationError::Invalid)
}

/// Checks `method` without an object (instance-wide RPCs).
#[allow(clippy::result_large_err)]
fn authorize_call<T>(request: &Request<T>, method: &str) -> Result<(), Status> {
    authorize(principal(request)?, &authz::rule_for(method)?, None, || {
        words!("opération", "operation")
    })
}

impl FacilitationApi {
    /// Checks that the caller of `method` may act for structure `structure`
    /// (from the inventory's read model); a structure outside the caller's
    /// reach is `NOT_FOUND` exactly like an unknown one.
    async fn authorize_structure<T>(&self, request: &Request<T>, method: &str, structure: &str) -> Result<(), Status> {
        vigie_platform::auth::authorize_structure(
            principal(request)?,
            &authz::rule_for(method)?,
            structure,
            &words!(
                "structure « {structure} » (absente de l'inventaire)",
                "structure “{structure}” (not in the inventory)"
            ),
            || self.app.structure_network(structure),
        )
        .await
    }

    /// Checks that the caller of `method` may act on help request `id` (its
    /// structure and network).
    async fn authorize_request<T>(&self, request: &Request<T>, method: &str, id: &str) -> Result<(), Status> {
        let principal = principal(request)?;
        let rule = authz::rule_for(method)?;
        if visible(principal, &rule)? == Visibility::All {
            return Ok(());
        }
        // A missing request is the application's `NOT_FOUND` « demande … ».
        let row = self.app.request(id).await?;
        authorize(
            principal,
            &rule,
            Some(Target {
                network: &row.network_id,
                structure: Some(&row.structure_id),
            }),
            || words!("demande « {id} »", "request “{id}”"),
        )
    }
}

/// A request as the API shows it.
pub fn request_to_pb(row: &HelpRequest) -> pb::HelpRequest {
    pb::HelpRequest {
        request_id: row.request_id.clone(),
        origin: row.origin.clone(),
        structure_id: row.structure_id.clone(),
        network: row.network_id.clone(),
        function: row.function.clone(),
        description: row.description.clone(),
        urgency: row.urgency.clone(),
        due: row.due_on.map(date_to_pb),
        estimated_minutes: row.estimated_minutes,
        status: row.status.clone(),
        facilitator_id: row.facilitator_id.clone().unwrap_or_default(),
        facilitator_name: row.facilitator_name.clone().unwrap_or_default(),
        reasons: row.reasons.clone(),
        created_on: Some(date_to_pb(row.created_on)),
        declined_by: row.declined_by.clone(),
        modality: row.modality.clone(),
        offered_at: row.offered_at.map(rfc3339).unwrap_or_default(),
        accepted_at: row.accepted_at.map(rfc3339).unwrap_or_default(),
        escalated_at: row.escalated_at.map(rfc3339).unwrap_or_default(),
        closed_at: row.closed_at.map(rfc3339).unwrap_or_default(),
        overdue_without_coordinator: row.overdue_at.is_some() && row.status == crate::app::OFFERED,
        kind: row.kind.clone(),
        call_id: row.call.as_ref().map(|c| c.call_id.clone()).unwrap_or_default(),
        call_title: row.call.as_ref().map(|c| c.title.clone()).unwrap_or_default(),
        call_deadline: row.call.as_ref().map(|c| date_to_pb(c.deadline)),
        call_url: row.call.as_ref().map(|c| c.url.clone()).unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl FacilitationService for FacilitationApi {
    async fn import_facilitators(
        &self,
        request: Request<Streaming<pb::FacilitatorsChunk>>,
    ) -> Result<Response<pb::ImportFacilitatorsResponse>, Status> {
        authorize_call(&request, "ImportFacilitators")?;
        let mut stream = request.into_inner();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.message().await? {
            if !chunk.file_name.is_empty() && chunk.file_name != FACILITATORS_FILE {
                return Err(words!(
                    "fichier « {} » inattendu (attendu : {FACILITATORS_FILE})",
                    "unexpected file “{}” (expected: {FACILITATORS_FILE})",
                    chunk.file_name
                )
                .into_status(tonic::Code::InvalidArgument));
            }
            if bytes.len() + chunk.chunk.len() > MAX_FILE_BYTES {
                return Err(words!(
                    "fichier trop volumineux (16 Mio au plus)",
                    "file too large (16 MiB at most)"
                )
                .into_status(tonic::Code::InvalidArgument));
            }
            bytes.extend_from_slice(&chunk.chunk);
        }
        match self.app.import_facilitators(&bytes).await {
            Ok(count) => Ok(Response::new(pb::ImportFacilitatorsResponse {
                errors: vec![],
                facilitators: count as u64,
            })),
            Err(FacilitationError::Rejected(errors)) => Ok(Response::new(pb::ImportFacilitatorsResponse {
                errors: errors
                    .into_iter()
                    .map(|e| inv::ImportError::new(e.file, e.line, e.message))
                    .collect(),
                facilitators: 0,
            })),
            Err(other) => Err(other.into()),
        }
    }

    async fn list_facilitators(
        &self,
        request: Request<pb::ListFacilitatorsRequest>,
    ) -> Result<Response<pb::ListFacilitatorsResponse>, Status> {
        authorize_call(&request, "ListFacilitators")?;
        let facilitators = self
            .app
            .facilitators()
            .await?
            .into_iter()
            .map(|f| pb::Facilitator {
                internal_minutes_per_week: f.internal_minutes_per_week(),
                facilitator_id: f.id,
                display_name: f.display_name,
                kind: f.kind.as_str().to_owned(),
                employer_structure_id: f.employer_structure_id.unwrap_or_default(),
                served_structures: f.served_structures,
                territory_codes: f.territory_codes,
                functions: f.functions,
                weekly_minutes: f.weekly_minutes,
                internal_share: f.internal_share,
                funding_programme: f.funding_programme,
                funding_end: f.funding_end.map(date_to_pb),
            })
            .collect();
        Ok(Response::new(pb::ListFacilitatorsResponse { facilitators }))
    }

    async fn request_help(
        &self,
        request: Request<pb::RequestHelpRequest>,
    ) -> Result<Response<pb::HelpRequest>, Status> {
        self.authorize_structure(&request, "RequestHelp", request.get_ref().structure_id.trim())
            .await?;
        let req = request.into_inner();
        let due = date(req.due.as_ref())?;
        let row = self
            .app
            .request_help(HelpInput {
                structure_id: req.structure_id,
                function: req.function,
                description: req.description,
                urgency: non_empty(&req.urgency).map(str::to_owned),
                modality: non_empty(&req.modality).map(str::to_owned),
                due,
                estimated_minutes: (req.estimated_minutes > 0).then_some(req.estimated_minutes),
            })
            .await?;
        Ok(Response::new(request_to_pb(&row)))
    }

    async fn respond(&self, request: Request<pb::RespondRequest>) -> Result<Response<pb::HelpRequest>, Status> {
        let req = request.get_ref();
        self.authorize_request(&request, "Respond", req.request_id.trim())
            .await?;
        let row = self.app.respond(&req.request_id, req.accept).await?;
        Ok(Response::new(request_to_pb(&row)))
    }

    async fn list_proposals(
        &self,
        request: Request<pb::ListProposalsRequest>,
    ) -> Result<Response<pb::ListProposalsResponse>, Status> {
        let visibility = visible(principal(&request)?, &authz::rule_for("ListProposals")?)?;
        let rows = self
            .app
            .proposals_in(non_empty(&request.get_ref().structure_id), &visibility)
            .await?;
        Ok(Response::new(pb::ListProposalsResponse {
            proposals: rows.iter().map(request_to_pb).collect(),
        }))
    }

    async fn record_intervention(
        &self,
        request: Request<pb::RecordInterventionRequest>,
    ) -> Result<Response<pb::RecordInterventionResponse>, Status> {
        self.authorize_request(&request, "RecordIntervention", request.get_ref().request_id.trim())
            .await?;
        let req = request.into_inner();
        let on = date(req.on.as_ref())?;
        let level = |value: Option<u32>| {
            value
                .map(|level| {
                    u8::try_from(level).ok().filter(|l| *l <= 4).ok_or_else(|| {
                        FacilitationError::Invalid(words!(
                            "niveau d'autonomie {level} invalide (0 à 4)",
                            "invalid autonomy level {level} (0 to 4)"
                        ))
                    })
                })
                .transpose()
        };
        let autonomy_after = level(req.autonomy_after)?;
        let autonomy_before = level(req.autonomy_before)?;
        let outcome = self
            .app
            .record_intervention(InterventionInput {
                request_id: req.request_id,
                minutes: req.minutes,
                beneficiary: req.beneficiary,
                person_id: non_empty(&req.person_id).map(str::to_owned),
                autonomy_after,
                autonomy_before,
                activity_type: non_empty(&req.activity_type).map(str::to_owned),
                place: non_empty(&req.place).map(str::to_owned),
                themes: req.themes,
                on,
                key: non_empty(&req.key).map(str::to_owned),
            })
            .await?;
        Ok(Response::new(pb::RecordInterventionResponse {
            key: outcome.key,
            recorded: outcome.recorded,
            request: Some(request_to_pb(&outcome.request)),
            autonomy_published: outcome.autonomy_published,
        }))
    }

    async fn report(&self, request: Request<pb::ReportRequest>) -> Result<Response<pb::ReportResponse>, Status> {
        let visibility = visible(principal(&request)?, &authz::rule_for("Report")?)?;
        let req = request.get_ref();
        let (Some(from), Some(to)) = (date(req.from.as_ref())?, date(req.to.as_ref())?) else {
            return Err(FacilitationError::Invalid(words!(
                "la période (from, to) est requise",
                "the period (from, to) is required"
            ))
            .into());
        };
        // A network outside the caller's reach answers like one without activity.
        let covered = visibility.covers(Target {
            network: req.network.trim(),
            structure: None,
        });
        let report = self.app.report_in(&req.network, from, to, covered).await?;
        Ok(Response::new(pb::ReportResponse {
            csv: report_csv(&report.lines),
            unhelped_csv: unhelped_csv(&report.unhelped),
            activity_csv: activity_csv(&report.interventions),
            unhelped: report
                .unhelped
                .into_iter()
                .map(|u| pb::UnhelpedStructure {
                    structure_id: u.structure_id,
                    band: u.band,
                    functions: u.functions,
                })
                .collect(),
            lines: report
                .lines
                .into_iter()
                .map(|l| pb::ReportLine {
                    facilitator_id: l.facilitator_id,
                    display_name: l.display_name,
                    internal_minutes: l.internal_minutes,
                    external_minutes: l.external_minutes,
                    internal_share: l.internal_share,
                    response_hours_median: l.response_hours_median,
                    resolution_hours_median: l.resolution_hours_median,
                })
                .collect(),
        }))
    }
}
