//! The import of applications and decisions from a sheet, and the
//! idempotency key of `RecordGrant` (issue 16), through the gRPC handlers
//! over the real storage and outbox, on both backends.

use anyhow::{ensure, Result};
use vigie_alerting::events::GRANT_RECORDED;
use vigie_alerting::grpc::AlertingApi;
use vigie_platform::auth::testing::{caller, request};
use vigie_platform::auth::{Principal, Role, Scope};
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_server::AlertingService;
use vigie_proto::events::v1::GrantRecorded;

use crate::grant_calls::{grants_in, list_grants, list_obligations, obligations_of, record_grant};
use crate::harness::{admin_of, aid, grant_structures, Harness, NET_A, NET_B};

const HEADER: &str = "structure;financeur;intitulé;appel;date de dépôt;montant demandé;issue;date de décision;\
montant accordé;fin d'exercice;début de convention;fin de convention;référence;objet;subvention publique;clé";

fn federation() -> Principal {
    caller(Role::FederationAdmin, Scope::Network(NET_A.to_owned()))
}

/// A CSV file as Excel writes it in French: BOM, `;`, CRLF.
fn sheet(rows: &[&str]) -> Vec<u8> {
    let mut out = format!("\u{feff}{HEADER}\r\n");
    for row in rows {
        out.push_str(row);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

fn ask(content: Vec<u8>, dry_run: bool, network: &str) -> pb::ImportGrantsRequest {
    pb::ImportGrantsRequest {
        filename: "subventions.csv".to_owned(),
        content,
        dry_run,
        network: network.to_owned(),
    }
}

async fn import(api: &AlertingApi, p: &Principal, ask: pb::ImportGrantsRequest) -> Result<pb::ImportGrantsResponse> {
    Ok(api.import_grants(request(p, ask)).await?.into_inner())
}

fn problems(r: &pb::ImportGrantsResponse) -> Vec<String> {
    r.problems
        .iter()
        .map(|p| format!("{}: {}", p.position, p.message))
        .collect()
}

fn counts(r: &pb::ImportGrantsResponse) -> (u32, u32, u32) {
    (r.created, r.updated, r.unchanged)
}

const GOOD: [&str; 4] = [
    // Won, 2026, with an agreement reference: a financial report due.
    "SA1;Région Bretagne;Jardins partagés;;15/01/2026;20 000;obtenu;01/03/2026;12 500,50 €;31/12/2026;;;CONV-1;Jardins;oui;",
    // Won on a 2026–2027 multi-year agreement, private money, its own key.
    "SA1;Fondation X;Atelier vélo;;2026-02-01;;obtenue;2026-04-01;30000;2026-12-31;2026-01-01;2027-12-31;;;non;fx-velo",
    // Pending.
    "SA2;CAF d'Ille-et-Vilaine;Accueil de loisirs;;01/10/2026;5 000;;;;;;;;;;",
    // Refused.
    "SA2;Département;Numérique;;01/09/2026;8000;refusé;15/11/2026;;;;;;;;",
];

pub async fn a_file_with_three_bad_rows_reports_their_lines_and_writes_nothing(h: Harness) -> Result<()> {
    grant_structures(&h).await?;
    let api = AlertingApi::new(h.app.clone());
    let content = sheet(&[
        GOOD[0],
        "SA1;Région;Projet;;32/01/2026;;;;;;;;;;;",
        GOOD[2],
        "SA1;Région;Projet 2;;;;obtenu;;douze;31/12/2026;;;;;;",
        "INCONNUE;Région;Projet 3;;;;;;;;;;;;;",
    ]);
    let answer = import(&api, &federation(), ask(content, false, "")).await?;
    ensure!(
        problems(&answer)
            == vec![
                "subventions.csv:3: date de dépôt « 32/01/2026 » : cette date n'existe pas",
                "subventions.csv:5: montant accordé « douze » : attendu un montant en euros, par exemple 12500, 12 500 ou 12 500,50 €",
                "subventions.csv:6: structure « INCONNUE » inconnue ou hors de votre périmètre",
            ],
        "{answer:?}"
    );
    ensure!(answer.problems.iter().all(|p| p.error));
    ensure!(counts(&answer) == (0, 0, 0), "{answer:?}");
    ensure!(h.count("al_grants").await? == 0);
    ensure!(h.outbox::<GrantRecorded>(GRANT_RECORDED).await?.is_empty());
    Ok(())
}

pub async fn an_import_creates_grants_and_duties_and_a_reimport_changes_nothing(h: Harness) -> Result<()> {
    grant_structures(&h).await?;
    let api = AlertingApi::new(h.app.clone());
    let p = admin_of(NET_A);
    // A dry run counts what would be done and writes nothing.
    let dry = import(&api, &p, ask(sheet(&GOOD), true, "")).await?;
    ensure!(dry.problems.is_empty() && counts(&dry) == (4, 0, 0), "{dry:?}");
    ensure!(h.count("al_grants").await? == 0);
    ensure!(h.outbox::<GrantRecorded>(GRANT_RECORDED).await?.is_empty());

    let done = import(&api, &p, ask(sheet(&GOOD), false, NET_A)).await?;
    ensure!(done.problems.is_empty() && counts(&done) == (4, 0, 0), "{done:?}");
    let listed = list_grants(&api, &p, grants_in(NET_A)).await?;
    ensure!(
        listed.pipeline
            == Some(pb::Pipeline {
                applied: 4,
                pending: 1,
                won: 2,
                refused: 1,
                amount_asked_cents: 3_300_000,
                amount_granted_cents: 4_250_050,
            }),
        "{listed:?}"
    );
    let velo = listed
        .grants
        .iter()
        .find(|g| g.title == "Atelier vélo")
        .ok_or_else(|| anyhow::anyhow!("{listed:?}"))?;
    ensure!(!velo.public_subsidy && velo.agreement_end.is_some(), "{velo:?}");
    // The duties of the grants won: the financial report of the 2026 grant,
    // one report per year of the 2026–2027 agreement (instead of one).
    let duties = list_obligations(&api, &p, obligations_of("SA1")).await?;
    let mut rules: Vec<(String, String)> = duties
        .iter()
        .map(|o| {
            let due = o
                .due
                .as_ref()
                .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day));
            (o.rule.clone(), due.unwrap_or_default())
        })
        .collect();
    rules.sort();
    ensure!(
        rules
            == vec![
                ("financial_report_6_months".to_owned(), "2027-06-30".to_owned()),
                ("multi_year_yearly_report".to_owned(), "2027-06-30".to_owned()),
                ("multi_year_yearly_report".to_owned(), "2028-06-30".to_owned()),
            ],
        "{rules:?}"
    );
    // One event per decision (two won, one refused), none for the pending one.
    let events = h.outbox::<GrantRecorded>(GRANT_RECORDED).await?;
    ensure!(events.len() == 3, "{events:?}");

    // The same file again: nothing changes, no event.
    let again = import(&api, &p, ask(sheet(&GOOD), false, "")).await?;
    ensure!(again.problems.is_empty() && counts(&again) == (0, 0, 4), "{again:?}");
    ensure!(h.count("al_grants").await? == 4);
    ensure!(h.outbox::<GrantRecorded>(GRANT_RECORDED).await?.len() == 3);

    // The pending application decided in a new version of the file: one
    // update, one event; the others unchanged.
    let decided =
        "SA2;CAF d'Ille-et-Vilaine;Accueil de loisirs;;01/10/2026;5 000;obtenu;20/12/2026;4 000;31/12/2026;;;;;;";
    let next = import(&api, &p, ask(sheet(&[GOOD[0], GOOD[1], decided, GOOD[3]]), false, "")).await?;
    ensure!(next.problems.is_empty() && counts(&next) == (0, 1, 3), "{next:?}");
    ensure!(h.count("al_grants").await? == 4);
    let events = h.outbox::<GrantRecorded>(GRANT_RECORDED).await?;
    ensure!(events.len() == 4, "{events:?}");
    ensure!(
        events[3].1.stage == "won" && events[3].1.amount_granted_cents == 400_000 && events[3].0 == "SA2",
        "{events:?}"
    );
    Ok(())
}

