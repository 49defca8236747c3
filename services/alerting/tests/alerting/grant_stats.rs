//! Views of grants (issue 16, item 4): `GrantStats` for a network and for
//! the whole instance — amounts and success rate by funder and programme,
//! the duties at risk this fortnight — and the holders of `funder_reporting`
//! in `ListObligations`, through the gRPC handlers over the real storage.

use anyhow::{ensure, Context, Result};
use vigie_alerting::grpc::AlertingApi;
use vigie_platform::auth::testing::{caller, request};
use vigie_platform::auth::{Role, Scope};
use vigie_platform::events::Envelope;
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_server::AlertingService;
use vigie_proto::dates::date_text;
use vigie_proto::inventory::v1 as inv;

use crate::grant_calls::{list_obligations, obligations_of, record_grant};
use crate::harness::{admin_of, aid, d, inventoried, Harness, NET_A, NET_B};

const REGION: &str = "Région Bretagne";

/// A structure whose `funder_reporting` is held (level 3) by `holders` people,
/// and a director who holds nothing.
fn structure(id: &str, network: &str, holders: usize) -> Envelope {
    structure_leaving(id, network, holders, None)
}

/// [`structure`], its holders leaving on `leave`.
fn structure_leaving(id: &str, network: &str, holders: usize, leave: Option<&str>) -> Envelope {
    let mut people = vec![inv::Person {
        person_id: format!("{id}-D"),
        display_name: format!("Direction {id}"),
        role: "director".to_owned(),
        email: format!("{}-d@asso.example.org", id.to_lowercase()),
        ..Default::default()
    }];
    let mut holdings = Vec::new();
    for i in 0..holders {
        let person_id = format!("{id}-R{i}");
        people.push(inv::Person {
            person_id: person_id.clone(),
            display_name: format!("Comptable {id} {i}"),
            role: "volunteer".to_owned(),
            email: format!("{}-r{i}@asso.example.org", id.to_lowercase()),
            end_date: leave.and_then(d),
        });
        holdings.push(inv::Holding {
            person_id,
            function: "funder_reporting".to_owned(),
            level: 3,
            ..Default::default()
        });
    }
    let snapshot = inv::Structure {
        structure_id: id.to_owned(),
        name: format!("Association {id}"),
        network: network.to_owned(),
        legal_form: "association".to_owned(),
        department_code: "35".to_owned(),
        commune_insee: "35238".to_owned(),
        region_code: "53".to_owned(),
        people,
        holdings,
        version: 1,
        ..Default::default()
    };
    inventoried(snapshot)
}

fn won(structure: &str, funder: &str, title: &str, euros: i64, year_end: &str) -> pb::RecordGrantRequest {
    pb::RecordGrantRequest {
        structure_id: structure.to_owned(),
        funder: funder.to_owned(),
        title: title.to_owned(),
        outcome: "won".to_owned(),
        amount_granted_cents: euros * 100,
        amount_asked_cents: euros * 100,
        decided_on: d("2026-11-15"),
        financial_year_end: d(year_end),
        ..Default::default()
    }
}

fn refused(structure: &str, funder: &str, title: &str, asked: i64) -> pb::RecordGrantRequest {
    pb::RecordGrantRequest {
        structure_id: structure.to_owned(),
        funder: funder.to_owned(),
        title: title.to_owned(),
        outcome: "refused".to_owned(),
        amount_asked_cents: asked * 100,
        decided_on: d("2026-11-20"),
        ..Default::default()
    }
}

fn stats_of(network: &str) -> pb::GrantStatsRequest {
    pb::GrantStatsRequest {
        network: network.to_owned(),
    }
}

/// The record of `funder` / `programme`.
fn record<'a>(stats: &'a pb::GrantStatsResponse, funder: &str, programme: &str) -> Result<&'a pb::FunderStats> {
    stats
        .by_funder
        .iter()
        .find(|f| f.funder == funder && f.programme == programme)
        .with_context(|| format!("no record of {funder} / {programme}: {:?}", stats.by_funder))
}

