//! The web console (docs/console.md).
//!
//! In `vigie dev` it is bound before the banner, so that its address is
//! printed first, and served until Ctrl-C, with the dev sign-in: demo
//! profiles signed by the process's [`DevIssuer`], whose tokens the gRPC
//! layer verifies. So it runs only with the development identity, only on
//! loopback, over a cleartext loopback gRPC channel.
//!
//! `vigie serve console` ([`run_serve`]) is the production console: OIDC
//! sign-in only (it refuses to start without), the services reached over
//! TLS (or cleartext loopback: a token never travels in cleartext to
//! another machine).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vigie_platform::auth::DevIssuer;
use vigie_platform::grpc::client::{endpoint, ClientOptions};

use crate::i18n::Lang;

/// A console bound to its address, not yet serving.
pub struct Bound {
    listener: TcpListener,
    sign_in: SignIn,
    /// The address it answers on.
    pub addr: SocketAddr,
}

/// How the console of `vigie dev` signs people in.
enum SignIn {
    /// The list of demo profiles (development identity).
    Dev(Arc<DevIssuer>),
    /// OIDC, when `vigie dev` runs with an issuer and `--oidc-client-id`.
    Oidc(Box<vigie_console::RelyingParty>),
}

/// Binds the console of `vigie dev` with OIDC sign-in (the services' issuer,
/// client `client_id`): loopback only, its public URL `http://<address>`.
///
/// # Errors
/// A non-loopback address, a port already taken, an unreachable issuer.
pub async fn bind_oidc(
    listen: SocketAddr,
    issuer: &str,
    client_id: &str,
    audience: Option<&str>,
    secret_file: Option<&std::path::Path>,
    lang: Lang,
) -> anyhow::Result<Bound> {
    let client_secret = secret_file.map(|path| read_secret(path, lang)).transpose()?;
    let (listener, addr) = bind_loopback(listen, lang).await?;
    let settings = vigie_console::OidcSettings {
        issuer: issuer.to_owned(),
        client_id: client_id.to_owned(),
        client_secret,
        public_url: format!("http://{addr}"),
        audience: audience.map(str::to_owned),
    };
    let rp = vigie_console::RelyingParty::discover(settings).await.with_context(|| {
        format!(
            "{} {issuer}",
            lang.pick("émetteur OIDC de la console :", "console OIDC issuer:")
        )
    })?;
    Ok(Bound {
        listener,
        sign_in: SignIn::Oidc(Box::new(rp)),
        addr,
    })
}

/// The client secret in `path` (trimmed, not empty).
fn read_secret(path: &std::path::Path, lang: Lang) -> anyhow::Result<String> {
    let secret = std::fs::read_to_string(path).with_context(|| {
        format!(
            "{} {}",
            lang.pick("secret du client OIDC", "OIDC client secret"),
            path.display()
        )
    })?;
    let secret = secret.trim().to_owned();
    anyhow::ensure!(
        !secret.is_empty(),
        "{} {}",
        lang.pick("fichier de secret vide :", "empty secret file:"),
        path.display()
    );
    Ok(secret)
}

/// Binds the console's address.
///
/// # Errors
/// A non-loopback address (the dev sign-in authenticates nobody), or a port
/// already taken.
pub async fn bind(listen: SocketAddr, issuer: Arc<DevIssuer>, lang: Lang) -> anyhow::Result<Bound> {
    let (listener, addr) = bind_loopback(listen, lang).await?;
    Ok(Bound {
        listener,
        sign_in: SignIn::Dev(issuer),
        addr,
    })
}

