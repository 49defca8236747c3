//! RSS 2.0 (and 1.0) and Atom feeds, read through a per-source [`FeedMapping`].
//!
//! Feeds carry no structured deadline: the mapping tells where it is, either
//! an element of the item (`<dateCloture>2027-03-14</dateCloture>`, or one of
//! its attributes), or a label in the item's text followed by a date
//! ("Date limite : 14/03/2027", "Clôture des candidatures le 14 mars 2027 à
//! 12h00"). An item without a recognisable deadline is a warning and a call
//! without stages; a malformed document is an error at its line, the items
//! read before it are kept.

use chrono::{DateTime, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde::{Deserialize, Serialize};
use vigie_words::{words, Words};

use super::{error, fold_char, iso_when, line_at, warning, whole_day_at_end};
use crate::call::{CallDraft, Parsed, Perimeter};
use crate::model::{audience_out_of_scope, normalise_audience, Stage, StageKind, AUDIENCE_CODES, DEFAULT_TZ};
use crate::url::keep_url;

/// How to read the calls of one feed (loaded from the service's configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedMapping {
    /// The source's name: its calls come as `feed:<source_name>`.
    pub source_name: String,
    /// An element of the item whose text is the submission deadline (its
    /// qualified name such as `ev:enddate`, or its local name such as `dateCloture`).
    #[serde(default)]
    pub deadline_element: Option<String>,
    /// The attribute of `deadline_element` holding the deadline, instead of its text.
    #[serde(default)]
    pub deadline_attribute: Option<String>,
    /// Labels that precede the submission deadline in the item's title, description or content.
    #[serde(default = "default_deadline_labels")]
    pub deadline_labels: Vec<String>,
    /// Labels that precede a pre-deposit deadline.
    #[serde(default = "default_predeposit_labels")]
    pub predeposit_labels: Vec<String>,
    /// Labels that precede a letter-of-intent deadline.
    #[serde(default = "default_letter_of_intent_labels")]
    pub letter_of_intent_labels: Vec<String>,
    /// Audiences of every call of the feed: our codes (`association`, `scic`…) or Aides-territoires labels.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Funders of every call of the feed (usually its publisher).
    #[serde(default)]
    pub funders: Vec<String>,
    /// Name of the perimeter of every call ("Bretagne"), resolved like an Aides-territoires name.
    #[serde(default)]
    pub perimeter_name: String,
    /// Scale label of that perimeter ("Région", "Département"…).
    #[serde(default)]
    pub perimeter_scale: String,
    /// Whether the items' `<category>` give the calls' themes (default yes).
    #[serde(default = "yes")]
    pub themes_from_categories: bool,
    /// The zone of the deadlines (IANA name, default `Europe/Paris`).
    #[serde(default)]
    pub timezone: Option<String>,
}

