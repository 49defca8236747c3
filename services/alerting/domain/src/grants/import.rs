//! The import of applications and decisions from one sheet (issue 16,
//! docs/grants.md « Import d'un tableau »): a CSV file (UTF-8, `,` or `;`,
//! a BOM allowed) or the one data sheet of a workbook, already turned into
//! CSV text by the adapter with row N on line N.
//!
//! Everything is checked before anything is written, and every problem is
//! reported with its line, not only the first: a person fixing a file of a
//! few hundred rows wants the whole list at once. Each row is checked with
//! the rules of `RecordApplication` and `RecordGrant` ([`super::validate`]),
//! so a row is refused exactly when the same values sent one by one would
//! be. What depends on the database (does the structure exist, may the
//! caller act for it, does the call exist) is the adapter's, by line too.
//!
//! A re-import of the same file changes nothing: a row without a call is
//! identified by its key — the `clé` column, or, when empty, one derived
//! from the structure, the funder, the title and the date of submission
//! ([`derived_key`]) — and a row with a call by the call.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::validate::{
    bounded_text, idempotency_key, validate_application, validate_grant, ApplicationInput, GrantInput, MAX_TITLE_CHARS,
    REFUSED, WON,
};

/// Largest file accepted (a workbook too, before it is read).
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;
/// Most data rows in one file (the header not counted).
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Longest structure or call identifier.
pub const MAX_ID_CHARS: usize = 100;
/// The prefix of the keys derived for rows without one: never chosen by a
/// person by chance, and recognisable in a database.
pub const DERIVED_KEY_PREFIX: &str = "import:";

/// One column of the sheet: its French header (the template's), the
/// English and plain-ASCII names also accepted, and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// What the row's value is used for.
    pub field: Field,
    /// The header written by the template.
    pub fr: &'static str,
    /// The English header, also accepted.
    pub en: &'static str,
    /// Required in every file (its header must be there).
    pub required: bool,
    /// French help, for the template's « Lisez-moi » and the docs.
    pub help_fr: &'static str,
}

/// The meaning of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `structure`.
    Structure,
    /// `financeur`.
    Funder,
    /// `intitulé`.
    Title,
    /// `appel`.
    Call,
    /// `date de dépôt`.
    AppliedOn,
    /// `montant demandé`.
    AmountAsked,
    /// `issue`.
    Outcome,
    /// `date de décision`.
    DecidedOn,
    /// `montant accordé`.
    AmountGranted,
    /// `fin d'exercice`.
    YearEnd,
    /// `début de convention`.
    AgreementStart,
    /// `fin de convention`.
    AgreementEnd,
    /// `référence`.
    Reference,
    /// `objet`.
    Purpose,
    /// `subvention publique`.
    Public,
    /// `clé`.
    Key,
}

