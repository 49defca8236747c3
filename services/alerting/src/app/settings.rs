//! Configuration by the federation's staff: a network's reminder policy,
//! referent and webhook; subscription preferences; acknowledgements; the
//! secret calendar URLs.

use chrono::NaiveTime;
use chrono_tz::Tz;
use vigie_platform::events::Outbox;
use vigie_platform::words;
use vigie_platform::words::Words;
use vigie_proto::events::v1::CallAcknowledged;

use super::AlertingApp;
use crate::channels::links::{AckAction, FeedKind};
use crate::convert::date_to_pb;
use crate::error::AlertingError;
use crate::events;
use crate::storage::{self, PolicyRow, PreferencesRow};

/// A network's policy as shown (the webhook secret is never returned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// The network.
    pub network: String,
    /// Days before each stage.
    pub offsets_days: Vec<u32>,
    /// `HH:MM`.
    pub local_hour: String,
    /// IANA zone.
    pub timezone: String,
    /// Referent's name.
    pub referent_name: String,
    /// Referent's email.
    pub referent_email: String,
    /// Webhook URL.
    pub webhook_url: String,
    /// Whether a webhook secret is set.
    pub webhook_secret_set: bool,
    /// Days between a reporting duty's internal draft date and its due date.
    pub draft_days: u32,
}

/// A policy to set; an empty secret keeps the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyInput {
    /// The network.
    pub network: String,
    /// Days before each stage (empty = 30, 14, 7, 2).
    pub offsets_days: Vec<u32>,
    /// `HH:MM` (empty = 09:00).
    pub local_hour: String,
    /// IANA zone (empty = Europe/Paris).
    pub timezone: String,
    /// Referent's name.
    pub referent_name: String,
    /// Referent's email.
    pub referent_email: String,
    /// Webhook URL (empty = none).
    pub webhook_url: String,
    /// Webhook secret (empty = keep).
    pub webhook_secret: String,
    /// Draft days of reporting duties (`None` = keep, at most 90).
    pub draft_days: Option<u32>,
}

fn shown(row: &PolicyRow, draft_days: u32) -> NetworkPolicy {
    NetworkPolicy {
        draft_days,
        network: row.network_id.clone(),
        offsets_days: row.offsets.clone(),
        local_hour: row.local_hour.clone(),
        timezone: row.timezone.clone(),
        referent_name: row.referent_name.clone(),
        referent_email: row.referent_email.clone(),
        webhook_url: row.webhook_url.clone(),
        webhook_secret_set: !row.webhook_secret.is_empty(),
    }
}

fn default_row(network: &str) -> PolicyRow {
    PolicyRow {
        network_id: network.to_owned(),
        offsets: vec![30, 14, 7, 2],
        local_hour: "09:00".to_owned(),
        timezone: "Europe/Paris".to_owned(),
        ..PolicyRow::default()
    }
}

fn invalid(message: Words) -> AlertingError {
    AlertingError::Invalid(message)
}