async fn bind_loopback(listen: SocketAddr, lang: Lang) -> anyhow::Result<(TcpListener, SocketAddr)> {
    if !listen.ip().is_loopback() {
        anyhow::bail!(
            "{}",
            lang.pick(
                "la console de vigie dev n'écoute que sur la boucle locale (--console-listen 127.0.0.1:PORT) : sa page de connexion laisse chacun choisir son profil.",
                "the console of vigie dev only listens on loopback (--console-listen 127.0.0.1:PORT): its sign-in page lets anyone choose a profile."
            )
        );
    }
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!(
            "{} {listen} ({})",
            lang.pick("console web", "web console"),
            lang.pick(
                "le port est-il déjà pris ? essayez --console-listen 127.0.0.1:8081",
                "is the port taken? try --console-listen 127.0.0.1:8081"
            )
        )
    })?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Serves the console, calling the services at `grpc_endpoint` (cleartext
/// loopback) with each signed-in person's token, until `stop`.
///
/// # Errors
/// An invalid endpoint.
pub fn serve(
    bound: Bound,
    grpc_endpoint: &str,
    tasks: &mut JoinSet<()>,
    stop: &CancellationToken,
) -> anyhow::Result<()> {
    let options = ClientOptions {
        credentials: true,
        ..ClientOptions::default()
    };
    let channel = endpoint(grpc_endpoint, &options)?.connect_lazy();
    let services = vigie_console::Services::new(channel);
    let console = match bound.sign_in {
        SignIn::Dev(issuer) => vigie_console::Console::new(services, issuer, bound.addr),
        SignIn::Oidc(rp) => vigie_console::Console::with_oidc(services, *rp, bound.addr),
    };
    let stop = stop.clone();
    tasks.spawn(async move {
        if let Err(error) = vigie_console::serve(bound.listener, console, stop).await {
            tracing::error!(%error, "web console stopped");
        }
    });
    Ok(())
}

/// `vigie serve console`: the console alone, signing people in with OIDC,
/// calling the services at `--services-endpoint`, until SIGTERM or Ctrl-C.
///
/// # Errors
/// No OIDC (the dev sign-in is never served here), no services endpoint, a
/// public URL in cleartext off loopback, an unreachable issuer, a taken port.
pub async fn run_serve(args: &crate::cli::ServeArgs, lang: Lang) -> anyhow::Result<()> {
    use vigie_platform::grpc::tls::ClientTlsFiles;

    let console = &args.console;
    let (Some(issuer), Some(client_id)) = (&args.server.oidc_issuer, &console.oidc_client_id) else {
        anyhow::bail!(
            "{}",
            lang.pick(
                "vigie serve console exige OIDC : --oidc-issuer URL (l'émetteur des services) et --oidc-client-id CLIENT (Keycloak : vigie-console), ou VIGIE_OIDC_ISSUER et VIGIE_OIDC_CLIENT_ID. La connexion par liste de profils n'existe que dans vigie dev.",
                "vigie serve console requires OIDC: --oidc-issuer URL (the services' issuer) and --oidc-client-id CLIENT (Keycloak: vigie-console), or VIGIE_OIDC_ISSUER and VIGIE_OIDC_CLIENT_ID. Signing in from a list of profiles only exists in vigie dev."
            )
        );
    };
    // Each service at its own address, or at the shared one.
    let address = |own: &Option<String>, flag: &str| -> anyhow::Result<String> {
        own.clone().or_else(|| console.services_endpoint.clone()).with_context(|| match lang {
            Lang::Fr => format!("vigie serve console exige --services-endpoint URL (ou VIGIE_SERVICES_ENDPOINT), l'adresse gRPC des services, ou {flag}"),
            Lang::En => format!("vigie serve console requires --services-endpoint URL (or VIGIE_SERVICES_ENDPOINT), the services' gRPC address, or {flag}"),
        })
    };
    let addresses = [
        address(&console.inventory_endpoint, "--inventory-endpoint")?,
        address(&console.alerting_endpoint, "--alerting-endpoint")?,
        address(&console.training_endpoint, "--training-endpoint")?,
        address(&console.facilitation_endpoint, "--facilitation-endpoint")?,
    ];
    let client_secret = console
        .oidc_client_secret_file
        .as_deref()
        .map(|path| read_secret(path, lang))
        .transpose()?;
    // The channel first: a token must never travel in cleartext off loopback.
    let options = ClientOptions {
        tls: ClientTlsFiles {
            ca_cert: console.ca_cert.clone(),
            client_cert: console.client_cert.clone(),
            client_key: console.client_key.clone(),
        },
        credentials: true,
    };
    let channel = |address: &str| -> anyhow::Result<tonic::transport::Channel> {
        Ok(endpoint(address, &options)
            .with_context(|| format!("{} {address}", lang.pick("adresse des services :", "services address:")))?
            .connect_lazy())
    };
    let [inventory, alerting, training, facilitation] = &addresses;
    let services = vigie_console::Services::per_service(vigie_console::Channels {
        inventory: channel(inventory)?,
        alerting: channel(alerting)?,
        training: channel(training)?,
        facilitation: channel(facilitation)?,
    });
    let listen = args
        .server
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!(
            "{} {listen}",
            lang.pick("console web : port indisponible", "web console: port unavailable")
        )
    })?;
    let addr = listener.local_addr()?;
    let public_url = public_url(console.public_url.as_deref(), addr, lang)?;
    let settings = vigie_console::OidcSettings {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        client_secret,
        public_url: public_url.clone(),
        audience: args.server.oidc_audience.clone(),
    };
    let rp = vigie_console::RelyingParty::discover(settings)
        .await
        .map_err(|error| match lang {
            Lang::Fr => anyhow::anyhow!(
                "émetteur OIDC {issuer} injoignable ou invalide ({error}).\n  Vérifiez --oidc-issuer (l'URL exacte du royaume, sans « / » final)."
            ),
            Lang::En => anyhow::anyhow!(
                "OIDC issuer {issuer} unreachable or invalid ({error}).\n  Check --oidc-issuer (the exact realm URL, no trailing `/`)."
            ),
        })?;
    let console = vigie_console::Console::with_oidc(services, rp, addr);
    let stop = vigie_platform::shutdown::on_signal();
    eprintln!(
        "{} {public_url} ({} http://{addr}, {} {inventory})",
        lang.pick("Console Vigie prête :", "Vigie console ready:"),
        lang.pick("écoute sur", "listening on"),
        lang.pick("inventaire :", "inventory:")
    );
    vigie_console::serve(listener, console, stop).await?;
    Ok(())
}

