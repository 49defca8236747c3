//! The JSON of the Aides-territoires API: pages `{count, previous, next, results}`
//! of at most 100 aids, each aid an object of 44 keys whose choice fields arrive
//! as French display labels ("Associations", "Permanente"…).
//!
//! A page that is not an envelope is refused as a whole; inside a page, items
//! are read one by one, so a bad item is reported at its position
//! (`…:item M (id X)`) and the others are read.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use vigie_words::{words, Words};

use super::{error, json_error, warning};
use crate::call::{CallDraft, ImportProblem, Parsed, Perimeter};
use crate::model::{audience_out_of_scope, normalise_audience, normalise_recurrence, Stage, StageKind};
use crate::url::keep_url;

/// The source name of the calls read here.
pub const SOURCE: &str = "aides-territoires";

/// The public site, base of the aids' relative `url`.
pub const DEFAULT_BASE_URL: &str = "https://aides-territoires.beta.gouv.fr";

/// One page of the API, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The total number of aids of the query, when given.
    pub count: Option<u64>,
    /// The URL of the next page (`None` on the last page).
    pub next: Option<String>,
    /// The URL of the previous page.
    pub previous: Option<String>,
    /// The aids read and the problems of the page's items.
    pub parsed: Parsed,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    previous: Option<String>,
    #[serde(borrow)]
    results: Vec<&'a RawValue>,
}

/// Whether a JSON value is an object with a `results` key (an envelope, not an aid).
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default)]
    results: Option<&'a RawValue>,
}

/// Reads one page of the API. `position` names the page in problems
/// (`aides-territoires:page 3`); `base_url` is the site the aids' relative
/// `url` hangs from ([`DEFAULT_BASE_URL`] in production).
///
/// # Errors
/// An [`crate::call::Severity::Error`] problem at `position` when the document
/// is not JSON or not an envelope `{count, previous, next, results}`.
pub fn parse_page(doc: &[u8], position: &str, base_url: &str) -> Result<Page, ImportProblem> {
    let envelope: Envelope<'_> = serde_json::from_slice(doc).map_err(|e| {
        let Words { fr, en } = json_error(&e);
        let message = match e.classify() {
            serde_json::error::Category::Data => words!(
                "la page n'est pas une enveloppe Aides-territoires {{count, previous, next, results}} : {fr}",
                "the page is not an Aides-territoires envelope {{count, previous, next, results}}: {en}"
            ),
            _ => words!("page illisible : {fr}", "unreadable page: {en}"),
        };
        error(position, message)
    })?;
    let mut parsed = Parsed::default();
    read_items(&envelope.results, position, base_url, &mut parsed);
    Ok(Page {
        count: envelope.count,
        next: envelope.next.filter(|next| !next.trim().is_empty()),
        previous: envelope.previous.filter(|previous| !previous.trim().is_empty()),
        parsed,
    })
}

/// Reads a file of the same JSON (`vigie calls import --source aides-territoires FILE`):
/// one envelope, an array of envelopes (saved pages) or a bare array of aids.
///
/// Positions are `FILE:page N:item M (id X)` (`FILE:item M (id X)` for a bare
/// array); a file that is not JSON gives one error `FILE:LINE`.
pub fn parse_file(doc: &[u8], file_name: &str, base_url: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let top: &RawValue = match serde_json::from_slice(doc) {
        Ok(top) => top,
        Err(e) => {
            parsed
                .problems
                .push(error(format!("{file_name}:{}", e.line().max(1)), json_error(&e)));
            return parsed;
        }
    };
    let text = top.get();
    if text.starts_with('{') {
        read_page_into(text, &format!("{file_name}:page 1"), base_url, &mut parsed);
    } else if text.starts_with('[') {
        let elements: Vec<&RawValue> = match serde_json::from_str(text) {
            Ok(elements) => elements,
            Err(e) => {
                parsed.problems.push(error(format!("{file_name}:1"), json_error(&e)));
                return parsed;
            }
        };
        let pages = elements.first().is_some_and(|first| is_envelope(first));
        if pages {
            for (index, element) in elements.iter().enumerate() {
                read_page_into(
                    element.get(),
                    &format!("{file_name}:page {}", index + 1),
                    base_url,
                    &mut parsed,
                );
            }
        } else {
            read_items(&elements, file_name, base_url, &mut parsed);
        }
    } else {
        parsed.problems.push(error(
            format!("{file_name}:1"),
            words!(
                "ni une page Aides-territoires, ni une liste de pages, ni une liste d'aides",
                "neither an Aides-territoires page, nor a list of pages, nor a list of aids"
            ),
        ));
    }
    parsed
}

