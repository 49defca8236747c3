//! What the network page (`/reseaux/<network>`) and the federation page
//! show, built from the services' answers by pure functions (unit-tested
//! without a server): the sorted, filtered, paginated table of structures,
//! the « à risque cette quinzaine » join, the roll-ups, and the reminder
//! policy form.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use vigie_fragility_model::catalogue;
use vigie_platform::auth::form_urlencoded;
use vigie_proto::alerting::v1::{Call, NetworkPolicy};
use vigie_proto::dates::date_from_pb;
use vigie_proto::inventory::v1::{Band, RollupGroup, StructureFragility};

use crate::dates;
use crate::labels;
use crate::lang::Lang;

/// The vital function whose holders submit funding applications (inventory
/// catalogue): a deadline is at risk when it rests on one person or nobody.
pub const FUNDING_FUNCTION: &str = "funding_applications";
/// Rows per page of the structures' table: a page stays small however large
/// the network.
pub const PAGE_ROWS: usize = 200;
/// The window of « à risque cette quinzaine », in days.
pub const AT_RISK_DAYS: u32 = 14;
/// Facilitation requests shown on the network page, the most recent first:
/// a network of 2,000 structures has hundreds, and the page stays light.
pub const SHOWN_REQUESTS: usize = 50;

/// The bands, most fragile first, with the code used in `?bande=`.
const BANDS: [(Band, &str); 5] = [
    (Band::Critical, "critical"),
    (Band::High, "high"),
    (Band::Moderate, "moderate"),
    (Band::Low, "low"),
    (Band::Unknown, "unknown"),
];

/// A band in words, in the page's language.
pub fn band_words(band: i32, lang: Lang) -> &'static str {
    let band = Band::try_from(band).unwrap_or(Band::Unspecified);
    let french = labels::band(band as i32).0;
    match band {
        Band::Low => lang.pick(french, "low"),
        Band::Moderate => lang.pick(french, "moderate"),
        Band::High => lang.pick(french, "high"),
        Band::Critical => lang.pick(french, "critical"),
        Band::Unknown | Band::Unspecified => lang.pick(french, "unknown"),
    }
}

/// How fragile a band is, for sorting (critical first).
fn band_rank(band: i32) -> usize {
    let band = Band::try_from(band).unwrap_or(Band::Unknown);
    BANDS.iter().position(|(b, _)| *b == band).unwrap_or(BANDS.len())
}

/// A function's label in the page's language (the inventory catalogue; a
/// custom code reads as its words).
pub fn function_label(code: &str, lang: Lang) -> String {
    match lang {
        Lang::Fr => catalogue::label_fr(code),
        Lang::En => catalogue::label_en(code),
    }
}

// ----- the structures' table -----

/// How the table is sorted (`?tri=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sort {
    /// Highest score (most fragile) first.
    #[default]
    Score,
    /// By name.
    Name,
    /// Most fragile band first, then score.
    Band,
}

impl Sort {
    /// The code in `?tri=`.
    pub fn code(self) -> &'static str {
        match self {
            Sort::Score => "score",
            Sort::Name => "nom",
            Sort::Band => "bande",
        }
    }
}

/// The table's query (`?bande=…&fonction=…&score_min=…&tri=…&page=…`); anything
/// unknown is ignored rather than refused (a hand-edited address still
/// shows the page).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableQuery {
    /// Only this band (its code: critical, high, moderate, low, unknown).
    pub band: Option<String>,
    /// Only structures where this function rests on one person or nobody.
    pub function: Option<String>,
    /// Only structures scoring at least this (`?score_min=`, 0–100).
    pub score_min: Option<u32>,
    pub sort: Sort,
    /// 1-based.
    pub page: usize,
    /// The page of the at-risk deadlines (`?risque=`), 1-based.
    pub risk_page: usize,
}

/// Reads the query parameters of the network page.
pub fn parse_query(params: &HashMap<String, String>) -> TableQuery {
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    TableQuery {
        band: get("bande")
            .filter(|code| BANDS.iter().any(|(_, known)| known == code))
            .map(str::to_owned),
        function: get("fonction").map(str::to_owned),
        score_min: get("score_min").and_then(|v| v.parse().ok()).filter(|v| *v <= 100),
        sort: match get("tri") {
            Some("nom") => Sort::Name,
            Some("bande") => Sort::Band,
            _ => Sort::Score,
        },
        page: get("page")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1),
        risk_page: get("risque")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1),
    }
}