/// Every column, in the template's order.
pub const COLUMNS: [Column; 16] = [
    Column {
        field: Field::Structure,
        fr: "structure",
        en: "structure_id",
        required: true,
        help_fr: "identifiant de la structure dans Vigie (obligatoire)",
    },
    Column {
        field: Field::Funder,
        fr: "financeur",
        en: "funder",
        required: true,
        help_fr: "qui finance (« Région Bretagne ») ; obligatoire sans appel",
    },
    Column {
        field: Field::Title,
        fr: "intitulé",
        en: "title",
        required: true,
        help_fr: "le projet ou l'action ; obligatoire sans appel",
    },
    Column {
        field: Field::Call,
        fr: "appel",
        en: "call",
        required: false,
        help_fr: "identifiant de l'appel dans Vigie (vigie calls list), facultatif",
    },
    Column {
        field: Field::AppliedOn,
        fr: "date de dépôt",
        en: "applied on",
        required: false,
        help_fr: "JJ/MM/AAAA ou AAAA-MM-JJ (par défaut aujourd'hui)",
    },
    Column {
        field: Field::AmountAsked,
        fr: "montant demandé",
        en: "amount asked",
        required: false,
        help_fr: "en euros : 12500, 12 500 ou 12 500,50 €",
    },
    Column {
        field: Field::Outcome,
        fr: "issue",
        en: "outcome",
        required: false,
        help_fr: "vide (en attente), obtenu ou refusé",
    },
    Column {
        field: Field::DecidedOn,
        fr: "date de décision",
        en: "decided on",
        required: false,
        help_fr: "JJ/MM/AAAA ou AAAA-MM-JJ (par défaut aujourd'hui)",
    },
    Column {
        field: Field::AmountGranted,
        fr: "montant accordé",
        en: "amount granted",
        required: false,
        help_fr: "en euros, pour une subvention obtenue",
    },
    Column {
        field: Field::YearEnd,
        fr: "fin d'exercice",
        en: "financial year end",
        required: false,
        help_fr: "dernier jour de l'exercice financé (obligatoire si obtenu)",
    },
    Column {
        field: Field::AgreementStart,
        fr: "début de convention",
        en: "agreement start",
        required: false,
        help_fr: "convention pluriannuelle : premier jour (avec la fin)",
    },
    Column {
        field: Field::AgreementEnd,
        fr: "fin de convention",
        en: "agreement end",
        required: false,
        help_fr: "convention pluriannuelle : dernier jour (avec le début)",
    },
    Column {
        field: Field::Reference,
        fr: "référence",
        en: "reference",
        required: false,
        help_fr: "référence de la convention (100 caractères au plus)",
    },
    Column {
        field: Field::Purpose,
        fr: "objet",
        en: "purpose",
        required: false,
        help_fr: "objet de la subvention (2000 caractères au plus)",
    },
    Column {
        field: Field::Public,
        fr: "subvention publique",
        en: "public subsidy",
        required: false,
        help_fr: "oui (par défaut) ou non : seules les publiques comptent dans le seuil de 153 000 €",
    },
    Column {
        field: Field::Key,
        fr: "clé",
        en: "key",
        required: false,
        help_fr: "facultative : sans elle, la ligne est reconnue par structure, financeur, intitulé et date de dépôt",
    },
];

/// The French headers, in order (the template's first line).
pub fn header_fr() -> Vec<&'static str> {
    COLUMNS.iter().map(|c| c.fr).collect()
}

/// What one row records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowAction {
    /// An application without a decision (`issue` empty).
    Application(ApplicationInput),
    /// A decision (`obtenu` or `refusé`).
    Decision(GrantInput),
}

/// One valid row, with its line in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The line (or sheet row) it was read from.
    pub line: u64,
    /// What it records, validated.
    pub action: RowAction,
}

impl ImportRow {
    /// The row's structure.
    pub fn structure_id(&self) -> &str {
        match &self.action {
            RowAction::Application(a) => &a.structure_id,
            RowAction::Decision(g) => &g.structure_id,
        }
    }

    /// The row's call ("" for none).
    pub fn call_id(&self) -> &str {
        match &self.action {
            RowAction::Application(a) => &a.call_id,
            RowAction::Decision(g) => &g.call_id,
        }
    }
}

/// A problem at a line (0 = the whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line, or 0.
    pub line: u64,
    /// French.
    pub message: String,
}

impl Problem {
    /// `FILE:LINE: message` (`FILE: message` for the whole file); `file` is
    /// `grants.csv`, or `grants.xlsx/Subventions` for a workbook's sheet.
    pub fn render(&self, file: &str) -> String {
        if self.line == 0 {
            format!("{file}: {}", self.message)
        } else {
            format!("{file}:{}: {}", self.line, self.message)
        }
    }
}

/// The rows of a file, or every problem found in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The valid rows, in file order.
    pub rows: Vec<ImportRow>,
    /// Every problem, in file order; the import writes nothing when any.
    pub problems: Vec<Problem>,
}

/// A header as compared: lower case, without accents, `_ - '` as spaces,
/// spaces collapsed (« Date_de_dépôt » is « date de depot »).
fn normalise_header(name: &str) -> String {
    let folded: String = name
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            '_' | '-' | '\'' | '’' => ' ',
            other => other,
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The column a header names, French or English.
fn column_of(name: &str) -> Option<&'static Column> {
    let name = normalise_header(name);
    COLUMNS
        .iter()
        .find(|c| normalise_header(c.fr) == name || normalise_header(c.en) == name)
}

