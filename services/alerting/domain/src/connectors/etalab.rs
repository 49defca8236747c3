//! The CSV table of the Etalab `schema-dispositif-aide` (v0.2.0, a Frictionless
//! table schema): import and export.
//!
//! The schema's 15 columns, in its order, are [`COLUMNS`]. Multi-value fields
//! are joined by pipes (`valeur1|valeur2`); the geographic coverage is a list of
//! codes of the Code officiel géographique (`PAYS-99100|REG-53|DEP-35|COM-35238`,
//! plus `EPCI-<SIREN>`); `porteurs` is a list of `{ nom, siren, roles[] }`
//! written as a JavaScript literal; dates are ISO 8601 date-times.
//!
//! Import: the header must hold the schema's required columns (other columns
//! are ignored, so the schema's extensions are read too, `url_candidature`
//! giving the application URL); every row is checked on the columns Vigie
//! reads, and each bad value is an error at `FILE:LINE` naming its column. The
//! columns Vigie does not model stay in the call's `raw` (the row as a JSON
//! object, in header order), from which the export takes them back.
//!
//! Dates: a date-time with an offset is converted to the zone of the perimeter
//! (`Europe/Paris`, or the overseas zone of an overseas perimeter); a bare date,
//! or the last second of a local day (`23:59:59`), is a whole-day deadline.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde_json::{Map, Value};
use vigie_csv_out::push_record;
use vigie_words::{words, Words};

use super::{error, fold, iso_when, warning, zone_of, END_OF_DAY};
use crate::call::{CallDraft, Parsed, Perimeter, Scale, TerritoryCode};
use crate::model::{Stage, StageKind};
use crate::url::keep_url;

/// The source name of the calls read here.
pub const SOURCE: &str = "etalab";

/// The schema's columns, in its order (the export's header).
pub const COLUMNS: [&str; 15] = [
    "id",
    "titre",
    "promesse",
    "description",
    "eligibilite",
    "types_aides",
    "porteurs",
    "programmes_parents",
    "url_source",
    "cibles",
    "eligibilite_geographique",
    "eligibilite_geographique_exclusions",
    "date_ouverture",
    "date_cloture",
    "date_mise_a_jour",
];

/// The columns the schema requires.
pub const REQUIRED_COLUMNS: [&str; 9] = [
    "id",
    "titre",
    "description",
    "eligibilite",
    "types_aides",
    "porteurs",
    "cibles",
    "eligibilite_geographique",
    "date_mise_a_jour",
];

/// The schema's beneficiary categories (`cibles`), in its order.
pub const CIBLES: [&str; 4] = ["professionnels", "particuliers", "associations", "secteur public"];

/// The application URL column of the schema's "activation" extension.
const URL_CANDIDATURE: &str = "url_candidature";

/// The role of a `porteur` that funds the scheme.
const FUNDER_ROLE: &str = "financeur";

/// Our audience codes of one beneficiary category (`particuliers` covers none of ours).
fn cible_codes(cible: &str) -> &'static [&'static str] {
    match cible {
        "professionnels" => &["scop", "scic", "esus_company"],
        "associations" => &["association"],
        "secteur public" => &["commune", "epci", "department", "region", "public_establishment"],
        _ => &[],
    }
}

/// The beneficiary category an audience code is exported under.
fn cible_of(code: &str) -> Option<&'static str> {
    match code {
        "scop" | "scic" | "esus_company" | "mutual" => Some("professionnels"),
        "association" | "foundation" => Some("associations"),
        "commune" | "epci" | "department" | "region" | "public_establishment" => Some("secteur public"),
        _ => None,
    }
}