/// Today is 2027-01-04 (Europe/Paris). SA1's reporting rests on one person,
/// SA2's on two; a financial year ending 2026-07-10 makes a report due
/// 2027-01-10 (in 6 days), 2026-07-18 → 2027-01-18 (in 14 days, still this
/// fortnight), 2026-07-19 → 2027-01-19 (in 15 days, not yet).
pub async fn network_stats_count_funders_and_duties_at_risk(h: Harness) -> Result<()> {
    for (id, network, holders) in [("SA1", NET_A, 1), ("SA2", NET_A, 2), ("SB1", NET_B, 1)] {
        h.feed_applied(&structure(id, network, holders)).await?;
    }
    h.import(&[aid(1, "Bretagne", "Région", "2027-03-14")]).await?;
    let call_id = h
        .app
        .list_calls(None, None, false)
        .await?
        .into_iter()
        .next()
        .context("the imported call")?
        .call
        .call_id;
    let api = AlertingApi::new(h.app.clone());
    let a = admin_of(NET_A);
    // Région Bretagne « Insertion »: three won, one refused in network A.
    record_grant(&api, &a, won("SA1", REGION, "Insertion", 12_500, "2026-07-10")).await?;
    record_grant(&api, &a, won("SA1", REGION, "Insertion", 3_000, "2026-07-18")).await?;
    record_grant(&api, &a, won("SA2", REGION, "Insertion", 8_000, "2026-07-10")).await?;
    record_grant(&api, &a, refused("SA2", REGION, "Insertion", 4_000)).await?;
    // A report due in 15 days, on SA1: not this fortnight.
    record_grant(
        &api,
        &a,
        won("SA1", "CAF d'Ille-et-Vilaine", "Jeunesse", 2_000, "2026-07-19"),
    )
    .await?;
    // An application to the imported call, titled otherwise by the person:
    // its programme is the call's title; then refused.
    api.record_application(request(
        &a,
        pb::RecordApplicationRequest {
            structure_id: "SA2".to_owned(),
            call_id: call_id.clone(),
            title: "Notre projet mobilité".to_owned(),
            amount_asked_cents: 900_000,
            ..Default::default()
        },
    ))
    .await?;
    // A pending application: no rate yet.
    api.record_application(request(
        &a,
        pb::RecordApplicationRequest {
            structure_id: "SA1".to_owned(),
            funder: "Fondation de France".to_owned(),
            title: "Solidarités".to_owned(),
            amount_asked_cents: 500_000,
            ..Default::default()
        },
    ))
    .await?;
    // Network B's grant, due in 6 days with one holder: at risk, in B only.
    let b = admin_of(NET_B);
    record_grant(&api, &b, won("SB1", REGION, "Insertion", 50_000, "2026-07-10")).await?;

    let stats = api.grant_stats(request(&a, stats_of(NET_A))).await?.into_inner();
    let pipeline = stats.pipeline.context("pipeline")?;
    ensure!(
        (pipeline.applied, pipeline.pending, pipeline.won, pipeline.refused) == (7, 2, 4, 1),
        "{pipeline:?}"
    );
    ensure!(
        pipeline.amount_granted_cents == (12_500 + 3_000 + 8_000 + 2_000) * 100
            && pipeline.amount_asked_cents == (12_500 + 3_000 + 8_000 + 4_000 + 2_000 + 9_000 + 5_000) * 100,
        "{pipeline:?}"
    );
    let insertion = record(&stats, REGION, "Insertion")?;
    let p = insertion.pipeline.context("pipeline")?;
    ensure!(
        insertion.success_rate_per_mille == Some(750)
            && (p.won, p.refused, p.amount_granted_cents) == (3, 1, (12_500 + 3_000 + 8_000) * 100),
        "{insertion:?}"
    );
    let by_call = record(&stats, REGION, "Appel à projets n° 1")?;
    ensure!(
        by_call.success_rate_per_mille.is_none() && by_call.pipeline.is_some_and(|p| p.pending == 1),
        "{by_call:?}"
    );
    ensure!(
        !stats.by_funder.iter().any(|f| f.programme == "Notre projet mobilité"),
        "the call's title names the programme: {:?}",
        stats.by_funder
    );
    ensure!(record(&stats, "Fondation de France", "Solidarités")?
        .success_rate_per_mille
        .is_none());
    ensure!(record(&stats, "CAF d'Ille-et-Vilaine", "Jeunesse")?.success_rate_per_mille == Some(1000));
    // The call refused: its programme's rate is 0 ‰.
    record_grant(
        &api,
        &a,
        pb::RecordGrantRequest {
            structure_id: "SA2".to_owned(),
            call_id: call_id.clone(),
            outcome: "refused".to_owned(),
            ..Default::default()
        },
    )
    .await?;
    let stats = api.grant_stats(request(&a, stats_of(NET_A))).await?.into_inner();
    ensure!(record(&stats, REGION, "Appel à projets n° 1")?.success_rate_per_mille == Some(0));

    // At risk: SA1's two reports (in 6 and 14 days, one holder); not SA2's
    // (two holders), nor SA1's due in 15 days, nor network B's.
    let at_risk: Vec<(String, String, String, String, u32)> = stats
        .at_risk
        .iter()
        .map(|r| {
            let o = r.obligation.clone().unwrap_or_default();
            (
                o.structure_id,
                date_text(o.due.as_ref()),
                r.structure_name.clone(),
                r.reason.clone(),
                o.reporting_holders,
            )
        })
        .collect();
    let spof = |due: &str| {
        (
            "SA1".to_owned(),
            due.to_owned(),
            "Association SA1".to_owned(),
            "spof".to_owned(),
            1,
        )
    };
    ensure!(at_risk == vec![spof("2027-01-10"), spof("2027-01-18")], "{at_risk:?}");
    ensure!(
        stats.at_risk[0]
            .obligation
            .as_ref()
            .is_some_and(|o| o.rule == "financial_report_6_months" && o.funder == REGION),
        "{:?}",
        stats.at_risk
    );

    // The whole instance (federation admins): both networks.
    let federation = caller(Role::FederationAdmin, Scope::Network("federation".to_owned()));
    let all = api.grant_stats(request(&federation, stats_of(""))).await?.into_inner();
    let insertion = record(&all, REGION, "Insertion")?;
    ensure!(
        insertion.success_rate_per_mille == Some(800)
            && insertion
                .pipeline
                .is_some_and(|p| p.amount_granted_cents == 73_500 * 100),
        "{insertion:?}"
    );
    ensure!(
        all.at_risk
            .iter()
            .filter_map(|r| r.obligation.as_ref())
            .map(|o| o.structure_id.as_str())
            .collect::<Vec<_>>()
            == vec!["SA1", "SB1", "SA1"],
        "{:?}",
        all.at_risk
    );

    // ListObligations tells how many hold funder_reporting.
    for (structure, holders) in [("SA1", 1), ("SA2", 2)] {
        let listed = list_obligations(&api, &a, obligations_of(structure)).await?;
        ensure!(
            !listed.is_empty() && listed.iter().all(|o| o.reporting_holders == holders),
            "{structure}: {listed:?}"
        );
    }
    Ok(())
}

