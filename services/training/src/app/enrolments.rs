//! Enrolments: seats taken atomically, a waiting list that moves up on
//! cancellation, no double enrolment, completion that raises competences in
//! the inventory (through the `training.enrolment.completed` event).

use chrono::NaiveDate;
use vigie_platform::words;
use vigie_platform::words::Words;
use vigie_proto::dates::date_to_pb;
use vigie_proto::events::v1::{HoldingRaise, TrainingCompleted};

use crate::error::TrainingError;
use crate::events;
use crate::storage::{self, EnrolmentRow};

use super::TrainingApp;

/// An enrolment as shown to callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentView {
    /// The stored row.
    pub row: EnrolmentRow,
    /// Position on the waiting list (1 = next) when waitlisted.
    pub waiting_position: Option<u32>,
}

/// How an enrolment is named in an answer (« inscription de « P » à « S » »):
/// the same words whether it is unknown or outside the caller's reach.
pub(crate) fn enrolment_words(session_id: &str, person_id: &str) -> Words {
    words!(
        "inscription de « {person_id} » à « {session_id} »",
        "enrolment of “{person_id}” in “{session_id}”"
    )
}

const ENROLLED: &str = "enrolled";
const WAITLISTED: &str = "waitlisted";
const CANCELLED: &str = "cancelled";
const COMPLETED: &str = "completed";

impl TrainingApp {
    /// Enrols a person in a session, or puts them on the waiting list when it
    /// is full.
    ///
    /// # Errors
    /// [`TrainingError::NotFound`] for an unknown session or person;
    /// [`TrainingError::Conflict`] when already enrolled, waiting or done.
    pub async fn enrol(&self, session_id: &str, person_id: &str) -> Result<EnrolmentView, TrainingError> {
        let mut tx = self.db.begin().await?;
        storage::lock_session(&mut tx, session_id).await?;
        storage::session(&mut tx, session_id)
            .await?
            .ok_or_else(|| TrainingError::NotFound(words!("session « {session_id} »", "session “{session_id}”")))?;
        let (structure_id, network_id) = storage::person(&mut tx, person_id).await?.ok_or_else(|| {
            TrainingError::NotFound(words!(
                "personne « {person_id} » (absente de l'inventaire)",
                "person “{person_id}” (not in the inventory)"
            ))
        })?;
        if let Some(existing) = storage::enrolment(&mut tx, session_id, person_id).await? {
            if existing.status != CANCELLED {
                return Err(TrainingError::Conflict(Words::new(
                    format!(
                        "« {person_id} » est déjà inscrit·e à la session « {session_id} » ({})",
                        status_fr(&existing.status)
                    ),
                    format!(
                        "“{person_id}” is already enrolled in session “{session_id}” ({})",
                        status_en(&existing.status)
                    ),
                )));
            }
        }
        let seated = storage::take_seat(&mut tx, session_id).await?;
        let row = EnrolmentRow {
            session_id: session_id.to_owned(),
            person_id: person_id.to_owned(),
            structure_id,
            network_id,
            status: if seated { ENROLLED } else { WAITLISTED }.to_owned(),
            waitlist_seq: if seated {
                0
            } else {
                storage::next_waitlist_seq(&mut tx, session_id).await?
            },
            completed_on: None,
        };
        storage::save_enrolment(&mut tx, &row).await?;
        let waiting_position = if seated {
            None
        } else {
            Some(storage::waiting_position(&mut tx, &row).await?)
        };
        tx.commit().await?;
        Ok(EnrolmentView { row, waiting_position })
    }

