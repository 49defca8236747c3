//! The grants RPCs of `AlertingService` (issue 16, docs/grants.md):
//! decoding, scope (one structure, a network, or the caller's structures)
//! and encoding; the checks are those of [`super::authz`].

use tonic::{Request, Status};
use vigie_platform::words;
use vigie_platform::words::not_found_status;
use vigie_platform::words::IntoStatus;
use vigie_proto::alerting::v1 as pb;

use vigie_platform::auth::{principal, visible, Target, Visibility};

use super::{non_empty, AlertingApi};
use crate::app::grants::pipeline;
use crate::app::views::GrantRecord;
use crate::app::{DutyStates, GrantImportReport, GrantStats, ObligationView, Pipeline};
use crate::convert::{date_from_pb, date_to_pb};

/// Longest network id accepted in a request.
const MAX_NETWORK_CHARS: usize = 200;

/// An optional date of a request: absent is `None`, present but invalid
/// is refused naming the field.
#[allow(clippy::result_large_err)]
pub(super) fn optional_date(
    value: Option<&vigie_proto::common::v1::Date>,
    field: &str,
) -> Result<Option<chrono::NaiveDate>, Status> {
    match value {
        None => Ok(None),
        Some(d) if d.year == 0 && d.month == 0 && d.day == 0 => Ok(None),
        Some(d) => date_from_pb(d).map(Some).ok_or_else(|| {
            words!("{field} : date invalide", "{field}: invalid date").into_status(tonic::Code::InvalidArgument)
        }),
    }
}

pub(super) fn grant_to_pb(g: &GrantRecord) -> pb::Grant {
    pb::Grant {
        grant_id: g.grant_id.clone(),
        structure_id: g.structure_id.clone(),
        call_id: g.call_id.clone(),
        funder: g.funder.clone(),
        title: g.title.clone(),
        stage: g.stage.clone(),
        applied_on: g.applied_on.map(date_to_pb),
        amount_asked_cents: g.amount_asked,
        decided_on: g.decided_on.map(date_to_pb),
        amount_granted_cents: g.amount_granted,
        financial_year_end: g.financial_year_end.map(date_to_pb),
        agreement_start: g.agreement_start.map(date_to_pb),
        agreement_end: g.agreement_end.map(date_to_pb),
        reference: g.reference.clone(),
        purpose: g.purpose.clone(),
        public_subsidy: g.public_subsidy,
    }
}

pub(super) fn pipeline_to_pb(p: Pipeline) -> pb::Pipeline {
    pb::Pipeline {
        applied: p.applied,
        pending: p.pending,
        won: p.won,
        refused: p.refused,
        amount_asked_cents: p.amount_asked,
        amount_granted_cents: p.amount_granted,
    }
}

pub(super) fn obligation_to_pb(v: &ObligationView) -> pb::Obligation {
    let o = &v.obligation;
    pb::Obligation {
        key: o.key.clone(),
        structure_id: o.structure_id.clone(),
        grant_id: o.grant_id.clone().unwrap_or_default(),
        funder: v.funder.clone(),
        title: v.title.clone(),
        rule: o.rule.code().to_owned(),
        duty: o.rule.duty_fr().to_owned(),
        source: o.rule.source_fr().to_owned(),
        year_end: Some(date_to_pb(o.year_end)),
        due: Some(date_to_pb(o.due)),
        draft: Some(date_to_pb(o.draft)),
        edited: o.edited,
        label: o.label.clone().unwrap_or_default(),
        // Filled by the acknowledgement and the holders' count (issue 16, next slice).
        status: String::new(),
        sent_on: None,
        reporting_holders: 0,
    }
}

/// An obligation with its « envoyé » state and its structure's holders of
/// `funder_reporting` today.
pub(super) fn with_state(mut o: pb::Obligation, states: &DutyStates) -> pb::Obligation {
    let (status, sent_on, holders) = states.of(&o.structure_id, &o.key);
    o.status = status;
    o.sent_on = sent_on.map(date_to_pb);
    o.reporting_holders = holders;
    o
}

