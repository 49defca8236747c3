//! The accept loop of the gRPC servers: `TCP_NODELAY` on every accepted
//! socket, and a back-off when accepting fails.
//!
//! Why `TCP_NODELAY`: a unary answer is a few small HTTP/2 frames. Without it,
//! Nagle's algorithm holds the last frame until the client's delayed ACK,
//! about 40 ms later, so one caller looping on `GetStructure` got ~21 calls
//! per second instead of ~300. tonic's `Server::tcp_nodelay` does not apply
//! to `serve_with_incoming`, which Vigie uses (tests bind port 0 and read the
//! address before serving), hence this stream.
//!
//! A failed `accept` pauses the stream with the back-off every Vigie server
//! shares ([`crate::net::AcceptBackoff`]); errors that concern one connection
//! only are skipped at once.

use std::io;

use futures::Stream;
use tokio::net::{TcpListener, TcpStream};

use crate::net::{concerns_one_connection, AcceptBackoff};

/// The accepted connections of `listener`, each with `TCP_NODELAY` set.
///
/// The stream never yields an error and never ends: a failed `accept` is
/// retried after a pause that doubles from 10 ms up to one second (logged
/// once per burst), and reset by the next accepted connection. Dropping the stream closes the
/// listening socket.
pub fn incoming(listener: TcpListener) -> impl Stream<Item = Result<TcpStream, io::Error>> + Send + 'static {
    futures::stream::unfold(
        (listener, AcceptBackoff::default()),
        |(listener, mut backoff)| async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _peer)) => {
                        let errors = backoff.succeeded();
                        if errors > 0 {
                            tracing::info!(errors, "grpc server accepting again after accept errors");
                        }
                        if let Err(error) = stream.set_nodelay(true) {
                            // The peer may already be gone; the connection fails by itself then.
                            tracing::debug!(%error, "could not set tcp_nodelay on an accepted socket");
                        }
                        return Some((Ok(stream), (listener, backoff)));
                    }
                    Err(error) if concerns_one_connection(&error) => {
                        tracing::debug!(%error, "accepted connection lost before use");
                    }
                    Err(error) => {
                        let pause = backoff.failed();
                        if pause.first_of_burst {
                            tracing::warn!(%error, "grpc server: accept failed, backing off");
                        }
                        tokio::time::sleep(pause.delay).await;
                    }
                }
            }
        },
    )
}
