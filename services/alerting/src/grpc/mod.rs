//! The gRPC adapter of `vigie.alerting.v1.AlertingService`: check the caller
//! against the matrix of [`authz`], decode the request, call the application,
//! encode the answer.

pub mod authz;
mod grants;
pub mod paging;
mod preview;

use std::collections::HashMap;
use std::pin::Pin;
use vigie_platform::words::IntoStatus;

use futures::Stream;
use vigie_platform::words;

use tonic::{Request, Response, Status, Streaming};
use vigie_alerting_domain::call::{ImportProblem, Severity};
use vigie_platform::auth::{authorize, principal, visible, Target, Visibility};
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_server::AlertingService;
use vigie_proto::dates::rfc3339;

use crate::app::views::{LogEntry, StageRecord};
use crate::app::{
    AgreementDateInput, AlertingApp, ApplicationInput, CallView, CallsOf, GrantImportInput, GrantInput, ImportReport,
    NetworkPolicy, PolicyInput, PreviewAlert,
};
use crate::channels::links::{AckAction, FeedKind};
use crate::convert::{date_from_pb, date_to_pb};
use crate::error::AlertingError;

/// Largest file accepted in one import.
const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Implements the alerting API over the application service.
#[derive(Clone)]
pub struct AlertingApi {
    app: AlertingApp,
}

impl AlertingApi {
    /// Wraps the application service.
    pub fn new(app: AlertingApp) -> Self {
        AlertingApi { app }
    }

    /// Checks that the caller of `method` may act for `structure`; outside
    /// the caller's reach is `NOT_FOUND` like an unknown structure.
    async fn authorize_structure<T>(&self, request: &Request<T>, method: &str, structure: &str) -> Result<(), Status> {
        vigie_platform::auth::authorize_structure_id(principal(request)?, &authz::rule_for(method)?, structure, || {
            self.app.structure_network(structure)
        })
        .await
    }

    /// Checks that the caller of `method` may act for the whole `network`
    /// (under the method's network rule, [`authz::network_rule`]).
    #[allow(clippy::result_large_err)]
    fn authorize_network<T>(&self, request: &Request<T>, method: &str, network: &str) -> Result<(), Status> {
        authorize(
            principal(request)?,
            &authz::network_rule_for(method)?,
            Some(Target {
                network,
                structure: None,
            }),
            || words!("réseau « {network} »", "network “{network}”"),
        )
    }

    /// Which structures' people the caller may see ([`authz::PERSONAL_DATA`]):
    /// a caller none of whose roles is granted sees nobody's.
    #[allow(clippy::result_large_err)]
    fn people_visibility<T>(&self, request: &Request<T>) -> Result<Visibility, Status> {
        Ok(
            visible(principal(request)?, &authz::PERSONAL_DATA).unwrap_or(Visibility::Only {
                networks: Vec::new(),
                structures: Vec::new(),
            }),
        )
    }

    /// Whether `people` covers `structure` (its network looked up in `networks`).
    fn sees_people(people: &Visibility, networks: &HashMap<String, String>, structure: &str) -> bool {
        people == &Visibility::All
            || networks.get(structure).is_some_and(|network| {
                people.covers(Target {
                    network,
                    structure: Some(structure),
                })
            })
    }

