//! Everything the planner needs, loaded once per pass: the structures with
//! their recipients and territory, the networks' policies and contacts,
//! preferences, acknowledgements and unsubscriptions.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, NaiveTime};
use prost::Message;
use vigie_alerting_domain::grants::remind::REPORTING_FUNCTION;
use vigie_alerting_domain::matching::{self, CallProfile, MatchIndex, Preferences, StructureProfile};
use vigie_alerting_domain::plan::{NetworkContacts, Recipient, RecipientKind, StructureRecipients, FUNDING_FUNCTION};
use vigie_alerting_domain::reminders::ReminderPolicy;
use vigie_alerting_domain::territory::{Place, Territory};
use vigie_fragility_model::fragility::FragilityParams;
use vigie_fragility_model::holding;
use vigie_proto::inventory::v1 as pb;

use super::views::CallRecord;
use crate::convert::date_from_pb;
use crate::error::AlertingError;
use crate::storage::{self, PolicyRow, StructureRow};

/// A structure with what reminders need.
#[derive(Debug, Clone)]
pub struct StructureView {
    /// Its name.
    pub name: String,
    /// Territory, network and legal form.
    pub profile: StructureProfile,
    /// Holders of `funding_applications`, directors and the holders' end
    /// dates: the recipients of calls' reminders.
    pub recipients: StructureRecipients,
    /// The same for `funder_reporting`: the recipients of reporting duties'
    /// reminders (issue 16); `None` when the context was loaded without them
    /// ([`Detail::Calls`]: 88 bytes a structure saved).
    reporting: Option<Box<StructureRecipients>>,
}

/// The recipients of a structure loaded without those of reporting duties.
static NO_RECIPIENTS: StructureRecipients = StructureRecipients {
    structure_id: String::new(),
    network: String::new(),
    people: Vec::new(),
    holder_end_dates: Vec::new(),
};

impl StructureView {
    /// The recipients of reporting duties' reminders (none when the context
    /// was loaded with [`Detail::Calls`]).
    #[must_use]
    pub fn reporting(&self) -> &StructureRecipients {
        self.reporting.as_deref().unwrap_or(&NO_RECIPIENTS)
    }
}

/// A network's reminder policy and contacts.
#[derive(Debug, Clone, Default)]
pub struct NetworkSettings {
    /// When reminders go out.
    pub policy: ReminderPolicy,
    /// Referent and webhook.
    pub contacts: NetworkContacts,
    /// Webhook secret.
    pub webhook_secret: String,
}

/// What a [`Context`] keeps of each structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail<'a> {
    /// Everything: name, calls' and reporting duties' recipients.
    Full,
    /// Everything, but the recipients of reporting duties only for these
    /// structures (a claim pass: those with an open duty; the others' would
    /// be read by nobody — half of a whole instance's context).
    ReportingOf(&'a HashSet<String>),
    /// What the reminders of calls need (the preview): no name, no
    /// recipients of reporting duties — a fifth of a whole instance's context.
    Calls,
}

impl Detail<'_> {
    /// Whether the reporting recipients of `structure_id` are kept.
    fn reporting(&self, structure_id: &str) -> bool {
        match self {
            Detail::Full => true,
            Detail::ReportingOf(ids) => ids.contains(structure_id),
            Detail::Calls => false,
        }
    }
}

/// Which structures a [`Context`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every structure (the dispatcher, previews of the whole instance, every call).
    All,
    /// One structure.
    Structure(&'a str),
    /// The structures of one network (its calendar, the calls of its page).
    Network(&'a str),
}

impl<'a> From<Option<&'a str>> for Scope<'a> {
    fn from(structure: Option<&'a str>) -> Self {
        structure.map_or(Scope::All, Scope::Structure)
    }
}

/// One planning pass's view of the database.
pub struct Context {
    /// Structures, by index of the match index.
    pub structures: Vec<StructureView>,
    /// Indices of `structures` sorted by structure id: found by binary
    /// search, where a map would hold a third copy of every id (16 MB for
    /// 200,000 structures).
    by_id: Vec<u32>,
    index: MatchIndex,
    networks: BTreeMap<String, NetworkSettings>,
    default_network: NetworkSettings,
    /// Per structure, its matching class: an index into `classes`.
    class_of: Vec<usize>,
    /// The distinct (legal form, effective preferences) of the structures,
    /// each with one structure that has it. Apart from territory, whether a
    /// call matches a structure depends on nothing else, so a call is
    /// checked once per class (a few hundred) instead of once per candidate
    /// structure (thousands), with no string hashing per pair.
    classes: Vec<(usize, Preferences)>,
    /// `structure_id` → `call_id` → acknowledgement status (looked up by
    /// `&str`: nothing allocated per pair).
    acks: HashMap<String, HashMap<String, String>>,
    unsubscribed: HashSet<String>,
}

