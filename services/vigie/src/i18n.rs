//! The language of human output: French unless asked otherwise. The type is
//! the platform's ([`vigie_platform::words::Lang`]), the one the console
//! speaks too.

pub use vigie_platform::words::Lang;

/// `--lang` when given, else `LANG` (`en*` → English), else French.
pub fn detect(flag: Option<&str>) -> Lang {
    let from = |value: &str| {
        if value.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Fr
        }
    };
    match flag {
        Some(value) => from(value),
        None => std::env::var("LANG").map(|v| from(&v)).unwrap_or(Lang::Fr),
    }
}