pub async fn a_row_of_another_network_is_refused_by_line(h: Harness) -> Result<()> {
    grant_structures(&h).await?;
    h.import(&[aid(1, "Bretagne", "Région", "2027-03-14")]).await?;
    let call = h.app.list_calls(None, None, false).await?.remove(0).call.call_id;
    let api = AlertingApi::new(h.app.clone());
    let with_call = format!("SA1;;;{call};;;;;;;;;;;;");
    let rows = [
        GOOD[0],
        "SB1;Région;Projet B;;;;;;;;;;;;;",
        with_call.as_str(),
        "SA1;;;C-INCONNU;;;;;;;;;;;;",
    ];
    // A coordinator of A: B's structure reads as unknown, on its line.
    let answer = import(&api, &admin_of(NET_A), ask(sheet(&rows), false, "")).await?;
    ensure!(
        problems(&answer)
            == vec![
                "subventions.csv:3: structure « SB1 » inconnue ou hors de votre périmètre",
                "subventions.csv:5: appel « C-INCONNU » inconnu (voir vigie calls list)",
            ],
        "{answer:?}"
    );
    // Federation admins reach B, but `network` restricts the import.
    let answer = import(&api, &federation(), ask(sheet(&rows[..3]), false, NET_A)).await?;
    ensure!(
        problems(&answer)
            == vec![
                "subventions.csv:3: la structure « SB1 » est dans le réseau « reseau-b » : cet import est limité au réseau « reseau-a »"
            ],
        "{answer:?}"
    );
    ensure!(h.count("al_grants").await? == 0);
    // A coordinator cannot restrict the import to another network.
    let outcome = api
        .import_grants(request(&admin_of(NET_A), ask(sheet(&rows[..1]), false, NET_B)))
        .await;
    ensure!(outcome.is_err(), "{outcome:?}");
    // Nor can a facilitator import at all.
    let outcome = api
        .import_grants(request(
            &caller(Role::Facilitator, Scope::Network(NET_A.to_owned())),
            ask(sheet(&rows[..1]), false, ""),
        ))
        .await;
    ensure!(
        outcome.is_err_and(|s| s.code() == tonic::Code::PermissionDenied),
        "a facilitator imported grants"
    );
    // Without B's row, the coordinator's import goes through, the call's
    // row as the structure's application for it.
    let answer = import(&api, &admin_of(NET_A), ask(sheet(&[rows[0], rows[2]]), false, NET_A)).await?;
    ensure!(answer.problems.is_empty() && counts(&answer) == (2, 0, 0), "{answer:?}");
    let again = import(&api, &admin_of(NET_A), ask(sheet(&[rows[0], rows[2]]), false, NET_A)).await?;
    ensure!(counts(&again) == (0, 0, 2), "{again:?}");
    Ok(())
}