fn too_many() -> AlertingError {
    AlertingError::Invalid(vigie_platform::words!(
        "plus de 4 milliards de structures : instance trop grande",
        "more than 4 billion structures: instance too large"
    ))
}

/// The reminder policy of a stored row (invalid values fall back to the defaults; they are validated on input).
pub fn network_settings(row: &PolicyRow) -> NetworkSettings {
    let default = ReminderPolicy::default();
    NetworkSettings {
        policy: ReminderPolicy {
            offsets_days: if row.offsets.is_empty() {
                default.offsets_days
            } else {
                row.offsets.clone()
            },
            local_hour: NaiveTime::parse_from_str(&row.local_hour, "%H:%M").unwrap_or(default.local_hour),
            timezone: row.timezone.parse().unwrap_or(default.timezone),
        },
        contacts: NetworkContacts {
            referent_name: row.referent_name.clone(),
            referent_email: row.referent_email.clone(),
            webhook_url: row.webhook_url.clone(),
        },
        webhook_secret: row.webhook_secret.clone(),
    }
}

/// The structure snapshot of a read-model row.
///
/// # Errors
/// [`AlertingError::Storage`] for an undecodable snapshot.
pub fn snapshot(row: &StructureRow) -> Result<pb::Structure, AlertingError> {
    pb::Structure::decode(row.snapshot.as_slice())
        .map_err(|_| storage::StorageError::corrupt("al_structures", "snapshot", &row.structure_id).into())
}

/// Whether a person is still there on `today` (no end date, or not past:
/// the index's rule, `holding::is_active`).
fn active(p: &pb::Person, today: NaiveDate) -> bool {
    holding::is_active(end_date(p), today)
}

/// A person's end date, if any.
pub fn end_date(p: &pb::Person) -> Option<NaiveDate> {
    p.end_date.as_ref().and_then(date_from_pb)
}

/// The people who hold `function` in a structure on `today`, one per
/// holding, by the fragility index's own rule (`holding::holds`, with the
/// instance's `params`): level ≥ 3, practised within `recency_days` (or
/// never dated), not gone. Changing the recency setting thus moves the
/// recipients with the index. The one rule for every function reminders and
/// views look at (`funding_applications` for calls, `funder_reporting` for
/// the duties of grants).
pub fn holders<'s>(
    snapshot: &'s pb::Structure,
    function: &str,
    today: NaiveDate,
    params: &FragilityParams,
) -> Vec<&'s pb::Person> {
    let people: HashMap<&str, &pb::Person> = snapshot.people.iter().map(|p| (p.person_id.as_str(), p)).collect();
    snapshot
        .holdings
        .iter()
        .filter(|h| h.function == function)
        .filter_map(|h| people.get(h.person_id.as_str()).map(|p| (h, *p)))
        .filter(|(h, p)| {
            // A level beyond u8 (never written by the inventory) still holds.
            let level = u8::try_from(h.level).unwrap_or(u8::MAX);
            let last_practised = h.last_practised.as_ref().and_then(date_from_pb);
            holding::holds(level, last_practised, end_date(p), today, params)
        })
        .map(|(_, p)| p)
        .collect()
}

/// The structure's view from its read-model row, on `today`.
///
/// # Errors
/// [`AlertingError::Storage`] for an undecodable snapshot.
pub fn structure_view(
    row: &StructureRow,
    today: NaiveDate,
    detail: Detail<'_>,
    params: &FragilityParams,
) -> Result<StructureView, AlertingError> {
    let snapshot = snapshot(row)?;
    let recipients = holders_and_directors(row, &snapshot, FUNDING_FUNCTION, today, params);
    let reporting = detail
        .reporting(&row.structure_id)
        .then(|| Box::new(holders_and_directors(row, &snapshot, REPORTING_FUNCTION, today, params)));
    let place = Place {
        commune: Some(row.commune_insee.clone()).filter(|c| !c.is_empty()),
        department: Some(row.department_code.clone()).filter(|c| !c.is_empty()),
        region: Some(row.region_code.clone()).filter(|c| !c.is_empty()),
    };
    Ok(StructureView {
        name: match detail {
            Detail::Full | Detail::ReportingOf(_) => snapshot.name.clone(),
            Detail::Calls => String::new(),
        },
        profile: StructureProfile {
            structure_id: row.structure_id.clone(),
            network: row.network_id.clone(),
            legal_form: row.legal_form.clone(),
            place,
        },
        recipients,
        reporting,
    })
}

