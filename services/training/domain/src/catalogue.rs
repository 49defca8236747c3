//! The training catalogue as CSV: `trainings.csv` and `sessions.csv`,
//! validated all or nothing, and written back the same way.
//!
//! Reading (BOM, UTF-8, exact header, quoting, trimming, blank lines, line
//! numbers, [`RowError`]) is the inventory's [`tabular`] reader, so both
//! imports behave and report alike: every problem of both files, each as
//! `FILE:LINE: message` in French, in file order then line order.
//!
//! - `trainings.csv` ([`TRAININGS_HEADER`], required): one row per training
//!   **and** target function. The rows of one training repeat its title,
//!   provider, modality, duration, cost and funding, which must agree (a
//!   disagreement is reported on the later row, naming the training's first
//!   line). Decimals take `.` or the French `,` (quoted, since `,` separates
//!   columns); a duration is whole minutes, a cost whole cents.
//! - `sessions.csv` ([`SESSIONS_HEADER`], may be empty or absent: no
//!   sessions yet): local date-times `YYYY-MM-DDTHH:MM` in the session's IANA
//!   time zone (empty = `Europe/Paris`); a local time skipped by a change of
//!   clocks is refused, an ambiguous one means the earlier instant (see
//!   [`local_to_utc`]).
//!
//! [`tabular`]: vigie_tabular

use crate::model::{local_to_utc, Modality, Session, Training, TrainingTarget, DEFAULT_TIMEZONE};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use vigie_csv_out::push_row;
use vigie_french_ids as ids;
use vigie_tabular::fields::{self, MAX_TEXT_CHARS};
use vigie_tabular::{flush, keep, read_rows, words, FileSpec, Words};

pub use vigie_tabular::RowError;

/// Name of the trainings file of a catalogue.
pub const TRAININGS_FILE: &str = "trainings.csv";
/// Name of the sessions file of a catalogue.
pub const SESSIONS_FILE: &str = "sessions.csv";

/// Columns of `trainings.csv`, in order.
pub const TRAININGS_HEADER: [&str; 10] = [
    "training_id",
    "title",
    "provider",
    "modality",
    "duration_hours",
    "cost_eur",
    "funding",
    "function",
    "prerequisite_level",
    "goal_level",
];
/// Columns of `sessions.csv`, in order.
pub const SESSIONS_HEADER: [&str; 8] = [
    "session_id",
    "training_id",
    "starts_at",
    "ends_at",
    "timezone",
    "commune_insee",
    "remote_url",
    "capacity",
];

/// `chrono` format of the local date-times of `sessions.csv`.
pub const DATE_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// Longest `remote_url` accepted.
pub const MAX_URL_CHARS: usize = 2000;

const TRAININGS: FileSpec = FileSpec::new(TRAININGS_FILE, &TRAININGS_HEADER, true);
const SESSIONS: FileSpec = FileSpec::new(SESSIONS_FILE, &SESSIONS_HEADER, false);

const LEVELS: (&str, &str) = ("0, 1, 2, 3 ou 4", "0, 1, 2, 3 or 4");

/// What the coded columns name, in messages.
const MODALITY: fields::Label = fields::Label::new("modalité", "modality", "inconnue");
const PREREQUISITE_LEVEL: fields::Label = fields::Label::new("niveau prérequis", "prerequisite level", "inconnu");
const GOAL_LEVEL: fields::Label = fields::Label::new("niveau visé", "goal level", "inconnu");

/// The raw bytes of the two files of a catalogue. A file that was not sent
/// is an empty vector: an error for `trainings.csv`, "no sessions" for
/// `sessions.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueFiles {
    /// Content of `trainings.csv`.
    pub trainings: Vec<u8>,
    /// Content of `sessions.csv`.
    pub sessions: Vec<u8>,
}

impl CatalogueFiles {
    /// The buffer for the file called `name` (`trainings.csv` or
    /// `sessions.csv`), or `None` for any other name — lets the server append
    /// streamed chunks without its own name table.
    pub fn file_mut(&mut self, name: &str) -> Option<&mut Vec<u8>> {
        match name {
            TRAININGS_FILE => Some(&mut self.trainings),
            SESSIONS_FILE => Some(&mut self.sessions),
            _ => None,
        }
    }
}