    /// The structures' networks, when `people` needs them.
    async fn networks_for(&self, people: &Visibility) -> Result<HashMap<String, String>, Status> {
        if people == &Visibility::All || people.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self.app.structure_networks().await?.into_iter().collect())
    }

    /// What the caller may see of a preview, and its reminders planned
    /// (authorised as `PreviewAlerts`, streamed or not).
    async fn preview_plan(
        &self,
        request: &Request<pb::PreviewAlertsRequest>,
    ) -> Result<(preview::PreviewFilter, crate::app::PreviewPlan), Status> {
        let structure = non_empty(&request.get_ref().structure_id).map(str::to_owned);
        let visible_structures = match &structure {
            Some(s) => {
                self.authorize_structure(request, "PreviewAlerts", s).await?;
                None
            }
            None => self.visible_structures(request, "PreviewAlerts").await?,
        };
        let from = date(request.get_ref().from.as_ref(), "de début")?;
        let to = date(request.get_ref().to.as_ref(), "de fin")?;
        let plan = self.app.preview_plan(from, to, structure.as_deref()).await?;
        let people = self.people_visibility(request)?;
        let networks = self.networks_for(&people).await?;
        Ok((
            preview::PreviewFilter {
                visible_structures,
                people,
                networks,
            },
            plan,
        ))
    }

    /// What structures the caller may see under `method` (`None` = all).
    async fn visible_structures<T>(
        &self,
        request: &Request<T>,
        method: &str,
    ) -> Result<Option<HashMap<String, String>>, Status> {
        let visibility = visible(principal(request)?, &authz::rule_for(method)?)?;
        if visibility == Visibility::All {
            return Ok(None);
        }
        let networks = self.app.structure_networks().await?;
        Ok(Some(
            networks
                .into_iter()
                .filter(|(s, n)| {
                    visibility.covers(Target {
                        network: n,
                        structure: Some(s),
                    })
                })
                .collect(),
        ))
    }
}