fn default_deadline_labels() -> Vec<String> {
    [
        "Date limite",
        "Date de clôture",
        "Clôture des candidatures",
        "Clôture",
        "Date butoir",
        "Dépôt des dossiers avant le",
        "Candidatures jusqu'au",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn default_predeposit_labels() -> Vec<String> {
    ["Date limite de pré-dépôt", "Pré-dépôt", "Prédépôt", "Pré-candidature"]
        .map(str::to_owned)
        .to_vec()
}

fn default_letter_of_intent_labels() -> Vec<String> {
    ["Date limite des lettres d'intention", "Lettre d'intention"]
        .map(str::to_owned)
        .to_vec()
}

fn yes() -> bool {
    true
}

impl FeedMapping {
    /// A mapping with the default labels and nothing else.
    pub fn new(source_name: &str) -> Self {
        FeedMapping {
            source_name: source_name.to_owned(),
            deadline_element: None,
            deadline_attribute: None,
            deadline_labels: default_deadline_labels(),
            predeposit_labels: default_predeposit_labels(),
            letter_of_intent_labels: default_letter_of_intent_labels(),
            audiences: Vec::new(),
            funders: Vec::new(),
            perimeter_name: String::new(),
            perimeter_scale: String::new(),
            themes_from_categories: true,
            timezone: None,
        }
    }

    /// The source of the calls read with this mapping: `feed:<source_name>`.
    pub fn source(&self) -> String {
        format!("feed:{}", self.source_name)
    }

    /// Checks the mapping: a source name without spaces, a known zone, an attribute only with an element.
    ///
    /// # Errors
    /// A message naming the bad setting, in French and in English.
    pub fn check(&self) -> Result<(), Words> {
        if self.source_name.trim().is_empty() || self.source_name.contains(char::is_whitespace) {
            let name = &self.source_name;
            return Err(words!(
                "correspondance du flux : nom de source « {name} » invalide (non vide, sans espace)",
                "feed mapping: invalid source name “{name}” (not empty, no spaces)"
            ));
        }
        self.zone()?;
        if self.deadline_attribute.is_some() && self.deadline_element.is_none() {
            return Err(words!(
                "correspondance du flux : deadline_attribute sans deadline_element",
                "feed mapping: deadline_attribute without deadline_element"
            ));
        }
        Ok(())
    }

    fn zone(&self) -> Result<Tz, Words> {
        match &self.timezone {
            None => Ok(DEFAULT_TZ),
            Some(name) => name.parse().map_err(|_| {
                words!(
                    "correspondance du flux : fuseau horaire inconnu « {name} »",
                    "feed mapping: unknown time zone “{name}”"
                )
            }),
        }
    }

    /// The default audiences as our codes, and the entries that are neither a code nor a known label.
    fn audience_codes(&self) -> (Vec<String>, Vec<String>) {
        let mut codes = Vec::new();
        let mut unknown = Vec::new();
        for entry in &self.audiences {
            let entry = entry.trim();
            if AUDIENCE_CODES.contains(&entry) {
                codes.push(entry.to_owned());
            } else if let Some(known) = normalise_audience(entry) {
                codes.extend(known.iter().map(|code| (*code).to_owned()));
            } else if !audience_out_of_scope(entry) {
                unknown.push(entry.to_owned());
            }
        }
        codes.sort();
        codes.dedup();
        (codes, unknown)
    }
}

/// Reads an RSS or Atom feed. Positions are `FILE:item N` for items and `FILE:LINE` for malformed XML.
pub fn parse_feed(doc: &[u8], file_name: &str, mapping: &FeedMapping) -> Parsed {
    let mut parsed = Parsed::default();
    if let Err(message) = mapping.check() {
        parsed.problems.push(error(file_name, message));
        return parsed;
    }
    let zone = mapping.zone().unwrap_or(DEFAULT_TZ);
    let text = match std::str::from_utf8(doc) {
        Ok(text) => text,
        Err(e) => {
            parsed.problems.push(error(
                format!("{file_name}:{}", line_at(doc, e.valid_up_to())),
                words!("le flux n'est pas en UTF-8", "the feed is not in UTF-8"),
            ));
            return parsed;
        }
    };
    let (audiences, unknown) = mapping.audience_codes();
    for entry in unknown {
        parsed.problems.push(warning(
            file_name,
            words!(
                "public visé inconnu « {entry} » dans la correspondance du flux, ignoré",
                "unknown targeted audience “{entry}” in the feed mapping, ignored"
            ),
        ));
    }
    let rules = Rules::new(mapping, zone, audiences);
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut item: Option<Item> = None;
    let mut items = 0;
    let mut root_seen = false;
    loop {
        let before = offset(reader.buffer_position());
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let at = offset(reader.error_position());
                parsed.problems.push(error(
                    format!("{file_name}:{}", line_at(doc, at)),
                    xml_error(&e, item.as_ref().map(|item| item.number)),
                ));
                break;
            }
        };
        match event {
            Event::Start(start) if !root_seen => {
                root_seen = true;
                if let Some(problem) = check_root(&start, file_name, line_at(doc, before)) {
                    parsed.problems.push(problem);
                    return parsed;
                }
                stack.push(start.name().as_ref().to_owned());
            }
            Event::Empty(start) if !root_seen => {
                root_seen = true;
                if let Some(problem) = check_root(&start, file_name, line_at(doc, before)) {
                    parsed.problems.push(problem);
                    return parsed;
                }
            }
            Event::Start(start) => {
                let local = start.local_name().as_ref().to_owned();
                match &mut item {
                    None if local == "item" || local == "entry" => {
                        items += 1;
                        item = Some(Item::new(items, before, stack.len()));
                    }
                    None => {}
                    Some(open) => open.start(&start, stack.len(), &rules),
                }
                stack.push(start.name().as_ref().to_owned());
            }
            Event::Empty(start) => {
                let local = start.local_name().as_ref().to_owned();
                match &mut item {
                    None if local == "item" || local == "entry" => {
                        items += 1;
                        let end = offset(reader.buffer_position());
                        let empty = Item::new(items, before, stack.len());
                        finish(empty, &text[before..end], file_name, &rules, &mut parsed);
                    }
                    None => {}
                    Some(open) => {
                        open.start(&start, stack.len(), &rules);
                        open.end(stack.len());
                    }
                }
            }
            Event::End(_) => {
                stack.pop();
                if let Some(open) = &mut item {
                    if stack.len() == open.depth {
                        let end = offset(reader.buffer_position());
                        if let Some(done) = item.take() {
                            let raw = &text[done.start..end];
                            finish(done, raw, file_name, &rules, &mut parsed);
                        }
                    } else {
                        open.end(stack.len());
                    }
                }
            }
            Event::Text(content) => {
                if let Some(open) = &mut item {
                    open.text(&content.xml10_content());
                }
            }
            Event::CData(content) => {
                if let Some(open) = &mut item {
                    open.text(&content.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(open) = &mut item {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => entity(&reference).map_or_else(|| format!("&{};", &*reference), str::to_owned),
                    };
                    open.text(&resolved);
                }
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    parsed.problems.push(error(
                        format!("{file_name}:{}", line_at(doc, doc.len())),
                        words!(
                            "flux tronqué : <{open}> n'est pas fermé",
                            "truncated feed: <{open}> is not closed"
                        ),
                    ));
                } else if !root_seen {
                    parsed.problems.push(error(
                        format!("{file_name}:1"),
                        words!("flux vide : ni RSS ni Atom", "empty feed: neither RSS nor Atom"),
                    ));
                }
                break;
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    parsed
}

/// An error when the root element is neither `<rss>`, `<feed>` (Atom) nor `<rdf:RDF>` (RSS 1.0).
fn check_root(root: &BytesStart<'_>, file_name: &str, line: usize) -> Option<crate::call::ImportProblem> {
    let local = root.local_name();
    (!matches!(local.as_ref(), "rss" | "feed" | "RDF")).then(|| {
        let name = root.name();
        let name = name.as_ref();
        error(
            format!("{file_name}:{line}"),
            words!(
                "ni un flux RSS ni un flux Atom (élément racine <{name}>)",
                "neither an RSS nor an Atom feed (root element <{name}>)"
            ),
        )
    })
}

fn offset(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}

fn xml_error(error: &quick_xml::Error, item: Option<usize>) -> Words {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    let Words { fr, en } = match error {
        quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => words!(
            "balise fermante </{found}> au lieu de </{expected}>",
            "closing tag </{found}> instead of </{expected}>"
        ),
        quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(name)) => words!(
            "balise fermante </{name}> sans balise ouvrante",
            "closing tag </{name}> without an opening tag"
        ),
        quick_xml::Error::IllFormed(IllFormedError::MissingEndTag(name)) => {
            words!("<{name}> n'est pas fermé", "<{name}> is not closed")
        }
        quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => {
            words!("« & » isolé (à écrire &amp;amp;)", "lone “&” (to be written &amp;amp;)")
        }
        quick_xml::Error::Syntax(SyntaxError::UnclosedTag) => words!("balise non fermée", "unclosed tag"),
        quick_xml::Error::Syntax(SyntaxError::UnclosedCData) => {
            words!("section CDATA non fermée", "unclosed CDATA section")
        }
        quick_xml::Error::Syntax(SyntaxError::UnclosedComment) => words!("commentaire non fermé", "unclosed comment"),
        quick_xml::Error::Syntax(_) => words!("syntaxe XML invalide", "invalid XML syntax"),
        quick_xml::Error::InvalidAttr(_) => words!("attribut mal formé", "malformed attribute"),
        _ => words!("XML mal formé", "malformed XML"),
    };
    match item {
        Some(n) => words!(
            "XML mal formé dans l'item {n} : {fr}",
            "malformed XML in item {n}: {en}"
        ),
        None => words!("XML mal formé : {fr}", "malformed XML: {en}"),
    }
}

/// The HTML entities met in feeds (XML defines only five).
fn entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "eacute" => "é",
        "egrave" => "è",
        "ecirc" => "ê",
        "euml" => "ë",
        "agrave" => "à",
        "acirc" => "â",
        "icirc" => "î",
        "iuml" => "ï",
        "ocirc" => "ô",
        "ugrave" => "ù",
        "ucirc" => "û",
        "ccedil" => "ç",
        "Eacute" => "É",
        "Egrave" => "È",
        "Agrave" => "À",
        "Ccedil" => "Ç",
        "oelig" => "œ",
        "rsquo" => "’",
        "lsquo" => "‘",
        "laquo" => "«",
        "raquo" => "»",
        "ldquo" => "“",
        "rdquo" => "”",
        "hellip" => "…",
        "ndash" => "–",
        "mdash" => "—",
        "euro" => "€",
        "deg" => "°",
        _ => return None,
    })
}

