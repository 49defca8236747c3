//! Interventions: counted once per key, internal ones close the request;
//! every one publishes its time (`time.recorded`, no person: the federation
//! counts facilitation minutes), and one that leaves a member of the
//! structure autonomous (level ≥ 3) on the request's function tells the
//! inventory (`intervention.recorded` event).

use chrono::NaiveDate;
use vigie_activity_report as cra;
use vigie_facilitation_domain::model::{parse_themes, ActivityType, Beneficiary, PlaceType};
use vigie_platform::words;
use vigie_proto::events::v1::{FacilitationTimeRecorded, InterventionRecorded};

use super::views::HelpRequest;
use crate::convert::date_to_pb;
use crate::error::FacilitationError;
use crate::events;
use crate::storage::{self, InterventionRow};

use super::{code_or, FacilitationApp, CLOSED};

/// Level from which a person is autonomous on a function.
pub const AUTONOMOUS: u8 = 3;

/// An intervention to record.
#[derive(Debug, Clone, Default)]
pub struct InterventionInput {
    /// The request it answers.
    pub request_id: String,
    /// Duration.
    pub minutes: u32,
    /// internal or external.
    pub beneficiary: String,
    /// The member of the structure helped (internal only).
    pub person_id: Option<String>,
    /// Their autonomy on the request's function afterwards (0–4).
    pub autonomy_after: Option<u8>,
    /// Their autonomy before the intervention (0–4).
    pub autonomy_before: Option<u8>,
    /// CRA `TypeActivite`: individuel (default) or collectif.
    pub activity_type: Option<String>,
    /// CRA `TypeLieu`: lieu_activite, domicile, a_distance, autre (default).
    pub place: Option<String>,
    /// CRA `Thematique` codes (validated; may be empty).
    pub themes: Vec<String>,
    /// Date (today by default).
    pub on: Option<NaiveDate>,
    /// Idempotency key (derived from the other fields when absent).
    pub key: Option<String>,
}

/// What recording did.
#[derive(Debug, Clone)]
pub struct InterventionOutcome {
    /// The key it is counted under.
    pub key: String,
    /// False when the key was already recorded: nothing counted twice.
    pub recorded: bool,
    /// The request afterwards.
    pub request: HelpRequest,
    /// Whether the inventory is told that the person became autonomous.
    pub autonomy_published: bool,
}