/// Reads a CSV file of the schema. Positions are `FILE:LINE` (the line where the row starts).
pub fn parse_csv(doc: &[u8], file_name: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let doc = doc.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(doc);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(doc);
    let mut record = csv::StringRecord::new();
    let mut header: Option<Vec<String>> = None;
    let mut seen_ids: HashMap<String, u64> = HashMap::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |position| position.line());
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => words!("ligne qui n'est pas en UTF-8", "line not in UTF-8"),
                    _ => words!("CSV illisible : {e}", "unreadable CSV: {e}"),
                };
                parsed.problems.push(error(format!("{file_name}:{line}"), message));
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    continue;
                }
                break;
            }
        }
        let line = record.position().map_or(line, |position| position.line());
        let position = format!("{file_name}:{line}");
        let Some(columns) = &header else {
            let names: Vec<String> = record.iter().map(|name| name.trim().to_owned()).collect();
            match check_header(&names) {
                Ok(()) => header = Some(names),
                Err(message) => {
                    parsed.problems.push(error(position, message));
                    return parsed;
                }
            }
            continue;
        };
        if record.len() != columns.len() {
            let (found, expected) = (record.len(), columns.len());
            parsed.problems.push(error(
                position,
                words!(
                    "{found} champs au lieu de {expected}",
                    "{found} fields instead of {expected}"
                ),
            ));
            continue;
        }
        let row: Vec<(&str, &str)> = columns.iter().map(String::as_str).zip(record.iter()).collect();
        match read_row(&row) {
            Ok((call, warnings)) => {
                parsed
                    .problems
                    .extend(warnings.into_iter().map(|message| warning(position.clone(), message)));
                if let Some(first) = seen_ids.get(&call.source_ref) {
                    let id = &call.source_ref;
                    parsed.problems.push(error(
                        position,
                        words!(
                            "colonne « id » : identifiant « {id} » déjà lu ligne {first}",
                            "column “id”: identifier “{id}” already read on line {first}"
                        ),
                    ));
                    continue;
                }
                seen_ids.insert(call.source_ref.clone(), line);
                parsed.calls.push(call);
            }
            Err(messages) => parsed
                .problems
                .extend(messages.into_iter().map(|message| error(position.clone(), message))),
        }
    }
    if header.is_none() {
        parsed.problems.push(error(
            format!("{file_name}:1"),
            words!(
                "fichier vide : l'en-tête est obligatoire",
                "empty file: the header is required"
            ),
        ));
    }
    parsed
}