/// What the mapping says, prepared once per feed.
struct Rules<'a> {
    mapping: &'a FeedMapping,
    zone: Tz,
    audiences: Vec<String>,
    /// Folded labels with their stage kind.
    labels: Vec<(Vec<char>, StageKind)>,
}

impl<'a> Rules<'a> {
    fn new(mapping: &'a FeedMapping, zone: Tz, audiences: Vec<String>) -> Self {
        let mut labels = Vec::new();
        for (list, kind) in [
            (&mapping.deadline_labels, StageKind::Submission),
            (&mapping.predeposit_labels, StageKind::PreDeposit),
            (&mapping.letter_of_intent_labels, StageKind::LetterOfIntent),
        ] {
            for label in list {
                let folded: Vec<char> = label.trim().chars().map(fold_char).collect();
                if !folded.is_empty() {
                    labels.push((folded, kind));
                }
            }
        }
        Rules {
            mapping,
            zone,
            audiences,
            labels,
        }
    }

    fn is_deadline_element(&self, qualified: &str, local: &str) -> bool {
        self.mapping
            .deadline_element
            .as_deref()
            .is_some_and(|wanted| wanted == qualified || wanted == local)
    }
}

/// A child element of an item that the parser keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Link,
    Guid,
    Id,
    Description,
    Content,
    Category,
    Other,
}