impl FacilitationApp {
    /// Records an intervention on a request, once per key.
    ///
    /// # Errors
    /// [`FacilitationError::NotFound`] for an unknown request or a person
    /// who is not a member of the structure; [`FacilitationError::Invalid`]
    /// for a malformed intervention; [`FacilitationError::Conflict`] when the
    /// request has no facilitator.
    pub async fn record_intervention(
        &self,
        input: InterventionInput,
    ) -> Result<InterventionOutcome, FacilitationError> {
        let request_id = input.request_id.trim().to_owned();
        if input.minutes == 0 {
            return Err(FacilitationError::Invalid(words!(
                "la durée (en minutes) doit être positive",
                "the duration (in minutes) must be positive"
            )));
        }
        let text = input.beneficiary.trim();
        let beneficiary = text.parse::<Beneficiary>().map_err(|_| {
            FacilitationError::Invalid(words!(
                "bénéficiaire « {text} » inconnu (internal, external)",
                "unknown beneficiary “{text}” (internal, external)"
            ))
        })?;
        let internal = beneficiary == Beneficiary::Internal;
        let person = input
            .person_id
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        let activity_type = code_or(input.activity_type.as_deref(), ActivityType::Individuel, |text| {
            words!(
                "type d'activité « {text} » inconnu (individuel, collectif)",
                "unknown activity type “{text}” (individuel, collectif)"
            )
        })?;
        let place = code_or(input.place.as_deref(), PlaceType::Autre, |text| {
            words!(
                "lieu « {text} » inconnu (lieu_activite, domicile, a_distance, autre)",
                "unknown place “{text}” (lieu_activite, domicile, a_distance, autre)"
            )
        })?;
        let themes = parse_themes(&input.themes).map_err(|e| {
            let codes = cra::codes(cra::THEMES).collect::<Vec<_>>().join(", ");
            FacilitationError::Invalid(words!(
                "thématique « {} » inconnue (codes du CRA : {codes})",
                "unknown theme “{}” (CRA codes: {codes})",
                e.value
            ))
        })?;
        for level in [input.autonomy_before, input.autonomy_after].into_iter().flatten() {
            if level > 4 {
                return Err(FacilitationError::Invalid(words!(
                    "niveau d'autonomie {level} invalide (0 à 4)",
                    "invalid autonomy level {level} (0 to 4)"
                )));
            }
            if person.is_none() {
                return Err(FacilitationError::Invalid(words!(
                    "le niveau d'autonomie se note pour une personne (--person)",
                    "an autonomy level is recorded for a person (--person)"
                )));
            }
        }
        if person.is_some() && !internal {
            return Err(FacilitationError::Invalid(words!(
                "une personne de la structure ne se note que pour un besoin interne (--beneficiary internal)",
                "a person of the structure is only recorded for an internal need (--beneficiary internal)"
            )));
        }
        let on = input.on.unwrap_or_else(|| self.today());
        let key = input
            .key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!(
                    "{request_id}/{on}/{}/{}/{}/{}",
                    beneficiary.as_str(),
                    input.minutes,
                    person.as_deref().unwrap_or("-"),
                    input.autonomy_after.map_or_else(|| "-".to_owned(), |l| l.to_string())
                )
            });

        let mut tx = self.db.begin().await?;
        if !storage::lock_request(&mut tx, &request_id).await? {
            return Err(FacilitationError::NotFound(words!(
                "demande « {request_id} »",
                "request “{request_id}”"
            )));
        }
        let mut request = storage::request(&mut tx, &request_id)
            .await?
            .ok_or_else(|| FacilitationError::NotFound(words!("demande « {request_id} »", "request “{request_id}”")))?;
        if storage::intervention_exists(&mut tx, &key).await? {
            return Ok(InterventionOutcome {
                key,
                recorded: false,
                request,
                autonomy_published: false,
            });
        }
        let Some(facilitator) = request.facilitator_id.clone() else {
            return Err(FacilitationError::Conflict(words!(
                "la demande « {request_id} » n'a pas de facilitateur : rien à enregistrer",
                "request “{request_id}” has no facilitator: nothing to record"
            )));
        };
        if let Some(person) = &person {
            let member = storage::person_structure(&mut tx, person).await?;
            if member.as_deref() != Some(request.structure_id.as_str()) {
                return Err(FacilitationError::NotFound(words!(
                    "personne « {person} » dans la structure « {} »",
                    "person “{person}” in structure “{}”",
                    request.structure_id
                )));
            }
        }
        let row = InterventionRow {
            key: key.clone(),
            request_id: request_id.clone(),
            facilitator_id: facilitator.clone(),
            structure_id: request.structure_id.clone(),
            network_id: request.network_id.clone(),
            function: request.function.clone(),
            minutes: input.minutes,
            beneficiary: beneficiary.as_str().to_owned(),
            on,
            person_id: person.clone(),
            autonomy_after: input.autonomy_after,
            autonomy_before: input.autonomy_before,
            activity_type: activity_type.as_str().to_owned(),
            place: place.as_str().to_owned(),
            themes,
        };
        if !storage::insert_intervention(&mut tx, &row).await? {
            // Recorded meanwhile under the same key (serialised by the
            // request lock, so only on a key shared by two requests).
            return Ok(InterventionOutcome {
                key,
                recorded: false,
                request,
                autonomy_published: false,
            });
        }
        if internal {
            request.status = CLOSED.to_owned();
            request.open_key = None;
            request.closed_at = Some(self.now());
            storage::update_request(&mut tx, &request).await?;
        }
        let outbox = vigie_platform::events::Outbox::new(events::SOURCE);
        // Every recorded intervention, internal or external, with or without
        // a person: its time is what the federation aggregates. Reached only
        // after the insert succeeded, so a key recorded before publishes
        // nothing. The key is published opaque: a derived one names the person.
        let time = FacilitationTimeRecorded {
            intervention_key: events::opaque_key(&key),
            structure_id: request.structure_id.clone(),
            network: request.network_id.clone(),
            beneficiary: beneficiary.as_str().to_owned(),
            minutes: input.minutes,
            on: Some(date_to_pb(on)),
        };
        outbox
            .append(&mut tx, events::time_recorded(&time))
            .await
            .map_err(|e| FacilitationError::Events(e.to_string()))?;
        let mut published = false;
        if let (Some(person), Some(level)) = (&person, input.autonomy_after) {
            if level >= AUTONOMOUS {
                let event = InterventionRecorded {
                    intervention_key: key.clone(),
                    request_id: request_id.clone(),
                    facilitator_id: facilitator,
                    structure_id: request.structure_id.clone(),
                    person_id: person.clone(),
                    function: request.function.clone(),
                    autonomy_after: u32::from(level),
                    on: Some(date_to_pb(on)),
                    minutes: input.minutes,
                };
                outbox
                    .append(&mut tx, events::intervention_recorded(&event))
                    .await
                    .map_err(|e| FacilitationError::Events(e.to_string()))?;
                published = true;
            }
        }
        tx.commit().await?;
        // The time event is always there to relay.
        self.relay.notify_one();
        Ok(InterventionOutcome {
            key,
            recorded: true,
            request,
            autonomy_published: published,
        })
    }
}
