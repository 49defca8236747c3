//! The iCalendar feeds of a structure and of a network, at secret URLs: the
//! deadlines of the calls they match and their reporting duties. A
//! URL opens its feed only while its generation is the scope's current one
//! (`vigie alerts feed --revoke` bumps it).

use chrono::Days;
use vigie_alerting_domain::ical::{calendar, CalendarEntry};
use vigie_alerting_domain::model::StageKind;
use vigie_platform::words;

use super::context::{Context, Scope};
use super::views::CallRecord;
use super::AlertingApp;
use crate::channels::links::FeedKind;
use crate::error::AlertingError;
use crate::storage;

/// Calendars keep past deadlines this long (days).
const FEED_HISTORY_DAYS: u64 = 90;

/// French label of a stage kind in a calendar.
fn stage_label(kind: StageKind) -> &'static str {
    match kind {
        StageKind::LetterOfIntent => "Lettre d'intention",
        StageKind::PreDeposit => "Pré-dépôt",
        StageKind::Submission => "Dépôt du dossier",
        StageKind::Internal => "Jalon interne",
    }
}

fn entries(call: &CallRecord) -> Vec<CalendarEntry> {
    call.stages
        .iter()
        .map(|s| CalendarEntry {
            uid: format!("{}-{}@vigie", call.call_id, s.stage.kind.code()),
            summary: format!("{} — {}", stage_label(s.stage.kind), call.title),
            description: [
                (!call.funders.is_empty()).then(|| format!("Financeurs : {}", call.funders.join(", "))),
                (!s.stage.wording.is_empty()).then(|| format!("Source : {}", s.stage.wording)),
                (!call.application_url.is_empty()).then(|| format!("Déposer : {}", call.application_url)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n"),
            url: call.url().to_owned(),
            stage: s.stage.clone(),
            sequence: s.revision.saturating_sub(1) + u32::from(call.cancelled),
            cancelled: call.cancelled || s.withdrawn,
            dtstamp: call.updated_at,
        })
        .collect()
}

impl AlertingApp {
    /// The calendar behind a feed token: the deadlines of the calls matching
    /// the structure, or any structure of the network.
    ///
    /// # Errors
    /// [`AlertingError::NotFound`] for an invalid token or an unknown structure or network.
    pub async fn calendar(&self, token: &str) -> Result<String, AlertingError> {
        let claim = self
            .links
            .verify_feed(token)
            .map_err(|_| AlertingError::NotFound(words!("calendrier", "calendar")))?;
        let (kind, id) = (claim.kind, claim.id);
        let today = self.today();
        let mut conn = self.db.pool().acquire().await?;
        // A revoked URL (of an older generation) is an unknown link.
        if storage::feed_generation(&mut conn, kind.code(), &id).await? != claim.generation {
            return Err(AlertingError::NotFound(words!("calendrier", "calendar")));
        }
        let scope = match kind {
            FeedKind::Structure => Scope::Structure(&id),
            FeedKind::Network => Scope::Network(&id),
        };
        // Only the structures of the feed: a calendar app polls it.
        let ctx = Context::load(&mut conn, today, scope, self.territory(), self.fragility()).await?;
        if ctx.structures.is_empty() {
            return Err(AlertingError::NotFound(words!("calendrier", "calendar")));
        }
        let since = today.checked_sub_days(Days::new(FEED_HISTORY_DAYS)).unwrap_or(today);
        let calls = storage::calls(&mut conn, Some(since)).await?;
        let mut events = Vec::new();
        for call in &calls {
            if !ctx.matching(call, self.territory()).is_empty() {
                events.extend(entries(call));
            }
        }
        // Reporting duties not « envoyé » (issue 16): due and draft dates.
        let structures: Vec<String> = ctx.structures.iter().map(|s| s.profile.structure_id.clone()).collect();
        events.extend(self.duty_calendar_entries(&mut conn, &structures, since).await?);
        let name = match kind {
            FeedKind::Structure => format!("Vigie — échéances de {}", ctx.structures[0].name),
            FeedKind::Network => format!("Vigie — échéances du réseau {id}"),
        };
        Ok(calendar(&name, &events))
    }
}