/// An item being read.
#[derive(Debug, Default)]
struct Item {
    number: usize,
    /// Byte offset of `<item`.
    start: usize,
    /// Depth of the stack outside the item.
    depth: usize,
    current: Option<(Field, String)>,
    title: Option<String>,
    links: Vec<String>,
    guid: Option<String>,
    id: Option<String>,
    description: Vec<String>,
    categories: Vec<String>,
    /// The deadline element: the depth it was opened at and its text so far.
    deadline_capture: Option<(usize, String)>,
    /// The deadline element's text (or attribute), once read.
    deadline_value: Option<String>,
}

impl Item {
    fn new(number: usize, start: usize, depth: usize) -> Self {
        Item {
            number,
            start,
            depth,
            ..Item::default()
        }
    }

    /// An element opens inside the item, at stack depth `depth` (before it is pushed).
    fn start(&mut self, element: &BytesStart<'_>, depth: usize, rules: &Rules<'_>) {
        let qualified = element.name().as_ref().to_owned();
        let local = element.local_name().as_ref().to_owned();
        if rules.is_deadline_element(&qualified, &local) && self.deadline_value.is_none() {
            match &rules.mapping.deadline_attribute {
                Some(attribute) => self.deadline_value = attribute_value(element, attribute),
                None => self.deadline_capture = Some((depth, String::new())),
            }
        }
        if depth != self.depth + 1 {
            return;
        }
        let field = match local.as_str() {
            "title" => Field::Title,
            "link" => Field::Link,
            "guid" => Field::Guid,
            "id" => Field::Id,
            "description" | "summary" => Field::Description,
            "encoded" | "content" => Field::Content,
            "category" => Field::Category,
            _ => Field::Other,
        };
        match field {
            Field::Link => {
                // Atom: <link href="…" rel="alternate"/>; RSS: <link>…</link>.
                if let Some(href) = attribute_value(element, "href") {
                    let rel = attribute_value(element, "rel");
                    if rel.is_none() || rel.as_deref() == Some("alternate") {
                        self.links.push(href);
                    }
                }
            }
            Field::Category => {
                if let Some(term) = attribute_value(element, "label").or_else(|| attribute_value(element, "term")) {
                    self.categories.push(term);
                }
            }
            _ => {}
        }
        self.current = Some((field, String::new()));
    }