/// A valid catalogue: trainings sorted by id (byte order), each with its
/// targets sorted by function code; sessions sorted by id — so equal inputs
/// give equal values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalogue {
    /// The trainings.
    pub trainings: Vec<Training>,
    /// The sessions, each of a training above.
    pub sessions: Vec<Session>,
}

/// Parses and validates a catalogue. Returns every error of both files, in
/// file order (trainings, then sessions) then line order; nothing is
/// returned unless everything is valid.
///
/// # Errors
///
/// Every problem found, as [`RowError`]s (`FILE:LINE: message`).
pub fn parse_catalogue(files: &CatalogueFiles) -> Result<Catalogue, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut parser = Parser::default();
    // With an unreadable trainings.csv every session would be reported as
    // "unknown training", hiding the one real mistake: skip that check.
    parser.trainings_usable = read_rows(&TRAININGS, &files.trainings, &mut errors, |l, f, e| {
        parser.training_row(l, f, e)
    });
    read_rows(&SESSIONS, &files.sessions, &mut errors, |l, f, e| {
        parser.session_row(l, f, e)
    });
    if errors.is_empty() {
        Ok(parser.finish())
    } else {
        Err(errors)
    }
}

/// Writes a catalogue in the format [`parse_catalogue`] reads (one row per
/// training and target, in the catalogue's order), so that
/// `parse_catalogue(&catalogue_to_csv(&c)) == Ok(c)` for a valid catalogue
/// whose texts do not start with `= + - @` (cells that do are neutralised
/// with a leading `'` by [`vigie_csv_out`], so that a title imported from
/// outside cannot run as a spreadsheet formula).
/// A training without target has no row in this format and is not written.
pub fn catalogue_to_csv(catalogue: &Catalogue) -> CatalogueFiles {
    let mut trainings = String::new();
    push_row(&mut trainings, &TRAININGS_HEADER);
    for t in &catalogue.trainings {
        let duration = t.duration_hours.to_string();
        let cost = t.cost_eur.map(|c| c.to_string()).unwrap_or_default();
        for target in &t.targets {
            let prerequisite = target.prerequisite_level.to_string();
            let goal = target.goal_level.to_string();
            push_row(
                &mut trainings,
                &[
                    &t.id,
                    &t.title,
                    &t.provider,
                    t.modality.as_str(),
                    &duration,
                    &cost,
                    &t.funding,
                    &target.function,
                    &prerequisite,
                    &goal,
                ],
            );
        }
    }
    let mut sessions = String::new();
    push_row(&mut sessions, &SESSIONS_HEADER);
    for s in &catalogue.sessions {
        let starts = s.starts_at.format(DATE_TIME_FORMAT).to_string();
        let ends = s.ends_at.format(DATE_TIME_FORMAT).to_string();
        let capacity = s.capacity.to_string();
        push_row(
            &mut sessions,
            &[
                &s.id,
                &s.training_id,
                &starts,
                &ends,
                s.timezone.name(),
                s.commune_insee.as_deref().unwrap_or(""),
                s.remote_url.as_deref().unwrap_or(""),
                &capacity,
            ],
        );
    }
    CatalogueFiles {
        trainings: trainings.into_bytes(),
        sessions: sessions.into_bytes(),
    }
}

// ----- field rules specific to the catalogue -----

/// A non-negative decimal: digits, then optionally `.` or `,` and digits
/// (no sign, exponent, thousands separator or `NaN`). Returns the value and
/// its number of decimals.
fn decimal(v: &str) -> Option<(f64, usize)> {
    let (int, frac) = match v.find(['.', ',']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !frac.is_none_or(digits) {
        return None;
    }
    let value: f64 = format!("{int}.{}", frac.unwrap_or("0")).parse().ok()?;
    value.is_finite().then_some((value, frac.map_or(0, str::len)))
}

/// `modality`: one of the codes of [`Modality`].
fn modality(v: &str) -> Result<Modality, Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « modality » vide (modalité obligatoire : on_site, remote ou hybrid)",
            "column “modality” is empty (modality required: on_site, remote or hybrid)"
        ));
    }
    fields::code(MODALITY, Modality::ALL, Modality::as_str, v)
}

