//! The inventory CSV set, the exchange format of inventories: parsing and
//! validation of a whole set (structures, people, functions, holdings)
//! received as bytes, the import scope (`scope`) and the demo generator
//! (`generate`).
//!
//! A kernel crate, not the inventory's own domain: the inventory imports the
//! set, the console checks it before upload, the workbook converts it, and
//! the other services' tests and the `vigie` binary generate it.
//!
//! The import is all-or-nothing (see the `Import` RPC): the set is validated
//! completely and either every structure is produced or every problem is
//! returned, each as `FILE:LINE: message` in French, in file order then line
//! order. Reporting everything at once matters because the person fixing the
//! files is usually a volunteer editing a spreadsheet: one round trip per
//! error would be unbearable.
//!
//! Formats (read by [`vigie_tabular`]: UTF-8, header row checked exactly,
//! RFC 4180 quoting, fields trimmed, optional BOM, blank lines skipped):
//! - `structures.csv`: [`STRUCTURES_HEADER`] — required;
//! - `people.csv`: [`PEOPLE_HEADER`];
//! - `functions.csv`: [`FUNCTIONS_HEADER`];
//! - `holdings.csv`: [`HOLDINGS_HEADER`].
//!
//! The last three may be empty or absent, meaning "none".

mod fields;
pub mod generate;
pub mod scope;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use std::borrow::Cow;
use std::collections::HashMap;
use vigie_fragility_model::model::{
    Evidence, FunctionRecord, HoldingRecord, LegalForm, PersonRecord, Role, StructureInventory, StructureRecord,
};
use vigie_french_ids as ids;
use vigie_tabular::{flush, keep, read_rows, words, FileSpec, Words};

/// Name of the structures file in a set.
pub const STRUCTURES_FILE: &str = "structures.csv";
/// Name of the people file in a set.
pub const PEOPLE_FILE: &str = "people.csv";
/// Name of the functions file in a set.
pub const FUNCTIONS_FILE: &str = "functions.csv";
/// Name of the holdings file in a set.
pub const HOLDINGS_FILE: &str = "holdings.csv";

/// Columns of `structures.csv`, in order.
pub const STRUCTURES_HEADER: [&str; 9] = [
    "structure_id",
    "name",
    "network",
    "legal_form",
    "siret",
    "rna",
    "region_code",
    "department_code",
    "commune_insee",
];
/// Columns of `people.csv`, in order.
pub const PEOPLE_HEADER: [&str; 6] = ["person_id", "structure_id", "display_name", "role", "end_date", "email"];
/// Columns of `functions.csv`, in order.
pub const FUNCTIONS_HEADER: [&str; 4] = ["structure_id", "function", "criticality", "tools"];
/// Columns of `holdings.csv`, in order.
pub const HOLDINGS_HEADER: [&str; 4] = ["person_id", "function", "level", "last_practised"];

const STRUCTURES: FileSpec = FileSpec::new(STRUCTURES_FILE, &STRUCTURES_HEADER, true);
const PEOPLE: FileSpec = FileSpec::new(PEOPLE_FILE, &PEOPLE_HEADER, false);
const FUNCTIONS: FileSpec = FileSpec::new(FUNCTIONS_FILE, &FUNCTIONS_HEADER, false);
const HOLDINGS: FileSpec = FileSpec::new(HOLDINGS_FILE, &HOLDINGS_HEADER, false);

/// The raw bytes of the four files of a set. A file that was not sent is an
/// empty vector: an error for `structures.csv`, "none" for the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvSetFiles {
    /// Content of `structures.csv`.
    pub structures: Vec<u8>,
    /// Content of `people.csv`.
    pub people: Vec<u8>,
    /// Content of `functions.csv`.
    pub functions: Vec<u8>,
    /// Content of `holdings.csv`.
    pub holdings: Vec<u8>,
}

impl CsvSetFiles {
    /// The buffer for the file called `name` (`structures.csv`, …), or `None`
    /// for a name outside the set — lets the server append streamed chunks
    /// without its own name table.
    pub fn file_mut(&mut self, name: &str) -> Option<&mut Vec<u8>> {
        match name {
            STRUCTURES_FILE => Some(&mut self.structures),
            PEOPLE_FILE => Some(&mut self.people),
            FUNCTIONS_FILE => Some(&mut self.functions),
            HOLDINGS_FILE => Some(&mut self.holdings),
            _ => None,
        }
    }
}