    /// An element closed; `depth` is the stack depth after it was popped.
    fn end(&mut self, depth: usize) {
        if let Some((opened, text)) = self.deadline_capture.take() {
            if opened == depth {
                self.deadline_value = Some(text.trim().to_owned());
            } else {
                self.deadline_capture = Some((opened, text));
            }
        }
        if depth != self.depth + 1 {
            return;
        }
        let Some((field, text)) = self.current.take() else {
            return;
        };
        let text = text.trim().to_owned();
        if text.is_empty() {
            return;
        }
        match field {
            Field::Title => self.title = Some(text),
            Field::Link => self.links.push(text),
            Field::Guid => self.guid = Some(text),
            Field::Id => self.id = Some(text),
            Field::Description | Field::Content => self.description.push(text),
            Field::Category => self.categories.push(text),
            Field::Other => {}
        }
    }

    fn text(&mut self, text: &str) {
        if let Some((_, buffer)) = &mut self.current {
            push_bounded(buffer, text);
        }
        if let Some((_, buffer)) = &mut self.deadline_capture {
            push_bounded(buffer, text);
        }
    }
}

/// The most text kept of one element of an item, in bytes. A call's title or
/// description is far shorter; the bound keeps the label search (linear in
/// the text, per label) and the stored call small whatever a feed sends.
pub const MAX_FIELD_BYTES: usize = 256 * 1024;

/// Appends `text` to `buffer` up to [`MAX_FIELD_BYTES`] (cut on a character boundary).
fn push_bounded(buffer: &mut String, text: &str) {
    let room = MAX_FIELD_BYTES.saturating_sub(buffer.len());
    let mut end = text.len().min(room);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    buffer.push_str(&text[..end]);
}

fn attribute_value(element: &BytesStart<'_>, name: &str) -> Option<String> {
    let attribute = element.try_get_attribute(name).ok().flatten()?;
    let value = attribute
        .normalized_value_with(XmlVersion::Implicit1_0, 4, entity)
        .ok()?;
    Some(value.trim().to_owned()).filter(|value| !value.is_empty())
}

