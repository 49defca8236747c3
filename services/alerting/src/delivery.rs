//! The production [`Transport`]: email through the configured SMTP relay (or,
//! for a local trial without one, `.eml` files in a directory), webhooks
//! signed with the network's secret.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::app::Transport;
use crate::channels::email::{OutgoingEmail, SmtpMailer};
use crate::channels::webhook::WebhookSender;
use crate::channels::SendError;
use crate::storage::MessageRow;

/// The file name (without `.eml`) of a message written to a directory:
/// its Message-ID without path separators (the erasure finds it again).
pub fn eml_file_stem(message_id: &str) -> String {
    message_id.replace(['@', '/', '\\'], "_")
}

/// Where emails go.
pub enum Mailbox {
    /// An SMTP relay.
    Smtp(Box<SmtpMailer>),
    /// A directory of `.eml` files (`vigie dev` without SMTP): nothing leaves the machine.
    Directory(PathBuf),
}

/// Email and webhook delivery.
pub struct Channels {
    mailbox: Mailbox,
    webhooks: WebhookSender,
}

impl Channels {
    /// Channels over `mailbox` and `webhooks`.
    pub fn new(mailbox: Mailbox, webhooks: WebhookSender) -> Self {
        Channels { mailbox, webhooks }
    }
}

fn email(message: &MessageRow, unsubscribe_url: &str) -> OutgoingEmail {
    OutgoingEmail {
        message_id: message.message_id.clone(),
        to: message.address.clone(),
        to_name: String::new(),
        subject: message.subject.clone(),
        text: message.body_text.clone(),
        html: message.body_html.clone(),
        list_unsubscribe: unsubscribe_url.to_owned(),
    }
}

#[async_trait]
impl Transport for Channels {
    async fn deliver(
        &self,
        message: &MessageRow,
        webhook_secret: &str,
        unsubscribe_url: &str,
    ) -> Result<(), SendError> {
        match message.channel.as_str() {
            "email" => match &self.mailbox {
                Mailbox::Smtp(mailer) => mailer.send(&email(message, unsubscribe_url)).await,
                Mailbox::Directory(dir) => {
                    let text = format!(
                        "Message-ID: <{}>\nTo: {}\nSubject: {}\nList-Unsubscribe: <{unsubscribe_url}>\n\n{}",
                        message.message_id, message.address, message.subject, message.body_text
                    );
                    let name = eml_file_stem(&message.message_id);
                    tokio::fs::create_dir_all(dir)
                        .await
                        .and(tokio::fs::write(dir.join(format!("{name}.eml")), text).await)
                        .map_err(|e| SendError::Transient(format!("écriture du courriel : {e}")))
                }
            },
            "webhook" => {
                if webhook_secret.is_empty() {
                    return Err(SendError::Permanent("webhook sans secret".into()));
                }
                self.webhooks
                    .send(
                        &message.address,
                        webhook_secret.as_bytes(),
                        &message.message_id,
                        message.body_text.as_bytes(),
                    )
                    .await
            }
            other => Err(SendError::Permanent(format!("canal inconnu : {other}"))),
        }
    }
}
