use super::*;

#[test]
fn the_lists_hold_the_programmes_codes_in_its_order() {
    assert_eq!(codes(ACTIVITY_TYPES).collect::<Vec<_>>(), ["individuel", "collectif"]);
    assert_eq!(
        codes(PLACES).collect::<Vec<_>>(),
        ["lieu_activite", "domicile", "a_distance", "autre"]
    );
    assert_eq!(THEMES.len(), 30);
    assert_eq!(THEMES.first().map(|t| t.code), Some("diagnostic_numerique"));
    assert_eq!(THEMES.last().map(|t| t.code), Some("associations"));
}

#[test]
fn codes_are_unique_and_every_term_has_both_labels() {
    for list in [ACTIVITY_TYPES, PLACES, THEMES] {
        for (i, term) in list.iter().enumerate() {
            assert!(!term.fr.is_empty() && !term.en.is_empty(), "{}", term.code);
            assert!(
                term.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                term.code
            );
            assert!(!list[..i].iter().any(|t| t.code == term.code), "{} twice", term.code);
        }
    }
}

#[test]
fn find_gives_the_labels_of_a_known_code_only() {
    assert_eq!(
        find(ACTIVITY_TYPES, "collectif").map(|t| t.fr),
        Some("Atelier collectif")
    );
    assert_eq!(find(PLACES, "a_distance").map(|t| t.fr), Some("À distance"));
    assert_eq!(
        find(THEMES, "reseaux_sociaux").map(|t| t.fr),
        Some("Réseaux sociaux communication")
    );
    assert_eq!(
        find(THEMES, "entrepreneuriat").map(|t| t.fr),
        Some("Accompagner un professionnel")
    );
    assert_eq!(find(THEMES, "email").map(|t| t.en), Some("E-mail"));
    assert_eq!(find(THEMES, "inconnu"), None);
    assert_eq!(find(THEMES, "Email"), None, "codes are compared exactly");
}
