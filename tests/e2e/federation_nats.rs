//! The federation's transport (issue 12, item 2) with the SHIPPED
//! configurations of deploy/nats on nats-server 2.9: two regional servers
//! (`regional-federated.conf`, domains `bretagne` and `occitanie`) joined by
//! leafnode to a national hub (`national.conf`), each a real process on
//! loopback ports. Streams are set up by the functions the federation service
//! calls (`vigie_platform::events::jetstream::federation`).
//!
//! What is proven: snapshots published in a region's VIGIE account reach
//! `VIGIE_NATIONAL` once each, with their region told by the hub, not by the
//! payload; nobody on the hub can inject into a region nor manage its
//! streams; a region cannot read another's; outages of the hub or of a
//! region are caught up without duplicates.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use async_nats::jetstream::{self, stream};
use async_nats::HeaderMap;
use futures::StreamExt;
use prost::Message as _;
use vigie_platform::events::jetstream::federation::{
    ensure_national_stream, ensure_region_aggregates, source_region, RegionSource, NATIONAL_STREAM,
    REGION_AGGREGATED_SUBJECT, REGION_OUTBOX_STREAM,
};
use vigie_platform::events::jetstream::{ensure_stream, StreamSettings};
use vigie_proto::federation::v1::RegionSnapshot;
use vigie_testkit::{eventually, ConfiguredNats};

/// Bounded waits: generous, because two leafnodes and two hops of sourcing
/// (each retried every few seconds after an outage) sit in between.
const ARRIVAL: Duration = Duration::from_secs(60);
/// How long an answer to a forbidden request is waited for.
const NO_ANSWER: Duration = Duration::from_secs(2);
const REGIONS: [&str; 2] = ["bretagne", "occitanie"];

pub(crate) fn deploy_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/nats")
        .join(name)
}

pub(crate) fn password(user: &str) -> String {
    format!("secret-of-{user}")
}

fn regions() -> Vec<RegionSource> {
    REGIONS.iter().map(|name| RegionSource::new(name)).collect()
}

/// Two regions and the hub, their streams set up as the services do.
struct Federation {
    hub: ConfiguredNats,
    bretagne: ConfiguredNats,
    occitanie: ConfiguredNats,
}

impl Federation {
    async fn start() -> Result<Federation> {
        let hub = start_hub().await?;
        let bretagne = start_region("bretagne", &hub).await?;
        let occitanie = start_region("occitanie", &hub).await?;
        let federation = Federation {
            hub,
            bretagne,
            occitanie,
        };
        for name in REGIONS {
            let region = federation.region(name);
            let logs = || format!("{name} log:\n{}", tail(&region.log()));
            ensure_stream(&vigie_js(region).await.with_context(logs)?, "federation").await?;
            ensure_region_aggregates(
                &link_js(region).await.with_context(logs)?,
                name,
                &StreamSettings::default(),
            )
            .await
            .with_context(logs)?;
        }
        ensure_national_stream(&federation.national_js().await?, &regions(), &StreamSettings::default()).await?;
        Ok(federation)
    }

    fn region(&self, name: &str) -> &ConfiguredNats {
        match name {
            "bretagne" => &self.bretagne,
            _ => &self.occitanie,
        }
    }

    async fn national_js(&self) -> Result<jetstream::Context> {
        Ok(jetstream::new(connect(&self.hub, "federation").await?))
    }

    /// Waits until `VIGIE_NATIONAL` holds `count` messages, then returns them.
    async fn national_messages(&self, count: u64) -> Result<Vec<NationalMessage>> {
        let js = self.national_js().await?;
        eventually(&format!("{count} messages in {NATIONAL_STREAM}"), ARRIVAL, || {
            let js = js.clone();
            async move { Ok(stream_count(&js, NATIONAL_STREAM).await? >= count) }
        })
        .await
        .with_context(|| format!("hub log:\n{}", tail(&self.hub.log())))?;
        read_national(&js).await
    }
}