/// The delimiter of a file: `;` when its first line has more semicolons
/// than commas (what Excel writes in French), `,` otherwise.
fn delimiter(doc: &[u8]) -> u8 {
    let first = doc.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| first.iter().filter(|&&b| b == d).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// An amount in euros the French way (« 12 500,50 », « 12500 », « 12 500 € »,
/// « 12.500 », or a spreadsheet's « 12500.5 ») in cents; `None` for empty.
///
/// A comma is always the decimal separator; a point is one too, unless it
/// is followed by exactly three digits (« 12.500 » is twelve thousand five
/// hundred, as a French reader means it).
///
/// # Errors
/// A French message naming `field` for anything else (a negative amount,
/// more than two decimals, letters).
pub fn parse_euros(text: &str, field: &str) -> Result<Option<i64>, String> {
    let raw = text.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let refuse =
        || format!("{field} « {raw} » : attendu un montant en euros, par exemple 12500, 12 500 ou 12 500,50 €");
    let mut cleaned: String = raw
        .trim_end_matches("EUR")
        .trim_end_matches("eur")
        .trim_end_matches('€')
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '_'))
        .collect();
    // Points as thousands separators: 1.234.567 or 12.500 (and with a
    // comma for the cents: 12.500,50).
    let groups: Vec<&str> = cleaned.split(',').next().unwrap_or_default().split('.').collect();
    if groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3) && (1..=3).contains(&groups[0].len()) {
        let comma = cleaned.find(',').map(|i| cleaned[i..].to_owned()).unwrap_or_default();
        cleaned = format!("{}{comma}", groups.concat());
    }
    let (whole, fraction) = match cleaned.split_once([',', '.']) {
        Some((w, f)) => (w, f),
        None => (cleaned.as_str(), ""),
    };
    if whole.is_empty()
        || whole.len() > 12
        || !whole.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(refuse());
    }
    let euros: i64 = whole.parse().map_err(|_| refuse())?;
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| refuse())?;
    euros
        .checked_mul(100)
        .and_then(|c| c.checked_add(cents))
        .map(Some)
        .ok_or_else(refuse)
}

/// A date as `JJ/MM/AAAA` (or `J/M/AAAA`, `JJ-MM-AAAA`, `JJ.MM.AAAA`) or
/// `AAAA-MM-JJ` (what a spreadsheet's date cell becomes); `None` for empty.
///
/// # Errors
/// A French message naming `field`.
pub fn parse_date(text: &str, field: &str) -> Result<Option<NaiveDate>, String> {
    let raw = text.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let refuse = || format!("{field} « {raw} » : date attendue au format JJ/MM/AAAA ou AAAA-MM-JJ");
    let parts: Vec<&str> = raw.split(['/', '-', '.']).collect();
    let [a, b, c] = parts[..] else {
        return Err(refuse());
    };
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (year, month, day) = match (a.len(), c.len()) {
        (4, 1..=2) => (number(a), number(b), number(c)),
        (1..=2, 4) => (number(c), number(b), number(a)),
        _ => return Err(refuse()),
    };
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(refuse());
    };
    let year = i32::try_from(year).map_err(|_| refuse())?;
    NaiveDate::from_ymd_opt(year, month, day)
        .map(Some)
        .ok_or_else(|| format!("{field} « {raw} » : cette date n'existe pas"))
}

/// `oui`/`non` (and `yes`/`no`, `vrai`/`faux`, `true`/`false`, `1`/`0`);
/// `None` for empty.
///
/// # Errors
/// A French message naming `field`.
pub fn parse_yes_no(text: &str, field: &str) -> Result<Option<bool>, String> {
    match normalise_header(text).as_str() {
        "" => Ok(None),
        "oui" | "o" | "yes" | "y" | "vrai" | "true" | "1" | "x" => Ok(Some(true)),
        "non" | "n" | "no" | "faux" | "false" | "0" => Ok(Some(false)),
        _ => Err(format!("{field} « {} » : attendu oui ou non", text.trim())),
    }
}