/// A valid set: one inventory per structure, sorted by structure id (byte
/// order); within each, people by id, functions by code, holdings by
/// (person id, function code) — so equal inputs give equal inventories.
///
/// Held compact (a function or a holding is a few numbers, its code and
/// tools shared through the set's tables) and turned into
/// [`StructureInventory`] values one structure at a time: a
/// 100,000-structure set as inventories would take over 500 MB, the
/// importer needs a batch of them at once.
#[derive(Debug, Clone, Default)]
pub struct ParsedSet {
    /// Sorted by structure id.
    structures: Vec<ParsedStructure>,
    /// Function codes by number.
    codes: Vec<String>,
    /// Tool lists by number.
    tools: Vec<Vec<String>>,
    /// The structures' and people's texts, end to end.
    text: String,
}

/// One structure of a valid set.
#[derive(Debug, Clone)]
struct ParsedStructure {
    record: ParsedRecord,
    people: Vec<ParsedPerson>,
    functions: Vec<ParsedFunction>,
    holdings: Vec<ParsedHolding>,
}

/// A structure's own row; its texts are spans of [`ParsedSet::text`]: nine
/// short strings allocated each took 500 bytes a structure, a sixth of
/// the parsed set at 100,000 structures.
#[derive(Debug, Clone, Copy)]
struct ParsedRecord {
    id: Span,
    name: Span,
    network: Span,
    legal_form: LegalForm,
    siret: Option<Span>,
    rna: Option<Span>,
    region_code: Span,
    department_code: Span,
    commune_insee: Span,
}

impl ParsedRecord {
    fn record(&self, text: &str) -> StructureRecord {
        StructureRecord {
            id: self.id.of(text).to_owned(),
            name: self.name.of(text).to_owned(),
            network: self.network.of(text).to_owned(),
            legal_form: self.legal_form,
            siret: self.siret.map(|v| v.of(text).to_owned()),
            rna: self.rna.map(|v| v.of(text).to_owned()),
            region_code: self.region_code.of(text).to_owned(),
            department_code: self.department_code.of(text).to_owned(),
            commune_insee: self.commune_insee.of(text).to_owned(),
        }
    }
}

/// A person, without the structure its [`ParsedStructure`] already names;
/// its texts are spans of [`ParsedSet::text`] (one allocation each would
/// cost more than the text itself).
#[derive(Debug, Clone, Copy)]
struct ParsedPerson {
    id: Span,
    display_name: Span,
    role: Role,
    end_date: Option<NaiveDate>,
    email: Option<Span>,
}

/// Where a text lies in a text arena.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// Appends `text` to `arena`. A set is at most 1 GiB, so offsets fit.
    fn push(arena: &mut String, text: &str) -> Span {
        let start = u32::try_from(arena.len()).unwrap_or(u32::MAX);
        arena.push_str(text);
        Span {
            start,
            len: u32::try_from(text.len()).unwrap_or(u32::MAX),
        }
    }

    fn of(self, arena: &str) -> &str {
        let start = self.start as usize;
        &arena[start..start + self.len as usize]
    }
}

/// A function: its code and tools are numbers into the set's tables.
#[derive(Debug, Clone, Copy)]
struct ParsedFunction {
    code: u32,
    criticality: u8,
    tools: u32,
    /// Line of declaration, for a duplicate's message.
    line: u32,
}

/// A holding: its person is an index into its structure's people.
#[derive(Debug, Clone, Copy)]
struct ParsedHolding {
    person: u32,
    code: u32,
    level: u8,
    last_practised: Option<NaiveDate>,
    /// Line of declaration, for a duplicate's message.
    line: u32,
}

/// A line number as kept in compact rows: a set is at most 1 GiB, so far
/// fewer than 2³² lines (beyond, messages would name line 4294967295).
fn short_line(line: u64) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

impl ParsedSet {
    /// Number of structures.
    pub fn len(&self) -> usize {
        self.structures.len()
    }

    /// Whether the set lists no structure.
    pub fn is_empty(&self) -> bool {
        self.structures.is_empty()
    }

