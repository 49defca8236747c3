//! The words the console shows for the services' codes: bands, deadlines'
//! kinds, acknowledgements. Meaning is always in words, never in colour
//! alone (RGAA 3.1).

use vigie_proto::inventory::v1::Band;

use crate::lang::Lang;

/// A band in words, with the sentence that says what it means.
pub fn band(band: i32) -> (&'static str, &'static str) {
    match Band::try_from(band).unwrap_or(Band::Unspecified) {
        Band::Low => (
            "faible",
            "Chaque fonction vitale repose sur au moins deux personnes compétentes.",
        ),
        Band::Moderate => (
            "modérée",
            "Certaines fonctions reposent sur une seule personne, ou sur personne.",
        ),
        Band::High => (
            "élevée",
            "Une fonction très importante repose sur une seule personne : une absence suffit à l'arrêter.",
        ),
        Band::Critical => (
            "critique",
            "Une fonction très importante ne repose sur personne : elle est déjà à l'arrêt ou le sera au premier imprévu.",
        ),
        Band::Unknown | Band::Unspecified => (
            "inconnue",
            "La structure n'a pas encore été inventoriée : la fragilité ne peut pas être mesurée.",
        ),
    }
}

/// The CSS class of a band (the colour only repeats the words).
pub fn band_class(band: i32) -> &'static str {
    match Band::try_from(band).unwrap_or(Band::Unspecified) {
        Band::Low => "band-low",
        Band::Moderate => "band-moderate",
        Band::High => "band-high",
        Band::Critical => "band-critical",
        Band::Unknown | Band::Unspecified => "band-unknown",
    }
}

/// The acknowledgements a structure can give a call, in the order shown.
pub const ACKNOWLEDGEMENTS: [(&str, &str); 3] = [
    ("submitted", "Déposé"),
    ("in_progress", "En cours"),
    ("not_concerned", "Pas concerné"),
];

/// An acknowledgement's words; `None` for none or an unknown code.
pub fn acknowledgement(code: &str) -> Option<&'static str> {
    ACKNOWLEDGEMENTS
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, words)| *words)
}

/// A deadline's kind in words.
pub fn stage_kind(kind: &str) -> &'static str {
    match kind {
        "letter_of_intent" => "lettre d'intention",
        "pre_deposit" => "pré-dépôt",
        "internal" => "échéance interne",
        _ => "dépôt du dossier",
    }
}

/// « 1 fonction vitale s'arrête », « 4 fonctions vitales s'arrêtent ».
pub fn functions_stop(count: usize) -> String {
    if count == 1 {
        "1 fonction vitale s'arrête".to_owned()
    } else {
        format!("{count} fonctions vitales s'arrêtent")
    }
}

/// A band in words in `lang`, with the sentence that says what it means.
pub fn band_in(band: i32, lang: Lang) -> (&'static str, &'static str) {
    if lang == Lang::Fr {
        return self::band(band);
    }
    match Band::try_from(band).unwrap_or(Band::Unspecified) {
        Band::Low => ("low", "Every vital function rests on at least two competent people."),
        Band::Moderate => ("moderate", "Some functions rest on one person only, or on nobody."),
        Band::High => (
            "high",
            "A very important function rests on one person only: one absence is enough to stop it.",
        ),
        Band::Critical => (
            "critical",
            "A very important function rests on nobody: it has already stopped, or will at the first mishap.",
        ),
        Band::Unknown | Band::Unspecified => (
            "unknown",
            "The structure has not been inventoried yet: its fragility cannot be measured.",
        ),
    }
}

/// The acknowledgements a structure can give a call, in `lang`.
pub fn acknowledgements(lang: Lang) -> [(&'static str, &'static str); 3] {
    match lang {
        Lang::Fr => ACKNOWLEDGEMENTS,
        Lang::En => [
            ("submitted", "Submitted"),
            ("in_progress", "In progress"),
            ("not_concerned", "Not concerned"),
        ],
    }
}

/// An acknowledgement's words in `lang`; `None` for none or an unknown code.
pub fn acknowledgement_in(code: &str, lang: Lang) -> Option<&'static str> {
    acknowledgements(lang)
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, words)| *words)
}

/// A deadline's kind in words, in `lang`.
pub fn stage_kind_in(kind: &str, lang: Lang) -> &'static str {
    match (kind, lang) {
        (_, Lang::Fr) => stage_kind(kind),
        ("letter_of_intent", Lang::En) => "letter of intent",
        ("pre_deposit", Lang::En) => "pre-submission",
        ("internal", Lang::En) => "internal deadline",
        (_, Lang::En) => "application deadline",
    }
}

/// « 4 fonctions vitales s'arrêtent », "4 vital functions stop".
pub fn functions_stop_in(count: usize, lang: Lang) -> String {
    match (lang, count) {
        (Lang::Fr, _) => functions_stop(count),
        (Lang::En, 1) => "1 vital function stops".to_owned(),
        (Lang::En, n) => format!("{n} vital functions stop"),
    }
}

/// A level of the 0–4 scale in words (« autonome »), `None` outside it.
pub fn level(level: u32, lang: Lang) -> Option<&'static str> {
    let level = u8::try_from(level).ok()?;
    match lang {
        Lang::Fr => vigie_fragility_model::catalogue::level_label_fr(level),
        Lang::En => vigie_fragility_model::catalogue::level_label_en(level),
    }
}

/// A function's label in `lang` (the catalogue's, or a custom code's words).
pub fn function(code: &str, lang: Lang) -> String {
    match lang {
        Lang::Fr => vigie_fragility_model::catalogue::label_fr(code),
        Lang::En => vigie_fragility_model::catalogue::label_en(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_band_has_words_and_a_class() {
        for b in [
            Band::Unspecified,
            Band::Unknown,
            Band::Low,
            Band::Moderate,
            Band::High,
            Band::Critical,
        ] {
            let (words, meaning) = band(b as i32);
            assert!(!words.is_empty() && meaning.ends_with('.'));
            assert!(band_class(b as i32).starts_with("band-"));
        }
        assert_eq!(band(Band::High as i32).0, "élevée");
        assert_eq!(band(99).0, "inconnue");
    }

    #[test]
    fn acknowledgements_and_counts_read_in_french() {
        assert_eq!(acknowledgement("submitted"), Some("Déposé"));
        assert_eq!(acknowledgement("not_concerned"), Some("Pas concerné"));
        assert_eq!(acknowledgement(""), None);
        assert_eq!(functions_stop(1), "1 fonction vitale s'arrête");
        assert_eq!(functions_stop(4), "4 fonctions vitales s'arrêtent");
        assert_eq!(stage_kind("submission"), "dépôt du dossier");
    }

    #[test]
    fn labels_read_in_english_too() {
        assert_eq!(band_in(Band::High as i32, Lang::En).0, "high");
        assert_eq!(band_in(Band::High as i32, Lang::Fr).0, "élevée");
        assert_eq!(acknowledgement_in("submitted", Lang::En), Some("Submitted"));
        assert_eq!(functions_stop_in(2, Lang::En), "2 vital functions stop");
        assert_eq!(stage_kind_in("pre_deposit", Lang::En), "pre-submission");
        assert_eq!(level(3, Lang::Fr), Some("autonome"));
        assert_eq!(level(4, Lang::En), Some("can train others"));
        assert_eq!(level(5, Lang::Fr), None);
    }
}
