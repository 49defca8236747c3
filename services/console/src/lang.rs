//! The language of the pages: French by default, English on request.
//!
//! Every text a page shows is written in both languages side by side, at the
//! place it is shown (`{{ layout.lang.pick("Accueil", "Home") }}` in a
//! template, `lang.pick(…)` in Rust), so that a text cannot exist in one
//! language only and the compiler checks both. The choice is kept in the
//! session (a POST form in every page's header, with its CSRF token), and
//! survives signing in.
//!
//! The type is the platform's ([`vigie_platform::words::Lang`]), the one the
//! CLI speaks too.

pub use vigie_platform::words::Lang;
