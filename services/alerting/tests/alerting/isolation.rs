//! The generated isolation matrix of the alerting's gRPC API: every RPC of
//! `vigie.alerting.v1.AlertingService` has a rule, and for every role a
//! caller of another network (or another structure) can neither list the
//! calls of, preview or read the reminders of, acknowledge, set preferences
//! or read the calendar of the structures of the first, nor read or change
//! its policy, while a caller of that network can; calls themselves are
//! public. The handlers are called directly, with the principal in the
//! request extensions as `AuthLayer` puts it.

use std::collections::BTreeSet;

use anyhow::{bail, ensure, Context, Result};
use prost::Message;
use vigie_alerting::app::{AlertingApp, PolicyInput};
use vigie_alerting::grpc::{authz, AlertingApi};
use vigie_platform::auth::testing::{self, allowed, caller, matrix_callers, refused, request, IsolationMatrix};
use vigie_platform::auth::{Principal, Role, Scope};
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_server::AlertingService;

use crate::grant_calls::{grants_of, obligations_of};
use crate::harness::{aid, d, date, director_and_two_holders, page, structure_event, utc, Harness, PersonSpec};

const MATRIX: IsolationMatrix = IsolationMatrix {
    service: "vigie.alerting.v1.AlertingService",
    rule: authz::rule,
};

pub async fn every_rpc_has_a_rule(_h: Harness) -> Result<()> {
    MATRIX.every_rpc_has_a_rule(23)
}

const NET_A: &str = "reseau-a";
const NET_B: &str = "reseau-b";
const S_A: &str = "SA1";
const SIBLING: &str = "SA2";
const S_B: &str = "SB1";
/// The structures and their networks.
const STRUCTURES: [(&str, &str); 3] = [(S_A, NET_A), (SIBLING, NET_A), (S_B, NET_B)];
/// The call reminders are planned for (J-30 in A, J-7 in B).
const DEADLINE: &str = "2027-03-14";
/// The call acknowledged by the allowed callers (its reminders are far from the window).
const LATER: &str = "2027-12-15";
/// The preview window: A's J-30 (2027-02-12) and B's J-7 (2027-03-07).
const FROM: &str = "2027-02-01";
const TO: &str = "2027-03-14";

/// A director and two holders of funding applications, of ids `ids`.
fn people(ids: &[String; 3]) -> Vec<PersonSpec<'_>> {
    let [director, first, second] = ids;
    director_and_two_holders(director, first, second)
}

fn policy(network: &str, offset: u32) -> PolicyInput {
    PolicyInput {
        network: network.to_owned(),
        offsets_days: vec![offset],
        referent_name: format!("Référent {network}"),
        referent_email: format!("referent@{network}.example.org"),
        ..PolicyInput::default()
    }
}

/// The network of a structure of the fixture.
fn network_of(structure: &str) -> Result<&'static str> {
    STRUCTURES
        .iter()
        .find(|(s, _)| *s == structure)
        .map(|(_, n)| *n)
        .with_context(|| format!("a row of an unknown structure « {structure} »"))
}

/// Whether a structure-scoped row is one `p` may see under `method`.
fn sees_row(method: &str, p: &Principal, structure: &str) -> Result<bool> {
    Ok(MATRIX.expected(method, p, network_of(structure)?, Some(structure))? == Some(true))
}

/// Whether `p` may see the people of `structure`'s rows (names, recipients,
/// delivery errors) — the rule `authz::PERSONAL_DATA`.
fn sees_people(p: &Principal, structure: &str) -> Result<bool> {
    Ok(testing::expected(&authz::PERSONAL_DATA, p, network_of(structure)?, Some(structure)) == Some(true))
}

/// A row's recipient as `p` should get it: `person:<id>` becomes `person`
/// for a caller who may not see the structure's people.
fn recipient_for(p: &Principal, structure: &str, recipient: &str) -> Result<String> {
    Ok(if !sees_people(p, structure)? && recipient.starts_with("person:") {
        "person".to_owned()
    } else {
        recipient.to_owned()
    })
}

/// What of a person can show in an answer: names and addresses of the
/// fixture's people and referents, and person ids as recipients.
const PEOPLE_MARKS: [&str; 5] = ["Personne ", "@asso.example.org", "Référent ", "referent@", "person:"];

/// An answer (its debug form) shows nobody.
fn shows_nobody(answer: &str) -> Result<()> {
    for mark in PEOPLE_MARKS {
        ensure!(!answer.contains(mark), "« {mark} » in {answer}");
    }
    Ok(())
}

