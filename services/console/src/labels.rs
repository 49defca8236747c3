//! The words the console shows for the services' codes: bands, deadlines'
//! kinds, acknowledgements. Meaning is always in words, never in colour
//! alone (RGAA 3.1).

use vigie_proto::inventory::v1::Band;

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
}