impl TableQuery {
    /// The address of this query's page `page` (filters and sort kept).
    pub fn href(&self, network: &str, page: usize) -> String {
        self.address(network, page, self.risk_page, "structures")
    }

    /// The address of the at-risk deadlines' page `page` (the table's
    /// query kept).
    pub fn risk_href(&self, network: &str, page: usize) -> String {
        self.address(network, self.page.max(1), page, "a-risque")
    }

    fn address(&self, network: &str, page: usize, risk_page: usize, anchor: &str) -> String {
        let (page, risk_page) = (page.to_string(), risk_page.max(1).to_string());
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(band) = &self.band {
            pairs.push(("bande", band));
        }
        if let Some(function) = &self.function {
            pairs.push(("fonction", function));
        }
        let score_min = self.score_min.map(|v| v.to_string());
        if let Some(score_min) = &score_min {
            pairs.push(("score_min", score_min));
        }
        pairs.push(("tri", self.sort.code()));
        pairs.push(("page", &page));
        if risk_page != "1" {
            pairs.push(("risque", &risk_page));
        }
        // A network id is an identifier the services checked (the page
        // exists): it needs no encoding.
        format!("/reseaux/{network}?{}#{anchor}", form_urlencoded(&pairs))
    }
}

/// One page of `rows` (`page` 1-based, 0 read as 1, beyond the last read
/// as the last): the rows, the page shown and the number of pages.
/// The `limit` most recent of `requests` (by creation date, then id, most
/// recent first), and how many there were.
pub fn latest_requests(
    mut requests: Vec<vigie_proto::facilitation::v1::HelpRequest>,
    limit: usize,
) -> (Vec<vigie_proto::facilitation::v1::HelpRequest>, usize) {
    let total = requests.len();
    let key = |r: &vigie_proto::facilitation::v1::HelpRequest| r.created_on.as_ref().map(|d| (d.year, d.month, d.day));
    requests.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| b.request_id.cmp(&a.request_id)));
    requests.truncate(limit);
    (requests, total)
}

pub fn page_of<T>(rows: Vec<T>, page: usize) -> (Vec<T>, usize, usize) {
    let pages = rows.len().div_ceil(PAGE_ROWS).max(1);
    let page = page.clamp(1, pages);
    let rows = rows.into_iter().skip((page - 1) * PAGE_ROWS).take(PAGE_ROWS).collect();
    (rows, page, pages)
}

/// One structure's row.
#[derive(Clone, Debug, PartialEq)]
pub struct StructureRow {
    pub id: String,
    pub name: String,
    pub band: i32,
    pub band_words: &'static str,
    pub band_class: &'static str,
    pub score: Option<u32>,
    /// Functions resting on one person or nobody.
    pub fragile_functions: usize,
}

/// Whether a function rests on one person or nobody.
fn fragile(f: &vigie_proto::inventory::v1::FunctionExposure) -> bool {
    f.holder_ids.len() <= 1
}

/// A page of the table.
pub struct Table {
    pub rows: Vec<StructureRow>,
    /// Rows matching the filters (every page).
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
}

/// Filters, sorts and cuts the network's structures to one page: one pass
/// over the fragility, whatever its size.
pub fn table(fragility: &[StructureFragility], query: &TableQuery, lang: Lang) -> Table {
    let band = query
        .band
        .as_deref()
        .and_then(|code| BANDS.iter().find(|(_, known)| *known == code))
        .map(|(band, _)| *band as i32);
    let mut rows: Vec<StructureRow> = fragility
        .iter()
        .filter(|s| band.is_none_or(|b| normal_band(s.band) == b))
        // An unknown band has no score: a minimum leaves it out.
        .filter(|s| {
            query
                .score_min
                .is_none_or(|min| s.score.is_some_and(|score| score >= min))
        })
        .filter(|s| {
            query
                .function
                .as_deref()
                .is_none_or(|code| s.functions.iter().any(|f| f.code == code && fragile(f)))
        })
        .map(|s| StructureRow {
            id: s.structure_id.clone(),
            name: s.name.clone(),
            band: s.band,
            band_words: band_words(s.band, lang),
            band_class: labels::band_class(s.band),
            score: s.score,
            fragile_functions: s.functions.iter().filter(|f| fragile(f)).count(),
        })
        .collect();
    match query.sort {
        Sort::Score => rows.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id))),
        Sort::Name => rows.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.id.cmp(&b.id))
        }),
        Sort::Band => rows.sort_by(|a, b| {
            band_rank(a.band)
                .cmp(&band_rank(b.band))
                .then_with(|| b.score.cmp(&a.score))
                .then_with(|| a.id.cmp(&b.id))
        }),
    }
    let matching = rows.len();
    let (rows, page, pages) = page_of(rows, query.page);
    Table {
        rows,
        matching,
        page,
        pages,
    }
}