pub async fn a_workbook_that_is_not_one_is_reported(h: Harness) -> Result<()> {
    grant_structures(&h).await?;
    let api = AlertingApi::new(h.app.clone());
    let mut request_ = ask(b"PK\x03\x04not a zip".to_vec(), false, "");
    request_.filename = "/tmp/subventions.xlsx".to_owned();
    let answer = import(&api, &federation(), request_).await?;
    ensure!(
        problems(&answer) == vec!["subventions.xlsx: ce fichier n'est ni un classeur XLSX ni un classeur ODS"],
        "{answer:?}"
    );
    let long = api
        .import_grants(request(&federation(), ask(sheet(&GOOD), false, &"n".repeat(101))))
        .await;
    ensure!(
        long.as_ref()
            .is_err_and(|s| s.code() == tonic::Code::InvalidArgument && s.message().contains("réseau")),
        "{long:?}"
    );
    let empty = import(&api, &federation(), ask(Vec::new(), false, "")).await?;
    ensure!(
        empty.problems.len() == 1 && empty.problems[0].message.starts_with("fichier vide"),
        "{empty:?}"
    );
    Ok(())
}

pub async fn the_idempotency_key_returns_the_first_grant(h: Harness) -> Result<()> {
    grant_structures(&h).await?;
    let api = AlertingApi::new(h.app.clone());
    let p = admin_of(NET_A);
    let grant = |structure: &str, key: &str, outcome: &str| pb::RecordGrantRequest {
        structure_id: structure.to_owned(),
        funder: "Région Bretagne".to_owned(),
        title: "Projet".to_owned(),
        outcome: outcome.to_owned(),
        amount_granted_cents: 1_000_000,
        financial_year_end: Some(vigie_proto::common::v1::Date {
            year: 2026,
            month: 12,
            day: 31,
        }),
        idempotency_key: key.to_owned(),
        ..Default::default()
    };
    // A retry after a lost answer: the grant first recorded, one event.
    let first = record_grant(&api, &p, grant("SA1", "retry-1", "won")).await?;
    let retry = record_grant(&api, &p, grant("SA1", "retry-1", "won")).await?;
    ensure!(first == retry, "{first:?} / {retry:?}");
    ensure!(h.count("al_grants").await? == 1);
    ensure!(h.outbox::<GrantRecorded>(GRANT_RECORDED).await?.len() == 1);
    // Another decision under the same key updates that grant (one event).
    let changed = record_grant(&api, &p, grant("SA1", "retry-1", "refused")).await?;
    ensure!(
        changed.grant_id == first.grant_id && changed.stage == "refused",
        "{changed:?}"
    );
    ensure!(h.count("al_grants").await? == 1);
    ensure!(h.outbox::<GrantRecorded>(GRANT_RECORDED).await?.len() == 2);
    // The key is the structure's: another structure's same key is its own grant.
    let other = record_grant(&api, &p, grant("SA2", "retry-1", "won")).await?;
    ensure!(other.grant_id != first.grant_id, "{other:?}");
    // Without a key, each sending is a new grant (docs/grants.md).
    record_grant(&api, &p, grant("SA1", "", "won")).await?;
    record_grant(&api, &p, grant("SA1", "", "won")).await?;
    ensure!(h.count("al_grants").await? == 4);
    // A key too long, or with a control character, is refused naming it.
    for key in ["k".repeat(101), "a\u{1}b".to_owned()] {
        let outcome = api.record_grant(request(&p, grant("SA1", &key, "won"))).await;
        ensure!(
            outcome
                .as_ref()
                .is_err_and(|s| s.code() == tonic::Code::InvalidArgument && s.message().contains("clé d'idempotence")),
            "{outcome:?}"
        );
    }
    // An imported row with the same key finds the grant recorded by hand
    // (and updates it: the row has no financial year end), adding none.
    let row = "SA1;Région Bretagne;Projet;;;;refusé;;;;;;;;;retry-1";
    let answer = import(&api, &p, ask(sheet(&[row]), false, "")).await?;
    ensure!(answer.problems.is_empty() && counts(&answer) == (0, 1, 0), "{answer:?}");
    ensure!(h.count("al_grants").await? == 4);
    let again = import(&api, &p, ask(sheet(&[row]), false, "")).await?;
    ensure!(counts(&again) == (0, 0, 1), "{again:?}");
    Ok(())
}