/// The stage an `issue` names: `None` for empty (an application pending),
/// [`WON`] or [`REFUSED`].
///
/// # Errors
/// A French message naming the column.
pub fn parse_outcome(text: &str) -> Result<Option<&'static str>, String> {
    match normalise_header(text).as_str() {
        "" | "en attente" | "depose" | "deposee" | "pending" | "applied" => Ok(None),
        "obtenu" | "obtenue" | "accorde" | "accordee" | "won" | "granted" => Ok(Some(WON)),
        "refuse" | "refusee" | "rejete" | "rejetee" | "refused" | "rejected" => Ok(Some(REFUSED)),
        _ => Err(format!(
            "issue « {} » inconnue : vide (en attente), obtenu ou refusé",
            text.trim()
        )),
    }
}

/// FNV-1a, 64 bits, from `seed`: a stable hash that needs no dependency
/// (the derived key must not change between versions of Vigie, which rules
/// out the standard library's hasher).
fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    let mut hash = seed;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The key of a row without one: the structure, the funder, the title (case
/// and spaces folded) and the date of submission (empty when not given, so
/// that a re-import on another day finds the same rows), hashed on 128 bits.
pub fn derived_key(structure_id: &str, funder: &str, title: &str, applied_on: Option<NaiveDate>) -> String {
    let fold = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let text = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        structure_id.trim(),
        fold(funder),
        fold(title),
        applied_on.map(|d| d.to_string()).unwrap_or_default()
    );
    let high = fnv1a(0xcbf2_9ce4_8422_2325, text.as_bytes());
    let low = fnv1a(0x8422_2325_cbf2_9ce4, text.as_bytes());
    format!("{DERIVED_KEY_PREFIX}{high:016x}{low:016x}")
}

/// The cells of one row by column.
struct Cells<'a> {
    values: HashMap<Field, &'a str>,
}

impl Cells<'_> {
    fn get(&self, field: Field) -> &str {
        self.values.get(&field).copied().unwrap_or("").trim()
    }
}

/// Collects the problems of one row while reading its cells.
struct RowCheck {
    problems: Vec<String>,
}

impl RowCheck {
    fn keep<T: Default>(&mut self, result: Result<T, String>) -> T {
        result.unwrap_or_else(|message| {
            self.problems.push(message);
            T::default()
        })
    }
}

/// Reads one data row into what it records; every problem of the row.
fn read_row(cells: &Cells<'_>, today: NaiveDate) -> Result<RowAction, Vec<String>> {
    let mut check = RowCheck { problems: Vec::new() };
    let structure_id = check.keep(bounded_text(
        cells.get(Field::Structure),
        MAX_ID_CHARS,
        "structure",
        true,
    ));
    let call_id = check.keep(bounded_text(cells.get(Field::Call), MAX_ID_CHARS, "appel", false));
    let funder = check.keep(bounded_text(
        cells.get(Field::Funder),
        MAX_TITLE_CHARS,
        "financeur",
        call_id.is_empty(),
    ));
    let title = check.keep(bounded_text(
        cells.get(Field::Title),
        MAX_TITLE_CHARS,
        "intitulé",
        call_id.is_empty(),
    ));
    let applied_on = check.keep(parse_date(cells.get(Field::AppliedOn), "date de dépôt"));
    let amount_asked = check.keep(parse_euros(cells.get(Field::AmountAsked), "montant demandé"));
    let outcome = check.keep(parse_outcome(cells.get(Field::Outcome)));
    let decided_on = check.keep(parse_date(cells.get(Field::DecidedOn), "date de décision"));
    let amount_granted = check.keep(parse_euros(cells.get(Field::AmountGranted), "montant accordé"));
    let year_end = check.keep(parse_date(cells.get(Field::YearEnd), "fin d'exercice"));
    let agreement_start = check.keep(parse_date(cells.get(Field::AgreementStart), "début de convention"));
    let agreement_end = check.keep(parse_date(cells.get(Field::AgreementEnd), "fin de convention"));
    let public = check.keep(parse_yes_no(cells.get(Field::Public), "subvention publique"));
    let key = check.keep(idempotency_key(cells.get(Field::Key)));
    if outcome.is_none() {
        // A decision's column filled on a row without a decision is a row
        // whose `issue` was forgotten: recording it as pending would lose
        // the grant's duties without a word.
        let decided: Vec<&str> = [
            (Field::DecidedOn, "date de décision"),
            (Field::AmountGranted, "montant accordé"),
            (Field::YearEnd, "fin d'exercice"),
            (Field::AgreementStart, "début de convention"),
            (Field::AgreementEnd, "fin de convention"),
        ]
        .iter()
        .filter(|(f, _)| !cells.get(*f).is_empty())
        .map(|(_, name)| *name)
        .collect();
        if !decided.is_empty() {
            check.problems.push(format!(
                "issue vide (candidature en attente) mais {} renseigné(s) : indiquez obtenu ou refusé",
                decided.join(", ")
            ));
        }
    }
    if !check.problems.is_empty() {
        return Err(check.problems);
    }
    let key = match (call_id.is_empty(), key.is_empty()) {
        // A call identifies the row by itself (one application per
        // structure and call); its key would be ignored.
        (false, _) => String::new(),
        (true, false) => key,
        (true, true) => derived_key(&structure_id, &funder, &title, applied_on),
    };
    let action = match outcome {
        None => validate_application(
            &ApplicationInput {
                structure_id,
                call_id,
                funder,
                title,
                applied_on,
                amount_asked: amount_asked.unwrap_or(0),
                idempotency_key: key,
            },
            today,
        )
        .map(RowAction::Application),
        Some(outcome) => validate_grant(
            &GrantInput {
                structure_id,
                grant_id: String::new(),
                call_id,
                funder,
                title,
                outcome: outcome.to_owned(),
                amount_granted: amount_granted.unwrap_or(0),
                decided_on,
                financial_year_end: year_end,
                agreement_start,
                agreement_end,
                reference: cells.get(Field::Reference).to_owned(),
                purpose: cells.get(Field::Purpose).to_owned(),
                public_subsidy: public,
                amount_asked: amount_asked.unwrap_or(0),
                applied_on,
                idempotency_key: key,
            },
            today,
        )
        .map(RowAction::Decision),
    };
    action.map_err(|message| vec![message])
}