/// `duration_hours`: mandatory, more than 0, a whole number of minutes
/// (1.25 is 1 h 15; 1.33 is not a duration anyone schedules).
fn duration_hours(v: &str) -> Result<f64, Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « duration_hours » vide (durée obligatoire, en heures, ex. 7 ou 3.5)",
            "column “duration_hours” is empty (duration required, in hours, e.g. 7 or 3.5)"
        ));
    }
    let whole_minutes = |h: f64| {
        let minutes = h * 60.0;
        (minutes - minutes.round()).abs() < 1e-6
    };
    match decimal(v) {
        Some((h, _)) if h > 0.0 && whole_minutes(h) => Ok(h),
        _ => {
            let shown = vigie_tabular::shown(v);
            Err(words!(
                "durée « {shown} » invalide (attendu : un nombre d'heures supérieur à 0, à la minute près, ex. 7, 3.5 ou 1,25)",
                "invalid duration “{shown}” (expected: a number of hours above 0, to the minute, e.g. 7, 3.5 or 1,25)"
            ))
        }
    }
}

/// `cost_eur`: empty when unknown, otherwise euros with at most 2 decimals.
fn cost_eur(v: &str) -> Result<Option<f64>, Words> {
    if v.is_empty() {
        return Ok(None);
    }
    match decimal(v) {
        Some((c, decimals)) if decimals <= 2 => Ok(Some(c)),
        _ => {
            let shown = vigie_tabular::shown(v);
            Err(words!(
                "coût « {shown} » invalide (attendu : un montant en euros, au centime près, ex. 450 ou 1200.50 ; vide si inconnu)",
                "invalid cost “{shown}” (expected: an amount in euros, to the cent, e.g. 450 or 1200.50; empty if unknown)"
            ))
        }
    }
}

/// A local date-time, strictly `YYYY-MM-DDTHH:MM` (what the export writes;
/// `15/03/2027 9h30` is a spreadsheet's display, not a value to guess from).
fn local_date_time(column: &str, v: &str) -> Result<NaiveDateTime, Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « {column} » vide (date-heure obligatoire, format AAAA-MM-JJTHH:MM, ex. 2027-03-15T09:30)",
            "column “{column}” is empty (date-time required, format YYYY-MM-DDTHH:MM, e.g. 2027-03-15T09:30)"
        ));
    }
    let b = v.as_bytes();
    let shaped = b.len() == 16
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 => c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shaped {
        let shown = vigie_tabular::shown(v);
        return Err(words!(
            "colonne « {column} » : date-heure « {shown} » invalide (format attendu AAAA-MM-JJTHH:MM, heure locale, \
             ex. 2027-03-15T09:30)",
            "column “{column}”: invalid date-time “{shown}” (expected format YYYY-MM-DDTHH:MM, local time, \
             e.g. 2027-03-15T09:30)"
        ));
    }
    // The shape guarantees these slices are ASCII digits.
    let num = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(u32::MAX);
    let year = i32::try_from(num(0..4)).unwrap_or(0);
    let day = NaiveDate::from_ymd_opt(year, num(5..7), num(8..10));
    let time = NaiveTime::from_hms_opt(num(11..13), num(14..16), 0);
    match (day, time) {
        (Some(day), Some(time)) => Ok(day.and_time(time)),
        _ => Err(words!(
            "colonne « {column} » : la date-heure {v} n'existe pas",
            "column “{column}”: the date-time {v} does not exist"
        )),
    }
}

/// `timezone`: an IANA name, exactly as the tz database spells it; empty
/// means [`DEFAULT_TIMEZONE`].
fn timezone(v: &str) -> Result<Tz, Words> {
    if v.is_empty() {
        return Ok(DEFAULT_TIMEZONE);
    }
    v.parse::<Tz>().map_err(|_| {
        let shown = vigie_tabular::shown(v);
        words!(
            "fuseau horaire « {shown} » inconnu (attendu : un nom IANA, ex. Europe/Paris, America/Cayenne ou \
             Indian/Reunion ; vide pour Europe/Paris)",
            "unknown time zone “{shown}” (expected: an IANA name, e.g. Europe/Paris, America/Cayenne or \
             Indian/Reunion; empty for Europe/Paris)"
        )
    })
}

/// `remote_url` (non-empty): an `http://` or `https://` link with a host,
/// without spaces — enough to catch a pasted meeting id or phone number.
fn remote_url(v: &str) -> Result<(), Words> {
    fields::bounded("remote_url", v, MAX_URL_CHARS)?;
    let ok = v.split_once("://").is_some_and(|(scheme, rest)| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
            && !host.is_empty()
            && !v.chars().any(char::is_whitespace)
    });
    if ok {
        Ok(())
    } else {
        let shown = vigie_tabular::shown(v);
        Err(words!(
            "colonne « remote_url » : lien « {shown} » invalide (attendu : une adresse http:// ou https://, \
             ex. https://visio.exemple.fr/formation)",
            "column “remote_url”: invalid link “{shown}” (expected: an http:// or https:// address, \
             e.g. https://visio.example.org/training)"
        ))
    }
}

