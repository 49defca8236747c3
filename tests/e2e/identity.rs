//! Identity on the real binary: `vigie serve` behind a real OIDC issuer
//! (Keycloak-shaped tokens), the CLI's `--token` / `VIGIE_TOKEN`, and the
//! loopback rule of `vigie dev`.

use anyhow::{ensure, Result};
use vigie_e2e::{run_cli, CliOutput, VigieServer};
use vigie_testkit::{NatsServer, OidcIssuer, PgDatabase};

use crate::{ok, FRAGILITY_HEADER};

/// The audience the servers of these tests require.
const AUDIENCE: &str = "vigie";

/// Asserts a client command was refused for authentication, with the
/// message for people and a non-zero exit.
fn refused(output: &CliOutput, what: &str) -> Result<()> {
    ensure!(
        !output.success && output.stderr.contains("authentification refusée") && output.stderr.contains("--token"),
        "{what}: expected an authentication refusal, got {output:?}"
    );
    ensure!(output.stdout.is_empty(), "{what}: nothing on stdout, got {output:?}");
    Ok(())
}

#[tokio::test]
async fn serve_with_oidc_requires_a_valid_token_on_every_call() -> Result<()> {
    let issuer = OidcIssuer::start(AUDIENCE).await?;
    let nats = NatsServer::start().await;
    let db = PgDatabase::create().await;
    let server_args = |auth: &'static [&'static str]| {
        let mut args = vec![
            "serve",
            "inventory",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            db.url(),
        ];
        args.extend(auth);
        args
    };
    let nats_url = nats.url();

    // Neither --auth none nor OIDC: refused, with both choices explained.
    let mut args = server_args(&[]);
    args.extend(["--nats-url", &nats_url]);
    let neither = run_cli(&args).await?;
    ensure!(
        !neither.success && neither.stderr.contains("--auth none") && neither.stderr.contains("--auth oidc"),
        "authentication must be chosen: {neither:?}"
    );

    // --auth oidc without an issuer: refused.
    let mut args = server_args(&["--auth", "oidc"]);
    args.extend(["--nats-url", &nats_url]);
    let incomplete = run_cli(&args).await?;
    ensure!(
        !incomplete.success && incomplete.stderr.contains("--oidc-issuer"),
        "--auth oidc needs an issuer: {incomplete:?}"
    );

    // An unreachable issuer: refused before serving, with a clear message.
    let mut args = server_args(&["--auth", "oidc", "--oidc-audience", AUDIENCE, "--oidc-issuer"]);
    args.extend(["http://127.0.0.1:1/realms/vigie", "--nats-url", &nats_url]);
    let unreachable = run_cli(&args).await?;
    ensure!(
        !unreachable.success
            && unreachable
                .stderr
                .contains("émetteur OIDC http://127.0.0.1:1/realms/vigie injoignable"),
        "an unreachable issuer must stop the start: {unreachable:?}"
    );

    let mut args = server_args(&["--auth", "oidc", "--oidc-audience", AUDIENCE]);
    args.extend(["--nats-url", &nats_url]);
    // The issuer from the environment, as a deployment would set it.
    let server = VigieServer::start(&args, &[("VIGIE_OIDC_ISSUER", issuer.issuer())]).await?;

    let without = server.cli(&["inventory", "fragility", "--format", "csv"]).await?;
    refused(&without, "no token")?;

    let expired = issuer.token().exp_in(-600).sign()?;
    let with_expired = server
        .cli(&["inventory", "fragility", "--format", "csv", "--token", &expired])
        .await?;
    refused(&with_expired, "expired token")?;

    let other_audience = issuer.token().aud(serde_json::json!(["account"])).sign()?;
    let with_other_audience = server
        .cli(&["inventory", "fragility", "--format", "csv", "--token", &other_audience])
        .await?;
    refused(&with_other_audience, "token for another audience")?;

    let english = server
        .cli(&["--lang", "en", "inventory", "fragility", "--format", "csv"])
        .await?;
    ensure!(
        !english.success && english.stderr.contains("authentication refused"),
        "English message expected: {english:?}"
    );

    let token = issuer.token().realm_roles(&["network-admin"]).sign()?;
    let accepted = ok(server
        .cli(&["inventory", "fragility", "--format", "csv", "--token", &token])
        .await?)?;
    ensure!(
        accepted.stdout.starts_with(FRAGILITY_HEADER),
        "a valid token is accepted: {accepted:?}"
    );

    // VIGIE_TOKEN works for scripts, like --token.
    let mut command = tokio::process::Command::new(vigie_e2e::vigie_bin()?);
    let output = command
        .args([
            "inventory",
            "fragility",
            "--format",
            "csv",
            "--endpoint",
            &server.endpoint,
        ])
        .env("LANG", "fr_FR.UTF-8")
        .env("VIGIE_TOKEN", &token)
        .output()
        .await?;
    ensure!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).starts_with(FRAGILITY_HEADER),
        "VIGIE_TOKEN is sent: {output:?}"
    );
    Ok(())
}

#[tokio::test]
async fn dev_keeps_its_loopback_rule_and_uses_oidc_when_configured() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().unwrap_or_default();

    // Without OIDC, a non-loopback address is refused.
    let public = run_cli(&["dev", "--listen", "0.0.0.0:0", "--data-dir", data]).await?;
    ensure!(
        !public.success && public.stderr.contains("boucle locale") && public.stderr.contains("--oidc-issuer"),
        "{public:?}"
    );

    // With OIDC, the development identity is replaced: tokens are required.
    let issuer = OidcIssuer::start(AUDIENCE).await?;
    let server = VigieServer::start(
        &[
            "dev",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data,
            "--oidc-issuer",
            issuer.issuer(),
            "--oidc-audience",
            AUDIENCE,
        ],
        &[],
    )
    .await?;
    refused(
        &server.cli(&["inventory", "fragility", "--format", "csv"]).await?,
        "dev with OIDC, no token",
    )?;
    // A caller needs a role the authorisation matrix grants (docs/security.md).
    let token = issuer.token().realm_roles(&["federation-admin"]).sign()?;
    let accepted = ok(server
        .cli(&["inventory", "fragility", "--format", "csv", "--token", &token])
        .await?)?;
    ensure!(accepted.stdout.starts_with(FRAGILITY_HEADER), "{accepted:?}");
    Ok(())
}
