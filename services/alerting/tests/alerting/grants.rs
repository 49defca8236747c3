//! After the deadline (issue 16): applications, grants and their reporting
//! duties, through the gRPC handlers (the principal in the request as
//! `AuthLayer` puts it) over the real storage, on both backends.

use std::future::Future;

use anyhow::{ensure, Context, Result};
use vigie_alerting::app::PolicyInput;
use vigie_alerting::channels::links::AckAction;
use vigie_alerting::events::GRANT_RECORDED;
use vigie_alerting::grpc::AlertingApi;
use vigie_platform::auth::testing::{caller, refused, request};
use vigie_platform::auth::{Role, Scope};
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_server::AlertingService;
use vigie_proto::common::v1::Date;
use vigie_proto::dates::date_text;
use vigie_proto::events::v1::GrantRecorded;

use crate::grant_calls::{
    grants_in, grants_of, list_grants, list_obligations, obligations_in, obligations_of, record_grant,
    set_agreement_date,
};
use crate::harness::{admin_of, aid, d, grant_structures, Harness, NET_A, NET_B};

fn won(structure: &str, title: &str, euros: i64, year_end: &str) -> pb::RecordGrantRequest {
    pb::RecordGrantRequest {
        structure_id: structure.to_owned(),
        funder: "Région Bretagne".to_owned(),
        title: title.to_owned(),
        outcome: "won".to_owned(),
        amount_granted_cents: euros * 100,
        decided_on: d("2026-11-15"),
        financial_year_end: d(year_end),
        ..Default::default()
    }
}

/// Moves `structure`'s duty `key` to `due` (an agreement's date).
fn moving(structure: &str, key: &str, due: &str) -> pb::SetAgreementDateRequest {
    pb::SetAgreementDateRequest {
        structure_id: structure.to_owned(),
        obligation_key: key.to_owned(),
        due: d(due),
        ..Default::default()
    }
}

/// Whether `list` holds these duties, in this order: `(rule, due date)`.
fn rules_are(list: &[pb::Obligation], expected: &[(&str, &str)]) -> bool {
    list.len() == expected.len()
        && list
            .iter()
            .zip(expected)
            .all(|(o, (rule, due))| o.rule == *rule && date_text(o.due.as_ref()) == *due)
}