/// `capacity`: a whole number of seats, at least 1.
fn capacity(v: &str) -> Result<u32, Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « capacity » vide (nombre de places obligatoire, au moins 1)",
            "column “capacity” is empty (number of seats required, at least 1)"
        ));
    }
    match v.parse::<u32>() {
        Ok(n) if n >= 1 && !v.starts_with('+') => Ok(n),
        _ => {
            let shown = vigie_tabular::shown(v);
            Err(words!(
                "capacité « {shown} » invalide (attendu : un nombre entier de places, au moins 1)",
                "invalid capacity “{shown}” (expected: a whole number of seats, at least 1)"
            ))
        }
    }
}

/// A value as shown in a message: quoted, or `vide` / `empty`.
fn shown(v: &str) -> Words {
    if v.is_empty() {
        words!("vide", "empty")
    } else {
        let v = vigie_tabular::shown(v);
        words!("« {v} »", "“{v}”")
    }
}

// ----- parser state -----

/// Columns a training repeats on each of its rows (indexes in the row).
const REPEATED: [(usize, &str); 6] = [
    (1, "title"),
    (2, "provider"),
    (3, "modality"),
    (4, "duration_hours"),
    (5, "cost_eur"),
    (6, "funding"),
];

/// What the first row of a training said; `None` where that cell was invalid
/// (already reported there, so later rows are not compared with it).
struct TrainingSlot {
    id: String,
    line: u64,
    /// Raw cells of the repeated columns, for messages.
    raw: [String; 6],
    title: Option<String>,
    provider: Option<String>,
    modality: Option<Modality>,
    duration: Option<f64>,
    cost: Option<Option<f64>>,
    funding: Option<String>,
    /// Targets of the valid rows.
    targets: Vec<TrainingTarget>,
    /// Function code → line of the row targeting it.
    functions: HashMap<String, u64>,
}

/// The repeated columns of one row, as parsed.
struct Repeated<'a> {
    title: Option<&'a str>,
    provider: Option<&'a str>,
    modality: Option<Modality>,
    duration: Option<f64>,
    cost: Option<Option<f64>>,
    funding: Option<&'a str>,
}

impl TrainingSlot {
    /// Messages for the repeated cells of a later row that differ from the
    /// first row's, in column order.
    fn disagreements(&self, row: &Repeated<'_>, f: &[&str]) -> Vec<Words> {
        fn differ<T: PartialEq>(first: Option<T>, here: Option<T>) -> bool {
            matches!((first, here), (Some(a), Some(b)) if a != b)
        }
        let differs = [
            differ(self.title.as_deref(), row.title),
            differ(self.provider.as_deref(), row.provider),
            differ(self.modality, row.modality),
            differ(self.duration, row.duration),
            differ(self.cost, row.cost),
            differ(self.funding.as_deref(), row.funding),
        ];
        REPEATED
            .iter()
            .zip(differs)
            .filter(|(_, d)| *d)
            .map(|((i, column), _)| {
                let (id, line, here, first) = (&self.id, self.line, shown(f[*i]), shown(&self.raw[*i - 1]));
                let (here_en, first_en) = (&here.en, &first.en);
                words!(
                    "formation « {id} » : colonne « {column} » différente de la ligne {line} ({here} au lieu de {first}) ; \
                     chaque ligne d'une même formation doit reprendre les mêmes valeurs",
                    "training “{id}”: column “{column}” differs from line {line} ({here_en} instead of {first_en}); \
                     every row of a training must repeat the same values"
                )
            })
            .collect()
    }
}

#[derive(Default)]
struct Parser {
    trainings: Vec<TrainingSlot>,
    /// Training id → index in `trainings`.
    index: HashMap<String, usize>,
    trainings_usable: bool,
    sessions: Vec<Session>,
    /// Session id → line of its definition.
    session_lines: HashMap<String, u64>,
}