fn is_envelope(value: &RawValue) -> bool {
    serde_json::from_str::<Probe<'_>>(value.get()).is_ok_and(|probe| probe.results.is_some())
}

fn read_page_into(text: &str, position: &str, base_url: &str, parsed: &mut Parsed) {
    match parse_page(text.as_bytes(), position, base_url) {
        Ok(page) => {
            parsed.calls.extend(page.parsed.calls);
            parsed.problems.extend(page.parsed.problems);
        }
        Err(problem) => parsed.problems.push(problem),
    }
}

fn read_items(items: &[&RawValue], prefix: &str, base_url: &str, parsed: &mut Parsed) {
    for (index, item) in items.iter().enumerate() {
        let n = index + 1;
        match read_aid(item, base_url) {
            Ok((call, warnings)) => {
                let position = format!("{prefix}:item {n} (id {})", call.source_ref);
                parsed
                    .problems
                    .extend(warnings.into_iter().map(|message| warning(position.clone(), message)));
                parsed.calls.push(call);
            }
            Err((id, message)) => {
                let position = match id {
                    Some(id) => format!("{prefix}:item {n} (id {id})"),
                    None => format!("{prefix}:item {n}"),
                };
                parsed.problems.push(error(position, message));
            }
        }
    }
}

/// Reads one aid: the call and its warnings, or its id (when readable) and the error.
fn read_aid(raw: &RawValue, base_url: &str) -> Result<(CallDraft, Vec<Words>), (Option<String>, Words)> {
    let value: Value = serde_json::from_str(raw.get()).map_err(|e| (None, json_error(&e)))?;
    let Value::Object(aid) = value else {
        return Err((
            None,
            words!("l'aide n'est pas un objet JSON", "the aid is not a JSON object"),
        ));
    };
    let id = match aid.get("id") {
        Some(Value::Number(number)) if number.is_u64() || number.is_i64() => number.to_string(),
        Some(Value::String(text)) if !text.trim().is_empty() => text.trim().to_owned(),
        None | Some(Value::Null) => return Err((None, words!("champ « id » manquant", "missing field “id”"))),
        Some(_) => {
            return Err((
                None,
                words!("champ « id » : nombre entier attendu", "field “id”: integer expected"),
            ))
        }
    };
    read_fields(&aid, &id, raw.get(), base_url).map_err(|message| (Some(id), message))
}