/// The third grant of a year crosses 153,000 €: audit and publication; a
/// multi-year agreement owes one report per year; an agreement's date wins;
/// draft dates follow the network's draft days.
pub async fn grants_bring_their_reporting_duties(h: Harness) -> Result<()> {
    grant_structures(&h).await?;
    let api = AlertingApi::new(h.app.clone());
    let p = admin_of(NET_A);
    let first = record_grant(&api, &p, won("SA1", "Insertion", 60_000, "2026-12-31")).await?;
    ensure!(first.grant_id.starts_with('G') && first.stage == "won", "{first:?}");
    record_grant(&api, &p, won("SA1", "Jardins", 60_000, "2026-12-31")).await?;
    let two = list_obligations(&api, &p, obligations_of("SA1")).await?;
    ensure!(
        rules_are(
            &two,
            &[
                ("financial_report_6_months", "2027-06-30"),
                ("financial_report_6_months", "2027-06-30"),
            ]
        ),
        "{two:?}"
    );
    let report = &two[0];
    ensure!(
        date_text(report.draft.as_ref()) == "2027-06-16"
            && report.duty.contains("15059")
            && report.source.contains("2000-321")
            && report.funder == "Région Bretagne"
            && !report.edited,
        "{report:?}"
    );
    // The third grant of 2026: 153,001 € of public subsidies.
    record_grant(&api, &p, won("SA1", "Mobilité", 33_001, "2026-12-31")).await?;
    // Private money does not count.
    let mut private = won("SA1", "Fondation", 100_000, "2026-12-31");
    private.public_subsidy = Some(false);
    private.funder = "Fondation de France".to_owned();
    record_grant(&api, &p, private).await?;
    let all = list_obligations(&api, &p, obligations_of("SA1")).await?;
    let wide: Vec<_> = all.iter().filter(|o| o.grant_id.is_empty()).collect();
    ensure!(
        wide.iter()
            .map(|o| (o.rule.as_str(), date_text(o.due.as_ref())))
            .collect::<Vec<_>>()
            == vec![
                ("audit_above_153k", "2027-06-30".to_owned()),
                ("publication_above_153k", "2027-09-30".to_owned())
            ],
        "{all:?}"
    );
    ensure!(wide[0].key == "SA1:audit_above_153k:2026-12-31", "{wide:?}");
    ensure!(all.iter().filter(|o| o.rule == "financial_report_6_months").count() == 4);
    // A multi-year agreement (2026–2028) of another structure: one report a year.
    let mut cpo = won("SA2", "CPO", 30_000, "2026-12-31");
    cpo.agreement_start = d("2026-01-01");
    cpo.agreement_end = d("2028-12-31");
    cpo.reference = "CPO-2026-014".to_owned();
    let cpo = record_grant(&api, &p, cpo).await?;
    let yearly = list_obligations(&api, &p, obligations_of("SA2")).await?;
    ensure!(
        rules_are(
            &yearly,
            &[
                ("multi_year_yearly_report", "2027-06-30"),
                ("multi_year_yearly_report", "2028-06-30"),
                ("multi_year_yearly_report", "2029-06-30"),
            ]
        ),
        "{yearly:?}"
    );
    // The agreement moves the first yearly report and adds an interim one.
    let moved = set_agreement_date(&api, &p, moving("SA2", &yearly[0].key, "2027-04-30")).await?;
    ensure!(
        moved.edited
            && date_text(moved.due.as_ref()) == "2027-04-30"
            && date_text(moved.draft.as_ref()) == "2027-04-16",
        "{moved:?}"
    );
    let interim = pb::SetAgreementDateRequest {
        structure_id: "SA2".to_owned(),
        grant_id: cpo.grant_id.clone(),
        due: d("2027-09-15"),
        label: "bilan intermédiaire".to_owned(),
        ..Default::default()
    };
    let added = set_agreement_date(&api, &p, interim).await?;
    ensure!(
        added.rule == "agreement_date" && added.label == "bilan intermédiaire",
        "{added:?}"
    );
    // Setting the same date again changes nothing.
    set_agreement_date(&api, &p, moving("SA2", &yearly[0].key, "2027-04-30")).await?;
    ensure!(h.count("al_agreement_dates").await? == 2);
    let after = list_obligations(&api, &p, obligations_of("SA2")).await?;
    ensure!(
        rules_are(
            &after,
            &[
                ("multi_year_yearly_report", "2027-04-30"),
                ("agreement_date", "2027-09-15"),
                ("multi_year_yearly_report", "2028-06-30"),
                ("multi_year_yearly_report", "2029-06-30"),
            ]
        ),
        "{after:?}"
    );
    // An unknown obligation is not found.
    let unknown = api
        .set_agreement_date(request(
            &p,
            moving("SA2", "G0:financial_report_6_months:2026-12-31", "2027-04-30"),
        ))
        .await;
    ensure!(unknown.is_err_and(|s| s.code() == tonic::Code::NotFound));
    // The network's draft days: 10 instead of 14.
    h.app
        .set_network_policy(&PolicyInput {
            network: NET_A.to_owned(),
            draft_days: Some(10),
            ..PolicyInput::default()
        })
        .await?;
    ensure!(h.app.network_policy(NET_A).await?.draft_days == 10);
    ensure!(h.app.network_policy(NET_B).await?.draft_days == 14);
    let drafted = list_obligations(&api, &p, obligations_of("SA2")).await?;
    ensure!(date_text(drafted[0].draft.as_ref()) == "2027-04-20", "{drafted:?}");
    // Another policy change without draft days keeps them.
    h.app
        .set_network_policy(&PolicyInput {
            network: NET_A.to_owned(),
            local_hour: "08:00".to_owned(),
            ..PolicyInput::default()
        })
        .await?;
    ensure!(h.app.network_policy(NET_A).await?.draft_days == 10);
    // The network's pipeline and duties.
    let listed = list_grants(&api, &p, grants_in(NET_A)).await?;
    let pipeline = listed.pipeline.context("pipeline")?;
    ensure!(
        pipeline.won == 5
            && pipeline.applied == 5
            && pipeline.pending == 0
            && pipeline.amount_granted_cents == (60_000 + 60_000 + 33_001 + 100_000 + 30_000) * 100,
        "{pipeline:?}"
    );
    let network_duties = list_obligations(&api, &p, obligations_in(NET_A)).await?;
    ensure!(network_duties.len() == all.len() + after.len(), "{network_duties:?}");
    Ok(())
}