    /// Whether the set lists the structure `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.structures
            .binary_search_by(|s| s.record.id.of(&self.text).cmp(id))
            .is_ok()
    }

    /// Every structure as (structure id, network id), in order.
    pub fn structure_keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.structures
            .iter()
            .map(|s| (s.record.id.of(&self.text), s.record.network.of(&self.text)))
    }

    /// Every person as (person id, structure id).
    pub fn people(&self) -> impl Iterator<Item = (&str, &str)> {
        let text = self.text.as_str();
        self.structures.iter().flat_map(move |s| {
            let structure_id = s.record.id.of(text);
            s.people.iter().map(move |p| (p.id.of(text), structure_id))
        })
    }

    /// People, functions and holdings of the whole set.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.structures.iter().fold((0, 0, 0), |(p, f, h), s| {
            (p + s.people.len(), f + s.functions.len(), h + s.holdings.len())
        })
    }

    /// The inventory of the `index`-th structure (in id order).
    ///
    /// # Panics
    /// When `index` is not below [`ParsedSet::len`].
    pub fn inventory(&self, index: usize) -> StructureInventory {
        let s = &self.structures[index];
        let structure = s.record.record(&self.text);
        let structure_id = &structure.id;
        let mut people: Vec<PersonRecord> = s
            .people
            .iter()
            .map(|p| PersonRecord {
                id: p.id.of(&self.text).to_owned(),
                structure_id: structure_id.clone(),
                display_name: p.display_name.of(&self.text).to_owned(),
                role: p.role,
                end_date: p.end_date,
                email: p.email.map(|e| e.of(&self.text).to_owned()),
            })
            .collect();
        let mut functions: Vec<FunctionRecord> = s
            .functions
            .iter()
            .map(|f| FunctionRecord {
                structure_id: structure_id.clone(),
                code: self.codes[f.code as usize].clone(),
                criticality: f.criticality,
                tools: self.tools[f.tools as usize].clone(),
            })
            .collect();
        let mut holdings: Vec<HoldingRecord> = s
            .holdings
            .iter()
            .map(|h| HoldingRecord {
                person_id: s.people[h.person as usize].id.of(&self.text).to_owned(),
                function: self.codes[h.code as usize].clone(),
                level: h.level,
                last_practised: h.last_practised,
                evidence: Evidence::Import,
            })
            .collect();
        people.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        functions.sort_unstable_by(|a, b| a.code.cmp(&b.code));
        holdings.sort_unstable_by(|a, b| {
            (a.person_id.as_str(), a.function.as_str()).cmp(&(b.person_id.as_str(), b.function.as_str()))
        });
        StructureInventory {
            structure,
            people,
            functions,
            holdings,
        }
    }

    /// Every inventory, in order (small sets; an importer takes batches
    /// with [`ParsedSet::inventory`]).
    pub fn inventories(&self) -> Vec<StructureInventory> {
        (0..self.len()).map(|i| self.inventory(i)).collect()
    }
}

/// Two sets are equal when their inventories are (whatever order their
/// codes and tools were first met in).
impl PartialEq for ParsedSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.inventory(i) == other.inventory(i))
    }
}

impl Eq for ParsedSet {}

use vigie_tabular::RowError;

/// Parses and validates a whole set. Returns every error of every file, in
/// file order (structures, people, functions, holdings) then line order.
///
/// Cost is linear in the size of the files (hash maps keyed by id, no scan
/// per row), so a federation-sized set of a few million rows parses in
/// seconds.
pub fn parse_set(files: &CsvSetFiles) -> Result<ParsedSet, Vec<RowError>> {
    parse_files(
        SetParser::with_capacity(files),
        [&files.structures, &files.people, &files.functions, &files.holdings].map(|f| Cow::Borrowed(f.as_slice())),
    )
}

/// [`parse_set`], releasing each file's bytes as soon as it is read: the
/// server holds the raw set and the parsed set together only one file at a
/// time (a 100,000-structure set is 116 MB of CSV).
pub fn parse_set_owned(mut files: CsvSetFiles) -> Result<ParsedSet, Vec<RowError>> {
    let parser = SetParser::with_capacity(&files);
    let files = [
        &mut files.structures,
        &mut files.people,
        &mut files.functions,
        &mut files.holdings,
    ]
    .map(|f| Cow::Owned(std::mem::take(f)));
    parse_files(parser, files)
}