    /// Cancels an enrolment; when it held a seat, the first person waiting
    /// takes it. Returns the cancelled enrolment and the promoted one.
    ///
    /// # Errors
    /// [`TrainingError::NotFound`] without such an enrolment;
    /// [`TrainingError::Conflict`] when it is already cancelled or completed.
    pub async fn cancel(
        &self,
        session_id: &str,
        person_id: &str,
    ) -> Result<(EnrolmentView, Option<EnrolmentView>), TrainingError> {
        let mut tx = self.db.begin().await?;
        storage::lock_session(&mut tx, session_id).await?;
        let mut row = storage::enrolment(&mut tx, session_id, person_id)
            .await?
            .ok_or_else(|| TrainingError::NotFound(enrolment_words(session_id, person_id)))?;
        if row.status == CANCELLED || row.status == COMPLETED {
            return Err(TrainingError::Conflict(Words::new(
                format!("inscription déjà {}", status_fr(&row.status)),
                format!("enrolment already {}", status_en(&row.status)),
            )));
        }
        let held_seat = row.status == ENROLLED;
        row.status = CANCELLED.to_owned();
        storage::save_enrolment(&mut tx, &row).await?;
        let mut promoted = None;
        if held_seat {
            storage::release_seat(&mut tx, session_id).await?;
            if let Some(mut next) = storage::first_waiting(&mut tx, session_id).await? {
                if storage::take_seat(&mut tx, session_id).await? {
                    next.status = ENROLLED.to_owned();
                    storage::save_enrolment(&mut tx, &next).await?;
                    promoted = Some(EnrolmentView {
                        row: next,
                        waiting_position: None,
                    });
                }
            }
        }
        tx.commit().await?;
        Ok((
            EnrolmentView {
                row,
                waiting_position: None,
            },
            promoted,
        ))
    }

    /// Records that a person completed a session (on `on`, default the
    /// session's last local day) and publishes the event that raises their
    /// holdings in the inventory. Completing twice changes nothing.
    ///
    /// # Errors
    /// [`TrainingError::NotFound`] without such an enrolment;
    /// [`TrainingError::Conflict`] when the person is not enrolled (waiting
    /// or cancelled).
    pub async fn complete(
        &self,
        session_id: &str,
        person_id: &str,
        on: Option<NaiveDate>,
    ) -> Result<EnrolmentView, TrainingError> {
        let mut tx = self.db.begin().await?;
        storage::lock_session(&mut tx, session_id).await?;
        let session = storage::session(&mut tx, session_id)
            .await?
            .ok_or_else(|| TrainingError::NotFound(words!("session « {session_id} »", "session “{session_id}”")))?;
        let mut row = storage::enrolment(&mut tx, session_id, person_id)
            .await?
            .ok_or_else(|| TrainingError::NotFound(enrolment_words(session_id, person_id)))?;
        if row.status == COMPLETED {
            return Ok(EnrolmentView {
                row,
                waiting_position: None,
            });
        }
        if row.status != ENROLLED {
            return Err(TrainingError::Conflict(Words::new(
                format!(
                    "« {person_id} » n'a pas de place dans cette session ({})",
                    status_fr(&row.status)
                ),
                format!("“{person_id}” has no seat in this session ({})", status_en(&row.status)),
            )));
        }
        let completed_on = on.unwrap_or_else(|| session.session.ends_on());
        row.status = COMPLETED.to_owned();
        row.completed_on = Some(completed_on);
        storage::save_enrolment(&mut tx, &row).await?;
        let trainings = storage::trainings(&mut tx).await?;
        let raises = trainings
            .iter()
            .find(|t| t.id == session.session.training_id)
            .map(|t| {
                t.targets
                    .iter()
                    .map(|target| HoldingRaise {
                        function: target.function.clone(),
                        level: u32::from(target.goal_level),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let event = TrainingCompleted {
            session_id: session_id.to_owned(),
            training_id: session.session.training_id.clone(),
            person_id: person_id.to_owned(),
            structure_id: row.structure_id.clone(),
            completed_on: Some(date_to_pb(completed_on)),
            raises,
        };
        vigie_platform::events::Outbox::new(events::SOURCE)
            .append(&mut tx, events::training_completed(&event))
            .await
            .map_err(|e| TrainingError::Events(e.to_string()))?;
        tx.commit().await?;
        self.relay.notify_one();
        Ok(EnrolmentView {
            row,
            waiting_position: None,
        })
    }
}

/// A status in French, for messages.
pub fn status_fr(status: &str) -> &str {
    match status {
        ENROLLED => "inscrit·e",
        WAITLISTED => "en liste d'attente",
        CANCELLED => "annulée",
        COMPLETED => "formation suivie",
        other => other,
    }
}

/// An enrolment status in English words, for `--lang en`.
pub fn status_en(status: &str) -> &str {
    match status {
        ENROLLED => "enrolled",
        WAITLISTED => "on the waiting list",
        CANCELLED => "cancelled",
        COMPLETED => "completed",
        other => other,
    }
}