pub(crate) async fn start_hub() -> Result<ConfiguredNats> {
    let passwords: Vec<(String, String)> = [
        ("LEAF_BRETAGNE_PASSWORD", "bretagne"),
        ("LEAF_OCCITANIE_PASSWORD", "occitanie"),
        ("NATS_TRAINING_PASSWORD", "training"),
        ("NATS_ALERTING_PASSWORD", "alerting"),
        ("NATS_FEDERATION_PASSWORD", "federation"),
    ]
    .iter()
    .map(|(var, user)| (var.to_string(), password(user)))
    .collect();
    let mut env: Vec<(&str, &str)> = passwords.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.extend([("NATS_SERVER_NAME", "hub"), ("NATS_JETSTREAM_DOMAIN", "national")]);
    ConfiguredNats::start(&deploy_file("national.conf"), &env).await
}

pub(crate) async fn start_region(name: &str, hub: &ConfiguredNats) -> Result<ConfiguredNats> {
    let hub_url = hub.leafnode_url_as(name, &password(name));
    let passwords: Vec<(String, String)> = ["inventory", "training", "facilitation", "alerting", "federation"]
        .iter()
        .map(|user| (format!("NATS_{}_PASSWORD", user.to_uppercase()), password(user)))
        .chain([("NATS_FEDERATION_LINK_PASSWORD".to_owned(), password("federation-link"))])
        .collect();
    let mut env: Vec<(&str, &str)> = passwords.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.extend([
        ("NATS_SERVER_NAME", name),
        ("NATS_JETSTREAM_DOMAIN", name),
        ("NATIONAL_HUB_URL", hub_url.as_str()),
    ]);
    ConfiguredNats::start(&deploy_file("regional-federated.conf"), &env).await
}

pub(crate) async fn connect(server: &ConfiguredNats, user: &str) -> Result<async_nats::Client> {
    let url = server.url();
    async_nats::ConnectOptions::with_user_and_password(user.to_owned(), password(user))
        .connect(&url)
        .await
        .map_err(|error| anyhow::anyhow!("connecting as {user} to {url}: {error:?}"))
}

/// The regional federation service's connection (account VIGIE).
async fn vigie_js(region: &ConfiguredNats) -> Result<jetstream::Context> {
    Ok(jetstream::new(connect(region, "federation").await?))
}

/// Its second connection, to account FEDERATION (`federation-link`).
async fn link_js(region: &ConfiguredNats) -> Result<jetstream::Context> {
    Ok(jetstream::new(connect(region, "federation-link").await?))
}

/// Publishes a snapshot claiming `claimed_region` into `VIGIE_FEDERATION`, as
/// the outbox relay does (`Nats-Msg-Id` = event id, PubAck awaited).
async fn publish_snapshot(
    js: &jetstream::Context,
    event_id: &str,
    claimed_region: &str,
    sequence: u64,
    padding: usize,
) -> Result<()> {
    let snapshot = RegionSnapshot {
        region: claimed_region.to_owned(),
        sequence,
        threshold: 5,
        // Stands in for the groups of a large region (flow control).
        computed_at: "x".repeat(padding),
        ..Default::default()
    };
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", event_id);
    let ack = js
        .publish_with_headers(REGION_AGGREGATED_SUBJECT, headers, snapshot.encode_to_vec().into())
        .await?
        .await
        .with_context(|| format!("PubAck of {event_id}"))?;
    ensure!(ack.stream == REGION_OUTBOX_STREAM, "stored in {}", ack.stream);
    Ok(())
}

async fn stream_count(js: &jetstream::Context, name: &str) -> Result<u64> {
    let mut stream = js.get_stream(name).await?;
    Ok(stream.info().await?.state.messages)
}

#[derive(Debug)]
struct NationalMessage {
    event_id: String,
    /// By the `Nats-Stream-Source` header the hub wrote.
    source: Option<String>,
    /// What the payload claims.
    claimed: String,
}

async fn read_national(js: &jetstream::Context) -> Result<Vec<NationalMessage>> {
    let stream = js.get_stream(NATIONAL_STREAM).await?;
    let last = stream.cached_info().state.last_sequence;
    let regions = regions();
    let mut messages = Vec::new();
    for sequence in 1..=last {
        let message = stream.get_raw_message(sequence).await?;
        let event_id = message
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        let snapshot = RegionSnapshot::decode(message.payload)?;
        messages.push(NationalMessage {
            event_id,
            source: source_region(Some(&message.headers), &regions).map(|r| r.name.clone()),
            claimed: snapshot.region,
        });
    }
    Ok(messages)
}