/// The line of a byte offset, for offsets that only grow.
struct LineCounter<'a> {
    doc: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(doc: &'a [u8]) -> Self {
        LineCounter {
            doc,
            offset: 0,
            line: 1,
        }
    }

    /// The line (from 1) of the record starting at byte `at`: the reader
    /// may give the offset of the line ends skipped before it.
    fn at(&mut self, at: u64) -> u64 {
        let mut at = usize::try_from(at).unwrap_or(usize::MAX).min(self.doc.len());
        while at < self.doc.len() && matches!(self.doc[at], b'\r' | b'\n') {
            at += 1;
        }
        if at > self.offset {
            let newlines = self.doc[self.offset..at].iter().filter(|&&b| b == b'\n').count();
            self.line += newlines as u64;
            self.offset = at;
        }
        self.line
    }
}

/// Checks a header line: every name known, none twice, the required ones
/// there. Returns the column of each position.
fn read_header(names: &[&str]) -> Result<Vec<Option<Field>>, String> {
    let mut fields = Vec::with_capacity(names.len());
    let mut unknown = Vec::new();
    let mut twice = Vec::new();
    for name in names {
        if name.trim().is_empty() {
            fields.push(None);
            continue;
        }
        match column_of(name) {
            Some(column) if fields.contains(&Some(column.field)) => twice.push(format!("« {} »", name.trim())),
            Some(column) => fields.push(Some(column.field)),
            None => unknown.push(format!("« {} »", name.trim())),
        }
    }
    let missing: Vec<String> = COLUMNS
        .iter()
        .filter(|c| c.required && !fields.contains(&Some(c.field)))
        .map(|c| format!("« {} »", c.fr))
        .collect();
    let mut message = Vec::new();
    if !unknown.is_empty() {
        message.push(format!("colonne(s) inconnue(s) {}", unknown.join(", ")));
    }
    if !twice.is_empty() {
        message.push(format!("colonne(s) en double {}", twice.join(", ")));
    }
    if !missing.is_empty() {
        message.push(format!("colonne(s) manquante(s) {}", missing.join(", ")));
    }
    if message.is_empty() {
        Ok(fields)
    } else {
        Err(format!(
            "en-tête : {} ; colonnes attendues : {}",
            message.join(" ; "),
            header_fr().join(", ")
        ))
    }
}

