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
    let server = VigieServer::dev(
        data,
        &["--oidc-issuer", issuer.issuer(), "--oidc-audience", AUDIENCE],
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

/// Runs `vigie <args…>` with its token cache under `home` (`HOME` and
/// `XDG_CONFIG_HOME`), no `VIGIE_TOKEN`, and the extra `envs`.
async fn cli_at_home(home: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> Result<CliOutput> {
    let mut command = tokio::process::Command::new(vigie_e2e::vigie_bin()?);
    command
        .args(args)
        .env("LANG", "fr_FR.UTF-8")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("VIGIE_ENDPOINT")
        .env_remove("VIGIE_TOKEN")
        .env_remove("VIGIE_CLIENT_SECRET")
        .env_remove("VIGIE_OIDC_ISSUER")
        .stdin(std::process::Stdio::null());
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().await?;
    Ok(CliOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// `vigie login` with the device flow: reads the user code from its output,
/// then `decide`s (approve or deny) at the issuer while the CLI polls.
async fn device_login(
    home: &std::path::Path,
    issuer: &OidcIssuer,
    endpoint: &str,
    decide: impl FnOnce(&OidcIssuer, &str) -> Result<()>,
) -> Result<CliOutput> {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};
    let mut child = tokio::process::Command::new(vigie_e2e::vigie_bin()?)
        .args(["login", "--issuer", issuer.issuer(), "--endpoint", endpoint])
        .env("LANG", "fr_FR.UTF-8")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("VIGIE_ENDPOINT")
        .env_remove("VIGIE_TOKEN")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let mut seen = String::new();
    let user_code = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            seen.push_str(&line);
            seen.push('\n');
            if let Some((_, code)) = line.split_once("saisissez le code : ") {
                return Ok::<_, anyhow::Error>(code.trim().to_owned());
            }
        }
        anyhow::bail!("vigie login printed no user code")
    })
    .await??;
    ensure!(
        seen.contains(&format!("{}/device", issuer.issuer())),
        "the verification URI is shown: {seen}"
    );
    decide(issuer, &user_code)?;
    let mut rest = String::new();
    let mut stderr = String::new();
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            rest.push_str(&line);
            rest.push('\n');
        }
        if let Some(mut err) = child.stderr.take() {
            err.read_to_string(&mut stderr).await?;
        }
        child.wait().await
    })
    .await??;
    Ok(CliOutput {
        success: status.success(),
        stdout: seen + &rest,
        stderr,
    })
}

fn read_cache(home: &std::path::Path) -> Result<serde_json::Value> {
    Ok(serde_json::from_slice(&std::fs::read(
        home.join("config/vigie/tokens.json"),
    )?)?)
}