/// Validates a policy (French messages naming the field).
///
/// # Errors
/// [`AlertingError::Invalid`] for the first invalid field.
pub fn validate(input: &PolicyInput, current_secret: &str) -> Result<PolicyRow, AlertingError> {
    let network = input.network.trim();
    if network.is_empty() {
        return Err(invalid(words!("réseau manquant", "network missing")));
    }
    let mut offsets = if input.offsets_days.is_empty() {
        vec![30, 14, 7, 2]
    } else {
        input.offsets_days.clone()
    };
    if let Some(bad) = offsets.iter().find(|&&o| o > 366) {
        return Err(invalid(words!(
            "délai de rappel {bad} jours : au plus 366",
            "reminder offset {bad} days: 366 at most"
        )));
    }
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    offsets.dedup();
    let hour = if input.local_hour.trim().is_empty() {
        "09:00"
    } else {
        input.local_hour.trim()
    };
    NaiveTime::parse_from_str(hour, "%H:%M").map_err(|_| {
        invalid(words!(
            "heure d'envoi « {hour} » : attendu HH:MM, par exemple 09:00",
            "sending time “{hour}”: expected HH:MM, for example 09:00"
        ))
    })?;
    let zone = if input.timezone.trim().is_empty() {
        "Europe/Paris"
    } else {
        input.timezone.trim()
    };
    zone.parse::<Tz>().map_err(|_| {
        invalid(words!(
            "fuseau « {zone} » inconnu : attendu un nom IANA, par exemple Europe/Paris",
            "unknown time zone “{zone}”: expected an IANA name, for example Europe/Paris"
        ))
    })?;
    let email = input.referent_email.trim();
    if !email.is_empty() && (!email.contains('@') || email.contains(char::is_whitespace)) {
        return Err(invalid(words!(
            "adresse du référent « {email} » invalide",
            "invalid referent address “{email}”"
        )));
    }
    let url = input.webhook_url.trim();
    if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
        let shown = vigie_platform::redact::url(url);
        return Err(invalid(words!(
            "webhook « {shown} » : attendu une URL http(s)",
            "webhook “{shown}”: expected an http(s) URL"
        )));
    }
    let secret = if input.webhook_secret.is_empty() {
        current_secret
    } else {
        input.webhook_secret.as_str()
    };
    if !url.is_empty() && secret.len() < 16 {
        return Err(invalid(words!(
            "un webhook demande un secret d'au moins 16 caractères (--webhook-secret)",
            "a webhook needs a secret of at least 16 characters (--webhook-secret)"
        )));
    }
    Ok(PolicyRow {
        network_id: network.to_owned(),
        offsets,
        local_hour: hour.to_owned(),
        timezone: zone.to_owned(),
        referent_name: input.referent_name.trim().to_owned(),
        referent_email: email.to_owned(),
        webhook_url: url.to_owned(),
        webhook_secret: secret.to_owned(),
    })
}

/// A network's draft days (the default when it set none).
async fn network_draft_days(conn: &mut sqlx::AnyConnection, network: &str) -> Result<u32, AlertingError> {
    Ok(storage::draft_days(conn)
        .await?
        .into_iter()
        .find(|(n, _)| n == network)
        .map_or(vigie_alerting_domain::grants::rules::DEFAULT_DRAFT_DAYS, |(_, d)| d))
}