/// The people to remind of what rests on the vital function `function`:
/// its [`holders`] and the directors, with an email address, deduplicated;
/// and the holders' end dates (escalation).
fn holders_and_directors(
    row: &StructureRow,
    snapshot: &pb::Structure,
    function: &str,
    today: NaiveDate,
    params: &FragilityParams,
) -> StructureRecipients {
    let mut holder_end_dates = Vec::new();
    let mut recipients: Vec<Recipient> = Vec::new();
    let push = |p: &pb::Person, kind: RecipientKind, recipients: &mut Vec<Recipient>| {
        let email = p.email.trim();
        if email.is_empty()
            || recipients
                .iter()
                .any(|r| r.person_id.as_deref() == Some(p.person_id.as_str()))
        {
            return;
        }
        recipients.push(Recipient {
            id: format!("person:{}", p.person_id),
            kind,
            person_id: Some(p.person_id.clone()),
            name: p.display_name.clone(),
            channel: "email",
            address: email.to_owned(),
        });
    };
    for person in holders(snapshot, function, today, params) {
        holder_end_dates.push(end_date(person));
        push(person, RecipientKind::Holder, &mut recipients);
    }
    for person in snapshot
        .people
        .iter()
        .filter(|p| p.role == "director" && active(p, today))
    {
        push(person, RecipientKind::Director, &mut recipients);
    }
    StructureRecipients {
        structure_id: row.structure_id.clone(),
        network: row.network_id.clone(),
        people: recipients,
        holder_end_dates,
    }
}

/// What matching needs to know of a call.
pub fn call_profile(call: &CallRecord) -> CallProfile {
    CallProfile {
        call_id: call.call_id.clone(),
        audiences: call.audiences.clone(),
        themes: call.themes.clone(),
        areas: call.areas.clone(),
        exclusions: call.exclusions.clone(),
    }
}

/// Each structure's matching class, and the classes: the distinct pairs of
/// legal form and effective preferences (its network's, overridden by its
/// own), each with the first structure that has it.
fn matching_classes(
    structures: &[StructureView],
    network_prefs: &HashMap<String, Preferences>,
    structure_prefs: &HashMap<String, Preferences>,
) -> (Vec<usize>, Vec<(usize, Preferences)>) {
    let mut ids: HashMap<(&str, Preferences), usize> = HashMap::new();
    let mut classes = Vec::new();
    let class_of = structures
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = &s.profile;
            let prefs = Preferences::effective(network_prefs.get(&s.network), structure_prefs.get(&s.structure_id));
            *ids.entry((s.legal_form.as_str(), prefs.clone())).or_insert_with(|| {
                classes.push((i, prefs));
                classes.len() - 1
            })
        })
        .collect();
    (class_of, classes)
}

impl Context {
    /// Loads the context from the database on `today`, for the structures of
    /// `scope`, their recipients picked by the holding rule under `params`.
    ///
    /// # Errors
    /// [`AlertingError::Storage`] on a database error.
    pub async fn load(
        conn: &mut sqlx::AnyConnection,
        today: NaiveDate,
        scope: Scope<'_>,
        territory: &Territory,
        params: &FragilityParams,
    ) -> Result<Context, AlertingError> {
        Context::load_with(conn, today, scope, territory, Detail::Full, params).await
    }

    /// [`Context::load`], keeping only `detail` of each structure.
    ///
    /// # Errors
    /// [`AlertingError::Storage`] on a database error.
    pub async fn load_with(
        conn: &mut sqlx::AnyConnection,
        today: NaiveDate,
        scope: Scope<'_>,
        territory: &Territory,
        detail: Detail<'_>,
        params: &FragilityParams,
    ) -> Result<Context, AlertingError> {
        let mut structures = Vec::new();
        if scope == Scope::All {
            structures.reserve_exact(storage::structure_count(conn).await?);
        }
        // Each snapshot is dropped once its view is taken.
        let mut take = |row: StructureRow| -> Result<(), AlertingError> {
            structures.push(structure_view(&row, today, detail, params)?);
            Ok(())
        };
        match scope {
            Scope::All => storage::for_each_structure(conn, &mut take).await?,
            Scope::Structure(id) => storage::structure(conn, id)
                .await?
                .into_iter()
                .try_for_each(&mut take)?,
            Scope::Network(network) => storage::structures_of_network(conn, network)
                .await?
                .into_iter()
                .try_for_each(&mut take)?,
        }
        let mut by_id: Vec<u32> = (0..u32::try_from(structures.len()).map_err(|_| too_many())?).collect();
        by_id.sort_unstable_by(|&a, &b| {
            structures[a as usize]
                .profile
                .structure_id
                .cmp(&structures[b as usize].profile.structure_id)
        });
        let index = MatchIndex::from_places(structures.iter().map(|s| &s.profile.place), territory);
        let networks = storage::policies(conn)
            .await?
            .iter()
            .map(|row| (row.network_id.clone(), network_settings(row)))
            .collect();
        let mut structure_prefs: HashMap<String, Preferences> = HashMap::new();
        let mut network_prefs: HashMap<String, Preferences> = HashMap::new();
        for p in storage::preferences(conn).await? {
            let prefs = Preferences {
                themes: p.themes,
                audiences: p.audiences,
                opted_out: p.opted_out,
            };
            if p.scope_kind == "structure" {
                structure_prefs.insert(p.scope_id, prefs);
            } else {
                network_prefs.insert(p.scope_id, prefs);
            }
        }
        let (class_of, classes) = matching_classes(&structures, &network_prefs, &structure_prefs);
        let mut acks: HashMap<String, HashMap<String, String>> = HashMap::new();
        for (structure, call, status) in storage::acks(conn).await? {
            acks.entry(structure).or_default().insert(call, status);
        }
        let unsubscribed = storage::unsubscribed(conn).await?.into_iter().collect();
        Ok(Context {
            structures,
            by_id,
            index,
            networks,
            default_network: NetworkSettings::default(),
            class_of,
            classes,
            acks,
            unsubscribed,
        })
    }