/// Reads a file of applications and decisions; `today` bounds the dates
/// (as for `RecordGrant`). Every problem is listed with its line; `rows` is
/// only worth writing when `problems` is empty.
pub fn parse(content: &[u8], today: NaiveDate) -> Parsed {
    let mut parsed = Parsed::default();
    let whole = |parsed: &mut Parsed, message: String| parsed.problems.push(Problem { line: 0, message });
    if content.len() > MAX_IMPORT_BYTES {
        whole(
            &mut parsed,
            format!(
                "le fichier fait {:.1} Mio, au-delà de la limite de {} Mio : découpez-le",
                content.len() as f64 / 1_048_576.0,
                MAX_IMPORT_BYTES / 1_048_576
            ),
        );
        return parsed;
    }
    let doc = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(doc))
        .from_reader(doc);
    let mut record = csv::ByteRecord::new();
    let mut header: Option<Vec<Option<Field>>> = None;
    // (structure, key or call) → first line, to refuse a row given twice.
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    let mut data_rows = 0usize;
    // The reader's own line count drifts over blank lines and CRLF: lines
    // are counted here from byte offsets, which it keeps exact.
    let mut lines = LineCounter::new(doc);
    loop {
        let start = reader.position().byte();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = lines.at(e.position().map_or(start, csv::Position::byte));
                parsed.problems.push(Problem {
                    line,
                    message: format!("CSV illisible : {e}"),
                });
                break;
            }
        }
        let line = lines.at(record.position().map_or(start, csv::Position::byte));
        let Ok(texts) = record.iter().map(std::str::from_utf8).collect::<Result<Vec<&str>, _>>() else {
            parsed.problems.push(Problem {
                line,
                message: "ligne qui n'est pas en UTF-8 : enregistrez le fichier en « CSV UTF-8 »".to_owned(),
            });
            continue;
        };
        if texts.iter().all(|t| t.trim().is_empty()) {
            continue;
        }
        let Some(fields) = &header else {
            match read_header(&texts) {
                Ok(fields) => header = Some(fields),
                Err(message) => {
                    parsed.problems.push(Problem { line, message });
                    return parsed;
                }
            }
            continue;
        };
        data_rows += 1;
        if data_rows > MAX_IMPORT_ROWS {
            parsed.problems.push(Problem {
                line,
                message: format!("plus de {MAX_IMPORT_ROWS} lignes : découpez le fichier"),
            });
            break;
        }
        if texts.len() > fields.len() && texts[fields.len()..].iter().any(|t| !t.trim().is_empty()) {
            parsed.problems.push(Problem {
                line,
                message: format!(
                    "{} champs pour {} colonnes d'en-tête (un séparateur en trop ?)",
                    texts.len(),
                    fields.len()
                ),
            });
            continue;
        }
        let cells = Cells {
            values: fields
                .iter()
                .zip(texts.iter())
                .filter_map(|(f, t)| f.map(|f| (f, *t)))
                .collect(),
        };
        match read_row(&cells, today) {
            Ok(action) => {
                let row = ImportRow { line, action };
                let identity = match &row.action {
                    RowAction::Application(a) if a.call_id.is_empty() => a.idempotency_key.clone(),
                    RowAction::Decision(g) if g.call_id.is_empty() => g.idempotency_key.clone(),
                    _ => format!("appel:{}", row.call_id()),
                };
                let id = (row.structure_id().to_owned(), identity);
                if let Some(first) = seen.get(&id) {
                    let what = if row.call_id().is_empty() {
                        "même structure et même clé (ou mêmes financeur, intitulé et date de dépôt)".to_owned()
                    } else {
                        format!("même structure et même appel « {} »", row.call_id())
                    };
                    parsed.problems.push(Problem {
                        line,
                        message: format!("ligne en double de la ligne {first} ({what})"),
                    });
                    continue;
                }
                seen.insert(id, line);
                parsed.rows.push(row);
            }
            Err(messages) => parsed
                .problems
                .extend(messages.into_iter().map(|message| Problem { line, message })),
        }
    }
    if header.is_none() && parsed.problems.is_empty() {
        whole(
            &mut parsed,
            format!(
                "fichier vide : la première ligne doit nommer les colonnes ({})",
                header_fr().join(", ")
            ),
        );
    }
    parsed
}

#[cfg(test)]
mod tests;
