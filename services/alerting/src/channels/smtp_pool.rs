//! The connections to one SMTP relay, kept open and reused from one message
//! to the next.
//!
//! Why not lettre's own pool: its connections are opened with Nagle's
//! algorithm on, and lettre writes a message's body and its final
//! `CRLF . CRLF` in two writes; the terminator then waits for the relay to
//! acknowledge the body, which it delays (40 ms on Linux): every message pays
//! it, a pooled connection or not. Here cleartext and STARTTLS connections are
//! opened with `TCP_NODELAY` and handed to lettre
//! (`AsyncSmtpConnection::connect_with_transport`); lettre still speaks the
//! protocol (EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA, dot-stuffing, 8BITMIME).
//! Implicit TLS (SMTPS) goes through lettre's own connect, Nagle included
//! (its TLS wrapper takes no stream of ours).
//!
//! A connection goes back to the pool only after a message it carried was
//! accepted: one that saw an error reply, a broken socket, or whose send was
//! cut by a timeout (the future dropped mid-transaction) is closed, so no
//! message ever reads another one's late replies. A parked connection is
//! closed after [`IDLE`] unused.
//!
//! A parked connection is not checked before reuse (lettre's `NOOP` cost a
//! round trip a message: one in five, the mailer at 0.74–0.8 of a plain
//! client on one connection). Its first command tells instead: when the
//! `MAIL FROM` of a reused connection fails (the relay restarted, or closed
//! it while it was parked), the transaction starts again, once, on a new
//! connection — nothing was handed over yet, so nothing can be sent twice.
//! The transaction is lettre's own `send`, in steps: `MAIL FROM` (with
//! `SMTPUTF8` and `8BITMIME` as the message needs), one `RCPT TO` a
//! recipient, `DATA`, the dot-stuffed message.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

/// At most this many connections are parked for reuse (delivery passes send
/// one message at a time; more are opened only by concurrent senders, and
/// closed after their message when the pool is full).
pub const POOL_SIZE: usize = 4;
/// A parked connection unused for this long is closed rather than reused
/// (relays drop idle clients after a few minutes).
pub const IDLE: Duration = Duration::from_secs(60);

/// Where and how to connect.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub credentials: Option<Credentials>,
    /// Bound on opening the TCP connection.
    pub connect_timeout: Duration,
}

/// Why a send failed.
#[derive(Debug)]
pub(crate) enum PoolError {
    /// The TCP connection could not be opened (transient).
    Connect(std::io::Error),
    /// lettre's error: a reply, TLS, the network.
    Smtp(lettre::transport::smtp::Error),
    /// The relay lacks an extension the message needs (`SMTPUTF8` for a
    /// non-ASCII address, `8BITMIME` for a non-ASCII body): it will not
    /// accept it later either.
    Unsupported(&'static str),
}

impl From<lettre::transport::smtp::Error> for PoolError {
    fn from(error: lettre::transport::smtp::Error) -> Self {
        PoolError::Smtp(error)
    }
}

struct Parked {
    connection: AsyncSmtpConnection,
    since: Instant,
}

/// Connections to one relay (see the module's documentation).
pub(crate) struct SmtpPool {
    endpoint: Endpoint,
    parked: Mutex<Vec<Parked>>,
}

impl SmtpPool {
    /// An empty pool: nothing is connected until the first send.
    pub fn new(endpoint: Endpoint) -> Self {
        SmtpPool {
            endpoint,
            parked: Mutex::new(Vec::new()),
        }
    }

    /// Sends one message (`email`: its formatted bytes) over a parked
    /// connection or a new one; the connection is parked again only when the
    /// relay accepted the message.
    ///
    /// # Errors
    /// [`PoolError`]; the connection that saw it is closed.
    pub async fn send(&self, envelope: &Envelope, email: &[u8]) -> Result<(), PoolError> {
        let parked = self.lock().pop();
        let mut connection = match parked {
            Some(Parked { mut connection, since }) if since.elapsed() < IDLE => {
                match mail_from(&mut connection, envelope, email).await {
                    Ok(()) => connection,
                    Err(PoolError::Smtp(_)) => {
                        // Dropped while parked (or the sender refused): no
                        // message was handed over, a new connection tries once.
                        connection.abort().await;
                        self.open_transaction(envelope, email).await?
                    }
                    Err(refused) => {
                        self.put_back(connection, &refused).await;
                        return Err(refused);
                    }
                }
            }
            stale => {
                if let Some(Parked { mut connection, .. }) = stale {
                    connection.abort().await;
                }
                self.open_transaction(envelope, email).await?
            }
        };
        match hand_over(&mut connection, envelope, email).await {
            Ok(()) => {
                self.park(connection);
                Ok(())
            }
            Err(error) => {
                // A connection that saw an error reply or a network error is
                // closed, never parked: no later message reads its replies.
                connection.abort().await;
                Err(error)
            }
        }
    }