/// Turns a read item into a call (or an error) at `FILE:item N`.
fn finish(item: Item, raw: &str, file_name: &str, rules: &Rules<'_>, parsed: &mut Parsed) {
    let position = format!("{file_name}:item {}", item.number);
    let Some(title) = item.title.as_deref().map(html_to_text).filter(|t| !t.trim().is_empty()) else {
        parsed
            .problems
            .push(error(position, words!("titre manquant", "missing title")));
        return;
    };
    let title = collapse(&title);
    let first_link = item
        .links
        .first()
        .map(|link| link.trim().to_owned())
        .unwrap_or_default();
    let source_ref = item
        .guid
        .clone()
        .or_else(|| item.id.clone())
        .or_else(|| Some(first_link.clone()).filter(|link| !link.is_empty()));
    // The call's page: the first link that passes the one URL check; the
    // links refused are warnings on the item, which is still imported.
    let mut url_warnings = Vec::new();
    let link = item
        .links
        .iter()
        .map(|link| keep_url(&words!("lien", "link"), link, &mut url_warnings))
        .find(|link| !link.is_empty())
        .unwrap_or_default();
    for message in url_warnings {
        parsed.problems.push(warning(position.clone(), message));
    }
    let Some(source_ref) = source_ref else {
        parsed.problems.push(error(
            position,
            words!(
                "ni guid, ni id, ni lien : l'item n'a pas d'identifiant stable",
                "no guid, id or link: the item has no stable identifier"
            ),
        ));
        return;
    };
    let mut stages = Vec::new();
    let mut element_gave_deadline = false;
    if let Some(element) = &rules.mapping.deadline_element {
        if let Some(value) = &item.deadline_value {
            match parse_date_value(value, rules.zone) {
                Some((date, time)) => {
                    element_gave_deadline = true;
                    stages.push(Stage {
                        kind: StageKind::Submission,
                        date,
                        time,
                        timezone: rules.zone,
                        wording: format!("{element}: {value}"),
                    });
                }
                None => parsed.problems.push(warning(
                    position.clone(),
                    words!(
                        "date limite illisible dans <{element}> : « {value} »",
                        "unreadable deadline in <{element}>: “{value}”"
                    ),
                )),
            }
        }
    }
    let mut text = title.clone();
    for part in &item.description {
        text.push('\n');
        text.push_str(&html_to_text(part));
    }
    for found in find_stages(&text, &rules.labels) {
        if element_gave_deadline && found.kind == StageKind::Submission {
            continue;
        }
        match stages.iter().find(|stage: &&Stage| stage.kind == found.kind) {
            Some(first) if (first.date, first.time) != (found.date, found.time) => {
                let Words {
                    fr: kind_fr,
                    en: kind_en,
                } = kind_label(found.kind);
                let (first, ignored) = (first.date, &found.wording);
                parsed.problems.push(warning(
                    position.clone(),
                    words!(
                        "plusieurs dates pour « {kind_fr} », la première ({first}) est retenue : « {ignored} » ignoré",
                        "several dates for “{kind_en}”, the first ({first}) is kept: “{ignored}” ignored"
                    ),
                ));
            }
            Some(_) => {}
            None => stages.push(Stage {
                kind: found.kind,
                date: found.date,
                time: found.time,
                timezone: rules.zone,
                wording: found.wording,
            }),
        }
    }
    stages.sort_by_key(|stage| (stage.date, stage.time, stage.kind));
    if !stages.iter().any(|stage| stage.kind == StageKind::Submission) {
        parsed.problems.push(warning(
            position.clone(),
            words!(
                "aucune date limite de dépôt reconnue : appel sans échéance",
                "no submission deadline recognised: call without a deadline"
            ),
        ));
    }
    let mut themes: Vec<String> = Vec::new();
    if rules.mapping.themes_from_categories {
        for category in &item.categories {
            let category = collapse(category);
            if !category.is_empty() && !themes.contains(&category) {
                themes.push(category);
            }
        }
    }
    parsed.calls.push(CallDraft {
        source: rules.mapping.source(),
        source_ref,
        title,
        funders: rules.mapping.funders.clone(),
        programmes: Vec::new(),
        info_url: link,
        application_url: String::new(),
        themes,
        audiences: rules.audiences.clone(),
        perimeter: Perimeter {
            name: rules.mapping.perimeter_name.clone(),
            scale_label: rules.mapping.perimeter_scale.clone(),
            codes: Vec::new(),
            exclusions: Vec::new(),
        },
        recurrence: None,
        stages,
        cancelled: false,
        raw: raw.trim().to_owned(),
    });
}

fn kind_label(kind: StageKind) -> Words {
    match kind {
        StageKind::LetterOfIntent => words!("lettre d'intention", "letter of intent"),
        StageKind::PreDeposit => words!("pré-dépôt", "pre-deposit"),
        StageKind::Submission => words!("dépôt", "submission"),
        StageKind::Internal => words!("étape interne", "internal step"),
    }
}

