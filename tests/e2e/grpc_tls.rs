//! `vigie serve` over TLS, with the real binary and a certificate authority
//! generated in the test: the CLI reaches it with `--ca-cert`, fails clearly
//! without, never falls back to cleartext; bad TLS files stop the server at
//! start; with `--tls-client-ca` a CLI without client certificate is refused.

use anyhow::{ensure, Result};
use vigie_e2e::{run_cli, VigieServer};
use vigie_testkit::{NatsServer, PgDatabase, TestCa};

use crate::ok;

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[tokio::test]
async fn serve_over_tls_and_the_cli_with_its_ca() -> Result<()> {
    let nats = NatsServer::start().await;
    let db = PgDatabase::create().await;
    let dir = tempfile::tempdir()?;
    let pki = TestCa::new("Fédération test CA")?.write(dir.path())?;
    let nats_url = nats.url();
    let base = vigie_e2e::serve_args("inventory", db.url(), &nats_url);
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| (*s).to_owned()).collect() };

    // Refused at start, in French: a certificate without key, a key that is not the certificate's.
    let args = with(&["--tls-cert", path(&pki.server.cert)]);
    let refused = run_cli(&args.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    ensure!(
        !refused.success && refused.stderr.contains("--tls-key"),
        "certificate without key: {refused:?}"
    );
    let args = with(&["--tls-cert", path(&pki.server.cert), "--tls-key", path(&pki.client.key)]);
    let refused = run_cli(&args.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    ensure!(
        !refused.success && refused.stderr.contains("ne correspond pas"),
        "mismatched key: {refused:?}"
    );

    let args = with(&["--tls-cert", path(&pki.server.cert), "--tls-key", path(&pki.server.key)]);
    let server = VigieServer::start(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]).await?;
    ensure!(
        server.endpoint.starts_with("https://127.0.0.1:"),
        "announced {}",
        server.endpoint
    );
    let set = dir.path().join("set");
    ok(run_cli(&["inventory", "generate", "--structures", "8", "--seed", "3", path(&set)]).await?)?;
    ok(server
        .cli(&["inventory", "import", path(&set), "--ca-cert", path(&pki.ca)])
        .await?)?;
    let rollup = ok(server
        .cli(&[
            "inventory",
            "rollup",
            "--by",
            "instance",
            "--format",
            "json",
            "--ca-cert",
            path(&pki.ca),
        ])
        .await?)?;
    ensure!(rollup.stdout.contains("\"structures\": 8"), "rollup: {}", rollup.stdout);

    // `vigie health` (the compose health check) over TLS: the process, one service, an unknown one.
    let serving = ok(server.cli(&["health", "--ca-cert", path(&pki.ca)]).await?)?;
    ensure!(serving.stdout.contains("en service"), "health: {serving:?}");
    ok(server
        .cli(&[
            "health",
            "--service",
            "vigie.inventory.v1.InventoryService",
            "--ca-cert",
            path(&pki.ca),
        ])
        .await?)?;
    let unknown_service = server
        .cli(&["health", "--service", "vigie.nope.v1.Nope", "--ca-cert", path(&pki.ca)])
        .await?;
    ensure!(
        !unknown_service.success,
        "health of an unknown service: {unknown_service:?}"
    );

    // Without the CA: a clear message saying what to give.
    let unknown = server.cli(&["inventory", "rollup"]).await?;
    ensure!(
        !unknown.success && unknown.stderr.contains("autorité inconnue") && unknown.stderr.contains("--ca-cert"),
        "without --ca-cert: {unknown:?}"
    );
    // http:// to the TLS server gets nothing either.
    let port = server.endpoint.rsplit(':').next().unwrap_or_default();
    let plain = run_cli(&["inventory", "rollup", "--endpoint", &format!("http://127.0.0.1:{port}")]).await?;
    ensure!(!plain.success, "cleartext to a TLS server: {plain:?}");
    let endpoint = server.endpoint.clone();
    server.kill().await?;
    let stopped = run_cli(&["health", "--endpoint", &endpoint, "--ca-cert", path(&pki.ca)]).await?;
    ensure!(!stopped.success, "health of a stopped server: {stopped:?}");

    // Mutual TLS: the CLI must present a certificate signed by the client CA.
    let args = with(&[
        "--tls-cert",
        path(&pki.server.cert),
        "--tls-key",
        path(&pki.server.key),
        "--tls-client-ca",
        path(&pki.ca),
    ]);
    let server = VigieServer::start(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]).await?;
    let anonymous = server.cli(&["inventory", "rollup", "--ca-cert", path(&pki.ca)]).await?;
    ensure!(
        !anonymous.success,
        "mutual TLS without client certificate: {anonymous:?}"
    );
    ok(server
        .cli(&[
            "inventory",
            "rollup",
            "--ca-cert",
            path(&pki.ca),
            "--client-cert",
            path(&pki.client.cert),
            "--client-key",
            path(&pki.client.key),
        ])
        .await?)?;
    Ok(())
}