/// Unspecified reads as unknown (not yet inventoried).
fn normal_band(band: i32) -> i32 {
    if band == Band::Unspecified as i32 {
        Band::Unknown as i32
    } else {
        band
    }
}

/// The band choices of the filter: (code, words).
pub fn band_choices(lang: Lang) -> Vec<(&'static str, &'static str)> {
    BANDS
        .iter()
        .map(|(band, code)| (*code, band_words(*band as i32, lang)))
        .collect()
}

/// The function choices of the filter: the functions the network's
/// structures record, (code, label) by label.
pub fn function_choices(fragility: &[StructureFragility], lang: Lang) -> Vec<(String, String)> {
    let mut codes: Vec<&str> = fragility
        .iter()
        .flat_map(|s| s.functions.iter().map(|f| f.code.as_str()))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let mut choices: Vec<(String, String)> = codes
        .into_iter()
        .map(|code| (code.to_owned(), function_label(code, lang)))
        .collect();
    choices.sort_by(|a, b| a.1.cmp(&b.1));
    choices
}

// ----- « à risque cette quinzaine » -----

/// The calls of a network's listing (alerting ListCalls for a network:
/// each call with the structures it matches) by structure.
pub fn calls_by_structure(calls: Vec<Call>) -> HashMap<String, Vec<Call>> {
    let mut by_structure: HashMap<String, Vec<Call>> = HashMap::new();
    for call in calls {
        for structure in &call.matched_structures {
            by_structure.entry(structure.clone()).or_default().push(call.clone());
        }
    }
    by_structure
}

/// One deadline at risk.
#[derive(Clone, Debug, PartialEq)]
pub struct AtRiskRow {
    pub structure_id: String,
    pub structure_name: String,
    pub call_title: String,
    pub call_url: String,
    pub deadline: String,
    pub days_left: i64,
    pub days_words: String,
    /// Who holds the funding applications, or « personne ».
    pub holder: String,
}

/// Joins the calls closing within the window of each structure
/// (`calls_by_structure`, from alerting's ListCalls for that structure)
/// with the fragility: a row per deadline whose structure's funding
/// applications rest on one person or nobody, soonest first.
pub fn at_risk(
    fragility: &[StructureFragility],
    calls_by_structure: &HashMap<String, Vec<Call>>,
    today: NaiveDate,
    lang: Lang,
) -> Vec<AtRiskRow> {
    let mut rows = Vec::new();
    for s in fragility {
        let Some(funding) = s.functions.iter().find(|f| f.code == FUNDING_FUNCTION) else {
            continue;
        };
        if !fragile(funding) {
            continue;
        }
        let holder = match funding.holder_ids.first() {
            None => lang.pick("personne", "nobody").to_owned(),
            // The fragility names its top key person; another sole holder
            // shows by id (no extra call per structure).
            Some(id) if *id == s.top_key_person_id && !s.top_key_person_name.is_empty() => {
                s.top_key_person_name.clone()
            }
            Some(id) => id.clone(),
        };
        for call in calls_by_structure.get(&s.structure_id).into_iter().flatten() {
            let Some(days_left) = call.days_left else { continue };
            if !(0..=i64::from(AT_RISK_DAYS)).contains(&days_left) || call.cancelled {
                continue;
            }
            let deadline = today.checked_add_days(Days::new(days_left.unsigned_abs()));
            rows.push(AtRiskRow {
                structure_id: s.structure_id.clone(),
                structure_name: s.name.clone(),
                call_title: call.title.clone(),
                call_url: call.info_url.clone(),
                deadline: deadline.map(|d| dates::long(d, lang)).unwrap_or_default(),
                days_left,
                days_words: dates::days_from_now(days_left, lang),
                holder: holder.clone(),
            });
        }
    }
    rows.sort_by(|a, b| {
        (a.days_left, &a.structure_id, &a.call_title).cmp(&(b.days_left, &b.structure_id, &b.call_title))
    });
    rows
}

// ----- roll-ups -----

/// A roll-up in words.
#[derive(Clone, Debug, PartialEq)]
pub struct RollupView {
    pub key: String,
    pub structures: u64,
    /// (words, class, count), most fragile first; bands with no structure
    /// are kept (a zero says something too).
    pub bands: Vec<(&'static str, &'static str, u64)>,
    /// « 42,5 » / « 42.5 ».
    pub mean_score: Option<String>,
    /// The functions most often resting on one person or nobody: (label, structures).
    pub top_functions: Vec<(String, u64)>,
}