pub(crate) fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Each message once, by event id.
fn assert_once_each(messages: &[NationalMessage], expected: usize) -> Result<()> {
    let mut ids: Vec<&str> = messages.iter().map(|m| m.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ensure!(
        ids.len() == messages.len() && messages.len() == expected,
        "expected {expected} distinct messages, got {} ({} distinct): {messages:?}",
        messages.len(),
        ids.len()
    );
    Ok(())
}

#[tokio::test]
async fn snapshots_reach_the_national_stream_and_their_region_is_told_by_the_hub() -> Result<()> {
    vigie_testkit::init_test_logging();
    let federation = Federation::start().await?;
    let bretagne = vigie_js(&federation.bretagne).await?;
    let occitanie = vigie_js(&federation.occitanie).await?;
    for sequence in 1..=3 {
        publish_snapshot(&bretagne, &format!("bretagne-{sequence}"), "bretagne", sequence, 100).await?;
    }
    for sequence in 1..=2 {
        publish_snapshot(&occitanie, &format!("occitanie-{sequence}"), "occitanie", sequence, 100).await?;
    }
    // A region lying about its name in the payload.
    publish_snapshot(&bretagne, "bretagne-lie", "occitanie", 4, 100).await?;
    // A relay retry: same event id, dropped by the region's stream.
    publish_snapshot(&bretagne, "bretagne-1", "bretagne", 1, 100).await?;

    let messages = federation.national_messages(6).await?;
    assert_once_each(&messages, 6)?;
    for message in &messages {
        let expected = message.event_id.split('-').next().unwrap_or_default();
        ensure!(
            message.source.as_deref() == Some(expected),
            "{message:?}: the hub's source header must name {expected}"
        );
    }
    let lie = messages
        .iter()
        .find(|m| m.event_id == "bretagne-lie")
        .context("the lie arrived")?;
    ensure!(
        lie.claimed == "occitanie" && lie.source.as_deref() == Some("bretagne"),
        "{lie:?}"
    );

    // Idempotent: the same call again changes nothing and loses nothing.
    let info = ensure_national_stream(&federation.national_js().await?, &regions(), &StreamSettings::default()).await?;
    ensure!(info.state.messages == 6, "{:?}", info.state);
    // Nobody can publish into it directly: it has no subjects, only sources.
    ensure!(info.config.subjects.is_empty(), "{:?}", info.config.subjects);
    ensure!(info.config.storage == stream::StorageType::File);
    let names: Vec<String> = info.config.sources.iter().flatten().map(|s| s.name.clone()).collect();
    ensure!(names == ["FEDERATION_BRETAGNE", "FEDERATION_OCCITANIE"], "{names:?}");
    Ok(())
}

#[tokio::test]
async fn a_region_added_later_is_sourced_from_its_first_snapshot_without_losing_data() -> Result<()> {
    vigie_testkit::init_test_logging();
    let federation = Federation::start().await?;
    let national = federation.national_js().await?;
    // The national stream knew only bretagne at first.
    let js = national.clone();
    js.delete_stream(NATIONAL_STREAM).await?;
    ensure_national_stream(&js, &regions()[..1], &StreamSettings::default()).await?;
    publish_snapshot(&vigie_js(&federation.bretagne).await?, "bretagne-1", "bretagne", 1, 10).await?;
    publish_snapshot(
        &vigie_js(&federation.occitanie).await?,
        "occitanie-1",
        "occitanie",
        1,
        10,
    )
    .await?;
    let first = federation.national_messages(1).await?;
    ensure!(first.len() == 1 && first[0].event_id == "bretagne-1", "{first:?}");

    let info = ensure_national_stream(&js, &regions(), &StreamSettings::default()).await?;
    ensure!(
        info.config.sources.as_ref().map(Vec::len) == Some(2),
        "{:?}",
        info.config.sources
    );
    let messages = federation.national_messages(2).await?;
    assert_once_each(&messages, 2)?;
    ensure!(messages[1].source.as_deref() == Some("occitanie"), "{messages:?}");
    Ok(())
}

/// A server of the test's own (no JetStream) joined to the hub by leafnode
/// with `region`'s hub credentials — a stolen password, or the hub's operator
/// acting as the region: its clients are in REGION_<X> on the hub, exactly
/// where the real region's leafnode lands — and a client of it.
async fn rogue_leafnode(hub: &ConfiguredNats, region: &str) -> Result<(ConfiguredNats, async_nats::Client)> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("rogue.conf");
    std::fs::write(
        &config,
        format!(
            "port: $NATS_PORT\nleafnodes {{ remotes: [ {{ url: {:?} }} ] }}\n",
            hub.leafnode_url_as(region, &password(region))
        ),
    )?;
    let server = ConfiguredNats::start(&config, &[]).await?;
    // Not `_INBOX`: regions refuse the hub's interest in `_INBOX.>` (their
    // deny_imports), so answers to such a reply subject would never come back
    // and even the allowed request would look refused.
    let client = async_nats::ConnectOptions::new()
        .custom_inbox_prefix("rogue")
        .connect(server.url())
        .await?;
    Ok((server, client))
}