/// Acknowledging a call « déposé » records one application, however many
/// times; its decision completes it.
pub async fn a_submitted_call_becomes_one_application(h: Harness) -> Result<()> {
    grant_structures(&h).await?;
    h.import(&[aid(1, "Bretagne", "Région", "2027-03-14")]).await?;
    let call = h.app.list_calls(None, None, false).await?.remove(0).call.call_id;
    let api = AlertingApi::new(h.app.clone());
    let p = admin_of(NET_A);
    // « En cours » is not an application.
    h.app.acknowledge("SA1", &call, AckAction::InProgress, "api").await?;
    ensure!(h.count("al_grants").await? == 0);
    for _ in 0..2 {
        api.acknowledge(request(
            &p,
            pb::AcknowledgeRequest {
                structure_id: "SA1".to_owned(),
                call_id: call.clone(),
                status: "submitted".to_owned(),
            },
        ))
        .await?;
    }
    // The signed link too, after another status.
    h.app.acknowledge("SA1", &call, AckAction::NotConcerned, "link").await?;
    h.app.acknowledge("SA1", &call, AckAction::Submitted, "link").await?;
    // Recording it by hand returns the same application.
    let same = api
        .record_application(request(
            &p,
            pb::RecordApplicationRequest {
                structure_id: "SA1".to_owned(),
                call_id: call.clone(),
                amount_asked_cents: 2_000_000,
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let listed = list_grants(&api, &p, grants_of("SA1")).await?;
    ensure!(listed.grants.len() == 1, "{listed:?}");
    let application = &listed.grants[0];
    ensure!(
        application.grant_id == same.grant_id
            && application.stage == "applied"
            && application.call_id == call
            && application.funder == "Région Bretagne"
            && application.title == "Appel à projets n° 1"
            && application.amount_asked_cents == 2_000_000
            && date_text(application.applied_on.as_ref()) == "2027-01-04",
        "{application:?}"
    );
    ensure!(
        listed
            .pipeline
            .as_ref()
            .is_some_and(|p| p.pending == 1 && p.applied == 1),
        "{listed:?}"
    );
    // An application without a call (funder and title).
    api.record_application(request(
        &p,
        pb::RecordApplicationRequest {
            structure_id: "SA1".to_owned(),
            funder: "CAF d'Ille-et-Vilaine".to_owned(),
            title: "Accueil de loisirs".to_owned(),
            applied_on: d("2026-10-01"),
            amount_asked_cents: 500_000,
            ..Default::default()
        },
    ))
    .await?;
    // The call's application is won; the decision again changes nothing.
    let decide = pb::RecordGrantRequest {
        structure_id: "SA1".to_owned(),
        call_id: call.clone(),
        outcome: "won".to_owned(),
        amount_granted_cents: 1_500_000,
        financial_year_end: d("2027-12-31"),
        ..Default::default()
    };
    for _ in 0..2 {
        let decided = record_grant(&api, &p, decide.clone()).await?;
        ensure!(
            decided.grant_id == same.grant_id && decided.stage == "won",
            "{decided:?}"
        );
    }
    // One event for the decision, in its transaction; none for the repeat.
    let events: Vec<(String, GrantRecorded)> = h.outbox(GRANT_RECORDED).await?;
    ensure!(events.len() == 1, "{events:?}");
    let (subject, event) = &events[0];
    ensure!(
        subject == "SA1"
            && event.grant_id == same.grant_id
            && event.stage == "won"
            && event.amount_granted_cents == 1_500_000
            && event.public_subsidy
            && date_text(event.financial_year_end.as_ref()) == "2027-12-31"
            && date_text(event.on.as_ref()) == "2027-01-04",
        "{event:?}"
    );
    let listed = list_grants(&api, &p, grants_of("SA1")).await?;
    ensure!(
        listed.pipeline
            == Some(pb::Pipeline {
                applied: 2,
                pending: 1,
                won: 1,
                refused: 0,
                amount_asked_cents: 2_500_000,
                amount_granted_cents: 1_500_000,
            }),
        "{listed:?}"
    );
    let duties = list_obligations(&api, &p, obligations_of("SA1")).await?;
    ensure!(
        rules_are(&duties, &[("financial_report_6_months", "2028-06-30")]),
        "{duties:?}"
    );
    ensure!(duties[0].title == "Appel à projets n° 1");
    Ok(())
}

/// `call` (named `rpc`) on SA1 is refused exactly as on an absent
/// structure: the caller learns nothing of SA1, not even that it exists.
async fn refused_as_absent<F, Fut>(rpc: &str, call: F) -> Result<()>
where
    F: Fn(&'static str) -> Fut,
    Fut: Future<Output = Result<(), tonic::Status>>,
{
    let outcome = call("SA1").await;
    let missing = call("absent-object").await;
    refused(true, &outcome, &missing, "SA1").context(rpc.to_owned())
}

/// A caller of another network gets NOT_FOUND, exactly as for an unknown
/// structure, and sees none of the grants when listing its own.
pub async fn another_network_sees_no_grant(h: Harness) -> Result<()> {
    grant_structures(&h).await?;
    let api = AlertingApi::new(h.app.clone());
    let a = admin_of(NET_A);
    let grant = record_grant(&api, &a, won("SA1", "Insertion", 20_000, "2026-12-31")).await?;
    let key = list_obligations(&api, &a, obligations_of("SA1")).await?.remove(0).key;
    let others = [
        admin_of(NET_B),
        caller(
            Role::StructureManager,
            Scope::Structure {
                network: NET_B.to_owned(),
                structure: "SB1".to_owned(),
            },
        ),
        // A manager of the sibling structure of the same network.
        caller(
            Role::StructureManager,
            Scope::Structure {
                network: NET_A.to_owned(),
                structure: "SA2".to_owned(),
            },
        ),
    ];
    for p in &others {
        // Borrowed by each call's future.
        let (api, key) = (&api, &key);
        refused_as_absent("ListGrants", |s| async move {
            api.list_grants(request(p, grants_of(s))).await.map(|_| ())
        })
        .await?;
        refused_as_absent("ListObligations", |s| async move {
            api.list_obligations(request(p, obligations_of(s))).await.map(|_| ())
        })
        .await?;
        refused_as_absent("RecordGrant", |s| async move {
            let intruder = won(s, "Intrus", 1, "2026-12-31");
            api.record_grant(request(p, intruder)).await.map(|_| ())
        })
        .await?;
        refused_as_absent("RecordApplication", |s| async move {
            let apply = pb::RecordApplicationRequest {
                structure_id: s.to_owned(),
                funder: "x".to_owned(),
                title: "y".to_owned(),
                ..Default::default()
            };
            api.record_application(request(p, apply)).await.map(|_| ())
        })
        .await?;
        refused_as_absent("SetAgreementDate", |s| async move {
            let set = pb::SetAgreementDateRequest {
                structure_id: s.to_owned(),
                obligation_key: key.clone(),
                due: d("2027-01-31"),
                ..Default::default()
            };
            api.set_agreement_date(request(p, set)).await.map(|_| ())
        })
        .await?;
        // Its own listing holds nothing of SA1.
        let mine = api
            .list_grants(request(p, pb::ListGrantsRequest::default()))
            .await?
            .into_inner();
        ensure!(mine.grants.is_empty(), "{mine:?}");
        let mine = api
            .list_obligations(request(p, pb::ListObligationsRequest::default()))
            .await?
            .into_inner();
        ensure!(mine.obligations.is_empty(), "{mine:?}");
    }
    // A whole network belongs to its network admins.
    let outcome = api.list_grants(request(&admin_of(NET_B), grants_in(NET_A))).await;
    ensure!(outcome.is_err_and(|s| s.code() == tonic::Code::NotFound));
    // Facilitators, trainers and integrations get nothing of it.
    for role in [Role::Facilitator, Role::Trainer, Role::Integration] {
        let p = caller(role, Scope::Network(NET_A.to_owned()));
        let outcome = api.list_grants(request(&p, grants_of("SA1"))).await;
        ensure!(
            outcome.is_err_and(|s| s.code() == tonic::Code::PermissionDenied),
            "{role}"
        );
    }
    // Nothing was written by the refused calls; the federation admin sees all.
    let fed = caller(Role::FederationAdmin, Scope::Network(NET_A.to_owned()));
    let every = api
        .list_grants(request(&fed, pb::ListGrantsRequest::default()))
        .await?
        .into_inner();
    ensure!(
        every.grants.len() == 1 && every.grants[0].grant_id == grant.grant_id,
        "{every:?}"
    );
    ensure!(h.count("al_agreement_dates").await? == 0);
    // An unknown structure is not found, even for who sees every structure.
    let unknown = api.list_obligations(request(&fed, obligations_of("S404"))).await;
    ensure!(unknown.is_err_and(|s| s.code() == tonic::Code::NotFound));
    Ok(())
}

/// Invalid inputs are refused naming the field, and change nothing.
pub async fn invalid_grant_inputs_are_refused_naming_the_field(h: Harness) -> Result<()> {
    grant_structures(&h).await?;
    let api = AlertingApi::new(h.app.clone());
    let p = admin_of(NET_A);
    let base = won("SA1", "Insertion", 20_000, "2026-12-31");
    let cases: Vec<(pb::RecordGrantRequest, &str)> = vec![
        (
            pb::RecordGrantRequest {
                amount_granted_cents: -1,
                ..base.clone()
            },
            "montant accordé",
        ),
        (
            pb::RecordGrantRequest {
                amount_granted_cents: 100_000_000 * 100 + 1,
                ..base.clone()
            },
            "montant accordé",
        ),
        (
            pb::RecordGrantRequest {
                financial_year_end: d("2040-12-31"),
                ..base.clone()
            },
            "fin d'exercice",
        ),
        (
            pb::RecordGrantRequest {
                financial_year_end: None,
                ..base.clone()
            },
            "fin d'exercice",
        ),
        (
            pb::RecordGrantRequest {
                financial_year_end: Some(Date {
                    year: 2026,
                    month: 2,
                    day: 30,
                }),
                ..base.clone()
            },
            "fin d'exercice",
        ),
        (
            pb::RecordGrantRequest {
                agreement_start: d("2027-01-01"),
                agreement_end: d("2026-12-31"),
                ..base.clone()
            },
            "fin de convention",
        ),
        (
            pb::RecordGrantRequest {
                agreement_start: d("2026-01-01"),
                agreement_end: d("2037-01-01"),
                ..base.clone()
            },
            "fin de convention",
        ),
        (
            pb::RecordGrantRequest {
                title: "x".repeat(301),
                ..base.clone()
            },
            "intitulé",
        ),
        (
            pb::RecordGrantRequest {
                funder: String::new(),
                ..base.clone()
            },
            "financeur",
        ),
        (
            pb::RecordGrantRequest {
                reference: "r".repeat(101),
                ..base.clone()
            },
            "référence",
        ),
        (
            pb::RecordGrantRequest {
                outcome: "peut-être".to_owned(),
                ..base.clone()
            },
            "issue",
        ),
    ];
    for (ask, field) in cases {
        let outcome = api.record_grant(request(&p, ask.clone())).await;
        ensure!(
            outcome
                .as_ref()
                .is_err_and(|s| s.code() == tonic::Code::InvalidArgument && s.message().contains(field)),
            "{field}: {outcome:?} for {ask:?}"
        );
    }
    let outcome = api
        .record_application(request(
            &p,
            pb::RecordApplicationRequest {
                structure_id: "SA1".to_owned(),
                funder: "CAF".to_owned(),
                title: "Projet".to_owned(),
                amount_asked_cents: -100,
                ..Default::default()
            },
        ))
        .await;
    ensure!(outcome.is_err_and(|s| s.code() == tonic::Code::InvalidArgument && s.message().contains("montant demandé")));
    ensure!(h.count("al_grants").await? == 0);
    ensure!(h.outbox_count(GRANT_RECORDED).await? == 0);
    let grant = record_grant(&api, &p, base).await?;
    let outcome = api
        .set_agreement_date(request(
            &p,
            pb::SetAgreementDateRequest {
                structure_id: "SA1".to_owned(),
                grant_id: grant.grant_id,
                due: d("2027-09-15"),
                ..Default::default()
            },
        ))
        .await;
    ensure!(outcome.is_err_and(|s| s.code() == tonic::Code::InvalidArgument && s.message().contains("libellé")));
    ensure!(h.count("al_agreement_dates").await? == 0);
    Ok(())
}
