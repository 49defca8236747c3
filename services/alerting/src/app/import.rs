//! Importing calls: parse with the source's connector, resolve perimeters,
//! then store in one transaction with a new revision for every stage whose
//! date, time or zone changed. The raw payload of each import is kept.

use chrono::{DateTime, Utc};
use ring::digest;
use vigie_alerting_domain::call::{CallDraft, ImportProblem, Parsed, Severity};
use vigie_alerting_domain::connectors::{aides_territoires, etalab, feed};
use vigie_alerting_domain::model::Stage;
use vigie_platform::words;
use vigie_platform::words::Words;

use super::views::{CallRecord, StageRecord};
use super::{AlertingApp, RemoteSource};
use crate::error::AlertingError;
use crate::storage;

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Calls read.
    pub calls: usize,
    /// New calls.
    pub created: usize,
    /// Calls with a changed stage (new revision).
    pub revised: usize,
    /// Calls without any change.
    pub unchanged: usize,
    /// Calls with other changes (title, URLs…).
    pub updated: usize,
    /// Calls newly cancelled.
    pub cancelled: usize,
    /// Pages fetched (remote sources).
    pub pages: u32,
    /// Every problem, errors and warnings.
    pub problems: Vec<ImportProblem>,
}

/// The stable id of a call: `call-` and 16 hex digits of SHA-256(source, ref).
pub fn call_id(source: &str, source_ref: &str) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(source.as_bytes());
    ctx.update(&[0]);
    ctx.update(source_ref.as_bytes());
    let hash = ctx.finish();
    let hex: String = hash.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("call-{hex}")
}

fn same_date(a: &Stage, b: &Stage) -> bool {
    a.date == b.date && a.time == b.time && a.timezone == b.timezone
}