impl AlertingApp {
    /// A network's policy (the defaults when none was set).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn network_policy(&self, network: &str) -> Result<NetworkPolicy, AlertingError> {
        let mut conn = self.db.pool().acquire().await?;
        let row = storage::policies(&mut conn)
            .await?
            .into_iter()
            .find(|p| p.network_id == network)
            .unwrap_or_else(|| default_row(network));
        let draft_days = network_draft_days(&mut conn, network).await?;
        Ok(shown(&row, draft_days))
    }

    /// Sets a network's policy.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] for an invalid field; storage errors.
    pub async fn set_network_policy(&self, input: &PolicyInput) -> Result<NetworkPolicy, AlertingError> {
        let mut tx = self.db.begin().await?;
        let current = storage::policies(&mut tx)
            .await?
            .into_iter()
            .find(|p| p.network_id == input.network.trim())
            .map(|p| p.webhook_secret)
            .unwrap_or_default();
        let row = validate(input, &current)?;
        if let Some(days) = input.draft_days.filter(|&d| d > super::grants::MAX_DRAFT_DAYS) {
            return Err(invalid(words!(
                "jours de préparation {days} : au plus {}",
                "preparation days {days}: {} at most",
                super::grants::MAX_DRAFT_DAYS
            )));
        }
        if !row.webhook_url.is_empty() {
            // Checked again at each send (a name may resolve elsewhere later).
            if let Err(refusal) =
                crate::channels::webhook::check_webhook_address(&row.webhook_url, &self.webhook_addresses).await
            {
                tracing::warn!(network = %row.network_id, detail = %refusal, "webhook address refused");
                return Err(AlertingError::Invalid(Words::new(
                    crate::channels::webhook::ADDRESS_REFUSED,
                    "webhook address refused",
                )));
            }
        }
        storage::save_policy(&mut tx, &row, self.now()).await?;
        if let Some(days) = input.draft_days {
            storage::set_draft_days(&mut tx, &row.network_id, days).await?;
        }
        let draft_days = network_draft_days(&mut tx, &row.network_id).await?;
        tx.commit().await?;
        Ok(shown(&row, draft_days))
    }

    /// Sets a structure's (`structure`) or a network's (`network`) preferences.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] without a scope; storage errors.
    pub async fn set_preferences(
        &self,
        scope_kind: &str,
        scope_id: &str,
        themes: Vec<String>,
        audiences: Vec<String>,
        opted_out: bool,
    ) -> Result<(), AlertingError> {
        if scope_id.trim().is_empty() || !matches!(scope_kind, "structure" | "network") {
            return Err(invalid(words!(
                "préciser une structure ou un réseau",
                "give a structure or a network"
            )));
        }
        let themes = themes
            .into_iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        let mut codes: Vec<String> = Vec::new();
        for audience in audiences.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
            if !vigie_alerting_domain::model::AUDIENCE_CODES.contains(&audience) {
                let codes = vigie_alerting_domain::model::AUDIENCE_CODES.join(", ");
                return Err(invalid(words!(
                    "public « {audience} » inconnu : {codes}",
                    "unknown audience “{audience}”: {codes}"
                )));
            }
            codes.push(audience.to_owned());
        }
        codes.sort();
        codes.dedup();
        let mut conn = self.db.pool().acquire().await?;
        storage::save_preferences(
            &mut conn,
            &PreferencesRow {
                scope_kind: scope_kind.to_owned(),
                scope_id: scope_id.trim().to_owned(),
                themes,
                audiences: codes,
                opted_out,
            },
            self.now(),
        )
        .await?;
        Ok(())
    }

    /// Records an acknowledgement: no more reminders for that structure and
    /// call; « déposé » (submitted) records the structure's application for
    /// the call if it has none (docs/grants.md). A change of status (the first one included) appends
    /// `call.acknowledged` in the same transaction; the same status again
    /// records and publishes nothing.
    ///
    /// # Errors
    /// [`AlertingError::NotFound`] for an unknown call or structure; storage errors.
    pub async fn acknowledge(
        &self,
        structure_id: &str,
        call_id: &str,
        action: AckAction,
        via: &str,
    ) -> Result<(), AlertingError> {
        let mut tx = self.db.begin().await?;
        let Some(call) = storage::call(&mut tx, call_id).await? else {
            return Err(AlertingError::NotFound(words!("appel {call_id}", "call {call_id}")));
        };
        if storage::structure_version(&mut tx, structure_id).await?.is_none() {
            return Err(AlertingError::NotFound(words!(
                "structure {structure_id}",
                "structure {structure_id}"
            )));
        }
        let now = self.now();
        let changed = storage::save_ack(&mut tx, structure_id, call_id, action.code(), now, via).await?;
        if action == AckAction::Submitted {
            // « Déposé »: the structure applied (one application per call,
            // whatever the number of acknowledgements).
            super::grants::apply_for_call(&mut tx, structure_id, &call, self.today(), now).await?;
        }
        if changed {
            let event = CallAcknowledged {
                structure_id: structure_id.to_owned(),
                call_id: call_id.to_owned(),
                status: action.code().to_owned(),
                on: Some(date_to_pb(self.today())),
            };
            Outbox::new(events::SOURCE)
                .append(&mut tx, events::call_acknowledged(&event))
                .await
                .map_err(|e| AlertingError::Events(e.to_string()))?;
        }
        tx.commit().await?;
        if changed {
            self.relay.notify_one();
        }
        Ok(())
    }

    /// Stops emails to a recipient (the List-Unsubscribe link).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn unsubscribe(&self, recipient: &str) -> Result<(), AlertingError> {
        let person = recipient.strip_prefix("person:");
        let mut conn = self.db.pool().acquire().await?;
        storage::save_unsubscribed(&mut conn, recipient, person, self.now()).await?;
        Ok(())
    }

    /// The secret calendar URL of a structure or a network, of the scope's
    /// current generation.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn feed_url(&self, kind: FeedKind, id: &str) -> Result<String, AlertingError> {
        let mut conn = self.db.pool().acquire().await?;
        let generation = storage::feed_generation(&mut conn, kind.code(), id).await?;
        Ok(self.feed_url_of(kind, id, generation))
    }

    /// Revokes every calendar URL of a structure or a network: bumps the
    /// scope's generation, so the URLs issued so far answer "unknown link";
    /// returns the new URL.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn revoke_feed_url(&self, kind: FeedKind, id: &str) -> Result<String, AlertingError> {
        let mut tx = self.db.begin().await?;
        let generation = storage::bump_feed_generation(&mut tx, kind.code(), id, self.now()).await?;
        tx.commit().await?;
        tracing::info!(scope = kind.code(), generation, "feed urls revoked");
        Ok(self.feed_url_of(kind, id, generation))
    }

    fn feed_url_of(&self, kind: FeedKind, id: &str, generation: u64) -> String {
        format!(
            "{}/calendar/{}.ics",
            self.settings.public_url.trim_end_matches('/'),
            self.links.feed_token(kind, id, generation)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PolicyInput {
        PolicyInput {
            network: "reseau-bretagne".into(),
            ..PolicyInput::default()
        }
    }

    #[test]
    fn defaults_fill_empty_fields() {
        let row = validate(&input(), "").unwrap();
        assert_eq!(row.offsets, vec![30, 14, 7, 2]);
        assert_eq!(row.local_hour, "09:00");
        assert_eq!(row.timezone, "Europe/Paris");
    }

    #[test]
    fn offsets_sorted_and_deduplicated() {
        let row = validate(
            &PolicyInput {
                offsets_days: vec![7, 21, 7, 1],
                ..input()
            },
            "",
        )
        .unwrap();
        assert_eq!(row.offsets, vec![21, 7, 1]);
    }

    #[test]
    fn invalid_fields_are_named_in_french() {
        let err = |i: PolicyInput| validate(&i, "").unwrap_err().to_string();
        assert!(err(PolicyInput {
            local_hour: "9h".into(),
            ..input()
        })
        .contains("heure d'envoi"));
        assert!(err(PolicyInput {
            timezone: "Paris".into(),
            ..input()
        })
        .contains("fuseau"));
        assert!(err(PolicyInput {
            referent_email: "pas une adresse".into(),
            ..input()
        })
        .contains("référent"));
        assert!(err(PolicyInput {
            webhook_url: "ftp://x".into(),
            ..input()
        })
        .contains("webhook"));
        assert!(err(PolicyInput {
            webhook_url: "https://x.org/h".into(),
            webhook_secret: "court".into(),
            ..input()
        })
        .contains("secret"));
        assert!(err(PolicyInput {
            offsets_days: vec![400],
            ..input()
        })
        .contains("366"));
        assert!(err(PolicyInput {
            network: " ".into(),
            ..input()
        })
        .contains("réseau"));
    }

    #[test]
    fn an_empty_secret_keeps_the_current_one() {
        let row = validate(
            &PolicyInput {
                webhook_url: "https://x.org/h".into(),
                ..input()
            },
            "0123456789abcdef",
        )
        .unwrap();
        assert_eq!(row.webhook_secret, "0123456789abcdef");
    }
}