#[tokio::test]
async fn login_caches_refreshes_and_forgets_tokens() -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let home = tempfile::tempdir()?;
    let home = home.path();
    let data = tempfile::tempdir()?;
    let issuer = OidcIssuer::start(AUDIENCE).await?;
    issuer.add_client("vigie-integration", "s3cret-integration");
    let server = VigieServer::dev(
        data.path(),
        &["--oidc-issuer", issuer.issuer(), "--oidc-audience", AUDIENCE],
        &[],
    )
    .await?;
    let endpoint = server.endpoint.clone();
    let fragility = ["inventory", "fragility", "--format", "csv", "--endpoint", &endpoint];

    // Device flow: the user approves the code shown while the CLI polls.
    let login = device_login(home, &issuer, &endpoint, |issuer, code| issuer.approve(code)).await?;
    ensure!(login.success, "device login: {login:?}");
    let cache = read_cache(home)?;
    let access = cache["endpoints"][&endpoint]["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ensure!(
        !access.is_empty() && cache["endpoints"][&endpoint]["refresh_token"].is_string(),
        "{cache}"
    );
    ensure!(
        !login.stdout.contains(&access) && !login.stderr.contains(&access),
        "tokens are never printed"
    );
    let mode = std::fs::metadata(home.join("config/vigie/tokens.json"))?
        .permissions()
        .mode();
    ensure!(mode & 0o777 == 0o600, "the cache is private: {mode:o}");

    // A client command without --token uses the cached token.
    let cached = ok(cli_at_home(home, &fragility, &[]).await?)?;
    ensure!(cached.stdout.starts_with(FRAGILITY_HEADER), "{cached:?}");

    // An expired cached access token is refreshed transparently.
    let mut cache = read_cache(home)?;
    let expired = issuer.token().realm_roles(&["federation-admin"]).exp_in(-600).sign()?;
    cache["endpoints"][&endpoint]["access_token"] = serde_json::json!(expired);
    std::fs::write(home.join("config/vigie/tokens.json"), serde_json::to_vec(&cache)?)?;
    let before = issuer.token_requests();
    let refreshed = ok(cli_at_home(home, &fragility, &[]).await?)?;
    ensure!(refreshed.stdout.starts_with(FRAGILITY_HEADER), "{refreshed:?}");
    ensure!(issuer.token_requests() == before + 1, "one refresh request");
    let renewed = read_cache(home)?["endpoints"][&endpoint]["access_token"].clone();
    ensure!(renewed.as_str() != Some(expired.as_str()), "the new token is cached");

    // Logout forgets them: the server refuses again.
    ok(cli_at_home(home, &["logout", "--endpoint", &endpoint], &[]).await?)?;
    ensure!(
        read_cache(home)?["endpoints"].get(&endpoint).is_none(),
        "logout removes the tokens"
    );
    refused(&cli_at_home(home, &fragility, &[]).await?, "after logout")?;

    // The user denies: a clear message, nothing cached.
    let denied = device_login(home, &issuer, &endpoint, |issuer, code| issuer.deny(code)).await?;
    ensure!(
        !denied.success && denied.stderr.contains("connexion refusée"),
        "{denied:?}"
    );

    // A device code announced as valid for u64::MAX seconds: the CLI clamps
    // it (no overflowing deadline, no panic) and the login goes through.
    issuer.set_device_timing(1, std::time::Duration::from_secs(u64::MAX));
    let forever = device_login(home, &issuer, &endpoint, |issuer, code| issuer.approve(code)).await?;
    ensure!(
        forever.success && !forever.stderr.contains("panicked"),
        "huge expires_in: {forever:?}"
    );
    issuer.set_device_timing(1, std::time::Duration::from_secs(600));

    // Client credentials for machine integrations (secret from the environment).
    let integration = [
        "login",
        "--issuer",
        issuer.issuer(),
        "--client-credentials",
        "--client-id",
        "vigie-integration",
        "--endpoint",
        &endpoint,
    ];
    let machine = ok(cli_at_home(home, &integration, &[("VIGIE_CLIENT_SECRET", "s3cret-integration")]).await?)?;
    let entry = read_cache(home)?["endpoints"][&endpoint].clone();
    let token = entry["access_token"].as_str().unwrap_or_default();
    ensure!(!token.is_empty() && !machine.stdout.contains(token), "{machine:?}");
    let payload = token.split('.').nth(1).unwrap_or_default();
    let claims: serde_json::Value = serde_json::from_slice(&base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        payload,
    )?)?;
    ensure!(
        claims["azp"] == "vigie-integration" && claims["realm_access"]["roles"] == serde_json::json!(["integration"]),
        "{claims}"
    );

    // A wrong secret: a clear error, non-zero exit.
    let mut wrong = integration.to_vec();
    wrong.extend(["--client-secret", "not-the-secret"]);
    let refused_client = cli_at_home(home, &wrong, &[]).await?;
    ensure!(
        !refused_client.success && refused_client.stderr.contains("identifiants du client refusés"),
        "{refused_client:?}"
    );
    Ok(())
}