/// The console's public URL: as given (https, or http to loopback only),
/// else `http://<bound address>` when it listens on loopback.
fn public_url(given: Option<&str>, addr: SocketAddr, lang: Lang) -> anyhow::Result<String> {
    let Some(url) = given else {
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "{}",
            lang.pick(
                "--public-url (ou VIGIE_PUBLIC_URL) est requis hors de la boucle locale : l'adresse https:// de la console pour les navigateurs",
                "--public-url (or VIGIE_PUBLIC_URL) is required off loopback: the console's https:// address for browsers"
            )
        );
        return Ok(format!("http://{addr}"));
    };
    let url = url.trim_end_matches('/');
    let uri: tonic::codegen::http::Uri = url.parse().map_err(|_| anyhow::anyhow!("--public-url {url}"))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(url.to_owned()),
        Some("http") if vigie_platform::net::is_loopback_host(host) => Ok(url.to_owned()),
        _ => anyhow::bail!(
            "{} {url}",
            lang.pick(
                "--public-url doit être en https:// (http:// seulement en boucle locale) : cookies de session et codes de connexion n'y circulent jamais en clair.",
                "--public-url must be https:// (http:// only on loopback): session cookies and sign-in codes never travel there in cleartext."
            )
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_is_https_or_loopback() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(public_url(None, local, Lang::En).unwrap(), "http://127.0.0.1:8080");
        assert!(public_url(None, public, Lang::En).is_err());
        assert_eq!(
            public_url(Some("https://console.example.org/"), public, Lang::En).unwrap(),
            "https://console.example.org"
        );
        assert!(public_url(Some("http://console.example.org"), public, Lang::En).is_err());
        assert!(public_url(Some("http://localhost:8080"), local, Lang::En).is_ok());
        assert!(public_url(Some("ftp://x"), local, Lang::En).is_err());
    }
}