/// A streamed upload (the request body `ImportCalls` receives), framed as on the wire.
fn upload(chunks: &[pb::CallsChunk]) -> Result<tonic::Streaming<pb::CallsChunk>> {
    struct Chunks;
    impl tonic::codec::Decoder for Chunks {
        type Item = pb::CallsChunk;
        type Error = tonic::Status;
        fn decode(&mut self, buf: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<pb::CallsChunk>, tonic::Status> {
            pb::CallsChunk::decode(buf)
                .map(Some)
                .map_err(|e| tonic::Status::internal(e.to_string()))
        }
    }
    let mut framed = Vec::new();
    for chunk in chunks {
        let bytes = chunk.encode_to_vec();
        framed.push(0);
        framed.extend_from_slice(&u32::try_from(bytes.len())?.to_be_bytes());
        framed.extend(bytes);
    }
    Ok(tonic::Streaming::new_request(
        Chunks,
        http_body_util::Full::new(bytes::Bytes::from(framed)),
        None,
        None,
    ))
}

/// The fixture, as the instance sees it.
struct Fixture {
    api: AlertingApi,
    app: AlertingApp,
    aids: Vec<serde_json::Value>,
    /// The call acknowledged by allowed callers.
    later_call: String,
    /// Every call open today.
    calls: BTreeSet<String>,
    /// Every planned reminder of the window: (structure, recipient, call, offset).
    alerts: Vec<(String, String, String, u32)>,
    /// The whole send log, newest first: (structure, recipient, call, offset).
    log: Vec<(String, String, String, i32)>,
}

pub async fn other_networks_see_nothing(h: Harness) -> Result<()> {
    for (structure, network) in STRUCTURES {
        let ids = ["D", "H1", "H2"].map(|p| format!("{structure}-{p}"));
        h.feed_applied(&structure_event(structure, network, "35238", "53", &people(&ids), 1))
            .await?;
    }
    let aids = vec![
        aid(1, "Bretagne", "Région", DEADLINE),
        aid(2, "Bretagne", "Région", LATER),
    ];
    h.import(&aids).await?;
    // A policy per network: A reminds at J-30, B at J-7.
    h.app.set_network_policy(&policy(NET_A, 30)).await?;
    h.app.set_network_policy(&policy(NET_B, 7)).await?;
    // A's reminders are claimed first, B's later: B's rows head the send log.
    let a = h.app.claim_due(utc("2027-02-12 08:00")).await?;
    let b = h.app.claim_due(utc("2027-03-07 08:00")).await?;
    ensure!(a.claimed > 0 && b.claimed > 0, "{a:?} {b:?}");
    // Every email was refused once, with an error quoting the address (as
    // SMTP servers do): personal data in the send log.
    sqlx::query("UPDATE al_messages SET last_error = '550 5.1.1 <' || address || '> inconnu' WHERE channel = 'email'")
        .execute(h.db.pool())
        .await?;
    h.at(utc("2027-03-07 10:00"));

    let calls = h.app.list_calls(None, None, false).await?;
    let later_call = calls
        .iter()
        .find(|c| c.call.source_ref == "2")
        .map(|c| c.call.call_id.clone())
        .context("the later call")?;
    let alerts: Vec<_> = h
        .app
        .preview(date(FROM), date(TO), None)
        .await?
        .into_iter()
        .map(|a| {
            let a = a.alert;
            (a.structure_id, a.recipient.id, a.call_id, a.offset_days)
        })
        .collect();
    let log: Vec<_> = h
        .app
        .send_log(None, 10_000)
        .await?
        .into_iter()
        .map(|e| {
            let r = e.row;
            (
                r.structure_id,
                r.recipient,
                r.call_id,
                i32::try_from(r.offset_days).unwrap_or(i32::MIN),
            )
        })
        .collect();
    for (structure, _) in STRUCTURES {
        ensure!(
            alerts.iter().any(|a| a.0 == structure),
            "no reminder for {structure}: {alerts:?}"
        );
        ensure!(log.iter().any(|l| l.0 == structure), "no log for {structure}: {log:?}");
    }
    ensure!(
        log.first().is_some_and(|l| l.0 == S_B),
        "B's rows are the newest: {log:?}"
    );
    let fixture = Fixture {
        api: AlertingApi::new(h.app.clone()),
        app: h.app.clone(),
        aids,
        later_call,
        calls: calls.into_iter().map(|c| c.call.call_id).collect(),
        alerts,
        log,
    };

    documented(&fixture).await?;

    let principals = matrix_callers(NET_A, NET_B, S_A, SIBLING);

    for method in MATRIX.methods()? {
        for p in &principals {
            unscoped(&fixture, &method, p)
                .await
                .with_context(|| format!("{method} without a structure as {}", p.subject))?;
            for (structure, network) in [(S_A, NET_A), (S_B, NET_B)] {
                check(&fixture, &method, p, network, structure)
                    .await
                    .with_context(|| format!("{method} on {structure} ({network}) as {}", p.subject))?;
            }
        }
    }
    Ok(())
}

/// The cases of `docs/security.md` ("Alerting"), pinned whatever the matrix says.
async fn documented(f: &Fixture) -> Result<()> {
    let in_a = |role| caller(role, Scope::Network(NET_A.to_owned()));
    let code = |outcome: Result<(), tonic::Status>| outcome.err().map(|s| s.code());
    // A network's calls with the structures each matches: its coordinator
    // gets the same as asking structure by structure; another network,
    // nothing.
    let admin = in_a(Role::NetworkAdmin);
    let of_network = |network: &str| pb::ListCallsRequest {
        network: network.to_owned(),
        include_closed: true,
        ..Default::default()
    };
    let listed = f
        .api
        .list_calls(request(&admin, of_network(NET_A)))
        .await?
        .into_inner()
        .calls;
    let mut pairs: Vec<(String, String)> = listed
        .iter()
        .flat_map(|c| c.matched_structures.iter().map(|s| (s.clone(), c.call_id.clone())))
        .collect();
    pairs.sort();
    let mut expected: Vec<(String, String)> = Vec::new();
    for structure in [S_A, SIBLING] {
        let ask = pb::ListCallsRequest {
            structure_id: structure.to_owned(),
            include_closed: true,
            ..Default::default()
        };
        for c in f.api.list_calls(request(&admin, ask)).await?.into_inner().calls {
            expected.push((structure.to_owned(), c.call_id));
        }
    }
    expected.sort();
    ensure!(
        !pairs.is_empty() && pairs == expected,
        "network listing {pairs:?}, by structure {expected:?}"
    );
    let theirs = code(f.api.list_calls(request(&admin, of_network(NET_B))).await.map(|_| ()));
    ensure!(
        matches!(theirs, Some(tonic::Code::NotFound | tonic::Code::PermissionDenied)),
        "ListCalls for {NET_B} as its non-admin: {theirs:?}"
    );
    let both = pb::ListCallsRequest {
        network: NET_A.to_owned(),
        structure_id: S_A.to_owned(),
        ..Default::default()
    };
    let both = code(f.api.list_calls(request(&admin, both)).await.map(|_| ()));
    ensure!(
        both == Some(tonic::Code::InvalidArgument),
        "a structure and a network: {both:?}"
    );
    for role in [Role::NetworkAdmin, Role::StructureManager, Role::Facilitator] {
        let p = in_a(role);
        let list = |structure: &str| pb::ListCallsRequest {
            structure_id: structure.to_owned(),
            ..Default::default()
        };
        // B's structure: exactly an unknown structure.
        let other = f.api.list_calls(request(&p, list(S_B))).await.map(|_| ());
        let missing = f.api.list_calls(request(&p, list("absent-object"))).await.map(|_| ());
        refused(true, &other, &missing, S_B).with_context(|| format!("ListCalls {S_B} as {role}"))?;
        allowed(&f.api.list_calls(request(&p, list(S_A))).await.map(|_| ()))?;
        // A network's policy belongs to its network admins.
        let get = |network: &str| pb::GetNetworkPolicyRequest {
            network: network.to_owned(),
        };
        let want = if role == Role::NetworkAdmin {
            tonic::Code::NotFound
        } else {
            tonic::Code::PermissionDenied
        };
        let got = code(f.api.get_network_policy(request(&p, get(NET_B))).await.map(|_| ()));
        ensure!(got == Some(want), "GetNetworkPolicy {NET_B} as {role}: {got:?}");
        let set = pb::NetworkPolicy {
            network: NET_B.to_owned(),
            ..Default::default()
        };
        let got = code(f.api.set_network_policy(request(&p, set)).await.map(|_| ()));
        ensure!(got == Some(want), "SetNetworkPolicy {NET_B} as {role}: {got:?}");
        // Nothing of B's structures or of B's network. Writes are for
        // network admins and structure managers (a facilitator is refused
        // whatever the target), a whole network's for network admins only.
        let write = if role == Role::Facilitator {
            tonic::Code::PermissionDenied
        } else {
            tonic::Code::NotFound
        };
        let feed = pb::GetFeedUrlRequest {
            structure_id: S_B.to_owned(),
            ..Default::default()
        };
        let got = code(f.api.get_feed_url(request(&p, feed)).await.map(|_| ()));
        ensure!(got == Some(write), "GetFeedUrl {S_B} as {role}: {got:?}");
        let feed = pb::GetFeedUrlRequest {
            network: NET_B.to_owned(),
            ..Default::default()
        };
        let got = code(f.api.get_feed_url(request(&p, feed)).await.map(|_| ()));
        ensure!(got == Some(want), "GetFeedUrl {NET_B} as {role}: {got:?}");
        let ack = pb::AcknowledgeRequest {
            structure_id: S_B.to_owned(),
            call_id: f.later_call.clone(),
            status: "submitted".to_owned(),
        };
        let got = code(f.api.acknowledge(request(&p, ack)).await.map(|_| ()));
        ensure!(got == Some(write), "Acknowledge {S_B} as {role}: {got:?}");
        let prefs = pb::Preferences {
            structure_id: S_B.to_owned(),
            opted_out: true,
            ..Default::default()
        };
        let got = code(f.api.set_preferences(request(&p, prefs)).await.map(|_| ()));
        ensure!(got == Some(write), "SetPreferences {S_B} as {role}: {got:?}");
        let prefs = pb::Preferences {
            network: NET_B.to_owned(),
            opted_out: true,
            ..Default::default()
        };
        let got = code(f.api.set_preferences(request(&p, prefs)).await.map(|_| ()));
        ensure!(got == Some(want), "SetPreferences {NET_B} as {role}: {got:?}");
    }
    // In their own network, facilitators, trainers and integrations write
    // nothing: no preference (an integration cannot opt a network out), no
    // acknowledgement, no feed URL; structure managers not for the network.
    for role in [
        Role::Facilitator,
        Role::Trainer,
        Role::Integration,
        Role::StructureManager,
    ] {
        let p = in_a(role);
        let whole_network_only = role == Role::StructureManager;
        let denied = |got: Option<tonic::Code>, what: &str| -> Result<()> {
            ensure!(got == Some(tonic::Code::PermissionDenied), "{what} as {role}: {got:?}");
            Ok(())
        };
        let prefs = pb::Preferences {
            network: NET_A.to_owned(),
            opted_out: true,
            ..Default::default()
        };
        denied(
            code(f.api.set_preferences(request(&p, prefs)).await.map(|_| ())),
            "SetPreferences of the own network",
        )?;
        let feed = pb::GetFeedUrlRequest {
            network: NET_A.to_owned(),
            ..Default::default()
        };
        denied(
            code(f.api.get_feed_url(request(&p, feed)).await.map(|_| ())),
            "GetFeedUrl of the own network",
        )?;
        if whole_network_only {
            continue;
        }
        let prefs = pb::Preferences {
            structure_id: S_A.to_owned(),
            opted_out: true,
            ..Default::default()
        };
        denied(
            code(f.api.set_preferences(request(&p, prefs)).await.map(|_| ())),
            "SetPreferences of an own structure",
        )?;
        let ack = pb::AcknowledgeRequest {
            structure_id: S_A.to_owned(),
            call_id: f.later_call.clone(),
            status: "not_concerned".to_owned(),
        };
        denied(
            code(f.api.acknowledge(request(&p, ack)).await.map(|_| ())),
            "Acknowledge for an own structure",
        )?;
        let feed = pb::GetFeedUrlRequest {
            structure_id: S_A.to_owned(),
            ..Default::default()
        };
        denied(
            code(f.api.get_feed_url(request(&p, feed)).await.map(|_| ())),
            "GetFeedUrl of an own structure",
        )?;
    }
    // Nothing was opted out or acknowledged by the refused calls.
    let calls = f.app.list_calls(Some(S_A), None, false).await?;
    ensure!(
        calls.iter().all(|c| c.acknowledgement.is_none()),
        "an acknowledgement went through: {calls:?}"
    );
    // An integration of A reads A's reminders and send log, without anybody in them.
    let integration = in_a(Role::Integration);
    let ask = pb::PreviewAlertsRequest {
        from: d(FROM),
        to: d(TO),
        structure_id: String::new(),
    };
    let preview = f
        .api
        .preview_alerts(request(&integration, ask))
        .await
        .map_err(|s| anyhow::anyhow!("{s:?}"))?
        .into_inner();
    ensure!(!preview.alerts.is_empty(), "the integration reads the reminders");
    shows_nobody(&format!("{preview:?}"))?;
    for structure_id in [String::new(), S_A.to_owned()] {
        let log = f
            .api
            .list_send_log(request(&integration, pb::ListSendLogRequest { structure_id, limit: 0 }))
            .await
            .map_err(|s| anyhow::anyhow!("{s:?}"))?
            .into_inner();
        ensure!(!log.entries.is_empty(), "the integration reads the send log");
        shows_nobody(&format!("{log:?}"))?;
    }
    // Importing and fetching change the instance's catalogue.
    let admin = in_a(Role::NetworkAdmin);
    let got = code(f.api.import_calls(request(&admin, upload(&[])?)).await.map(|_| ()));
    ensure!(got == Some(tonic::Code::PermissionDenied), "ImportCalls: {got:?}");
    let fetch = pb::FetchSourceRequest {
        source: "aides-territoires".to_owned(),
    };
    let got = code(f.api.fetch_source(request(&admin, fetch)).await.map(|_| ()));
    ensure!(got == Some(tonic::Code::PermissionDenied), "FetchSource: {got:?}");
    Ok(())
}

/// The lists asked for without a structure (and the RPCs without an object).
async fn unscoped(f: &Fixture, method: &str, p: &Principal) -> Result<()> {
    let granted = MATRIX.expected(method, p, NET_A, None)?.is_some();
    match method {
        "ListCalls" => {
            // Calls are public information: every role may list them, and
            // without a structure no structure's acknowledgement shows.
            let list = f
                .api
                .list_calls(request(p, pb::ListCallsRequest::default()))
                .await
                .map_err(|s| anyhow::anyhow!("calls are public, yet {s:?}"))?
                .into_inner()
                .calls;
            let ids: BTreeSet<String> = list.iter().map(|c| c.call_id.clone()).collect();
            ensure!(ids == f.calls, "{ids:?}");
            ensure!(list.iter().all(|c| c.acknowledgement.is_empty()), "{list:?}");
        }
        "ExportCalls" => match f.api.export_calls(request(p, pb::ExportCallsRequest {})).await {
            Ok(csv) => {
                ensure!(granted, "a role not granted exported");
                let csv = String::from_utf8(csv.into_inner().csv)?;
                ensure!(csv.contains("Appel à projets n° 1"), "{csv}");
            }
            Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
        },
        "PreviewAlerts" => {
            let ask = pb::PreviewAlertsRequest {
                from: d(FROM),
                to: d(TO),
                structure_id: String::new(),
            };
            match f.api.preview_alerts(request(p, ask)).await {
                Ok(list) => {
                    ensure!(granted, "a role not granted previewed");
                    let got: Vec<_> = list
                        .into_inner()
                        .alerts
                        .into_iter()
                        .map(|a| (a.structure_id, a.recipient, a.call_id, a.offset_days))
                        .collect();
                    let mut want = vec![];
                    for a in &f.alerts {
                        if sees_row(method, p, &a.0)? {
                            let recipient = recipient_for(p, &a.0, &a.1)?;
                            want.push((a.0.clone(), recipient, a.2.clone(), a.3));
                        }
                    }
                    ensure!(
                        sorted(got.clone()) == sorted(want.clone()),
                        "{got:?} instead of {want:?}"
                    );
                }
                Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
            }
        }
        "ListCallsStream" | "ExportCallsStream" | "PreviewAlertsStream" => same_as_unary(f, method, p, "").await?,
        "GrantStats" => {
            // Without a network: the whole instance, federation admins only.
            let outcome = f
                .api
                .grant_stats(request(p, pb::GrantStatsRequest::default()))
                .await
                .map(|_| ());
            if granted {
                ensure!(outcome.is_ok(), "{outcome:?}");
            } else {
                ensure!(
                    outcome.is_err_and(|s| s.code() == tonic::Code::PermissionDenied),
                    "a role not granted read the instance's grant stats"
                );
            }
        }
        "ListSendLog" => {
            let mut want = vec![];
            for l in &f.log {
                if sees_row(method, p, &l.0)? {
                    let recipient = recipient_for(p, &l.0, &l.1)?;
                    want.push((l.0.clone(), recipient, l.2.clone(), l.3));
                }
            }
            // The whole visible log, then its newest row: the restriction is
            // in the query, never a truncation of the instance's log.
            for limit in [0, 1] {
                let ask = pb::ListSendLogRequest {
                    structure_id: String::new(),
                    limit,
                };
                match f.api.list_send_log(request(p, ask)).await {
                    Ok(list) => {
                        ensure!(granted, "a role not granted read the log");
                        let got: Vec<_> = list
                            .into_inner()
                            .entries
                            .into_iter()
                            .map(|e| (e.structure_id, e.recipient, e.call_id, e.offset_days))
                            .collect();
                        let want: Vec<_> = if limit == 1 {
                            want.iter().take(1).cloned().collect()
                        } else {
                            want.clone()
                        };
                        ensure!(
                            got.iter().all(|l| sees_row(method, p, &l.0).unwrap_or(false)),
                            "rows out of reach: {got:?}"
                        );
                        ensure!(
                            sorted(got.clone()) == sorted(want.clone()),
                            "limit {limit}: {got:?} instead of {want:?}"
                        );
                    }
                    Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
                }
            }
        }
        "ImportCalls" => {
            let chunk = pb::CallsChunk {
                source: "aides-territoires".to_owned(),
                file_name: "aides.json".to_owned(),
                chunk: page(&f.aids),
            };
            let outcome = f.api.import_calls(request(p, upload(&[chunk])?)).await;
            // Granted roles reach the whole instance: re-importing the same page changes nothing.
            match outcome {
                Ok(report) => {
                    let report = report.into_inner();
                    ensure!(granted && !report.refused && report.unchanged == 2, "{report:?}");
                }
                Err(status) => ensure!(!granted && status.code() == tonic::Code::PermissionDenied, "{status:?}"),
            }
        }
        "FetchSource" => {
            let fetch = pb::FetchSourceRequest {
                source: "non-configuree".to_owned(),
            };
            let outcome = f.api.fetch_source(request(p, fetch)).await.map(|_| ());
            if granted {
                // Not configured in tests: refused for that reason only.
                allowed(&outcome)?;
                ensure!(outcome.is_err_and(|s| s.code() == tonic::Code::InvalidArgument));
            } else {
                ensure!(
                    outcome.is_err_and(|s| s.code() == tonic::Code::PermissionDenied),
                    "a role not granted fetched"
                );
            }
        }
        _ => {}
    }
    Ok(())
}

fn sorted<T: Ord>(mut rows: Vec<T>) -> Vec<T> {
    rows.sort();
    rows
}

/// The RPCs about one structure (`structure` of `network`) or one network.
async fn check(f: &Fixture, method: &str, p: &Principal, network: &str, structure: &str) -> Result<()> {
    let on_structure = MATRIX.expected(method, p, network, Some(structure))?;
    // A whole network's preferences and feed have their own rule.
    let on_network = testing::expected(&authz::network_rule(method).context("network rule")?, p, network, None);
    let granted = on_structure.is_some();
    let see = on_structure == Some(true);
    let see_network = on_network == Some(true);
    match method {
        // Checked once per caller in `unscoped`.
        "ImportCalls" | "FetchSource" | "ExportCalls" => {}
        "ListCalls" => {
            let list = |structure: &str| pb::ListCallsRequest {
                structure_id: structure.to_owned(),
                ..Default::default()
            };
            let outcome = f.api.list_calls(request(p, list(structure))).await;
            if see {
                let calls = outcome.map_err(|s| anyhow::anyhow!("{s:?}"))?.into_inner().calls;
                ensure!(calls.len() == f.calls.len(), "{calls:?}");
            } else {
                let outcome = outcome.map(|_| ());
                let missing = f.api.list_calls(request(p, list("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, structure)?;
            }
        }
        "PreviewAlerts" => {
            let ask = |structure: &str| pb::PreviewAlertsRequest {
                from: d(FROM),
                to: d(TO),
                structure_id: structure.to_owned(),
            };
            let outcome = f.api.preview_alerts(request(p, ask(structure))).await;
            if see {
                let alerts = outcome.map_err(|s| anyhow::anyhow!("{s:?}"))?.into_inner().alerts;
                ensure!(
                    !alerts.is_empty() && alerts.iter().all(|a| a.structure_id == structure),
                    "{alerts:?}"
                );
                if sees_people(p, structure)? {
                    ensure!(
                        alerts.iter().any(|a| a.recipient_name.starts_with("Personne ")),
                        "{alerts:?}"
                    );
                } else {
                    shows_nobody(&format!("{alerts:?}"))?;
                }
            } else {
                let outcome = outcome.map(|_| ());
                let missing = f.api.preview_alerts(request(p, ask("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, structure)?;
            }
        }
        "ListSendLog" => {
            let ask = |structure: &str| pb::ListSendLogRequest {
                structure_id: structure.to_owned(),
                limit: 0,
            };
            let outcome = f.api.list_send_log(request(p, ask(structure))).await;
            if see {
                let entries = outcome.map_err(|s| anyhow::anyhow!("{s:?}"))?.into_inner().entries;
                ensure!(
                    !entries.is_empty() && entries.iter().all(|e| e.structure_id == structure),
                    "{entries:?}"
                );
                if sees_people(p, structure)? {
                    ensure!(
                        entries.iter().any(|e| e.last_error.contains("@asso.example.org")),
                        "the delivery error is shown to who may see people: {entries:?}"
                    );
                } else {
                    shows_nobody(&format!("{entries:?}"))?;
                    ensure!(entries.iter().any(|e| !e.last_error.is_empty()), "{entries:?}");
                }
            } else {
                let outcome = outcome.map(|_| ());
                let missing = f.api.list_send_log(request(p, ask("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, structure)?;
            }
        }
        "GetNetworkPolicy" => {
            let get = |network: &str| pb::GetNetworkPolicyRequest {
                network: network.to_owned(),
            };
            let outcome = f.api.get_network_policy(request(p, get(network))).await;
            if see_network {
                let policy = outcome.map_err(|s| anyhow::anyhow!("{s:?}"))?.into_inner();
                ensure!(
                    policy.network == network
                        && policy.referent_email == format!("referent@{network}.example.org")
                        && policy.webhook_secret.is_empty(),
                    "{policy:?}"
                );
            } else {
                let outcome = outcome.map(|_| ());
                let missing = f
                    .api
                    .get_network_policy(request(p, get("absent-object")))
                    .await
                    .map(|_| ());
                refused(on_network.is_some(), &outcome, &missing, network)?;
            }
        }
        "SetNetworkPolicy" => {
            // The policy it already has: an allowed call changes nothing.
            let current = f.app.network_policy(network).await?;
            let set = |network: &str| pb::NetworkPolicy {
                network: network.to_owned(),
                offsets_days: current.offsets_days.clone(),
                local_hour: current.local_hour.clone(),
                timezone: current.timezone.clone(),
                referent_name: current.referent_name.clone(),
                referent_email: current.referent_email.clone(),
                webhook_url: current.webhook_url.clone(),
                ..Default::default()
            };
            let outcome = f.api.set_network_policy(request(p, set(network))).await;
            if see_network {
                let policy = outcome.map_err(|s| anyhow::anyhow!("{s:?}"))?.into_inner();
                ensure!(
                    policy.network == network && policy.webhook_secret.is_empty(),
                    "{policy:?}"
                );
            } else {
                let outcome = outcome.map(|_| ());
                let missing = f
                    .api
                    .set_network_policy(request(p, set("absent-object")))
                    .await
                    .map(|_| ());
                refused(on_network.is_some(), &outcome, &missing, network)?;
            }
            let after = f.app.network_policy(network).await?;
            ensure!(after == current, "{after:?} instead of {current:?}");
        }
        "SetPreferences" => {
            // Defaults (every theme, not opted out): an allowed call changes nothing.
            let of_structure = |structure: &str| pb::Preferences {
                structure_id: structure.to_owned(),
                ..Default::default()
            };
            let of_network = |network: &str| pb::Preferences {
                network: network.to_owned(),
                ..Default::default()
            };
            let outcome = f
                .api
                .set_preferences(request(p, of_structure(structure)))
                .await
                .map(|_| ());
            if see {
                allowed(&outcome)?;
                ensure!(outcome.is_ok(), "{outcome:?}");
            } else {
                let missing = f
                    .api
                    .set_preferences(request(p, of_structure("absent-object")))
                    .await
                    .map(|_| ());
                refused(granted, &outcome, &missing, structure)?;
            }
            let outcome = f.api.set_preferences(request(p, of_network(network))).await.map(|_| ());
            if see_network {
                ensure!(outcome.is_ok(), "{outcome:?}");
            } else {
                let missing = f
                    .api
                    .set_preferences(request(p, of_network("absent-object")))
                    .await
                    .map(|_| ());
                refused(on_network.is_some(), &outcome, &missing, network)?;
            }
        }
        "Acknowledge" => {
            let ack = |structure: &str| pb::AcknowledgeRequest {
                structure_id: structure.to_owned(),
                call_id: f.later_call.clone(),
                status: "in_progress".to_owned(),
            };
            let outcome = f.api.acknowledge(request(p, ack(structure))).await.map(|_| ());
            if see {
                ensure!(outcome.is_ok(), "{outcome:?}");
            } else {
                let missing = f.api.acknowledge(request(p, ack("absent-object"))).await.map(|_| ());
                refused(granted, &outcome, &missing, structure)?;
                // Even an invalid status says nothing more.
                let mut bad = ack(structure);
                bad.status = "n'importe".to_owned();
                let outcome = f.api.acknowledge(request(p, bad)).await.map(|_| ());
                refused(granted, &outcome, &missing, structure)?;
            }
        }
        "GetFeedUrl" | "RevokeFeedUrl" => {
            // Revoking answers like getting (a new URL), under its own rule.
            let of_structure = |structure: &str| pb::GetFeedUrlRequest {
                structure_id: structure.to_owned(),
                ..Default::default()
            };
            let of_network = |network: &str| pb::GetFeedUrlRequest {
                network: network.to_owned(),
                ..Default::default()
            };
            let outcome = feed_url(f, method, request(p, of_structure(structure))).await;
            if see {
                let url = outcome.map_err(|s| anyhow::anyhow!("{s:?}"))?.into_inner().url;
                ensure!(url.contains("/calendar/"), "{url}");
            } else {
                let outcome = outcome.map(|_| ());
                let missing = feed_url(f, method, request(p, of_structure("absent-object")))
                    .await
                    .map(|_| ());
                refused(granted, &outcome, &missing, structure)?;
            }
            let outcome = feed_url(f, method, request(p, of_network(network))).await;
            if see_network {
                let url = outcome.map_err(|s| anyhow::anyhow!("{s:?}"))?.into_inner().url;
                ensure!(url.contains("/calendar/"), "{url}");
            } else {
                let outcome = outcome.map(|_| ());
                let missing = feed_url(f, method, request(p, of_network("absent-object")))
                    .await
                    .map(|_| ());
                refused(on_network.is_some(), &outcome, &missing, network)?;
            }
        }
        "ListCallsStream" | "ExportCallsStream" | "PreviewAlertsStream" => {
            same_as_unary(f, method, p, structure).await?
        }
        "ListGrants"
        | "ListObligations"
        | "RecordApplication"
        | "RecordGrant"
        | "SetAgreementDate"
        | "AcknowledgeObligation" => grants_check(f, method, p, structure, granted, see).await?,
        "GrantStats" => {
            // A network's views: its network admins; another network's
            // answer is that of an unknown network.
            let of_network = |network: &str| pb::GrantStatsRequest {
                network: network.to_owned(),
            };
            let outcome = f.api.grant_stats(request(p, of_network(network))).await.map(|_| ());
            if see_network {
                ensure!(outcome.is_ok(), "{outcome:?}");
            } else {
                let missing = f
                    .api
                    .grant_stats(request(p, of_network("absent-object")))
                    .await
                    .map(|_| ());
                refused(on_network.is_some(), &outcome, &missing, network)?;
            }
        }
        "ImportGrants" => import_grants_check(f, p, network, structure, granted, see, see_network).await?,
        other => bail!("RPC {other} has no isolation check: add one to tests/alerting/isolation.rs"),
    }
    Ok(())
}

/// The grants RPCs on one structure: read when seen, refused like an
/// unknown structure when not; the writes are sent invalid (an allowed
/// caller gets INVALID_ARGUMENT, nothing is written).
async fn grants_check(
    f: &Fixture,
    method: &str,
    p: &Principal,
    structure: &str,
    granted: bool,
    see: bool,
) -> Result<()> {
    let call = |structure: &str| {
        let api = f.api.clone();
        let method = method.to_owned();
        let structure = structure.to_owned();
        let p = p.clone();
        async move {
            match method.as_str() {
                "ListGrants" => api.list_grants(request(&p, grants_of(&structure))).await.map(|_| ()),
                "ListObligations" => api
                    .list_obligations(request(&p, obligations_of(&structure)))
                    .await
                    .map(|_| ()),
                "RecordApplication" => api
                    .record_application(request(
                        &p,
                        pb::RecordApplicationRequest {
                            structure_id: structure,
                            amount_asked_cents: -1,
                            ..Default::default()
                        },
                    ))
                    .await
                    .map(|_| ()),
                "RecordGrant" => api
                    .record_grant(request(
                        &p,
                        pb::RecordGrantRequest {
                            structure_id: structure,
                            outcome: "invalide".to_owned(),
                            ..Default::default()
                        },
                    ))
                    .await
                    .map(|_| ()),
                "AcknowledgeObligation" => api
                    .acknowledge_obligation(request(
                        &p,
                        pb::AcknowledgeObligationRequest {
                            structure_id: structure,
                            obligation_key: "G0:financial_report_6_months:2026-12-31".to_owned(),
                            status: "invalide".to_owned(),
                        },
                    ))
                    .await
                    .map(|_| ()),
                _ => api
                    .set_agreement_date(request(
                        &p,
                        pb::SetAgreementDateRequest {
                            structure_id: structure,
                            ..Default::default()
                        },
                    ))
                    .await
                    .map(|_| ()),
            }
        }
    };
    let outcome = call(structure).await;
    if see {
        allowed(&outcome)?;
        if method.starts_with("List") {
            ensure!(outcome.is_ok(), "{outcome:?}");
        } else {
            ensure!(
                outcome.is_err_and(|s| s.code() == tonic::Code::InvalidArgument),
                "an invalid write was accepted"
            );
        }
    } else {
        let missing = call("absent-object").await;
        refused(granted, &outcome, &missing, structure)?;
    }
    Ok(())
}

/// `ImportGrants` (a dry run, nothing written) of one row for `structure`:
/// counted when seen; out of reach, a problem on the row worded exactly as
/// for an unknown structure; refused to roles without the rule. Restricted
/// to `network`, only its network admins (and federation admins) may run it.
async fn import_grants_check(
    f: &Fixture,
    p: &Principal,
    network: &str,
    structure: &str,
    granted: bool,
    see: bool,
    see_network: bool,
) -> Result<()> {
    let ask = |structure: &str, network: &str| pb::ImportGrantsRequest {
        filename: "g.csv".to_owned(),
        content: format!("structure,financeur,intitulé\n{structure},Région,Projet d'isolation\n").into_bytes(),
        dry_run: true,
        network: network.to_owned(),
    };
    let outcome = f.api.import_grants(request(p, ask(structure, ""))).await;
    if !granted {
        ensure!(
            outcome.is_err_and(|s| s.code() == tonic::Code::PermissionDenied),
            "a role not granted imported grants"
        );
        return Ok(());
    }
    let answer = outcome.map_err(|s| anyhow::anyhow!("{s:?}"))?.into_inner();
    if see {
        ensure!(answer.problems.is_empty() && answer.created == 1, "{answer:?}");
    } else {
        let missing = f
            .api
            .import_grants(request(p, ask("absent-object", "")))
            .await
            .map_err(|s| anyhow::anyhow!("{s:?}"))?
            .into_inner();
        ensure!(
            answer.problems.len() == 1
                && missing.problems.len() == 1
                && answer.problems[0].message == missing.problems[0].message.replace("absent-object", structure)
                && answer.problems[0].message.contains("hors de votre périmètre"),
            "out of reach {answer:?} differs from missing {missing:?}"
        );
    }
    let restricted = f.api.import_grants(request(p, ask(structure, network))).await;
    if see_network {
        let answer = restricted.map_err(|s| anyhow::anyhow!("{s:?}"))?.into_inner();
        ensure!(answer.problems.is_empty() && answer.created == 1, "{answer:?}");
    } else {
        ensure!(restricted.is_err(), "an import restricted to {network} ran for {p:?}");
    }
    Ok(())
}

/// `GetFeedUrl` or `RevokeFeedUrl`.
async fn feed_url(
    f: &Fixture,
    method: &str,
    ask: tonic::Request<pb::GetFeedUrlRequest>,
) -> Result<tonic::Response<pb::GetFeedUrlResponse>, tonic::Status> {
    if method == "RevokeFeedUrl" {
        f.api.revoke_feed_url(ask).await
    } else {
        f.api.get_feed_url(ask).await
    }
}

/// Every message of a streamed answer, or its first error.
async fn gather<T, S>(stream: S) -> Result<Vec<T>, tonic::Status>
where
    S: futures::Stream<Item = Result<T, tonic::Status>>,
{
    use futures::TryStreamExt as _;
    stream.try_collect().await
}

/// Both answers alike: the same rows, or the same refusal.
fn alike<T: PartialEq + std::fmt::Debug>(
    unary: Result<T, tonic::Status>,
    streamed: Result<T, tonic::Status>,
) -> Result<()> {
    match (unary, streamed) {
        (Ok(a), Ok(b)) => ensure!(a == b, "{a:?}\nstreamed:\n{b:?}"),
        (Err(a), Err(b)) => ensure!(
            a.code() == b.code() && a.message() == b.message(),
            "{a:?} / streamed {b:?}"
        ),
        (a, b) => bail!("unary {a:?} / streamed {b:?}"),
    }
    Ok(())
}

/// A streamed RPC answers `p` exactly as its unary twin (checked above) for
/// `structure` (empty: without a structure).
async fn same_as_unary(f: &Fixture, method: &str, p: &Principal, structure: &str) -> Result<()> {
    match method {
        "ListCallsStream" => {
            let ask = pb::ListCallsRequest {
                structure_id: structure.to_owned(),
                ..Default::default()
            };
            let unary = f
                .api
                .list_calls(request(p, ask.clone()))
                .await
                .map(|r| r.into_inner().calls);
            let streamed = match f.api.list_calls_stream(request(p, ask)).await {
                Ok(stream) => gather(stream.into_inner())
                    .await
                    .map(|pages| pages.into_iter().flat_map(|page| page.calls).collect()),
                Err(status) => Err(status),
            };
            alike(unary, streamed)
        }
        "ExportCallsStream" => {
            let unary = f
                .api
                .export_calls(request(p, pb::ExportCallsRequest {}))
                .await
                .map(|r| r.into_inner().csv);
            let streamed = match f.api.export_calls_stream(request(p, pb::ExportCallsRequest {})).await {
                Ok(stream) => gather(stream.into_inner())
                    .await
                    .map(|chunks| chunks.into_iter().flat_map(|chunk| chunk.csv).collect()),
                Err(status) => Err(status),
            };
            alike(unary, streamed)
        }
        "PreviewAlertsStream" => {
            let ask = pb::PreviewAlertsRequest {
                from: d(FROM),
                to: d(TO),
                structure_id: structure.to_owned(),
            };
            let unary = f
                .api
                .preview_alerts(request(p, ask.clone()))
                .await
                .map(|r| r.into_inner().alerts);
            let streamed = match f.api.preview_alerts_stream(request(p, ask)).await {
                Ok(stream) => gather(stream.into_inner())
                    .await
                    .map(|pages| pages.into_iter().flat_map(|page| page.alerts).collect()),
                Err(status) => Err(status),
            };
            alike(unary, streamed)
        }
        other => bail!("{other} is not a streamed RPC"),
    }
}