impl Parser {
    fn training_row(&mut self, line: u64, f: &[&str], errors: &mut Vec<RowError>) {
        let mut msgs = Vec::new();
        let id = f[0];
        let id_ok = keep(&mut msgs, fields::id("training_id", id)).is_some();
        let row = Repeated {
            title: keep(&mut msgs, fields::text("title", f[1])).map(|()| f[1]),
            provider: keep(&mut msgs, fields::text("provider", f[2])).map(|()| f[2]),
            modality: keep(&mut msgs, modality(f[3])),
            duration: keep(&mut msgs, duration_hours(f[4])),
            cost: keep(&mut msgs, cost_eur(f[5])),
            funding: keep(&mut msgs, fields::bounded("funding", f[6], MAX_TEXT_CHARS)).map(|()| f[6]),
        };
        let function = f[7];
        let function_ok = keep(&mut msgs, fields::function_code("function", function)).is_some();
        let prerequisite = keep(
            &mut msgs,
            fields::small_int("prerequisite_level", PREREQUISITE_LEVEL, 0..=4, LEVELS, f[8]),
        );
        let goal = keep(
            &mut msgs,
            fields::small_int("goal_level", GOAL_LEVEL, 0..=4, LEVELS, f[9]),
        );
        if let (Some(p), Some(g)) = (prerequisite, goal) {
            if g <= p {
                msgs.push(words!(
                    "niveau visé {g} pas au-dessus du niveau prérequis {p} (la formation doit faire progresser : \
                     goal_level > prerequisite_level)",
                    "goal level {g} not above the prerequisite level {p} (a training must make progress: \
                     goal_level > prerequisite_level)"
                ));
            }
        }

        let slot = if id_ok {
            match self.index.get(id) {
                Some(&i) => {
                    let slot = &self.trainings[i];
                    msgs.extend(slot.disagreements(&row, f));
                    Some(i)
                }
                None => {
                    self.index.insert(id.to_owned(), self.trainings.len());
                    self.trainings.push(TrainingSlot {
                        id: id.to_owned(),
                        line,
                        raw: std::array::from_fn(|i| f[i + 1].to_owned()),
                        title: row.title.map(str::to_owned),
                        provider: row.provider.map(str::to_owned),
                        modality: row.modality,
                        duration: row.duration,
                        cost: row.cost,
                        funding: row.funding.map(str::to_owned),
                        targets: Vec::new(),
                        functions: HashMap::new(),
                    });
                    Some(self.trainings.len() - 1)
                }
            }
        } else {
            None
        };
        if let (Some(i), true) = (slot, function_ok) {
            match self.trainings[i].functions.entry(function.to_owned()) {
                Entry::Occupied(first) => {
                    let first = first.get();
                    msgs.push(words!(
                        "fonction « {function} » en double pour la formation « {id} » (déjà ciblée ligne {first})",
                        "duplicate function “{function}” for the training “{id}” (already targeted on line {first})"
                    ));
                }
                Entry::Vacant(v) => {
                    v.insert(line);
                }
            }
        }

        if let (true, Some(i), Some(prerequisite_level), Some(goal_level)) = (msgs.is_empty(), slot, prerequisite, goal)
        {
            self.trainings[i].targets.push(TrainingTarget {
                function: function.to_owned(),
                prerequisite_level,
                goal_level,
            });
        }
        flush(TRAININGS_FILE, line, msgs, errors);
    }

    /// Looks a referenced training up; `Err` carries the message to report.
    /// `Ok(None)` when trainings.csv is unusable (no judgement possible).
    fn training_ref(&self, v: &str) -> Result<Option<usize>, Words> {
        fields::id("training_id", v)?;
        if !self.trainings_usable {
            return Ok(None);
        }
        match self.index.get(v) {
            Some(&i) => Ok(Some(i)),
            None => Err(words!(
                "formation « {v} » inconnue (absente de trainings.csv)",
                "unknown training “{v}” (not in trainings.csv)"
            )),
        }
    }