/// Reads the four files in order (structures, people, functions,
/// holdings), dropping each once read.
fn parse_files(mut st: SetParser, files: [Cow<'_, [u8]>; 4]) -> Result<ParsedSet, Vec<RowError>> {
    let mut errors = Vec::new();
    let [structures, people, functions, holdings] = files;
    // Each file's usability gates the cross-file checks that depend on it:
    // with an unreadable people.csv, every holding would otherwise be
    // reported as "unknown person", hiding the one real mistake.
    st.structures_usable = read_rows(&STRUCTURES, &structures, &mut errors, |l, f, e| {
        st.structure_row(l, f, e)
    });
    drop(structures);
    st.people_usable = read_rows(&PEOPLE, &people, &mut errors, |l, f, e| st.person_row(l, f, e));
    drop(people);
    st.functions_usable = read_rows(&FUNCTIONS, &functions, &mut errors, |l, f, e| st.function_row(l, f, e));
    drop(functions);
    read_rows(&HOLDINGS, &holdings, &mut errors, |l, f, e| st.holding_row(l, f, e));
    drop(holdings);
    if errors.is_empty() {
        Ok(st.finish())
    } else {
        Err(errors)
    }
}

// ----- parser state -----

/// A structure id defined in `structures.csv`.
struct StructureSlot {
    /// Its id in [`SetParser::text`].
    id: Span,
    /// `None` when the row had errors (then the set is rejected anyway).
    record: Option<ParsedRecord>,
    people: Vec<ParsedPerson>,
    functions: Vec<ParsedFunction>,
    holdings: Vec<ParsedHolding>,
}

/// A person id defined in `people.csv` (hundreds of thousands in a large
/// set, so kept to a few numbers).
struct PersonSlot {
    /// Line of its definition, for duplicate messages.
    line: u32,
    /// Dense number, for compact holding keys.
    number: u32,
    /// Index of the person's structure; `None` when it is unknown (already
    /// reported on the person's row, so holdings skip the function check).
    structure: Option<u32>,
    /// Index among the structure's people; `None` when the row had errors.
    local: Option<u32>,
}

/// Everything learnt so far. Ids of rows with errors are still registered
/// when the id itself is valid, so that a bad SIRET on a structure does not
/// also turn each of its people into an "unknown structure" error.
#[derive(Default)]
struct SetParser {
    slots: Vec<StructureSlot>,
    /// structure id → (index in `slots`, line of definition).
    structure_index: HashMap<Box<str>, (u32, u32)>,
    structures_usable: bool,
    people: HashMap<Box<str>, PersonSlot>,
    people_usable: bool,
    /// Function code → dense number (codes repeat across structures: a
    /// few dozen distinct codes for hundreds of thousands of rows).
    codes: HashMap<String, u32>,
    /// (structure index, code number) → line of declaration, of function
    /// rows not kept in their slot (rows with errors). Kept rows are found
    /// in their slot, a few per structure: no map of hundreds of thousands
    /// of entries for a valid set.
    rejected_functions: HashMap<(usize, u32), u64>,
    functions_usable: bool,
    /// (person number, code number) → line of declaration, of holding rows
    /// not kept in their slot (likewise).
    rejected_holdings: HashMap<(u32, u32), u64>,
    /// Texts of the kept structures and people ([`ParsedSet::text`]).
    text: String,
    /// Tool list → dense number (a few distinct lists for many functions).
    tool_lists: HashMap<Vec<String>, u32>,
}

/// What the coded columns name, in messages.
const LEGAL_FORM: fields::Label = fields::Label::new("forme juridique", "legal form", "inconnue");
const ROLE: fields::Label = fields::Label::new("rôle", "role", "inconnu");
const CRITICALITY: fields::Label = fields::Label::new("criticité", "criticality", "inconnue");
const LEVEL: fields::Label = fields::Label::new("niveau", "level", "inconnu");

fn keep_id<T>(msgs: &mut Vec<Words>, r: Result<T, ids::IdError>) -> Option<T> {
    r.map_err(|e| msgs.push(e.words())).ok()
}

/// A mandatory geographic code: roll-ups by region and department need it,
/// so an empty cell is reported as such rather than as an invalid code.
fn required(
    msgs: &mut Vec<Words>,
    column: &str,
    v: &str,
    validate: fn(&str) -> Result<(), ids::IdError>,
) -> Option<()> {
    if v.is_empty() {
        msgs.push(words!(
            "colonne « {column} » vide (valeur obligatoire)",
            "column “{column}” is empty (value required)"
        ));
        return None;
    }
    keep_id(msgs, validate(v))
}

fn optional(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

/// Upper bound of the number of rows of a file: its number of lines.
fn lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count() + 1
}

impl SetParser {
    /// Sizes the maps from the line counts up front: on a federation-sized
    /// set, growing them by doubling would rehash millions of keys and
    /// churn hundreds of megabytes.
    fn with_capacity(files: &CsvSetFiles) -> Self {
        let structures = lines(&files.structures);
        let people = lines(&files.people);
        SetParser {
            slots: Vec::with_capacity(structures),
            structure_index: HashMap::with_capacity(structures),
            people: HashMap::with_capacity(people),
            ..SetParser::default()
        }
    }

    fn code_number(&mut self, code: &str) -> u32 {
        if let Some(&n) = self.codes.get(code) {
            return n;
        }
        let n = self.codes.len() as u32;
        self.codes.insert(code.to_owned(), n);
        n
    }

    /// Looks a referenced structure up; `Err` carries the message to report.
    /// `Ok(None)` when structures.csv is unusable (no judgement possible).
    fn structure_ref(&self, v: &str) -> Result<Option<usize>, Words> {
        fields::id("structure_id", v)?;
        if !self.structures_usable {
            return Ok(None);
        }
        match self.structure_index.get(v) {
            Some(&(i, _)) => Ok(Some(i as usize)),
            None => Err(words!(
                "structure « {v} » inconnue (absente de structures.csv)",
                "unknown structure “{v}” (not in structures.csv)"
            )),
        }
    }

    fn structure_row(&mut self, line: u64, f: &[&str], errors: &mut Vec<RowError>) {
        let mut msgs = Vec::new();
        let id = f[0];
        let id_ok = keep(&mut msgs, fields::id("structure_id", id)).is_some();
        if id_ok {
            if let Some(&(_, first)) = self.structure_index.get(id) {
                msgs.push(words!(
                    "structure_id « {id} » en double (déjà défini ligne {first})",
                    "duplicate structure_id “{id}” (already defined on line {first})"
                ));
            }
        }
        keep(&mut msgs, fields::text("name", f[1]));
        keep(&mut msgs, fields::id("network", f[2]));
        let legal_form = keep(
            &mut msgs,
            fields::code(LEGAL_FORM, LegalForm::ALL, LegalForm::as_str, f[3]),
        );
        if let Some(v) = optional(f[4]) {
            keep_id(&mut msgs, ids::validate_siret(v));
        }
        if let Some(v) = optional(f[5]) {
            keep_id(&mut msgs, ids::validate_rna(v));
        }
        required(&mut msgs, "region_code", f[6], ids::validate_region_code);
        let department = required(&mut msgs, "department_code", f[7], ids::validate_department_code);
        let commune = required(&mut msgs, "commune_insee", f[8], ids::validate_commune_insee);
        if department.is_some() && commune.is_some() {
            keep_id(&mut msgs, ids::check_commune_in_department(f[8], f[7]));
        }

        if id_ok && !self.structure_index.contains_key(id) {
            // Every field was checked above; build the record only when all
            // passed (otherwise the set is rejected and it is never used).
            let text = &mut self.text;
            let id_span = Span::push(text, id);
            let record = match (msgs.is_empty(), legal_form) {
                (true, Some(legal_form)) => Some(ParsedRecord {
                    id: id_span,
                    name: Span::push(text, f[1]),
                    network: Span::push(text, f[2]),
                    legal_form,
                    siret: optional(f[4]).map(|v| Span::push(text, v)),
                    rna: optional(f[5]).map(|v| Span::push(text, v)),
                    region_code: Span::push(text, f[6]),
                    department_code: Span::push(text, f[7]),
                    commune_insee: Span::push(text, f[8]),
                }),
                _ => None,
            };
            let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
            self.structure_index.insert(id.into(), (index, short_line(line)));
            self.slots.push(StructureSlot {
                id: id_span,
                record,
                people: Vec::new(),
                functions: Vec::new(),
                holdings: Vec::new(),
            });
        }
        flush(STRUCTURES_FILE, line, msgs, errors);
    }

    fn person_row(&mut self, line: u64, f: &[&str], errors: &mut Vec<RowError>) {
        let mut msgs = Vec::new();
        let id = f[0];
        let id_ok = keep(&mut msgs, fields::id("person_id", id)).is_some();
        let duplicate = id_ok && {
            match self.people.get(id) {
                Some(first) => {
                    let first = first.line;
                    msgs.push(words!(
                        "person_id « {id} » en double (déjà défini ligne {first})",
                        "duplicate person_id “{id}” (already defined on line {first})"
                    ));
                    true
                }
                None => false,
            }
        };
        let structure = keep(&mut msgs, self.structure_ref(f[1])).flatten();
        let name_ok = keep(&mut msgs, fields::text("display_name", f[2])).is_some();
        let role = keep(&mut msgs, fields::code(ROLE, Role::ALL, Role::as_str, f[3]));
        let end_date = keep(&mut msgs, fields::date("end_date", f[4]));
        let email = keep(&mut msgs, fields::email(f[5]));

        let mut local = None;
        if let (true, Some(si), true, Some(role), Some(end_date), Some(email)) =
            (msgs.is_empty(), structure, name_ok, role, end_date, email)
        {
            let people = &mut self.slots[si].people;
            local = Some(people.len() as u32);
            let text = &mut self.text;
            people.push(ParsedPerson {
                id: Span::push(text, id),
                display_name: Span::push(text, f[2]),
                role,
                end_date,
                email: email.map(|e| Span::push(text, &e)),
            });
        }
        if id_ok && !duplicate {
            let number = self.people.len() as u32;
            self.people.insert(
                id.into(),
                PersonSlot {
                    line: short_line(line),
                    number,
                    structure: structure.map(|si| si as u32),
                    local,
                },
            );
        }
        flush(PEOPLE_FILE, line, msgs, errors);
    }

    fn function_row(&mut self, line: u64, f: &[&str], errors: &mut Vec<RowError>) {
        let mut msgs = Vec::new();
        let structure = keep(&mut msgs, self.structure_ref(f[0])).flatten();
        let code = f[1];
        let code_ok = keep(&mut msgs, fields::function_code("function", code)).is_some();
        // (structure index, code number) of a first declaration.
        let mut first = None;
        if let (Some(si), true) = (structure, code_ok) {
            let cn = self.code_number(code);
            match self.function_line(si, cn) {
                Some(earlier) => {
                    let structure = f[0];
                    msgs.push(words!(
                        "fonction « {code} » en double pour la structure « {structure} » (déjà déclarée ligne {earlier})",
                        "duplicate function “{code}” for the structure “{structure}” (already declared on line {earlier})"
                    ));
                }
                None => first = Some((si, cn)),
            }
        }
        let criticality = if f[2].is_empty() {
            match (code_ok, fields::catalogue_default(code)) {
                (true, Some(w)) => Some(w),
                (true, None) => {
                    msgs.push(words!(
                        "fonction « {code} » hors catalogue : sa criticité est obligatoire (1, 2 ou 3)",
                        "function “{code}” is not in the catalogue: its criticality is required (1, 2 or 3)"
                    ));
                    None
                }
                (false, _) => None,
            }
        } else {
            keep(
                &mut msgs,
                fields::small_int("criticality", CRITICALITY, 1..=3, ("1, 2 ou 3", "1, 2 or 3"), f[2]),
            )
        };
        let tools = keep(&mut msgs, fields::tools(f[3]));

        match (first, msgs.is_empty(), criticality, tools) {
            (Some((si, code)), true, Some(criticality), Some(tools)) => {
                let function = ParsedFunction {
                    code,
                    criticality,
                    tools: self.tools_number(tools),
                    line: short_line(line),
                };
                self.slots[si].functions.push(function);
            }
            (Some(key), ..) => {
                self.rejected_functions.insert(key, line);
            }
            (None, ..) => {}
        }
        flush(FUNCTIONS_FILE, line, msgs, errors);
    }

    fn holding_row(&mut self, line: u64, f: &[&str], errors: &mut Vec<RowError>) {
        let mut msgs = Vec::new();
        let person_id = f[0];
        // (person number, structure index if known)
        let person = match fields::id("person_id", person_id) {
            Err(m) => {
                msgs.push(m);
                None
            }
            Ok(()) => match self.people.get(person_id) {
                Some(p) => Some((p.number, p.structure.map(|si| si as usize), p.local)),
                None => {
                    if self.people_usable {
                        msgs.push(words!(
                            "personne « {person_id} » inconnue (absente de people.csv)",
                            "unknown person “{person_id}” (not in people.csv)"
                        ));
                    }
                    None
                }
            },
        };
        let code = f[1];
        let code_ok = keep(&mut msgs, fields::function_code("function", code)).is_some();
        // (person number, code number) of a first declaration, and the
        // structure index when known.
        let mut first = None;
        if let (Some((number, si, local)), true) = (person, code_ok) {
            let cn = self.code_number(code);
            match self.holding_line(number, si.zip(local), cn) {
                Some(earlier) => msgs.push(words!(
                    "niveau de « {person_id} » sur « {code} » en double (déjà donné ligne {earlier})",
                    "duplicate level of “{person_id}” on “{code}” (already given on line {earlier})"
                )),
                None => first = Some(((number, cn), si)),
            }
            if let (Some(si), true) = (si, self.functions_usable) {
                if self.function_line(si, cn).is_none() {
                    let structure = self.slots[si].id.of(&self.text);
                    msgs.push(words!(
                        "fonction « {code} » non déclarée dans functions.csv pour la structure « {structure} » de « {person_id} »",
                        "function “{code}” not declared in functions.csv for the structure “{structure}” of “{person_id}”"
                    ));
                }
            }
        }
        let level = keep(
            &mut msgs,
            fields::small_int("level", LEVEL, 0..=4, ("0, 1, 2, 3 ou 4", "0, 1, 2, 3 or 4"), f[2]),
        );
        let last_practised = keep(&mut msgs, fields::date("last_practised", f[3]));

        // A person whose own row had errors has no local index: the set is
        // rejected anyway, so the holding is only remembered by its key.
        let local = person.and_then(|(_, _, local)| local);
        match (first, local, msgs.is_empty(), level, last_practised) {
            (Some(((_, code), Some(si))), Some(local), true, Some(level), Some(last_practised)) => {
                self.slots[si].holdings.push(ParsedHolding {
                    person: local,
                    code,
                    level,
                    last_practised,
                    line: short_line(line),
                });
            }
            (Some((key, _)), ..) => {
                self.rejected_holdings.insert(key, line);
            }
            (None, ..) => {}
        }
        flush(HOLDINGS_FILE, line, msgs, errors);
    }

    /// Line of the function `code` already declared for structure `si`.
    fn function_line(&self, si: usize, code: u32) -> Option<u64> {
        self.slots[si]
            .functions
            .iter()
            .find(|f| f.code == code)
            .map(|f| u64::from(f.line))
            .or_else(|| self.rejected_functions.get(&(si, code)).copied())
    }

    /// Line of the level already given to a person (number, and
    /// (structure index, index among its people) when kept) on `code`.
    fn holding_line(&self, number: u32, kept: Option<(usize, u32)>, code: u32) -> Option<u64> {
        kept.and_then(|(si, local)| {
            self.slots[si]
                .holdings
                .iter()
                .find(|h| h.person == local && h.code == code)
                .map(|h| u64::from(h.line))
        })
        .or_else(|| self.rejected_holdings.get(&(number, code)).copied())
    }

    fn tools_number(&mut self, tools: Vec<String>) -> u32 {
        let next = self.tool_lists.len() as u32;
        *self.tool_lists.entry(tools).or_insert(next)
    }

    /// Sorts the structures by id and turns the code and tool maps into
    /// tables; only called when no error was found, so every slot has its
    /// record. Parts are sorted when an inventory is built.
    fn finish(self) -> ParsedSet {
        let mut structures: Vec<ParsedStructure> = self
            .slots
            .into_iter()
            .filter_map(|slot| {
                Some(ParsedStructure {
                    record: slot.record?,
                    people: slot.people,
                    functions: slot.functions,
                    holdings: slot.holdings,
                })
            })
            .collect();
        let text = self.text;
        structures.sort_unstable_by(|a, b| a.record.id.of(&text).cmp(b.record.id.of(&text)));
        ParsedSet {
            structures,
            codes: table(self.codes),
            tools: table(self.tool_lists),
            text,
        }
    }
}

/// The keys of a `key → dense number` map, in number order.
fn table<K>(numbers: HashMap<K, u32>) -> Vec<K> {
    let mut keyed: Vec<(u32, K)> = numbers.into_iter().map(|(k, n)| (n, k)).collect();
    keyed.sort_unstable_by_key(|(n, _)| *n);
    keyed.into_iter().map(|(_, k)| k).collect()
}