    /// A new connection with its `MAIL FROM` accepted.
    async fn open_transaction(&self, envelope: &Envelope, email: &[u8]) -> Result<AsyncSmtpConnection, PoolError> {
        let mut connection = self.connect().await?;
        match mail_from(&mut connection, envelope, email).await {
            Ok(()) => Ok(connection),
            Err(error) => {
                self.put_back(connection, &error).await;
                Err(error)
            }
        }
    }

    /// A connection whose `MAIL FROM` failed with `error`: parked again when
    /// the message was refused before any command was sent (the relay lacks
    /// an extension it needs), closed otherwise.
    async fn put_back(&self, mut connection: AsyncSmtpConnection, error: &PoolError) {
        match error {
            PoolError::Unsupported(_) => self.park(connection),
            PoolError::Connect(_) | PoolError::Smtp(_) => connection.abort().await,
        }
    }

    /// How many connections are parked (for tests).
    pub fn parked(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Parked>> {
        self.parked.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn park(&self, connection: AsyncSmtpConnection) {
        if connection.has_broken() {
            return;
        }
        let mut parked = self.lock();
        if parked.len() < POOL_SIZE {
            parked.push(Parked {
                connection,
                since: Instant::now(),
            });
        }
        // Otherwise dropped here: the socket closes.
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, PoolError> {
        let endpoint = &self.endpoint;
        let hello = ClientId::default();
        let mut connection = match &endpoint.tls {
            Tls::Wrapper(parameters) => {
                AsyncSmtpConnection::connect_tokio1(
                    (endpoint.host.as_str(), endpoint.port),
                    Some(endpoint.connect_timeout),
                    &hello,
                    Some(parameters.clone()),
                    None,
                )
                .await?
            }
            _ => {
                let stream = tokio::time::timeout(
                    endpoint.connect_timeout,
                    tokio::net::TcpStream::connect((endpoint.host.as_str(), endpoint.port)),
                )
                .await
                .map_err(|_| {
                    PoolError::Connect(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "connexion au serveur SMTP trop longue",
                    ))
                })?
                .map_err(PoolError::Connect)?;
                stream.set_nodelay(true).map_err(PoolError::Connect)?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello).await?
            }
        };
        if let Tls::Required(parameters) = &endpoint.tls {
            connection.starttls(parameters.clone(), &hello).await?;
        }
        if let Some(credentials) = &endpoint.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(connection)
    }
}

/// Starts a transaction: `MAIL FROM` with the extensions the message needs
/// (as lettre's `send` does).
async fn mail_from(connection: &mut AsyncSmtpConnection, envelope: &Envelope, email: &[u8]) -> Result<(), PoolError> {
    let mut options = Vec::new();
    let addresses = envelope.from().into_iter().chain(envelope.to());
    if addresses.map(AsRef::<str>::as_ref).any(|address| !address.is_ascii()) {
        if !connection.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(PoolError::Unsupported(
                "adresse non ASCII, et le serveur SMTP ne connaît pas SMTPUTF8",
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !email.is_ascii() {
        if !connection.server_info().supports_feature(Extension::EightBitMime) {
            return Err(PoolError::Unsupported(
                "message non ASCII, et le serveur SMTP ne connaît pas 8BITMIME",
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    connection.command(Mail::new(envelope.from().cloned(), options)).await?;
    Ok(())
}

/// Ends a transaction begun by [`mail_from`]: the recipients, `DATA`, the
/// message; `Ok` once the relay accepted it.
async fn hand_over(connection: &mut AsyncSmtpConnection, envelope: &Envelope, email: &[u8]) -> Result<(), PoolError> {
    for recipient in envelope.to() {
        connection.command(Rcpt::new(recipient.clone(), Vec::new())).await?;
    }
    connection.command(Data).await?;
    connection.message(email).await?;
    Ok(())
}