fn non_empty(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

fn problem_to_pb(p: &ImportProblem) -> pb::ImportProblem {
    pb::ImportProblem::new(p.position.clone(), p.message.clone(), p.severity == Severity::Error)
}

fn report_to_pb(r: &ImportReport) -> pb::ImportCallsResponse {
    pb::ImportCallsResponse {
        refused: false,
        problems: r.problems.iter().map(problem_to_pb).collect(),
        calls: r.calls as u64,
        created: r.created as u64,
        revised: r.revised as u64,
        unchanged: r.unchanged as u64,
        updated: r.updated as u64,
        cancelled: r.cancelled as u64,
        pages: r.pages,
    }
}

fn import_result(result: Result<ImportReport, AlertingError>) -> Result<Response<pb::ImportCallsResponse>, Status> {
    match result {
        Ok(report) => Ok(Response::new(report_to_pb(&report))),
        Err(AlertingError::Rejected(problems)) => Ok(Response::new(pb::ImportCallsResponse {
            refused: true,
            problems: problems.iter().map(problem_to_pb).collect(),
            ..pb::ImportCallsResponse::default()
        })),
        Err(other) => Err(other.into()),
    }
}

fn stage_to_pb(s: &StageRecord) -> pb::Stage {
    pb::Stage {
        kind: s.stage.kind.code().to_owned(),
        date: Some(date_to_pb(s.stage.date)),
        time: s.stage.time.map(|t| t.format("%H:%M").to_string()),
        timezone: s.stage.timezone.name().to_owned(),
        wording: s.stage.wording.clone(),
        revision: s.revision,
    }
}

fn call_to_pb(v: &CallView) -> pb::Call {
    let c = &v.call;
    pb::Call {
        call_id: c.call_id.clone(),
        source: c.source.clone(),
        source_ref: c.source_ref.clone(),
        title: c.title.clone(),
        funders: c.funders.clone(),
        programmes: c.programmes.clone(),
        info_url: c.info_url.clone(),
        application_url: c.application_url.clone(),
        themes: c.themes.clone(),
        audiences: c.audiences.clone(),
        perimeter: Some(pb::Perimeter {
            name: c.perimeter_name.clone(),
            scale_label: c.perimeter_scale.clone(),
            areas: c.areas.iter().map(ToString::to_string).collect(),
            exclusions: c.exclusions.iter().map(ToString::to_string).collect(),
            unresolved: c.unresolved.clone(),
        }),
        recurrence: c.recurrence.map(|r| r.code().to_owned()).unwrap_or_default(),
        stages: c.stages.iter().filter(|s| !s.withdrawn).map(stage_to_pb).collect(),
        cancelled: c.cancelled,
        revision: c.revision,
        days_left: v.days_left,
        acknowledgement: v.acknowledgement.clone().unwrap_or_default(),
        matched_structures: v.matched_structures.clone(),
    }
}

fn alert_to_pb(p: &PreviewAlert) -> pb::Alert {
    let a = &p.alert;
    pb::Alert {
        due_at: rfc3339(a.due_at),
        local_date: Some(date_to_pb(a.local_date)),
        recipient: a.recipient.id.clone(),
        recipient_name: a.recipient.name.clone(),
        structure_id: a.structure_id.clone(),
        call_id: a.call_id.clone(),
        call_title: p.call_title.clone(),
        stage_kind: a.stage.kind.code().to_owned(),
        deadline: Some(date_to_pb(a.stage.date)),
        offset_days: a.offset_days,
        channel: a.recipient.channel.to_owned(),
        escalation: a.escalation.map(|r| r.code().to_owned()).unwrap_or_default(),
        revision: a.revision,
    }
}

fn log_to_pb(e: &LogEntry) -> pb::SendLogEntry {
    let r = &e.row;
    pb::SendLogEntry {
        recipient: r.recipient.clone(),
        call_id: r.call_id.clone(),
        stage_kind: r.stage_kind.clone(),
        revision: r.revision,
        offset_days: i32::try_from(r.offset_days).unwrap_or(i32::MIN),
        channel: r.channel.clone(),
        structure_id: r.structure_id.clone(),
        due_at: rfc3339(r.due_at),
        late: r.late,
        status: e.status.clone(),
        sent_at: e.sent_at.map(rfc3339).unwrap_or_default(),
        attempts: e.attempts,
        last_error: e.last_error.clone(),
        message_id: r.message_id.clone(),
        call_title: e.call_title.clone(),
    }
}

/// A recipient without who they are: `person:<id>` becomes `person`
/// (`referent:<network>` and `webhook:<network>` name a network, not a person).
fn recipient_kind(recipient: &str) -> String {
    match recipient.split_once(':') {
        Some(("person", _)) => "person".to_owned(),
        _ => recipient.to_owned(),
    }
}

/// A planned reminder as a caller without access to people sees it: no
/// recipient id or name.
fn without_people_alert(alert: pb::Alert) -> pb::Alert {
    pb::Alert {
        recipient: recipient_kind(&alert.recipient),
        recipient_name: String::new(),
        ..alert
    }
}

/// A send-log row as a caller without access to people sees it: no
/// recipient id, and no delivery error (SMTP errors quote the address).
fn without_people_log(entry: pb::SendLogEntry) -> pb::SendLogEntry {
    let last_error = if entry.last_error.is_empty() {
        String::new()
    } else {
        "détail réservé aux gestionnaires".to_owned()
    };
    pb::SendLogEntry {
        recipient: recipient_kind(&entry.recipient),
        last_error,
        ..entry
    }
}

fn policy_to_pb(p: NetworkPolicy) -> pb::NetworkPolicy {
    pb::NetworkPolicy {
        network: p.network,
        offsets_days: p.offsets_days,
        local_hour: p.local_hour,
        timezone: p.timezone,
        referent_name: p.referent_name,
        referent_email: p.referent_email,
        webhook_url: p.webhook_url,
        webhook_secret: String::new(),
        webhook_secret_set: p.webhook_secret_set,
        draft_days: Some(p.draft_days),
    }
}

/// A request that names both a structure and a network, or neither.
fn structure_or_network() -> Status {
    words!(
        "préciser une structure ou un réseau (l'un des deux)",
        "give a structure or a network (one of the two)"
    )
    .into_status(tonic::Code::InvalidArgument)
}

#[allow(clippy::result_large_err)]
fn date(value: Option<&vigie_proto::common::v1::Date>, what: &str) -> Result<chrono::NaiveDate, Status> {
    value.and_then(date_from_pb).ok_or_else(|| {
        words!("date {what} manquante ou invalide", "{what} date missing or invalid")
            .into_status(tonic::Code::InvalidArgument)
    })
}

/// The answer of a streaming RPC: its messages, already cut.
type Messages<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn stream_of<T: Send + 'static>(messages: Vec<T>) -> Response<Messages<T>> {
    Response::new(Box::pin(futures::stream::iter(messages.into_iter().map(Ok))))
}

#[tonic::async_trait]
impl AlertingService for AlertingApi {
    type ListCallsStreamStream = Messages<pb::ListCallsResponse>;
    type ExportCallsStreamStream = Messages<pb::ExportCallsResponse>;
    type PreviewAlertsStreamStream = Messages<pb::PreviewAlertsResponse>;