/// A raw JetStream API request as a client library sends it, with the
/// `Nats-Request-Info` header the server itself adds on its service imports
/// (an attacker can forge it; without it the region's JetStream would ignore
/// the request whatever the permissions, and the test would prove nothing).
async fn raw_request(
    client: &async_nats::Client,
    subject: &str,
    body: &str,
) -> Result<async_nats::Message, async_nats::RequestError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        "Nats-Request-Info",
        r#"{"acc":"REGION_BRETAGNE","svc":"FEDERATION","rtt":1000}"#,
    );
    client
        .request_with_headers(subject.to_owned(), headers, body.to_owned().into())
        .await
}

/// What a forbidden request gets: nothing (no responders, or no answer in
/// time). An answer, even an error, would mean the request reached a
/// JetStream API.
async fn expect_no_answer(client: &async_nats::Client, subject: &str, body: &str) -> Result<()> {
    let request = raw_request(client, subject, body);
    match tokio::time::timeout(NO_ANSWER, request).await {
        Err(_elapsed) => Ok(()),
        Ok(Err(error)) if matches!(error.kind(), async_nats::RequestErrorKind::NoResponders) => Ok(()),
        Ok(Err(error)) if matches!(error.kind(), async_nats::RequestErrorKind::TimedOut) => Ok(()),
        Ok(Err(error)) => bail!("{subject}: unexpected error {error}"),
        Ok(Ok(answer)) => bail!("{subject} was answered: {}", String::from_utf8_lossy(&answer.payload)),
    }
}