/// Functions shown in a roll-up.
const TOP_FUNCTIONS: usize = 5;

fn mean_words(mean: f64, lang: Lang) -> String {
    let text = format!("{mean:.1}");
    match lang {
        Lang::Fr => text.replace('.', ","),
        Lang::En => text,
    }
}

/// The roll-up of a network computed from its fragility (the coordinator's
/// token reads the fragility of her structures; the Rollup RPC is the
/// federation's).
pub fn network_rollup(network: &str, fragility: &[StructureFragility], lang: Lang) -> RollupView {
    let mut counts = [0u64; BANDS.len()];
    let mut scores = Vec::new();
    let mut functions: BTreeMap<&str, u64> = BTreeMap::new();
    for s in fragility {
        counts[band_rank(normal_band(s.band)).min(BANDS.len() - 1)] += 1;
        scores.extend(s.score);
        for f in s.functions.iter().filter(|f| fragile(f)) {
            *functions.entry(f.code.as_str()).or_default() += 1;
        }
    }
    let mean = (!scores.is_empty())
        .then(|| f64::from(scores.iter().sum::<u32>()) / scores.len() as f64)
        .map(|m| mean_words(m, lang));
    let mut top: Vec<(&str, u64)> = functions.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    RollupView {
        key: network.to_owned(),
        structures: fragility.len() as u64,
        bands: BANDS
            .iter()
            .zip(counts)
            .map(|((band, _), count)| (band_words(*band as i32, lang), labels::band_class(*band as i32), count))
            .collect(),
        mean_score: mean,
        top_functions: top
            .into_iter()
            .take(TOP_FUNCTIONS)
            .map(|(code, n)| (function_label(code, lang), n))
            .collect(),
    }
}

/// The federation's roll-ups (Rollup by network) in words; a function's
/// count is the structures where it rests on one person or nobody.
pub fn federation_rollups(groups: &[RollupGroup], lang: Lang) -> Vec<RollupView> {
    let mut views: Vec<RollupView> = groups
        .iter()
        .map(|g| {
            let inventoried = g.structures.saturating_sub(g.unknown);
            let mut top: Vec<(&str, u64)> = g
                .functions
                .iter()
                .map(|f| {
                    let share = f.orphan_share + f.spof_share;
                    // Shares are of the inventoried structures.
                    #[allow(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        clippy::cast_precision_loss
                    )]
                    let count = (share * inventoried as f64).round() as u64;
                    (f.code.as_str(), count)
                })
                .filter(|(_, n)| *n > 0)
                .collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            let counts = [g.critical, g.high, g.moderate, g.low, g.unknown];
            RollupView {
                key: g.key.clone(),
                structures: g.structures,
                bands: BANDS
                    .iter()
                    .zip(counts)
                    .map(|((band, _), count)| (band_words(*band as i32, lang), labels::band_class(*band as i32), count))
                    .collect(),
                mean_score: g.mean_score.map(|m| mean_words(m, lang)),
                top_functions: top
                    .into_iter()
                    .take(3)
                    .map(|(code, n)| (function_label(code, lang), n))
                    .collect(),
            }
        })
        .collect();
    views.sort_by(|a, b| a.key.cmp(&b.key));
    views
}

// ----- the reminder policy form -----

/// One field of the policy form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyField {
    /// The form name, also the field's id (`policy-<name>`).
    pub name: &'static str,
    pub value: String,
    pub error: Option<String>,
}

/// The policy form: what is shown, or what the person typed and what is
/// wrong with it. The webhook secret is write-only: never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyForm {
    pub fields: Vec<PolicyField>,
    /// A service error that names no field.
    pub top_error: Option<String>,
    pub secret_set: bool,
}

/// The fields, in the order shown.
pub const POLICY_FIELDS: [&str; 7] = [
    "offsets",
    "local_hour",
    "timezone",
    "referent_name",
    "referent_email",
    "webhook_url",
    "webhook_secret",
];

#[cfg(test)]
impl PolicyForm {
    /// The value typed or shown for `name`.
    pub fn value(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map_or("", |f| f.value.as_str())
    }

    /// Whether some field or the form has an error.
    pub fn has_errors(&self) -> bool {
        self.top_error.is_some() || self.fields.iter().any(|f| f.error.is_some())
    }
}