    async fn list_calls_stream(
        &self,
        request: Request<pb::ListCallsRequest>,
    ) -> Result<Response<Self::ListCallsStreamStream>, Status> {
        let calls = self.list_calls(request).await?.into_inner().calls;
        Ok(stream_of(
            paging::by_size(calls, paging::MESSAGE_BYTES)
                .into_iter()
                .map(|calls| pb::ListCallsResponse { calls })
                .collect(),
        ))
    }

    async fn export_calls_stream(
        &self,
        request: Request<pb::ExportCallsRequest>,
    ) -> Result<Response<Self::ExportCallsStreamStream>, Status> {
        let csv = self.export_calls(request).await?.into_inner().csv;
        Ok(stream_of(
            paging::csv_chunks(csv, paging::MESSAGE_BYTES)
                .into_iter()
                .map(|csv| pb::ExportCallsResponse { csv })
                .collect(),
        ))
    }

    async fn preview_alerts_stream(
        &self,
        request: Request<pb::PreviewAlertsRequest>,
    ) -> Result<Response<Self::PreviewAlertsStreamStream>, Status> {
        let (filter, plan) = self.preview_plan(&request).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(preview::QUEUED_MESSAGES);
        tokio::spawn(preview::send(plan, filter, tx));
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn import_calls(
        &self,
        request: Request<Streaming<pb::CallsChunk>>,
    ) -> Result<Response<pb::ImportCallsResponse>, Status> {
        authorize(principal(&request)?, &authz::rule_for("ImportCalls")?, None, || {
            words!("opération", "operation")
        })?;
        let mut stream = request.into_inner();
        let mut bytes = Vec::new();
        let mut source = String::new();
        let mut file_name = String::new();
        while let Some(chunk) = stream.message().await? {
            if source.is_empty() {
                source = chunk.source.trim().to_owned();
                file_name = chunk.file_name.clone();
            }
            if bytes.len() + chunk.chunk.len() > MAX_FILE_BYTES {
                return Err(words!(
                    "fichier trop volumineux (64 Mio au plus)",
                    "file too large (64 MiB at most)"
                )
                .into_status(tonic::Code::InvalidArgument));
            }
            bytes.extend_from_slice(&chunk.chunk);
        }
        import_result(self.app.import_file(&source, &file_name, &bytes).await)
    }

    async fn fetch_source(
        &self,
        request: Request<pb::FetchSourceRequest>,
    ) -> Result<Response<pb::ImportCallsResponse>, Status> {
        authorize(principal(&request)?, &authz::rule_for("FetchSource")?, None, || {
            words!("opération", "operation")
        })?;
        import_result(self.app.fetch_source(request.get_ref().source.trim()).await)
    }

    async fn list_calls(
        &self,
        request: Request<pb::ListCallsRequest>,
    ) -> Result<Response<pb::ListCallsResponse>, Status> {
        let structure = non_empty(&request.get_ref().structure_id).map(str::to_owned);
        let network = non_empty(&request.get_ref().network).map(str::to_owned);
        let of = match (&structure, &network) {
            (Some(_), Some(_)) => return Err(structure_or_network()),
            (Some(s), None) => {
                self.authorize_structure(&request, "ListCalls", s).await?;
                CallsOf::Structure(s)
            }
            // Which structures of the network a call matches: read like
            // the structures themselves (ListCalls' rule, for the network).
            (None, Some(n)) => {
                self.authorize_network(&request, "ListCalls", n)?;
                CallsOf::Network(n)
            }
            // Calls are public: every role may list them.
            (None, None) => {
                authorize(principal(&request)?, &authz::CATALOGUE, None, || {
                    words!("opération", "operation")
                })?;
                CallsOf::All
            }
        };
        let r = request.get_ref();
        let calls = self.app.list_calls(of, r.closing_within_days, r.include_closed).await?;
        Ok(Response::new(pb::ListCallsResponse {
            calls: calls.iter().map(call_to_pb).collect(),
        }))
    }

    async fn export_calls(
        &self,
        request: Request<pb::ExportCallsRequest>,
    ) -> Result<Response<pb::ExportCallsResponse>, Status> {
        authorize(principal(&request)?, &authz::rule_for("ExportCalls")?, None, || {
            words!("opération", "operation")
        })?;
        Ok(Response::new(pb::ExportCallsResponse {
            csv: self.app.export_calls().await?.into_bytes(),
        }))
    }

    async fn preview_alerts(
        &self,
        request: Request<pb::PreviewAlertsRequest>,
    ) -> Result<Response<pb::PreviewAlertsResponse>, Status> {
        let (filter, mut plan) = self.preview_plan(&request).await?;
        Ok(Response::new(pb::PreviewAlertsResponse {
            alerts: plan.rest().await?.iter().filter_map(|a| filter.apply(a)).collect(),
        }))
    }

    async fn list_send_log(
        &self,
        request: Request<pb::ListSendLogRequest>,
    ) -> Result<Response<pb::ListSendLogResponse>, Status> {
        let structure = non_empty(&request.get_ref().structure_id).map(str::to_owned);
        let visible_structures = match &structure {
            Some(s) => {
                self.authorize_structure(&request, "ListSendLog", s).await?;
                None
            }
            None => self.visible_structures(&request, "ListSendLog").await?,
        };
        let limit = match request.get_ref().limit {
            0 => 100,
            n => n.min(10_000),
        };
        // Restricted in the query: never a truncation of the instance's log.
        let only: Option<Vec<String>> = match structure {
            Some(s) => Some(vec![s]),
            None => visible_structures.map(|v| v.into_keys().collect()),
        };
        let entries = self.app.send_log_of(only.as_deref(), limit).await?;
        let people = self.people_visibility(&request)?;
        let networks = self.networks_for(&people).await?;
        Ok(Response::new(pb::ListSendLogResponse {
            entries: entries
                .iter()
                .map(|e| {
                    let entry = log_to_pb(e);
                    if Self::sees_people(&people, &networks, &entry.structure_id) {
                        entry
                    } else {
                        without_people_log(entry)
                    }
                })
                .collect(),
        }))
    }

    async fn set_network_policy(
        &self,
        request: Request<pb::NetworkPolicy>,
    ) -> Result<Response<pb::NetworkPolicy>, Status> {
        let network = request.get_ref().network.trim().to_owned();
        self.authorize_network(&request, "SetNetworkPolicy", &network)?;
        let r = request.into_inner();
        let policy = self
            .app
            .set_network_policy(&PolicyInput {
                network,
                offsets_days: r.offsets_days,
                local_hour: r.local_hour,
                timezone: r.timezone,
                referent_name: r.referent_name,
                referent_email: r.referent_email,
                webhook_url: r.webhook_url,
                webhook_secret: r.webhook_secret,
                draft_days: r.draft_days,
            })
            .await?;
        Ok(Response::new(policy_to_pb(policy)))
    }

    async fn get_network_policy(
        &self,
        request: Request<pb::GetNetworkPolicyRequest>,
    ) -> Result<Response<pb::NetworkPolicy>, Status> {
        let network = request.get_ref().network.trim().to_owned();
        self.authorize_network(&request, "GetNetworkPolicy", &network)?;
        Ok(Response::new(policy_to_pb(self.app.network_policy(&network).await?)))
    }

    async fn set_preferences(&self, request: Request<pb::Preferences>) -> Result<Response<pb::Preferences>, Status> {
        let r = request.get_ref().clone();
        let (kind, id) = match (non_empty(&r.structure_id), non_empty(&r.network)) {
            (Some(s), None) => {
                self.authorize_structure(&request, "SetPreferences", s).await?;
                ("structure", s.to_owned())
            }
            (None, Some(n)) => {
                self.authorize_network(&request, "SetPreferences", n)?;
                ("network", n.to_owned())
            }
            _ => return Err(structure_or_network()),
        };
        self.app
            .set_preferences(kind, &id, r.themes.clone(), r.audiences.clone(), r.opted_out)
            .await?;
        Ok(Response::new(r))
    }

    async fn acknowledge(
        &self,
        request: Request<pb::AcknowledgeRequest>,
    ) -> Result<Response<pb::AcknowledgeResponse>, Status> {
        let r = request.get_ref().clone();
        self.authorize_structure(&request, "Acknowledge", r.structure_id.trim())
            .await?;
        let action = AckAction::from_code(r.status.trim()).ok_or_else(|| {
            words!(
                "statut « {} » inconnu : submitted, in_progress ou not_concerned",
                "unknown status “{}”: submitted, in_progress or not_concerned",
                r.status
            )
            .into_status(tonic::Code::InvalidArgument)
        })?;
        self.app
            .acknowledge(r.structure_id.trim(), r.call_id.trim(), action, "api")
            .await?;
        Ok(Response::new(pb::AcknowledgeResponse {}))
    }

    async fn get_feed_url(
        &self,
        request: Request<pb::GetFeedUrlRequest>,
    ) -> Result<Response<pb::GetFeedUrlResponse>, Status> {
        let (kind, id) = self.feed_scope(&request, "GetFeedUrl").await?;
        let url = self.app.feed_url(kind, &id).await?;
        Ok(Response::new(pb::GetFeedUrlResponse { url }))
    }

    async fn revoke_feed_url(
        &self,
        request: Request<pb::GetFeedUrlRequest>,
    ) -> Result<Response<pb::GetFeedUrlResponse>, Status> {
        let (kind, id) = self.feed_scope(&request, "RevokeFeedUrl").await?;
        let url = self.app.revoke_feed_url(kind, &id).await?;
        Ok(Response::new(pb::GetFeedUrlResponse { url }))
    }

    async fn record_application(
        &self,
        request: Request<pb::RecordApplicationRequest>,
    ) -> Result<Response<pb::Grant>, Status> {
        let r = request.get_ref().clone();
        self.authorize_structure(&request, "RecordApplication", r.structure_id.trim())
            .await?;
        let row = self
            .app
            .record_application(&ApplicationInput {
                structure_id: r.structure_id,
                call_id: r.call_id,
                funder: r.funder,
                title: r.title,
                applied_on: grants::optional_date(r.applied_on.as_ref(), "date de dépôt")?,
                amount_asked: r.amount_asked_cents,
                idempotency_key: String::new(),
            })
            .await?;
        Ok(Response::new(grants::grant_to_pb(&row)))
    }

    async fn record_grant(&self, request: Request<pb::RecordGrantRequest>) -> Result<Response<pb::Grant>, Status> {
        let r = request.get_ref().clone();
        self.authorize_structure(&request, "RecordGrant", r.structure_id.trim())
            .await?;
        let row = self
            .app
            .record_grant(&GrantInput {
                structure_id: r.structure_id,
                grant_id: r.grant_id,
                call_id: r.call_id,
                funder: r.funder,
                title: r.title,
                outcome: r.outcome,
                amount_granted: r.amount_granted_cents,
                decided_on: grants::optional_date(r.decided_on.as_ref(), "date de décision")?,
                financial_year_end: grants::optional_date(r.financial_year_end.as_ref(), "fin d'exercice")?,
                agreement_start: grants::optional_date(r.agreement_start.as_ref(), "début de convention")?,
                agreement_end: grants::optional_date(r.agreement_end.as_ref(), "fin de convention")?,
                reference: r.reference,
                purpose: r.purpose,
                public_subsidy: r.public_subsidy,
                amount_asked: r.amount_asked_cents,
                applied_on: None,
                idempotency_key: r.idempotency_key,
            })
            .await?;
        Ok(Response::new(grants::grant_to_pb(&row)))
    }

    async fn list_grants(
        &self,
        request: Request<pb::ListGrantsRequest>,
    ) -> Result<Response<pb::ListGrantsResponse>, Status> {
        let r = request.get_ref();
        let only = self
            .grants_scope(&request, "ListGrants", &r.structure_id, &r.network)
            .await?;
        let grants = self.app.grants(only.as_deref()).await?;
        Ok(Response::new(Self::grants_answer(&grants)))
    }

    async fn list_obligations(
        &self,
        request: Request<pb::ListObligationsRequest>,
    ) -> Result<Response<pb::ListObligationsResponse>, Status> {
        let r = request.get_ref();
        let only = self
            .grants_scope(&request, "ListObligations", &r.structure_id, &r.network)
            .await?;
        let obligations = self.app.obligations(only.as_deref()).await?;
        let states = self.app.duty_states(only.as_deref()).await?;
        Ok(Response::new(pb::ListObligationsResponse {
            obligations: obligations
                .iter()
                .map(|o| grants::with_state(grants::obligation_to_pb(o), &states))
                .collect(),
        }))
    }

    async fn set_agreement_date(
        &self,
        request: Request<pb::SetAgreementDateRequest>,
    ) -> Result<Response<pb::Obligation>, Status> {
        let r = request.get_ref().clone();
        self.authorize_structure(&request, "SetAgreementDate", r.structure_id.trim())
            .await?;
        let view = self
            .app
            .set_agreement_date(&AgreementDateInput {
                structure_id: r.structure_id,
                obligation_key: r.obligation_key,
                grant_id: r.grant_id,
                due: grants::optional_date(r.due.as_ref(), "échéance")?,
                label: r.label,
            })
            .await?;
        Ok(Response::new(grants::obligation_to_pb(&view)))
    }

    async fn acknowledge_obligation(
        &self,
        request: Request<pb::AcknowledgeObligationRequest>,
    ) -> Result<Response<pb::Obligation>, Status> {
        let r = request.get_ref().clone();
        let structure = r.structure_id.trim().to_owned();
        self.authorize_structure(&request, "AcknowledgeObligation", &structure)
            .await?;
        let view = self
            .app
            .acknowledge_obligation(&structure, &r.obligation_key, &r.status, "rpc")
            .await?;
        let states = self.app.duty_states(Some(&[structure])).await?;
        Ok(Response::new(grants::with_state(
            grants::obligation_to_pb(&view),
            &states,
        )))
    }

    async fn grant_stats(
        &self,
        request: Request<pb::GrantStatsRequest>,
    ) -> Result<Response<pb::GrantStatsResponse>, Status> {
        let only = self.grant_stats_scope(&request)?;
        let only = match only {
            Some(network) => Some(self.app.structures_of_network(&network).await?),
            None => None,
        };
        let stats = self.app.grant_stats(only.as_deref()).await?;
        Ok(Response::new(grants::grant_stats_to_pb(&stats)))
    }

    async fn import_grants(
        &self,
        request: Request<pb::ImportGrantsRequest>,
    ) -> Result<Response<pb::ImportGrantsResponse>, Status> {
        if request.get_ref().network.chars().count() > 100 || request.get_ref().filename.chars().count() > 1000 {
            return Err(words!(
                "réseau (100 caractères au plus) ou nom de fichier (1000 au plus) trop long",
                "network (100 characters at most) or file name (1000 at most) too long"
            )
            .into_status(tonic::Code::InvalidArgument));
        }
        let reach = self.import_reach(&request)?;
        let r = request.into_inner();
        let report = self
            .app
            .import_grants(
                &GrantImportInput {
                    filename: r.filename,
                    content: r.content,
                    dry_run: r.dry_run,
                    network: r.network,
                },
                &reach,
            )
            .await?;
        Ok(Response::new(grants::import_report_to_pb(report)))
    }
}

impl AlertingApi {
    /// The feed a request names (a structure or a network), once the caller
    /// is authorised for it under `method`.
    async fn feed_scope(
        &self,
        request: &Request<pb::GetFeedUrlRequest>,
        method: &str,
    ) -> Result<(FeedKind, String), Status> {
        let r = request.get_ref();
        match (non_empty(&r.structure_id), non_empty(&r.network)) {
            (Some(s), None) => {
                self.authorize_structure(request, method, s).await?;
                Ok((FeedKind::Structure, s.to_owned()))
            }
            (None, Some(n)) => {
                self.authorize_network(request, method, n)?;
                Ok((FeedKind::Network, n.to_owned()))
            }
            _ => Err(structure_or_network()),
        }
    }
}