    /// The index of a structure.
    pub fn position(&self, structure_id: &str) -> Option<usize> {
        self.by_id
            .binary_search_by(|&i| {
                self.structures[i as usize]
                    .profile
                    .structure_id
                    .as_str()
                    .cmp(structure_id)
            })
            .ok()
            .map(|k| self.by_id[k] as usize)
    }

    /// Every reminder policy of the instance: the networks' and the default.
    pub fn policies(&self) -> impl Iterator<Item = &ReminderPolicy> {
        self.networks
            .values()
            .chain(std::iter::once(&self.default_network))
            .map(|n| &n.policy)
    }

    /// A network's settings (defaults when none were set).
    pub fn network(&self, network: &str) -> &NetworkSettings {
        self.networks.get(network).unwrap_or(&self.default_network)
    }

    /// The structures a call matches (territory, audience, preferences), by index.
    pub fn matching(&self, call: &CallRecord, territory: &Territory) -> Vec<usize> {
        if !call.unresolved.is_empty() || call.areas.is_empty() {
            return Vec::new();
        }
        let profile = call_profile(call);
        let candidates = self.index.candidates(&profile, territory);
        // Each class checked at most once for this call, when a candidate has it.
        let mut verdicts: Vec<Option<bool>> = vec![None; self.classes.len()];
        candidates
            .into_iter()
            .filter(|&i| {
                let class = self.class_of[i];
                *verdicts[class].get_or_insert_with(|| {
                    let (example, prefs) = &self.classes[class];
                    matching::matches_without_territory(&profile, &self.structures[*example].profile, prefs)
                })
            })
            .collect()
    }

    /// Whether a call matches the structure at index `i` (territory, audience, preferences).
    /// `profile` is the call's [`call_profile`], computed once per call.
    pub fn matches_profile(&self, call: &CallRecord, profile: &CallProfile, i: usize, territory: &Territory) -> bool {
        if !call.unresolved.is_empty() || call.areas.is_empty() {
            return false;
        }
        let (_, prefs) = &self.classes[self.class_of[i]];
        matching::matches(profile, &self.structures[i].profile, prefs, territory)
    }

    /// Whether a structure acknowledged a call (then nothing more is sent about it).
    pub fn acknowledged(&self, structure_id: &str, call_id: &str) -> Option<&str> {
        if self.acks.is_empty() {
            // The common case, asked once per matched pair: not even a hash.
            return None;
        }
        self.acks
            .get(structure_id)
            .and_then(|calls| calls.get(call_id))
            .map(String::as_str)
    }

    /// Whether a recipient unsubscribed from emails.
    pub fn unsubscribed(&self, recipient: &str) -> bool {
        self.unsubscribed
            .contains(vigie_alerting_domain::plan::unsubscribe_identity(recipient))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::Detail;

    #[test]
    fn reporting_recipients_are_kept_as_the_detail_says() {
        let open = HashSet::from(["S2".to_owned()]);
        for (detail, s1, s2) in [
            (Detail::Full, true, true),
            (Detail::ReportingOf(&open), false, true),
            (Detail::Calls, false, false),
        ] {
            assert_eq!(detail.reporting("S1"), s1, "{detail:?} S1");
            assert_eq!(detail.reporting("S2"), s2, "{detail:?} S2");
        }
    }
}