fn check_header(names: &[String]) -> Result<(), Words> {
    let mut problems: Vec<Words> = Vec::new();
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|required| !names.iter().any(|name| name == required))
        .collect();
    if !missing.is_empty() {
        let missing = missing.join(", ");
        problems.push(words!(
            "colonnes obligatoires absentes : {missing}",
            "required columns missing: {missing}"
        ));
    }
    let mut duplicates: Vec<&str> = Vec::new();
    for (index, name) in names.iter().enumerate() {
        if names[..index].contains(name) && !duplicates.contains(&name.as_str()) {
            duplicates.push(name);
        }
    }
    if !duplicates.is_empty() {
        let duplicates = duplicates.join(", ");
        problems.push(words!(
            "colonnes en double : {duplicates}",
            "duplicate columns: {duplicates}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let fr: Vec<&str> = problems.iter().map(|problem| problem.fr.as_str()).collect();
        let en: Vec<&str> = problems.iter().map(|problem| problem.en.as_str()).collect();
        Err(Words::new(
            format!("en-tête invalide : {}", fr.join(" ; ")),
            format!("invalid header: {}", en.join("; ")),
        ))
    }
}

/// Reads one row (column name, value): the call and its warnings (URLs
/// dropped by [`crate::url::keep_url`]), or one message per bad column.
fn read_row(row: &[(&str, &str)]) -> Result<(CallDraft, Vec<Words>), Vec<Words>> {
    let get = |column: &str| {
        row.iter()
            .find(|(name, _)| *name == column)
            .map_or("", |(_, value)| value.trim())
    };
    let mut problems = Vec::new();
    let mut check = |column: &str, result: Result<(), Words>| {
        if let Err(Words { fr, en }) = result {
            problems.push(words!("colonne « {column} » : {fr}", "column “{column}”: {en}"));
        }
    };
    let id = get("id");
    check("id", non_empty(id));
    let title = get("titre");
    check("titre", non_empty(title));
    let funders = parse_porteurs(get("porteurs")).map(|porteurs| funders_of(&porteurs));
    check("porteurs", funders.as_ref().map(|_| ()).map_err(Clone::clone));
    let mut warnings = Vec::new();
    let info_url = keep_url(
        &words!("colonne « url_source »", "column “url_source”"),
        get("url_source"),
        &mut warnings,
    );
    let application_url = keep_url(
        &words!("colonne « {URL_CANDIDATURE} »", "column “{URL_CANDIDATURE}”"),
        get(URL_CANDIDATURE),
        &mut warnings,
    );
    let audiences = parse_cibles(get("cibles"));
    check("cibles", audiences.as_ref().map(|_| ()).map_err(Clone::clone));
    let codes = non_empty(get("eligibilite_geographique")).and_then(|()| parse_cog(get("eligibilite_geographique")));
    check(
        "eligibilite_geographique",
        codes.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let exclusions = parse_cog(get("eligibilite_geographique_exclusions"));
    check(
        "eligibilite_geographique_exclusions",
        exclusions.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let zone = codes.as_deref().map_or(crate::model::DEFAULT_TZ, zone_of);
    let mut closing = None;
    for column in ["date_ouverture", "date_cloture", "date_mise_a_jour"] {
        let value = get(column);
        if value.is_empty() {
            continue;
        }
        match parse_when(value, zone) {
            Ok(when) if column == "date_cloture" => closing = Some(when),
            Ok(_) => {}
            Err(message) => check(column, Err(message)),
        }
    }
    let (Ok(funders), Ok(audiences), Ok(codes), Ok(exclusions), true) =
        (funders, audiences, codes, exclusions, problems.is_empty())
    else {
        return Err(problems);
    };
    let stages = closing
        .map(|(date, time)| Stage {
            kind: StageKind::Submission,
            date,
            time,
            timezone: zone,
            wording: format!("date_cloture: {}", get("date_cloture")),
        })
        .into_iter()
        .collect();
    let call = CallDraft {
        source: SOURCE.to_owned(),
        source_ref: id.to_owned(),
        title: title.to_owned(),
        funders,
        programmes: pipe_list(get("programmes_parents")),
        info_url,
        application_url,
        themes: Vec::new(),
        audiences,
        perimeter: Perimeter {
            name: String::new(),
            scale_label: String::new(),
            codes,
            exclusions,
        },
        recurrence: None,
        stages,
        cancelled: false,
        raw: row_as_json(row),
    };
    Ok((call, warnings))
}

/// The error of an empty required cell.
fn required() -> Words {
    words!("valeur obligatoire absente", "required value missing")
}

fn non_empty(value: &str) -> Result<(), Words> {
    if value.is_empty() {
        Err(required())
    } else {
        Ok(())
    }
}

/// The row as a JSON object, in header order.
fn row_as_json(row: &[(&str, &str)]) -> String {
    let mut json = String::from("{");
    for (index, (name, value)) in row.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        json.push_str(&Value::from(*name).to_string());
        json.push(':');
        json.push_str(&Value::from(*value).to_string());
    }
    json.push('}');
    json
}

fn pipe_list(value: &str) -> Vec<String> {
    value
        .split('|')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `cibles`: pipe-separated categories among [`CIBLES`], to our audience codes (sorted, deduplicated).
fn parse_cibles(value: &str) -> Result<Vec<String>, Words> {
    if value.is_empty() {
        return Err(required());
    }
    let mut codes = Vec::new();
    for cible in value.split('|') {
        let folded = fold(cible);
        if !CIBLES.contains(&folded.as_str()) {
            let (cible, expected) = (cible.trim(), CIBLES.join(", "));
            return Err(words!(
                "bénéficiaire inconnu « {cible} » (attendu {expected})",
                "unknown beneficiary “{cible}” (expected {expected})"
            ));
        }
        codes.extend(cible_codes(&folded).iter().map(|code| (*code).to_owned()));
    }
    codes.sort();
    codes.dedup();
    Ok(codes)
}

/// Pipe-separated codes of the Code officiel géographique (empty is no code).
fn parse_cog(value: &str) -> Result<Vec<TerritoryCode>, Words> {
    let mut codes = Vec::new();
    for item in value.split('|').map(str::trim) {
        if item.is_empty() && value.trim().is_empty() {
            break;
        }
        if item.is_empty() {
            return Err(words!(
                "code géographique vide (barre verticale en trop ?)",
                "empty geographic code (one vertical bar too many?)"
            ));
        }
        let code = parse_cog_code(item).ok_or_else(|| {
            words!(
                "code géographique invalide « {item} » (attendu PAYS-99100, REG-53, DEP-35, EPCI-243500139 ou COM-35238)",
                "invalid geographic code “{item}” (expected PAYS-99100, REG-53, DEP-35, EPCI-243500139 or COM-35238)"
            )
        })?;
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(codes)
}

fn parse_cog_code(item: &str) -> Option<TerritoryCode> {
    let (prefix, code) = item.split_once('-')?;
    let digits = |text: &str, len: usize| text.len() == len && text.bytes().all(|b| b.is_ascii_digit());
    let corsican = |text: &str, len: usize| {
        (text.starts_with("2A") || text.starts_with("2B")) && text.len() == len && digits(&text[2..], len - 2)
    };
    let scale = match prefix {
        "PAYS" if code == "99100" => {
            return Some(TerritoryCode {
                scale: Scale::Country,
                code: "FR".to_owned(),
            })
        }
        "REG" if digits(code, 2) => Scale::Region,
        "DEP" if digits(code, 2) || (digits(code, 3) && code.starts_with("97")) || corsican(code, 2) => {
            Scale::Department
        }
        "EPCI" if digits(code, 9) => Scale::Epci,
        "COM" if digits(code, 5) || corsican(code, 5) => Scale::Commune,
        _ => return None,
    };
    Some(TerritoryCode {
        scale,
        code: code.to_owned(),
    })
}

fn cog_of(code: &TerritoryCode) -> String {
    match code.scale {
        Scale::Country => "PAYS-99100".to_owned(),
        Scale::Region => format!("REG-{}", code.code),
        Scale::Department => format!("DEP-{}", code.code),
        Scale::Epci => format!("EPCI-{}", code.code),
        Scale::Commune => format!("COM-{}", code.code),
    }
}

/// A local date and time (`None` for a whole day) in `zone`.
fn parse_when(value: &str, zone: Tz) -> Result<(NaiveDate, Option<NaiveTime>), Words> {
    iso_when(value, zone).ok_or_else(|| {
        words!(
            "date invalide « {value} » (attendu AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS+01:00)",
            "invalid date “{value}” (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+01:00)"
        )
    })
}

/// A stage as an ISO 8601 date-time with the offset of its zone (a whole day ends at 23:59:59).
fn format_stage(stage: &Stage) -> String {
    let local = stage.date.and_time(stage.time.unwrap_or(END_OF_DAY));
    match stage.timezone.from_local_datetime(&local).earliest() {
        Some(instant) => instant.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => local.format("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

/// One `porteur`: its name and roles.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Porteur {
    nom: String,
    roles: Vec<String>,
}

fn funders_of(porteurs: &[Porteur]) -> Vec<String> {
    porteurs
        .iter()
        .filter(|porteur| porteur.roles.iter().any(|role| fold(role) == FUNDER_ROLE))
        .map(|porteur| porteur.nom.clone())
        .collect()
}

/// `porteurs`: `[{ nom: 'ADEME', siren: '385290309', roles: [ 'instructeur' ]}, …]`,
/// a JavaScript literal (single or double quotes, bare keys); strict JSON is read too.
fn parse_porteurs(value: &str) -> Result<Vec<Porteur>, Words> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let invalid = |Words { fr, en }: Words| {
        words!(
            "liste de porteurs illisible : {fr} (attendu [{{ nom: 'ADEME', roles: [ 'financeur' ] }}])",
            "unreadable list of scheme owners: {en} (expected [{{ nom: 'ADEME', roles: [ 'financeur' ] }}])"
        )
    };
    let length = value.chars().count();
    if length > MAX_PORTEURS_CHARS {
        return Err(invalid(words!(
            "{length} caractères, au plus {MAX_PORTEURS_CHARS} sont lus",
            "{length} characters, at most {MAX_PORTEURS_CHARS} are read"
        )));
    }
    let mut parser = Literal {
        chars: value.chars().collect(),
        at: 0,
    };
    let literal = parser.value(0).map_err(invalid)?;
    parser.blank();
    if parser.at < parser.chars.len() {
        let at = parser.at + 1;
        return Err(invalid(words!(
            "texte en trop au caractère {at}",
            "extra text at character {at}"
        )));
    }
    let Lit::List(items) = literal else {
        return Err(invalid(words!("une liste est attendue", "a list is expected")));
    };
    let mut porteurs = Vec::with_capacity(items.len());
    for item in items {
        let Lit::Object(fields) = item else {
            return Err(invalid(words!(
                "chaque porteur est un objet",
                "each scheme owner is an object"
            )));
        };
        let mut nom = None;
        let mut roles = Vec::new();
        for (key, field) in fields {
            match (key.as_str(), field) {
                ("nom", Lit::Text(text)) => nom = Some(text.trim().to_owned()),
                ("roles", Lit::Text(text)) => roles.push(text),
                ("roles", Lit::List(list)) => {
                    for role in list {
                        match role {
                            Lit::Text(role) => roles.push(role),
                            _ => return Err(invalid(words!("les rôles sont des textes", "roles are texts"))),
                        }
                    }
                }
                ("nom" | "roles", _) => return Err(invalid(words!("« {key} » mal formé", "malformed “{key}”"))),
                _ => {}
            }
        }
        match nom {
            Some(nom) if !nom.is_empty() => porteurs.push(Porteur { nom, roles }),
            _ => return Err(invalid(words!("porteur sans nom", "scheme owner without a name"))),
        }
    }
    Ok(porteurs)
}

fn format_porteurs(funders: &[String]) -> String {
    if funders.is_empty() {
        return String::new();
    }
    let items: Vec<String> = funders
        .iter()
        .map(|funder| {
            format!(
                "{{ nom: {}, roles: [ \"{FUNDER_ROLE}\" ] }}",
                Value::from(funder.as_str())
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// How deep lists and objects may nest in `porteurs`: the schema needs 3
/// (a list of objects holding a list of roles). The parser is recursive, so
/// without this bound a cell of 20,000 `[` overflowed the stack and aborted
/// the whole process; past it the cell is refused with a clear message.
pub const MAX_PORTEURS_DEPTH: usize = 16;

/// The longest `porteurs` cell read, in characters (a list of a hundred
/// funders stays far below): bounds the memory of one cell's parse.
pub const MAX_PORTEURS_CHARS: usize = 65_536;

/// A value of the tolerant literal syntax of `porteurs`.
#[derive(Debug)]
enum Lit {
    Text(String),
    List(Vec<Lit>),
    Object(Vec<(String, Lit)>),
}

struct Literal {
    chars: Vec<char>,
    at: usize,
}

impl Literal {
    fn blank(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.blank();
        self.chars.get(self.at).copied()
    }

    fn expect(&mut self, wanted: char) -> Result<(), Words> {
        match self.peek() {
            Some(c) if c == wanted => {
                self.at += 1;
                Ok(())
            }
            Some(c) => {
                let at = self.at + 1;
                Err(words!(
                    "« {wanted} » attendu au caractère {at}, « {c} » trouvé",
                    "“{wanted}” expected at character {at}, “{c}” found"
                ))
            }
            None => Err(words!(
                "« {wanted} » attendu, fin du texte trouvée",
                "“{wanted}” expected, end of text found"
            )),
        }
    }

    /// Reads one value; `depth` is the number of lists and objects around it.
    fn value(&mut self, depth: usize) -> Result<Lit, Words> {
        if depth >= MAX_PORTEURS_DEPTH && matches!(self.peek(), Some('[' | '{')) {
            let at = self.at + 1;
            return Err(words!(
                "imbrication trop profonde au caractère {at} (au plus {MAX_PORTEURS_DEPTH} niveaux de [ ] et {{ }})",
                "nesting too deep at character {at} (at most {MAX_PORTEURS_DEPTH} levels of [ ] and {{ }})"
            ));
        }
        match self.peek() {
            Some('[') => {
                self.at += 1;
                let mut items = Vec::new();
                while self.peek() != Some(']') {
                    items.push(self.value(depth + 1)?);
                    if self.peek() == Some(',') {
                        self.at += 1;
                    } else {
                        break;
                    }
                }
                self.expect(']')?;
                Ok(Lit::List(items))
            }
            Some('{') => {
                self.at += 1;
                let mut fields = Vec::new();
                while self.peek() != Some('}') {
                    let key = match self.value(depth + 1)? {
                        Lit::Text(key) => key,
                        _ => {
                            let at = self.at + 1;
                            return Err(words!(
                                "nom de champ attendu au caractère {at}",
                                "field name expected at character {at}"
                            ));
                        }
                    };
                    self.expect(':')?;
                    fields.push((key, self.value(depth + 1)?));
                    if self.peek() == Some(',') {
                        self.at += 1;
                    } else {
                        break;
                    }
                }
                self.expect('}')?;
                Ok(Lit::Object(fields))
            }
            Some(quote @ ('\'' | '"')) => {
                let start = self.at;
                self.at += 1;
                let mut text = String::new();
                loop {
                    let Some(c) = self.chars.get(self.at).copied() else {
                        let at = start + 1;
                        return Err(words!(
                            "texte ouvert au caractère {at} non fermé",
                            "text opened at character {at} not closed"
                        ));
                    };
                    self.at += 1;
                    match c {
                        '\\' => {
                            let escaped = self.chars.get(self.at).copied().unwrap_or('\\');
                            self.at += 1;
                            text.push(match escaped {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                        c if c == quote => return Ok(Lit::Text(text)),
                        c => text.push(c),
                    }
                }
            }
            Some(c) if c.is_alphanumeric() || c == '_' || c == '-' => {
                let start = self.at;
                while self
                    .chars
                    .get(self.at)
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
                {
                    self.at += 1;
                }
                Ok(Lit::Text(self.chars[start..self.at].iter().collect()))
            }
            Some(c) => {
                let at = self.at + 1;
                Err(words!(
                    "caractère inattendu « {c} » au caractère {at}",
                    "unexpected character “{c}” at character {at}"
                ))
            }
            None => Err(words!(
                "valeur attendue, fin du texte trouvée",
                "value expected, end of text found"
            )),
        }
    }
}

/// Exports calls as a CSV table of the schema, in its column order.
///
/// The columns of the call are written from the call; the columns Vigie does
/// not model (`promesse`, `description`, `eligibilite`, `types_aides`, the
/// dates of opening and update) are taken back from the call's `raw` when its
/// source has them (an Etalab row, an Aides-territoires aid), else left empty.
/// A value read from an Etalab row that still says the same as the call is
/// written back verbatim, so that importing then exporting a valid file gives
/// it back unchanged. The id of a call of another source is `SOURCE:REF`.
/// Perimeters known by name only (not resolved to codes) give an empty
/// `eligibilite_geographique`; only the submission stage is exported
/// (`date_cloture`). Cells are written through [`vigie_csv_out`], so a title
/// such as `=HYPERLINK(…)` comes out neutralised (`'=HYPERLINK(…)`).
pub fn write_csv(calls: &[CallDraft]) -> String {
    let mut out = String::new();
    push_record(&mut out, COLUMNS);
    for call in calls {
        push_record(&mut out, export_row(call));
    }
    out
}

fn export_row(call: &CallDraft) -> Vec<String> {
    let raw: Map<String, Value> = serde_json::from_str(&call.raw).unwrap_or_default();
    let etalab = call.source == SOURCE;
    let raw_text = |key: &str| match raw.get(key) {
        Some(Value::String(text)) => text.clone(),
        _ => String::new(),
    };
    let kept = |column: &str| -> String {
        let key = match (etalab, call.source.as_str(), column) {
            (true, _, column) => column,
            (false, "aides-territoires", "description") => "description",
            (false, "aides-territoires", "eligibilite") => "eligibility",
            (false, "aides-territoires", "date_ouverture") => "start_date",
            (false, "aides-territoires", "date_mise_a_jour") => "date_updated",
            _ => return String::new(),
        };
        raw_text(key)
    };
    // The raw value of an Etalab row when it still reads as `same`, else `fresh`.
    let verbatim = |column: &str, same: &dyn Fn(&str) -> bool, fresh: String| -> String {
        let original = raw_text(column);
        if etalab && !original.is_empty() && same(original.trim()) {
            original
        } else {
            fresh
        }
    };
    let submission = call.stages.iter().find(|stage| stage.kind == StageKind::Submission);
    let zone = zone_of(&call.perimeter.codes);
    let closing = verbatim(
        "date_cloture",
        &|value| {
            submission
                .is_some_and(|stage| stage.timezone == zone && parse_when(value, zone) == Ok((stage.date, stage.time)))
        },
        submission.map(format_stage).unwrap_or_default(),
    );
    let mut cibles: Vec<&str> = call.audiences.iter().filter_map(|code| cible_of(code)).collect();
    cibles.sort_by_key(|cible| CIBLES.iter().position(|known| known == cible));
    cibles.dedup();
    let codes = |codes: &[TerritoryCode]| codes.iter().map(cog_of).collect::<Vec<_>>().join("|");
    vec![
        if etalab {
            call.source_ref.clone()
        } else {
            format!("{}:{}", call.source, call.source_ref)
        },
        call.title.clone(),
        kept("promesse"),
        kept("description"),
        kept("eligibilite"),
        kept("types_aides"),
        verbatim(
            "porteurs",
            &|value| parse_porteurs(value).is_ok_and(|porteurs| funders_of(&porteurs) == call.funders),
            format_porteurs(&call.funders),
        ),
        verbatim(
            "programmes_parents",
            &|value| pipe_list(value) == call.programmes,
            call.programmes.join("|"),
        ),
        call.info_url.clone(),
        verbatim(
            "cibles",
            &|value| parse_cibles(value).is_ok_and(|audiences| audiences == call.audiences),
            cibles.join("|"),
        ),
        verbatim(
            "eligibilite_geographique",
            &|value| parse_cog(value).is_ok_and(|parsed| parsed == call.perimeter.codes),
            codes(&call.perimeter.codes),
        ),
        verbatim(
            "eligibilite_geographique_exclusions",
            &|value| parse_cog(value).is_ok_and(|parsed| parsed == call.perimeter.exclusions),
            codes(&call.perimeter.exclusions),
        ),
        kept("date_ouverture"),
        closing,
        kept("date_mise_a_jour"),
    ]
}

#[cfg(test)]
mod tests;