/// Holders who leave before the due date put it at risk; one of them staying does not.
pub async fn holders_leaving_before_the_due_date_put_a_duty_at_risk(h: Harness) -> Result<()> {
    let leaving = structure_leaving("SA1", NET_A, 2, Some("2027-01-08"));
    h.feed_applied(&leaving).await?;
    let api = AlertingApi::new(h.app.clone());
    let a = admin_of(NET_A);
    record_grant(&api, &a, won("SA1", REGION, "Insertion", 1_000, "2026-07-10")).await?;
    let stats = api.grant_stats(request(&a, stats_of(NET_A))).await?.into_inner();
    ensure!(
        stats.at_risk.len() == 1 && stats.at_risk[0].reason == "holders_leaving",
        "{:?}",
        stats.at_risk
    );
    Ok(())
}

/// Another network's admin learns nothing: `NOT_FOUND` as for an unknown
/// network; without a network (the whole instance) a network admin, a
/// structure manager or a facilitator is refused; an over-long network is
/// invalid.
pub async fn grant_stats_stay_within_reach(h: Harness) -> Result<()> {
    h.feed_applied(&structure("SA1", NET_A, 1)).await?;
    let api = AlertingApi::new(h.app.clone());
    let code =
        |outcome: Result<tonic::Response<pb::GrantStatsResponse>, tonic::Status>| outcome.err().map(|s| s.code());
    let other = api.grant_stats(request(&admin_of(NET_B), stats_of(NET_A))).await;
    let unknown = api.grant_stats(request(&admin_of(NET_B), stats_of("inconnu"))).await;
    ensure!(code(other) == Some(tonic::Code::NotFound));
    ensure!(code(unknown) == Some(tonic::Code::NotFound));
    for role in [
        Role::NetworkAdmin,
        Role::StructureManager,
        Role::Facilitator,
        Role::Integration,
    ] {
        let p = caller(role, Scope::Network(NET_A.to_owned()));
        let whole = api.grant_stats(request(&p, stats_of(""))).await;
        ensure!(code(whole) == Some(tonic::Code::PermissionDenied), "{role:?}");
    }
    let manager = caller(
        Role::StructureManager,
        Scope::Structure {
            network: NET_A.to_owned(),
            structure: "SA1".to_owned(),
        },
    );
    let of_network = api.grant_stats(request(&manager, stats_of(NET_A))).await;
    ensure!(code(of_network) == Some(tonic::Code::PermissionDenied));
    let long = api
        .grant_stats(request(&admin_of(NET_A), stats_of(&"r".repeat(201))))
        .await;
    ensure!(
        long.is_err_and(|s| s.code() == tonic::Code::InvalidArgument && s.message().contains("réseau")),
        "an over-long network is refused naming the field"
    );
    Ok(())
}
