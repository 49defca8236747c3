//! Delivery channels: email over SMTP, signed webhooks, and the signed links carried by messages.
//!
//! - [`email`]: [`email::SmtpMailer`] sends one digest (text and HTML, with
//!   `List-Unsubscribe`) with a caller-chosen, stable `Message-ID`;
//! - [`webhook`]: [`webhook::WebhookSender`] POSTs JSON signed with
//!   HMAC-SHA256, [`webhook::backoff`] spaces the retries;
//! - [`address`]: which addresses a webhook may reach (no loopback, private
//!   or metadata address unless the operator allows it);
//! - [`links`]: [`links::LinkSigner`] makes and checks the tokens of the
//!   acknowledgement links, the iCalendar feed URLs and the unsubscribe links.
//!
//! A failed send is a [`SendError`]: [`SendError::Transient`] is retried later
//! (the send log keeps the reminder due), [`SendError::Permanent`] is recorded
//! and not retried.

pub mod address;
pub mod email;
pub mod links;
mod smtp_pool;
pub mod webhook;

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: the server is down or unreachable, timed out, or
    /// answered with a temporary refusal (SMTP 4xx, HTTP 408, 429, 5xx).
    #[error("échec temporaire : {0}")]
    Transient(String),
    /// Retrying will not help: the address or URL is invalid, or the server
    /// refused for good (SMTP 5xx, HTTP 4xx other than 408 and 429).
    #[error("échec définitif : {0}")]
    Permanent(String),
}

impl SendError {
    /// Whether the send should be retried later.
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient(_))
    }
}