/// Whitespace runs (non-breaking spaces included) collapsed to one space, trimmed.
fn collapse(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of an HTML fragment: tags removed (block tags become line breaks), entities decoded.
fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&decode_entities(&rest[..open]));
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            text.push_str(&decode_entities(&rest[open..]));
            rest = "";
            break;
        };
        let tag = after[..close].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag.chars().take_while(char::is_ascii_alphanumeric).collect();
        if name.is_empty() {
            // Not a tag ("a < b"): kept.
            text.push('<');
            rest = after;
            continue;
        }
        if matches!(
            name.as_str(),
            "p" | "br" | "div" | "li" | "ul" | "ol" | "tr" | "td" | "th" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
        ) {
            text.push('\n');
        }
        rest = &after[close + 1..];
    }
    text.push_str(&decode_entities(rest));
    text
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&end| end > 0 && end <= 10);
        let decoded = end.and_then(|end| {
            let name = &after[..end];
            let c = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .map(String::from)
            } else if let Some(decimal) = name.strip_prefix('#') {
                decimal.parse().ok().and_then(char::from_u32).map(String::from)
            } else {
                entity(name).map(str::to_owned)
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push_str(&c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A deadline value of an element or attribute: ISO 8601, RFC 2822 or a French date in text.
fn parse_date_value(value: &str, zone: Tz) -> Option<(NaiveDate, Option<NaiveTime>)> {
    if let Some(when) = iso_when(value, zone) {
        return Some(when);
    }
    if let Ok(instant) = DateTime::parse_from_rfc2822(value.trim()) {
        let local = instant.with_timezone(&zone).naive_local();
        return Some(whole_day_at_end(local.date(), local.time()));
    }
    let folded: Vec<char> = value.chars().map(fold_char).collect();
    (0..folded.len()).find_map(|at| {
        let (date, end) = date_at(&folded, at)?;
        let time = time_after(&folded, end).map(|(time, _)| time);
        Some((date, time))
    })
}

/// A stage found after a label in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    kind: StageKind,
    date: NaiveDate,
    time: Option<NaiveTime>,
    /// The text from the label to the end of the date (and time), verbatim.
    wording: String,
}

/// How far after its label a date is looked for, in characters.
const WINDOW: usize = 80;

/// The stages announced by `labels` in `text`: each label occurrence (the
/// longest label wins where two overlap) followed, within [`WINDOW`] characters
/// and before the next label, by a date.
fn find_stages(text: &str, labels: &[(Vec<char>, StageKind)]) -> Vec<Found> {
    let original: Vec<char> = text.chars().collect();
    let folded: Vec<char> = original.iter().copied().map(fold_char).collect();
    let mut occurrences: Vec<(usize, usize, StageKind)> = Vec::new();
    for (label, kind) in labels {
        let len = label.len();
        if len > folded.len() {
            continue;
        }
        for start in 0..=folded.len() - len {
            let boundary = start == 0 || !folded[start - 1].is_alphanumeric();
            if boundary && folded[start..start + len] == label[..] {
                occurrences.push((start, start + len, *kind));
            }
        }
    }
    occurrences.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut accepted: Vec<(usize, usize, StageKind)> = Vec::new();
    for occurrence in occurrences {
        if accepted.last().is_none_or(|last| occurrence.0 >= last.1) {
            accepted.push(occurrence);
        }
    }
    let mut found = Vec::new();
    for (index, (start, end, kind)) in accepted.iter().copied().enumerate() {
        let limit = accepted
            .get(index + 1)
            .map_or(folded.len(), |next| next.0)
            .min(end + WINDOW)
            .min(folded.len());
        let date = (end..limit).find_map(|at| date_at(&folded, at));
        let Some((date, date_end)) = date else {
            continue;
        };
        let (time, stop) = match time_after(&folded, date_end) {
            Some((time, stop)) => (Some(time), stop),
            None => (None, date_end),
        };
        let wording = collapse(&original[start..stop].iter().collect::<String>());
        found.push(Found {
            kind,
            date,
            time,
            wording,
        });
    }
    found
}

const MONTHS: [(&str, u32); 21] = [
    ("janvier", 1),
    ("janv", 1),
    ("fevrier", 2),
    ("fevr", 2),
    ("mars", 3),
    ("avril", 4),
    ("avr", 4),
    ("mai", 5),
    ("juin", 6),
    ("juillet", 7),
    ("juil", 7),
    ("aout", 8),
    ("septembre", 9),
    ("sept", 9),
    ("octobre", 10),
    ("oct", 10),
    ("novembre", 11),
    ("nov", 11),
    ("decembre", 12),
    ("dec", 12),
    ("fev", 2),
];

/// `min..=max` digits at `at`, not followed by another digit.
fn digits(text: &[char], at: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let mut end = at;
    while end < text.len() && end - at < max && text[end].is_ascii_digit() {
        end += 1;
    }
    if end - at < min || text.get(end).is_some_and(char::is_ascii_digit) {
        return None;
    }
    let number: String = text[at..end].iter().collect();
    Some((number.parse().ok()?, end))
}

fn spaces(text: &[char], mut at: usize) -> usize {
    while text.get(at) == Some(&' ') {
        at += 1;
    }
    at
}

fn word_at(text: &[char], at: usize, word: &str) -> Option<usize> {
    let mut end = at;
    for c in word.chars() {
        if text.get(end) != Some(&c) {
            return None;
        }
        end += 1;
    }
    Some(end)
}

/// A date starting at `at` (a word start) in folded text: `14/03/2027`,
/// `14.03.2027`, `14-03-2027`, `2027-03-14`, `14 mars 2027`, `1er mars 2027`,
/// `14 sept. 2027`. Returns the date and where it ends.
fn date_at(text: &[char], at: usize) -> Option<(NaiveDate, usize)> {
    if at > 0 && text[at - 1].is_alphanumeric() {
        return None;
    }
    // 2027-03-14
    if let Some((year, end)) = digits(text, at, 4, 4) {
        let (month, end) = (text.get(end) == Some(&'-'))
            .then(|| digits(text, end + 1, 2, 2))
            .flatten()?;
        let (day, end) = (text.get(end) == Some(&'-'))
            .then(|| digits(text, end + 1, 2, 2))
            .flatten()?;
        return NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day).map(|date| (date, end));
    }
    let (day, end) = if let Some(end) = word_at(text, at, "1er") {
        (1, end)
    } else {
        digits(text, at, 1, 2)?
    };
    // 14/03/2027
    if let Some(separator) = text.get(end).copied().filter(|c| matches!(c, '/' | '.' | '-')) {
        let (month, end) = digits(text, end + 1, 1, 2)?;
        let (year, end) = (text.get(end) == Some(&separator))
            .then(|| digits(text, end + 1, 4, 4))
            .flatten()?;
        return NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day).map(|date| (date, end));
    }
    // 14 mars 2027
    let start = spaces(text, end);
    if start == end {
        return None;
    }
    let (month, end) = MONTHS.iter().find_map(|(name, month)| {
        let end = word_at(text, start, name)?;
        let end = if text.get(end) == Some(&'.') { end + 1 } else { end };
        (!text.get(end).is_some_and(|c| c.is_alphanumeric())).then_some((*month, end))
    })?;
    let (year, end) = digits(text, spaces(text, end), 4, 4)?;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day).map(|date| (date, end))
}

