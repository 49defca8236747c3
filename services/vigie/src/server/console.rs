//! The web console of `vigie dev` (docs/console.md): bound before the
//! banner, so that its address is printed first, and served until Ctrl-C.
//!
//! Dev sign-in only in this slice: the console signs demo profiles in with
//! the process's [`DevIssuer`], whose tokens the gRPC layer verifies. So it
//! runs only with the development identity (not with OIDC, whose code flow
//! comes later), only on loopback, and only over a cleartext loopback gRPC
//! channel (with `--tls-cert` the services would need the console to trust
//! their certificate: later too).

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
    issuer: Arc<DevIssuer>,
    /// The address it answers on.
    pub addr: SocketAddr,
}

/// Binds the console's address.
///
/// # Errors
/// A non-loopback address (the dev sign-in authenticates nobody), or a port
/// already taken.
pub async fn bind(listen: SocketAddr, issuer: Arc<DevIssuer>, lang: Lang) -> anyhow::Result<Bound> {
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
    Ok(Bound { listener, issuer, addr })
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
    let console = vigie_console::Console::new(vigie_console::Services::new(channel), bound.issuer, bound.addr);
    let stop = stop.clone();
    tasks.spawn(async move {
        if let Err(error) = vigie_console::serve(bound.listener, console, stop).await {
            tracing::error!(%error, "web console stopped");
        }
    });
    Ok(())
}