    fn session_row(&mut self, line: u64, f: &[&str], errors: &mut Vec<RowError>) {
        let mut msgs = Vec::new();
        let id = f[0];
        let id_ok = keep(&mut msgs, fields::id("session_id", id)).is_some();
        let duplicate = id_ok
            && match self.session_lines.get(id) {
                Some(first) => {
                    msgs.push(words!(
                        "session_id « {id} » en double (déjà défini ligne {first})",
                        "duplicate session_id “{id}” (already defined on line {first})"
                    ));
                    true
                }
                None => false,
            };
        let training = keep(&mut msgs, self.training_ref(f[1])).flatten();
        let starts = keep(&mut msgs, local_date_time("starts_at", f[2]));
        let ends = keep(&mut msgs, local_date_time("ends_at", f[3]));
        let tz = keep(&mut msgs, timezone(f[4]));

        // Instants, once the cells are readable: a local time skipped by a
        // change of clocks is an error, an ambiguous one the earlier instant.
        let mut instant = |column: &str, local: Option<NaiveDateTime>| {
            let (local, tz) = (local?, tz?);
            let utc = local_to_utc(tz, local);
            if utc.is_none() {
                let (local, zone) = (local.format(DATE_TIME_FORMAT), tz.name());
                msgs.push(words!(
                    "colonne « {column} » : {local} n'existe pas dans le fuseau {zone} (heure sautée lors d'un \
                     changement d'heure)",
                    "column “{column}”: {local} does not exist in the time zone {zone} (skipped when the clocks \
                     changed)"
                ));
            }
            utc
        };
        let starts_utc = instant("starts_at", starts);
        let ends_utc = instant("ends_at", ends);
        if let (Some(s), Some(e)) = (starts_utc, ends_utc) {
            if e <= s {
                let (end, start) = (f[3], f[2]);
                msgs.push(words!(
                    "fin {end} pas après le début {start} (ends_at doit être après starts_at)",
                    "end {end} not after the start {start} (ends_at must be after starts_at)"
                ));
            }
        }

        let commune = (!f[5].is_empty()).then_some(f[5]);
        let url = (!f[6].is_empty()).then_some(f[6]);
        if let Some(c) = commune {
            if let Err(e) = ids::validate_commune_insee(c) {
                msgs.push(e.words());
            }
        }
        if let Some(u) = url {
            keep(&mut msgs, remote_url(u));
        }
        let modality = training.and_then(|i| self.trainings[i].modality);
        match (modality, commune, url) {
            (Some(Modality::OnSite), None, _) => msgs.push(words!(
                "formation « {} » en présentiel : commune_insee obligatoire (code INSEE du lieu de la session)",
                "training “{}” is on site: commune_insee required (INSEE code of the session's place)",
                f[1]
            )),
            (Some(Modality::Remote), _, None) => msgs.push(words!(
                "formation « {} » à distance : remote_url obligatoire (lien pour rejoindre la session)",
                "training “{}” is remote: remote_url required (link to join the session)",
                f[1]
            )),
            (_, None, None) => msgs.push(words!(
                "ni commune_insee ni remote_url : indiquez le lieu de la session (code commune INSEE), \
                 son lien à distance, ou les deux",
                "neither commune_insee nor remote_url: give the session's place (INSEE commune code), \
                 its remote link, or both"
            )),
            _ => {}
        }
        let capacity = keep(&mut msgs, capacity(f[7]));

        if id_ok && !duplicate {
            self.session_lines.insert(id.to_owned(), line);
        }
        if let (true, Some(starts_at), Some(ends_at), Some(timezone), Some(capacity)) =
            (msgs.is_empty(), starts, ends, tz, capacity)
        {
            self.sessions.push(Session {
                id: id.to_owned(),
                training_id: f[1].to_owned(),
                starts_at,
                ends_at,
                timezone,
                commune_insee: commune.map(str::to_owned),
                remote_url: url.map(str::to_owned),
                capacity,
            });
        }
        flush(SESSIONS_FILE, line, msgs, errors);
    }

    /// Builds the sorted catalogue; only called when no error was found, so
    /// every training's first row was complete.
    fn finish(self) -> Catalogue {
        let mut trainings: Vec<Training> = self
            .trainings
            .into_iter()
            .filter_map(|slot| {
                let mut targets = slot.targets;
                targets.sort_unstable_by(|a, b| a.function.cmp(&b.function));
                Some(Training {
                    id: slot.id,
                    title: slot.title?,
                    provider: slot.provider?,
                    modality: slot.modality?,
                    duration_hours: slot.duration?,
                    cost_eur: slot.cost?,
                    funding: slot.funding?,
                    targets,
                })
            })
            .collect();
        trainings.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        let mut sessions = self.sessions;
        sessions.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        Catalogue { trainings, sessions }
    }
}

#[cfg(test)]
mod tests;