impl AlertingApp {
    /// Imports a file of `source` (`aides-territoires`, `etalab`, `feed:<name>`):
    /// validated first, refused as a whole on any error.
    ///
    /// # Errors
    /// [`AlertingError::Rejected`] with every problem when an item is in error;
    /// [`AlertingError::Invalid`] for an unknown source; storage errors.
    pub async fn import_file(
        &self,
        source: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ImportReport, AlertingError> {
        let parsed = self.parse(source, file_name, bytes)?;
        if parsed.has_errors() {
            return Err(AlertingError::Rejected(parsed.problems));
        }
        self.store(source, file_name, bytes, parsed, 0).await
    }

    /// Fetches a configured remote source now; bad pages and items are reported and skipped.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] for a source that is not configured;
    /// [`AlertingError::Source`] when it cannot be reached at all.
    pub async fn fetch_source(&self, source: &str) -> Result<ImportReport, AlertingError> {
        let Some(remote) = self.settings.sources.get(source).cloned() else {
            return Err(AlertingError::Invalid(words!(
                "source « {source} » non configurée (voir docs/alerting.md, section sources)",
                "source “{source}” not configured (see docs/alerting.md, section sources)"
            )));
        };
        let (parsed, pages, payload) = match remote {
            RemoteSource::AidesTerritoires { base_url, api_key } => {
                let client = crate::sources::aides_territoires::AidesTerritoiresClient::new(&base_url, &api_key)
                    .map_err(|e| AlertingError::Invalid(Words::same(e.to_string())))?;
                let outcome = client
                    .fetch_all(|page, total| tracing::info!(page, ?total, "aides-territoires page fetched"))
                    .await
                    .map_err(|e| AlertingError::Source(e.to_string()))?;
                let payload =
                    serde_json::to_vec(&outcome.parsed.calls.iter().map(|c| c.raw.as_str()).collect::<Vec<_>>())
                        .unwrap_or_default();
                (outcome.parsed, outcome.pages, payload)
            }
            RemoteSource::Feed { url, mapping } => {
                let body = crate::sources::fetch_bytes(&url)
                    .await
                    .map_err(|e| AlertingError::Source(e.to_string()))?;
                (feed::parse_feed(&body, &url, &mapping), 1, body)
            }
        };
        // A remote source skips its bad items: they are reported, the others kept.
        self.store(source, source, &payload, parsed, pages).await
    }

    fn parse(&self, source: &str, file_name: &str, bytes: &[u8]) -> Result<Parsed, AlertingError> {
        match source {
            "aides-territoires" => Ok(aides_territoires::parse_file(
                bytes,
                file_name,
                &self.settings.aides_territoires_base,
            )),
            "etalab" => Ok(etalab::parse_csv(bytes, file_name)),
            _ if source.starts_with("feed:") => match self.settings.feed_mapping(source) {
                Some(mapping) => Ok(feed::parse_feed(bytes, file_name, mapping)),
                None => Err(AlertingError::Invalid(words!(
                    "flux « {source} » inconnu : déclarez sa correspondance dans la configuration (docs/alerting.md)",
                    "unknown feed “{source}”: declare its mapping in the configuration (docs/alerting.md)"
                ))),
            },
            _ => Err(AlertingError::Invalid(words!(
                "source « {source} » inconnue : aides-territoires, etalab ou feed:<nom>",
                "unknown source “{source}”: aides-territoires, etalab or feed:<name>"
            ))),
        }
    }

    async fn store(
        &self,
        source: &str,
        file_name: &str,
        payload: &[u8],
        parsed: Parsed,
        pages: u32,
    ) -> Result<ImportReport, AlertingError> {
        let now = self.now();
        let mut report = ImportReport {
            calls: parsed.calls.len(),
            pages,
            problems: parsed.problems,
            ..ImportReport::default()
        };
        let import_id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.db.begin().await?;
        for draft in parsed.calls {
            let (call, problem) = self.resolve(draft, file_name, now);
            report.problems.extend(problem);
            let previous = storage::call_by_source(&mut tx, &call.source, &call.source_ref).await?;
            self.save(&mut tx, call, previous, &import_id, now, &mut report).await?;
        }
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        storage::save_import(
            &mut tx,
            &import_id,
            source,
            file_name,
            now,
            payload,
            report.calls,
            &problems,
        )
        .await?;
        tx.commit().await?;
        // The dispatcher need not wait for its next tick to remind of new calls.
        self.wake.notify_one();
        Ok(report)
    }

    /// The stored form of a draft, its perimeter resolved (or the reason it cannot be).
    fn resolve(&self, draft: CallDraft, file_name: &str, now: DateTime<Utc>) -> (CallRecord, Option<ImportProblem>) {
        let mut problem = None;
        let (areas, unresolved) = if !draft.perimeter.codes.is_empty() {
            (draft.perimeter.codes.clone(), String::new())
        } else if draft.perimeter.name.trim().is_empty() {
            (Vec::new(), "périmètre absent".to_owned())
        } else {
            match self
                .territory()
                .resolve(&draft.perimeter.name, &draft.perimeter.scale_label)
            {
                Ok(codes) => (codes, String::new()),
                Err(Words { fr, en }) => {
                    problem = Some(ImportProblem {
                        position: format!("{file_name}: appel {}", draft.source_ref),
                        message: words!(
                            "{fr} ; l'appel n'est proposé à aucune structure",
                            "{en}; the call is not offered to any structure"
                        ),
                        severity: Severity::Warning,
                    });
                    // The call keeps the French reason (shown with the call).
                    (Vec::new(), fr)
                }
            }
        };
        let call = CallRecord {
            call_id: call_id(&draft.source, &draft.source_ref),
            source: draft.source,
            source_ref: draft.source_ref,
            title: draft.title,
            funders: draft.funders,
            programmes: draft.programmes,
            info_url: draft.info_url,
            application_url: draft.application_url,
            themes: draft.themes,
            audiences: draft.audiences,
            perimeter_name: draft.perimeter.name,
            perimeter_scale: draft.perimeter.scale_label,
            areas,
            exclusions: draft.perimeter.exclusions,
            unresolved,
            recurrence: draft.recurrence,
            cancelled: draft.cancelled,
            revision: 1,
            raw: draft.raw,
            updated_at: now,
            stages: draft
                .stages
                .into_iter()
                .map(|stage| StageRecord {
                    stage,
                    revision: 1,
                    withdrawn: false,
                    known_since: Some(now),
                })
                .collect(),
        };
        (call, problem)
    }

    async fn save(
        &self,
        conn: &mut sqlx::AnyConnection,
        mut call: CallRecord,
        previous: Option<CallRecord>,
        import_id: &str,
        now: DateTime<Utc>,
        report: &mut ImportReport,
    ) -> Result<(), AlertingError> {
        let Some(previous) = previous else {
            storage::save_call(conn, &call).await?;
            for stage in &call.stages {
                storage::save_stage(conn, &call.call_id, stage, Some((import_id, now))).await?;
            }
            report.created += 1;
            return Ok(());
        };
        let mut revised = Vec::new();
        let mut kept = Vec::new();
        for stage in &mut call.stages {
            match previous.stages.iter().find(|p| p.stage.kind == stage.stage.kind) {
                Some(old) if same_date(&old.stage, &stage.stage) && !old.withdrawn => {
                    stage.revision = old.revision;
                    stage.known_since = old.known_since;
                    if old.stage.wording != stage.stage.wording {
                        kept.push(stage.clone());
                    }
                }
                Some(old) => {
                    stage.revision = old.revision + 1;
                    revised.push(stage.clone());
                }
                None => revised.push(stage.clone()),
            }
        }
        // A stage the source no longer lists is withdrawn (a new revision, shown cancelled in calendars).
        for old in previous.stages.iter().filter(|o| !o.withdrawn) {
            if !call.stages.iter().any(|s| s.stage.kind == old.stage.kind) {
                let withdrawn = StageRecord {
                    stage: old.stage.clone(),
                    revision: old.revision + 1,
                    withdrawn: true,
                    known_since: Some(now),
                };
                revised.push(withdrawn.clone());
                call.stages.push(withdrawn);
            }
        }
        for old in previous.stages.iter().filter(|o| o.withdrawn) {
            if !call.stages.iter().any(|s| s.stage.kind == old.stage.kind) {
                call.stages.push(old.clone());
            }
        }
        call.revision = previous.revision + u32::from(!revised.is_empty());
        let newly_cancelled = call.cancelled && !previous.cancelled;
        let same_fields = CallRecord {
            updated_at: previous.updated_at,
            revision: previous.revision,
            stages: previous.stages.clone(),
            ..call.clone()
        } == previous;
        if revised.is_empty() && kept.is_empty() && same_fields {
            report.unchanged += 1;
            return Ok(());
        }
        storage::save_call(conn, &call).await?;
        for stage in &revised {
            storage::save_stage(conn, &call.call_id, stage, Some((import_id, now))).await?;
        }
        for stage in &kept {
            storage::save_stage(conn, &call.call_id, stage, None).await?;
        }
        if newly_cancelled {
            report.cancelled += 1;
        } else if !revised.is_empty() {
            report.revised += 1;
        } else {
            report.updated += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_are_stable_and_distinct() {
        assert_eq!(call_id("aides-territoires", "123"), call_id("aides-territoires", "123"));
        assert_ne!(call_id("aides-territoires", "123"), call_id("etalab", "123"));
        assert_ne!(call_id("a", "bc"), call_id("ab", "c"));
        assert_eq!(call_id("x", "y").len(), "call-".len() + 16);
    }
}