#[tokio::test]
async fn nobody_on_the_hub_can_inject_into_a_region_nor_manage_its_streams() -> Result<()> {
    vigie_testkit::init_test_logging();
    let federation = Federation::start().await?;
    let bretagne = vigie_js(&federation.bretagne).await?;
    publish_snapshot(&bretagne, "bretagne-1", "bretagne", 1, 10).await?;
    federation.national_messages(1).await?;

    // Who listens in the region: a VIGIE service on every Vigie subject, and
    // anything in FEDERATION.
    let vigie = connect(&federation.bretagne, "inventory").await?;
    let mut vigie_sub = vigie.subscribe("vigie.>").await?;
    let link = connect(&federation.bretagne, "federation-link").await?;
    let mut link_sub = link.subscribe(">").await?;
    vigie.flush().await?;
    link.flush().await?;

    // A second leafnode logging in with bretagne's own hub credentials (a
    // stolen password, or a hub operator acting as the region): its clients
    // are in REGION_BRETAGNE on the hub, like the real region's leafnode.
    let (_rogue, rogue_client) = rogue_leafnode(&federation.hub, "bretagne").await?;
    let national = connect(&federation.hub, "federation").await?;
    // Both must at least see the legitimate path (consumer creation), so the
    // silence below is a refusal, not an unconnected leafnode.
    eventually("the rogue leafnode sees bretagne's API", ARRIVAL, || {
        let client = rogue_client.clone();
        async move {
            let answer = tokio::time::timeout(
                NO_ANSWER,
                raw_request(&client, "$JS.bretagne.API.CONSUMER.CREATE.FEDERATION_BRETAGNE", r#"{"stream_name":"FEDERATION_BRETAGNE","config":{"deliver_policy":"all","ack_policy":"none","deliver_subject":"rogue.inbox"}}"#),
            )
            .await;
            Ok(matches!(answer, Ok(Ok(_))))
        }
    })
    .await?;

    for client in [&rogue_client, &national] {
        for subject in [
            REGION_AGGREGATED_SUBJECT,
            "vigie.inventory.structure.inventoried.v1",
            "vigie-federation-source.S.guess",
        ] {
            client.publish(subject, "injected".into()).await?;
        }
        let purge = r#"{}"#;
        let update = r#"{"name":"FEDERATION_BRETAGNE","subjects":["hub.>"],"storage":"file"}"#;
        for (subject, body) in [
            ("$JS.bretagne.API.STREAM.DELETE.FEDERATION_BRETAGNE", ""),
            ("$JS.bretagne.API.STREAM.PURGE.FEDERATION_BRETAGNE", purge),
            ("$JS.bretagne.API.STREAM.UPDATE.FEDERATION_BRETAGNE", update),
            ("$JS.bretagne.API.STREAM.MSG.DELETE.FEDERATION_BRETAGNE", r#"{"seq":1}"#),
            (
                "$JS.bretagne.API.STREAM.CREATE.HUB",
                r#"{"name":"HUB","subjects":["hub.>"]}"#,
            ),
            ("$JS.bretagne.API.STREAM.DELETE.VIGIE_FEDERATION", ""),
            ("$JS.bretagne.API.CONSUMER.DELETE.FEDERATION_BRETAGNE.any", ""),
            ("$JS.bretagne.API.CONSUMER.DURABLE.CREATE.FEDERATION_BRETAGNE.hub", "{}"),
            ("$JS.bretagne.API.INFO", ""),
            ("$JS.API.STREAM.DELETE.FEDERATION_BRETAGNE", ""),
            ("$JS.VIGIE.API.CONSUMER.CREATE.VIGIE_FEDERATION", "{}"),
        ] {
            // NATIONAL has a JetStream of its own, which rightly answers
            // `$JS.API` there; the rogue server has none.
            if subject.starts_with("$JS.API.") && std::ptr::eq(client, &national) {
                continue;
            }
            expect_no_answer(client, subject, body).await?;
        }
    }
    // The one thing allowed, creating a consumer, cannot be turned into a
    // management call by delivering onto an API subject, nor loop into a
    // Vigie subject.
    for deliver in [
        "$JS.API.STREAM.PURGE.FEDERATION_BRETAGNE",
        "$JS.bretagne.API.STREAM.PURGE.FEDERATION_BRETAGNE",
    ] {
        let body = format!(
            r#"{{"stream_name":"FEDERATION_BRETAGNE","config":{{"deliver_policy":"all","ack_policy":"none","deliver_subject":"{deliver}"}}}}"#
        );
        let _ = tokio::time::timeout(
            NO_ANSWER,
            raw_request(
                &rogue_client,
                "$JS.bretagne.API.CONSUMER.CREATE.FEDERATION_BRETAGNE",
                &body,
            ),
        )
        .await;
    }

    // Nothing reached a Vigie subscriber nor the FEDERATION account (apart
    // from the JetStream traffic of the region's own streams).
    vigie.flush().await?;
    let injected = tokio::time::timeout(NO_ANSWER, async {
        loop {
            match link_sub.next().await {
                Some(message) if message.payload.as_ref() == b"injected" => return Some(message.subject),
                Some(_) => continue,
                None => return None,
            }
        }
    })
    .await;
    ensure!(
        !matches!(injected, Ok(Some(_))),
        "injected into FEDERATION: {injected:?}"
    );
    let received = tokio::time::timeout(Duration::from_millis(200), vigie_sub.next()).await;
    ensure!(received.is_err(), "a Vigie subscriber received {received:?}");

    // The region's streams are intact and the link still works.
    let link_js = link_js(&federation.bretagne).await?;
    let mut aggregates = link_js.get_stream("FEDERATION_BRETAGNE").await?;
    let info = aggregates.info().await?;
    ensure!(info.state.messages == 1, "FEDERATION_BRETAGNE: {:?}", info.state);
    ensure!(info.config.subjects.is_empty(), "{:?}", info.config.subjects);
    ensure!(stream_count(&bretagne, REGION_OUTBOX_STREAM).await? == 1);
    let streams: Vec<String> = link_js
        .stream_names()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    ensure!(streams == ["FEDERATION_BRETAGNE"], "{streams:?}");
    publish_snapshot(&bretagne, "bretagne-2", "bretagne", 2, 10).await?;
    assert_once_each(&federation.national_messages(2).await?, 2)?;
    Ok(())
}

#[tokio::test]
async fn one_region_cannot_read_another_regions_aggregates() -> Result<()> {
    vigie_testkit::init_test_logging();
    let federation = Federation::start().await?;
    publish_snapshot(&vigie_js(&federation.bretagne).await?, "bretagne-1", "bretagne", 1, 10).await?;
    federation.national_messages(1).await?;

    // A client in occitanie's hub account (through a leafnode with
    // occitanie's credentials) tries every way to bretagne's aggregates.
    let (_rogue, client) = rogue_leafnode(&federation.hub, "occitanie").await?;
    // Its own region's deliveries pass here (heartbeats); bretagne's must not.
    let mut deliveries = client.subscribe("national.deliver.bretagne.>").await?;
    let mut everything = client.subscribe(">").await?;
    client.flush().await?;
    for subject in [
        "$JS.bretagne.API.CONSUMER.CREATE.FEDERATION_BRETAGNE",
        "$JS.national.API.STREAM.MSG.GET.VIGIE_NATIONAL",
        "$JS.API.STREAM.MSG.GET.VIGIE_NATIONAL",
    ] {
        let body = r#"{"stream_name":"FEDERATION_BRETAGNE","config":{"deliver_policy":"all","ack_policy":"none","deliver_subject":"national.deliver.occitanie.steal"}}"#;
        expect_no_answer(&client, subject, body).await?;
    }
    // A new snapshot of bretagne flows to the hub meanwhile: occitanie sees
    // none of it.
    publish_snapshot(&vigie_js(&federation.bretagne).await?, "bretagne-2", "bretagne", 2, 10).await?;
    federation.national_messages(2).await?;
    let seen = tokio::time::timeout(Duration::from_millis(500), deliveries.next()).await;
    ensure!(seen.is_err(), "occitanie received a delivery: {seen:?}");
    let leaked = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            match everything.next().await {
                Some(m) if m.payload.windows(8).any(|w| w == b"bretagne") => return Some(m.subject),
                Some(_) => continue,
                None => return None,
            }
        }
    })
    .await;
    ensure!(
        !matches!(leaked, Ok(Some(_))),
        "bretagne's data reached occitanie: {leaked:?}"
    );
    Ok(())
}