/// A time right after a date: ` à 12h00`, ` à 12 h`, `, 17:30`, ` - midi`. Returns it and where it ends.
fn time_after(text: &[char], at: usize) -> Option<(NaiveTime, usize)> {
    let mut at = spaces(text, at);
    for connector in ["a ", "avant ", "jusqu'a ", ", ", "- ", "– "] {
        if let Some(end) = word_at(text, at, connector) {
            at = spaces(text, end);
            break;
        }
    }
    if let Some(end) = word_at(text, at, "midi") {
        return (!text.get(end).is_some_and(|c| c.is_alphanumeric()))
            .then_some((NaiveTime::from_hms_opt(12, 0, 0)?, end));
    }
    let (hour, end) = digits(text, at, 1, 2)?;
    let after_hour = spaces(text, end);
    let (minute, end) = match text.get(after_hour) {
        Some('h') => {
            let mut end = after_hour + 1;
            if let Some(rest) = word_at(text, end, "eures") {
                end = rest;
            }
            match digits(text, spaces(text, end), 2, 2) {
                Some((minute, end)) => (minute, end),
                None => (0, end),
            }
        }
        Some(':') => digits(text, after_hour + 1, 2, 2)?,
        _ => return None,
    };
    if text.get(end).is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    Some((NaiveTime::from_hms_opt(hour, minute, 0)?, end))
}

#[cfg(test)]
mod tests;
