//! Rendering for people (aligned tables) and for scripts (CSV, JSON).
//!
//! A listing is described once ([`Listing`]: its columns, each with its
//! JSON/CSV key, its table title in both languages and how it reads a row)
//! and printed in any [`crate::cli::Format`] from that description.

mod listing;
mod table;

pub use listing::Listing;
pub use table::Table;

/// `text` cut to `max` characters for a table cell, « … » marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Formats a share 0–1 as a French or English percentage without decimals.
pub fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}