pub(super) fn grant_stats_to_pb(stats: &GrantStats) -> pb::GrantStatsResponse {
    pb::GrantStatsResponse {
        pipeline: Some(pipeline_to_pb(stats.pipeline)),
        by_funder: stats
            .by_funder
            .iter()
            .map(|f| pb::FunderStats {
                funder: f.funder.clone(),
                programme: f.programme.clone(),
                pipeline: Some(pipeline_to_pb(f.pipeline)),
                success_rate_per_mille: f.success_rate_per_mille,
            })
            .collect(),
        at_risk: stats
            .at_risk
            .iter()
            .map(|d| pb::DutyAtRisk {
                obligation: Some(pb::Obligation {
                    reporting_holders: d.reporting_holders,
                    ..obligation_to_pb(&d.obligation)
                }),
                structure_name: d.structure_name.clone(),
                reason: d.reason.code().to_owned(),
            })
            .collect(),
    }
}

pub(super) fn import_report_to_pb(r: GrantImportReport) -> pb::ImportGrantsResponse {
    pb::ImportGrantsResponse {
        problems: r
            .problems
            .into_iter()
            .map(|(position, message)| pb::ImportProblem::new(position, message, true))
            .collect(),
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
    }
}

impl AlertingApi {
    /// The network a `GrantStats` covers once the caller is authorised: a
    /// network for its admins, `None` (the whole instance) for federation
    /// admins only.
    #[allow(clippy::result_large_err)]
    pub(super) fn grant_stats_scope(&self, request: &Request<pb::GrantStatsRequest>) -> Result<Option<String>, Status> {
        let network = request.get_ref().network.trim();
        if network.chars().count() > MAX_NETWORK_CHARS {
            return Err(words!(
                "réseau : au plus {MAX_NETWORK_CHARS} caractères",
                "network: {MAX_NETWORK_CHARS} characters at most"
            )
            .into_status(tonic::Code::InvalidArgument));
        }
        match non_empty(network) {
            Some(n) => {
                self.authorize_network(request, "GrantStats", n)?;
                Ok(Some(n.to_owned()))
            }
            None => {
                vigie_platform::auth::authorize(
                    vigie_platform::auth::principal(request)?,
                    &super::authz::rule_for("GrantStats")?,
                    None,
                    || words!("instance", "instance"),
                )?;
                Ok(None)
            }
        }
    }

    /// Who an import of grants may write for: the caller's reach under
    /// `ImportGrants` (a role without it is refused here), and with a
    /// `network`, the right to act for that whole network first. The answer
    /// says whether a structure of a network is within reach.
    #[allow(clippy::result_large_err)]
    pub(super) fn import_reach(
        &self,
        request: &Request<pb::ImportGrantsRequest>,
    ) -> Result<impl Fn(&str, &str) -> bool + Send + Sync, Status> {
        let visibility = visible(principal(request)?, &super::authz::rule_for("ImportGrants")?)?;
        if let Some(network) = non_empty(&request.get_ref().network) {
            self.authorize_network(request, "ImportGrants", network)?;
        }
        Ok(move |network: &str, structure: &str| {
            visibility == Visibility::All
                || visibility.covers(Target {
                    network,
                    structure: Some(structure),
                })
        })
    }

    /// The structures a grants read covers, once the caller is authorised:
    /// one structure, a whole network, or the caller's visible structures
    /// (`None` = every structure).
    pub(super) async fn grants_scope<T>(
        &self,
        request: &Request<T>,
        method: &str,
        structure: &str,
        network: &str,
    ) -> Result<Option<Vec<String>>, Status> {
        match (non_empty(structure), non_empty(network)) {
            (Some(s), None) => {
                self.authorize_structure(request, method, s).await?;
                // A caller who sees every structure is not checked against
                // the read model: an unknown structure is still not found.
                if self.app.structure_network(s).await?.is_none() {
                    return Err(not_found_status(words!("structure « {s} »", "structure “{s}”")));
                }
                Ok(Some(vec![s.to_owned()]))
            }
            (None, Some(n)) => {
                self.authorize_network(request, method, n)?;
                Ok(Some(self.app.structures_of_network(n).await?))
            }
            (None, None) => Ok(self
                .visible_structures(request, method)
                .await?
                .map(|v| v.into_keys().collect())),
            (Some(_), Some(_)) => Err(super::structure_or_network()),
        }
    }

    pub(super) fn grants_answer(grants: &[GrantRecord]) -> pb::ListGrantsResponse {
        pb::ListGrantsResponse {
            grants: grants.iter().map(grant_to_pb).collect(),
            pipeline: Some(pipeline_to_pb(pipeline(grants))),
        }
    }
}