impl PolicyForm {
    fn set_error(&mut self, name: &str, error: String) {
        if let Some(field) = self.fields.iter_mut().find(|f| f.name == name) {
            field.error = Some(error);
        }
    }
}

fn form_of(values: [String; 7], secret_set: bool) -> PolicyForm {
    PolicyForm {
        fields: POLICY_FIELDS
            .iter()
            .zip(values)
            .map(|(name, value)| PolicyField {
                name,
                value,
                error: None,
            })
            .collect(),
        top_error: None,
        secret_set,
    }
}

/// The form showing a network's policy.
pub fn policy_form(policy: &NetworkPolicy) -> PolicyForm {
    let offsets: Vec<String> = policy.offsets_days.iter().map(u32::to_string).collect();
    form_of(
        [
            offsets.join(", "),
            policy.local_hour.clone(),
            policy.timezone.clone(),
            policy.referent_name.clone(),
            policy.referent_email.clone(),
            policy.webhook_url.clone(),
            String::new(),
        ],
        policy.webhook_secret_set,
    )
}

/// Reads the posted form: the request to send, or the form with its errors
/// (offsets that are not whole numbers of days). The service checks the
/// rest; its refusals go through [`place_service_refusal`].
pub fn parse_policy(
    network: &str,
    fields: &HashMap<String, String>,
    secret_set: bool,
    lang: Lang,
) -> Result<NetworkPolicy, PolicyForm> {
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let mut values = POLICY_FIELDS.map(get);
    // The secret is never shown again, even after an error.
    let secret = std::mem::take(&mut values[6]);
    let offsets_text = values[0].clone();
    let mut offsets = Vec::new();
    let mut bad = Vec::new();
    for part in offsets_text
        .split([',', ';', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match part.parse::<u32>() {
            Ok(days) => offsets.push(days),
            Err(_) => bad.push(part.to_owned()),
        }
    }
    if !bad.is_empty() {
        let mut form = form_of(values, secret_set);
        form.set_error(
            "offsets",
            match lang {
                Lang::Fr => format!(
                    "« {} » n'est pas un nombre de jours : écrivez des nombres séparés par des virgules, par exemple 30, 14, 7, 2.",
                    bad.join(" ")
                ),
                Lang::En => format!(
                    "“{}” is not a number of days: write numbers separated by commas, for example 30, 14, 7, 2.",
                    bad.join(" ")
                ),
            },
        );
        return Err(form);
    }
    Ok(NetworkPolicy {
        network: network.to_owned(),
        offsets_days: offsets,
        local_hour: values[1].trim().to_owned(),
        timezone: values[2].trim().to_owned(),
        referent_name: values[3].trim().to_owned(),
        referent_email: values[4].trim().to_owned(),
        webhook_url: values[5].trim().to_owned(),
        webhook_secret: secret,
        webhook_secret_set: false,
        // Not on this form: the service keeps the network's draft days.
        draft_days: None,
    })
}

/// The form as typed (secret excluded), for showing it again with a
/// service's refusal.
pub fn typed_form(fields: &HashMap<String, String>, secret_set: bool) -> PolicyForm {
    let mut values = POLICY_FIELDS.map(|name| fields.get(name).cloned().unwrap_or_default());
    values[6] = String::new();
    form_of(values, secret_set)
}

/// Puts the service's refusal (INVALID_ARGUMENT), shown in the page's
/// language (`shown`), next to the field its message names, else at the top
/// of the form. The field is found from the service's French words
/// (`french`, the status message), which do not change with the reader's
/// language.
pub fn place_service_refusal(form: &mut PolicyForm, french: &str, shown: &str) {
    let message = shown;
    let lower = french.to_lowercase();
    let field = if lower.starts_with("délai") {
        Some("offsets")
    } else if lower.starts_with("heure") {
        Some("local_hour")
    } else if lower.starts_with("fuseau") {
        Some("timezone")
    } else if lower.contains("référent") {
        Some("referent_email")
    } else if lower.contains("secret") {
        Some("webhook_secret")
    } else if lower.contains("webhook") {
        Some("webhook_url")
    } else {
        None
    };
    match field {
        Some(name) => form.set_error(name, message.to_owned()),
        None => form.top_error = Some(message.to_owned()),
    }
}

/// A date of the fragility (the services' today).
pub fn evaluated_on(fragility: &[StructureFragility]) -> Option<NaiveDate> {
    fragility
        .iter()
        .find_map(|s| s.evaluated_on.as_ref().and_then(date_from_pb))
}

#[cfg(test)]
mod tests;