#[tokio::test]
async fn outages_of_the_hub_or_of_a_region_are_caught_up_once() -> Result<()> {
    vigie_testkit::init_test_logging();
    let mut federation = Federation::start().await?;
    let bretagne = vigie_js(&federation.bretagne).await?;
    let occitanie = vigie_js(&federation.occitanie).await?;
    publish_snapshot(&bretagne, "bretagne-0", "bretagne", 0, 10).await?;
    publish_snapshot(&occitanie, "occitanie-0", "occitanie", 0, 10).await?;
    federation.national_messages(2).await?;

    // The hub is down: regions keep publishing locally — 40 snapshots of
    // 100 kB from bretagne, 4 MB, twice the window after which the region's
    // consumer waits for the hub's flow control answers.
    federation.hub.stop().await;
    for sequence in 1..=40 {
        publish_snapshot(
            &bretagne,
            &format!("bretagne-{sequence}"),
            "bretagne",
            sequence,
            100_000,
        )
        .await?;
    }
    publish_snapshot(&occitanie, "occitanie-1", "occitanie", 1, 10).await?;
    // A relay retry of an already federated event, while the hub is away.
    publish_snapshot(&bretagne, "bretagne-0", "bretagne", 0, 10).await?;
    federation.hub.restart().await?;
    let messages = federation.national_messages(43).await?;
    assert_once_each(&messages, 43)?;

    // A region is down: the hub and the other region keep working.
    federation.occitanie.stop().await;
    publish_snapshot(&bretagne, "bretagne-41", "bretagne", 41, 10).await?;
    assert_once_each(&federation.national_messages(44).await?, 44)?;
    // It published while disconnected, then restarts: caught up, once.
    federation.occitanie.restart().await?;
    let occitanie = vigie_js(&federation.occitanie).await?;
    publish_snapshot(&occitanie, "occitanie-2", "occitanie", 2, 10).await?;
    let messages = federation.national_messages(45).await?;
    assert_once_each(&messages, 45)?;
    ensure!(
        messages.iter().all(|m| m.source.as_deref() == Some(m.claimed.as_str())),
        "{messages:?}"
    );
    Ok(())
}