fn read_fields(
    aid: &Map<String, Value>,
    id: &str,
    raw: &str,
    base_url: &str,
) -> Result<(CallDraft, Vec<Words>), Words> {
    let mut warnings = Vec::new();
    let title = match (text(aid, "name")?, text(aid, "name_initial")?) {
        (Some(name), _) | (None, Some(name)) => name,
        (None, None) => {
            return Err(words!(
                "champs « name » et « name_initial » absents ou vides",
                "fields “name” and “name_initial” missing or empty"
            ))
        }
    };
    let mut audiences = Vec::new();
    for label in text_list(aid, "targeted_audiences")? {
        match normalise_audience(&label) {
            Some(codes) => audiences.extend(codes.iter().map(|code| (*code).to_owned())),
            None if audience_out_of_scope(&label) => {}
            None => warnings.push(words!(
                "public visé inconnu « {label} » ignoré",
                "unknown targeted audience “{label}” ignored"
            )),
        }
    }
    audiences.sort();
    audiences.dedup();
    let recurrence = match text(aid, "recurrence")? {
        None => None,
        Some(label) => {
            let recurrence = normalise_recurrence(&label);
            if recurrence.is_none() {
                warnings.push(words!(
                    "récurrence inconnue « {label} » ignorée",
                    "unknown recurrence “{label}” ignored"
                ));
            }
            recurrence
        }
    };
    let mut stages = Vec::new();
    let predeposit = date(aid, "predeposit_date")?;
    let submission = date(aid, "submission_deadline")?;
    if let (Some((pre, _)), Some((sub, _))) = (&predeposit, &submission) {
        if pre > sub {
            warnings.push(words!(
                "pré-dépôt ({pre}) après la date limite de dépôt ({sub})",
                "pre-deposit ({pre}) after the submission deadline ({sub})"
            ));
        }
    }
    for (kind, found) in [(StageKind::PreDeposit, predeposit), (StageKind::Submission, submission)] {
        if let Some((day, wording)) = found {
            stages.push(Stage {
                wording,
                ..Stage::on_date(kind, day)
            });
        }
    }
    // Every URL goes through the one URL check: a bad one is dropped with a
    // warning, the aid is still imported (an `origin_url` may stand in for a
    // dropped `application_url`).
    let info_url = text(aid, "url")?
        .map(|url| keep_url(&field("url"), &absolute(base_url, &url), &mut warnings))
        .unwrap_or_default();
    let mut application_url = text(aid, "application_url")?
        .map(|url| keep_url(&field("application_url"), &url, &mut warnings))
        .unwrap_or_default();
    if application_url.is_empty() {
        application_url = text(aid, "origin_url")?
            .map(|url| keep_url(&field("origin_url"), &url, &mut warnings))
            .unwrap_or_default();
    }
    let call = CallDraft {
        source: SOURCE.to_owned(),
        source_ref: id.to_owned(),
        title,
        funders: text_list(aid, "financers")?,
        programmes: text_list(aid, "programs")?,
        info_url,
        application_url,
        themes: text_list(aid, "categories")?,
        audiences,
        perimeter: Perimeter {
            name: text(aid, "perimeter")?.unwrap_or_default(),
            scale_label: text(aid, "perimeter_scale")?.unwrap_or_default(),
            codes: Vec::new(),
            exclusions: Vec::new(),
        },
        recurrence,
        stages,
        cancelled: false,
        raw: raw.to_owned(),
    };
    Ok((call, warnings))
}

/// « champ « key » » / “field “key””: how messages name a field of an aid.
fn field(key: &str) -> Words {
    words!("champ « {key} »", "field “{key}”")
}

/// A text field: `None` when missing, null or blank; trimmed.
fn text(aid: &Map<String, Value>, key: &str) -> Result<Option<String>, Words> {
    match aid.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_owned()).filter(|text| !text.is_empty())),
        Some(_) => Err(words!(
            "champ « {key} » : texte attendu",
            "field “{key}”: text expected"
        )),
    }
}

/// The error of a field that should be a list of texts.
fn not_a_list(key: &str) -> Words {
    words!(
        "champ « {key} » : liste de textes attendue",
        "field “{key}”: list of texts expected"
    )
}

/// A list of texts (or of objects with a `name`), blank entries dropped; missing or null is empty.
fn text_list(aid: &Map<String, Value>, key: &str) -> Result<Vec<String>, Words> {
    let items = match aid.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(not_a_list(key)),
    };
    let mut texts = Vec::with_capacity(items.len());
    for item in items {
        let text = match item {
            Value::String(text) => text.as_str(),
            Value::Object(object) => match object.get("name") {
                Some(Value::String(name)) => name.as_str(),
                _ => return Err(not_a_list(key)),
            },
            Value::Null => continue,
            _ => return Err(not_a_list(key)),
        };
        let text = text.trim();
        if !text.is_empty() {
            texts.push(text.to_owned());
        }
    }
    Ok(texts)
}

/// A date `YYYY-MM-DD` and the source's wording (`key: value`); `None` when missing, null or blank.
fn date(aid: &Map<String, Value>, key: &str) -> Result<Option<(NaiveDate, String)>, Words> {
    let Some(value) = text(aid, key)? else {
        return Ok(None);
    };
    let day = (value.len() == 10)
        .then(|| NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            words!(
                "champ « {key} » : date invalide « {value} » (attendu AAAA-MM-JJ)",
                "field “{key}”: invalid date “{value}” (expected YYYY-MM-DD)"
            )
        })?;
    Ok(Some((day, format!("{key}: {value}"))))
}

/// `url` made absolute against `base_url` (kept when it has a scheme, which
/// the URL check then judges: `javascript:x` must not become a path).
fn absolute(base_url: &str, url: &str) -> String {
    let scheme = url.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if scheme || url.starts_with("//") {
        url.to_owned()
    } else {
        format!("{}/{}", base_url.trim_end_matches('/'), url.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests;
