//! French registry identifiers: SIRET, SIREN, RNA and INSEE geographic codes.
//!
//! Pure syntactic validation (no registry lookup): a structure's manager types
//! these numbers by hand or pastes them from a spreadsheet, and a typo caught
//! at import time is much cheaper than a wrong roll-up later. Every error
//! carries the offending value and an explanation of what is expected, in
//! French (`Display`) and in English ([`IdError::words`]), because the
//! message is shown as-is to the person who filled the CSV.

use std::fmt;

use vigie_words::{words, Words};

/// Which kind of identifier an [`IdError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// SIRET (establishment number, 14 digits).
    Siret,
    /// SIREN (company number, 9 digits).
    Siren,
    /// RNA (association register number, `W` + 9 digits).
    Rna,
    /// INSEE commune code (5 characters).
    Commune,
    /// INSEE department code.
    Department,
    /// INSEE region code.
    Region,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::Siret => "SIRET",
            IdKind::Siren => "SIREN",
            IdKind::Rna => "numéro RNA",
            IdKind::Commune => "code commune INSEE",
            IdKind::Department => "code département",
            IdKind::Region => "code région",
        })
    }
}

impl IdKind {
    /// The kind's English name.
    pub fn english(self) -> &'static str {
        match self {
            IdKind::Siret => "SIRET",
            IdKind::Siren => "SIREN",
            IdKind::Rna => "RNA number",
            IdKind::Commune => "INSEE commune code",
            IdKind::Department => "department code",
            IdKind::Region => "region code",
        }
    }
}

/// What a valid value looks like, in French (`Display`) and in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// In French.
    pub fr: &'static str,
    /// In English.
    pub en: &'static str,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.fr)
    }
}

/// Why an identifier is invalid: [`IdError::words`] in both languages,
/// `Display` its French sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    /// The value does not have the expected shape (length, characters, range).
    Format {
        /// Kind of identifier.
        kind: IdKind,
        /// The value as given.
        value: String,
        /// What a valid value looks like.
        expected: Expected,
    },
    /// The shape is right but the check digit is wrong (Luhn key).
    Checksum {
        /// Kind of identifier.
        kind: IdKind,
        /// The value as given (digits only, so printed unquoted).
        value: String,
    },
    /// The SIRET's own key is right but its first 9 digits are not a valid SIREN.
    SirenPartChecksum {
        /// The SIRET as given.
        value: String,
        /// Its first 9 digits.
        siren: String,
    },
    /// The commune code does not start with the department code.
    CommuneOutsideDepartment {
        /// The commune code.
        commune: String,
        /// The department code.
        department: String,
    },
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words().fr)
    }
}

impl std::error::Error for IdError {}

impl IdError {
    /// The message in French and in English (`Display` is its French).
    pub fn words(&self) -> Words {
        match self {
            IdError::Format { kind, value, expected } => {
                let english = kind.english();
                let en = expected.en;
                words!(
                    "{kind} « {value} » invalide (attendu : {expected})",
                    "invalid {english} “{value}” (expected: {en})"
                )
            }
            IdError::Checksum { kind, value } => {
                let english = kind.english();
                words!(
                    "{kind} {value} invalide (clé de contrôle)",
                    "invalid {english} {value} (check digit)"
                )
            }
            IdError::SirenPartChecksum { value, siren } => words!(
                "SIRET {value} invalide (clé de contrôle du SIREN {siren})",
                "invalid SIRET {value} (check digit of its SIREN {siren})"
            ),
            IdError::CommuneOutsideDepartment { commune, department } => words!(
                "la commune {commune} n'est pas dans le département {department} \
                 (son code devrait commencer par {department})",
                "the commune {commune} is not in the department {department} \
                 (its code should start with {department})"
            ),
        }
    }
}

/// SIREN of La Poste, whose establishments do not follow the Luhn rule.
const LA_POSTE_SIREN: &str = "356000000";

/// The 18 current INSEE region codes (13 metropolitan regions since 2016 and
/// the 5 overseas regions). Former region codes (e.g. 21, 22, 23…) are refused
/// because roll-ups by region would silently split across old and new codes.
pub const REGION_CODES: [&str; 18] = [
    "01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94",
];

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Luhn sum of a string of ASCII digits (callers check the digits first):
/// digits are numbered from the right starting at 0 and those whose index has
/// parity `doubled` are doubled (minus 9 when it exceeds 9). A complete number
/// doubles the odd indexes; a prefix awaiting its check digit the even ones.
fn luhn_sum(digits: &str, doubled: usize) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == doubled {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum()
}

fn luhn_valid(digits: &str) -> bool {
    luhn_sum(digits, 1).is_multiple_of(10)
}

/// The Luhn check digit to append to `prefix` (ASCII digits) so that the whole
/// number is Luhn-valid; `None` if `prefix` is empty or not all digits.
///
/// Used to build valid SIREN/SIRET numbers for synthetic data.
pub fn luhn_check_digit(prefix: &str) -> Option<u8> {
    if !all_digits(prefix) {
        return None;
    }
    // Appending the key shifts every prefix digit one place to the left, so
    // the doubled positions are the even ones of the prefix.
    let sum = luhn_sum(prefix, 0);
    Some(((10 - sum % 10) % 10) as u8)
}

/// Validates a SIRET: 14 digits whose Luhn key is right, and whose first 9
/// digits form a valid SIREN.
///
/// La Poste exception: its establishments all share the SIREN 356000000 and
/// were numbered before the Luhn key was enforced, so INSEE accepts them when
/// the plain sum of the 14 digits is a multiple of 5 (e.g. 35600000009075).
/// A Luhn-valid La Poste SIRET (the head office 35600000000048) stays valid.
pub fn validate_siret(s: &str) -> Result<(), IdError> {
    if s.len() != 14 || !all_digits(s) {
        return Err(IdError::Format {
            kind: IdKind::Siret,
            value: s.to_owned(),
            expected: Expected {
                fr: "14 chiffres, sans espace",
                en: "14 digits, no space",
            },
        });
    }
    let la_poste_ok =
        s.starts_with(LA_POSTE_SIREN) && s.bytes().map(|b| u32::from(b - b'0')).sum::<u32>().is_multiple_of(5);
    if !luhn_valid(s) && !la_poste_ok {
        return Err(IdError::Checksum {
            kind: IdKind::Siret,
            value: s.to_owned(),
        });
    }
    // A real SIRET always starts with a valid SIREN; a Luhn-valid SIRET with a
    // wrong SIREN part is a typo that happens to balance out.
    if !luhn_valid(&s[..9]) {
        return Err(IdError::SirenPartChecksum {
            value: s.to_owned(),
            siren: s[..9].to_owned(),
        });
    }
    Ok(())
}

/// Validates a SIREN: 9 digits, Luhn-valid.
pub fn validate_siren(s: &str) -> Result<(), IdError> {
    if s.len() != 9 || !all_digits(s) {
        return Err(IdError::Format {
            kind: IdKind::Siren,
            value: s.to_owned(),
            expected: Expected {
                fr: "9 chiffres, sans espace",
                en: "9 digits, no space",
            },
        });
    }
    if !luhn_valid(s) {
        return Err(IdError::Checksum {
            kind: IdKind::Siren,
            value: s.to_owned(),
        });
    }
    Ok(())
}

/// Validates an RNA number: an uppercase `W`, the 3 characters of the
/// registering prefecture, then 7 digits. The prefecture part is digits in
/// most of France, but holds a letter for Corsica (`W2A…`, `W2B…`) and some
/// overseas registries (`W9M…`), so letters are accepted there only.
///
/// Strict on purpose (a lowercase `w` is refused): the value is stored and
/// compared as given, and the message tells the user exactly what to type.
pub fn validate_rna(s: &str) -> Result<(), IdError> {
    let bytes = s.as_bytes();
    let ok = bytes.len() == 10
        && bytes[0] == b'W'
        && bytes[1].is_ascii_digit()
        && bytes[2..4].iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        && bytes[4..].iter().all(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err(IdError::Format {
            kind: IdKind::Rna,
            value: s.to_owned(),
            expected: Expected {
                fr: "W majuscule suivi de 9 caractères, ex. W351234567 ou W2A1001234",
                en: "uppercase W followed by 9 characters, e.g. W351234567 or W2A1001234",
            },
        })
    }
}

/// `true` for a metropolitan department code written with 2 digits:
/// 01–95 except 20 (Corsica has been 2A/2B since 1976).
fn metropolitan_digits(two: &str) -> bool {
    matches!(two.parse::<u8>(), Ok(n) if two.len() == 2 && all_digits(two) && (1..=95).contains(&n) && n != 20)
}

/// Validates an INSEE commune code (code officiel géographique):
/// - metropolitan: department (01–95 except 20) + 3 digits, e.g. `35238`;
/// - Corsica: `2A` or `2B` + 3 digits, e.g. `2A004`;
/// - overseas: `971`–`978` or `984`–`989` + 2 digits, e.g. `97411`
///   (overseas departments and collectivities, New Caledonia…).
///
/// Postal codes look alike but differ (Rennes is 35000 by post, 35238 for
/// INSEE); we cannot tell them apart syntactically, only the department check
/// and the roll-ups will.
pub fn validate_commune_insee(s: &str) -> Result<(), IdError> {
    let ok = s.len() == 5
        && s.is_ascii()
        && if s.starts_with("2A") || s.starts_with("2B") {
            all_digits(&s[2..])
        } else if s.starts_with("97") || s.starts_with("98") {
            all_digits(s)
                && match &s[..3] {
                    p if p.starts_with("97") => ("971"..="978").contains(&p),
                    p => ("984"..="989").contains(&p),
                }
        } else {
            all_digits(s) && metropolitan_digits(&s[..2])
        };
    if ok {
        Ok(())
    } else {
        Err(IdError::Format {
            kind: IdKind::Commune,
            value: s.to_owned(),
            expected: Expected {
                fr: "5 caractères : code département (01 à 95, 2A, 2B) puis 3 chiffres, \
                     ou 971 à 978 / 984 à 989 puis 2 chiffres, ex. 35238",
                en: "5 characters: department code (01 to 95, 2A, 2B) then 3 digits, \
                     or 971 to 978 / 984 to 989 then 2 digits, e.g. 35238",
            },
        })
    }
}

/// Validates an INSEE department code: `01`–`95` except `20`, `2A`, `2B`, or
/// `971`–`976` (overseas departments, as listed in the specification).
pub fn validate_department_code(s: &str) -> Result<(), IdError> {
    let ok = metropolitan_digits(s)
        || s == "2A"
        || s == "2B"
        || (s.len() == 3 && ("971"..="976").contains(&s) && all_digits(s));
    if ok {
        Ok(())
    } else {
        Err(IdError::Format {
            kind: IdKind::Department,
            value: s.to_owned(),
            expected: Expected {
                fr: "01 à 95 (sauf 20 : la Corse s'écrit 2A ou 2B), 2A, 2B ou 971 à 976",
                en: "01 to 95 (except 20: Corsica is 2A or 2B), 2A, 2B or 971 to 976",
            },
        })
    }
}

/// Validates an INSEE region code against the 18 current regions
/// ([`REGION_CODES`]).
pub fn validate_region_code(s: &str) -> Result<(), IdError> {
    if REGION_CODES.contains(&s) {
        Ok(())
    } else {
        Err(IdError::Format {
            kind: IdKind::Region,
            value: s.to_owned(),
            expected: Expected {
                fr: "un des 18 codes de région actuels : 01, 02, 03, 04, 06, 11, 24, 27, 28, \
                     32, 44, 52, 53, 75, 76, 84, 93, 94",
                en: "one of the 18 current region codes: 01, 02, 03, 04, 06, 11, 24, 27, 28, \
                     32, 44, 52, 53, 75, 76, 84, 93, 94",
            },
        })
    }
}

/// Checks that a (valid) commune code belongs to a (valid) department: INSEE
/// commune codes start with their department code (`35238` is in `35`,
/// `97411` in `974`, `2A004` in `2A`).
pub fn check_commune_in_department(commune: &str, department: &str) -> Result<(), IdError> {
    if commune.starts_with(department) {
        Ok(())
    } else {
        Err(IdError::CommuneOutsideDepartment {
            commune: commune.to_owned(),
            department: department.to_owned(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn real_sirets_are_valid() {
        for s in ["73282932000074", "35600000000048", "44306184100047"] {
            assert_eq!(validate_siret(s), Ok(()), "{s}");
        }
    }

    #[test]
    fn la_poste_exception_accepts_digit_sum_multiple_of_five() {
        // Both fail Luhn, their digit sum is 35.
        for s in ["35600000009075", "35600000009093"] {
            assert!(!luhn_valid(s), "{s} must not be Luhn-valid for this test");
            assert_eq!(validate_siret(s), Ok(()), "{s}");
        }
        // Digit sum 32, not Luhn-valid either.
        assert!(matches!(
            validate_siret("35600000009090"),
            Err(IdError::Checksum { .. })
        ));
    }

    #[test]
    fn la_poste_rule_does_not_apply_to_other_sirens() {
        // Same digit sum rule (sum 35) but another SIREN: Luhn applies.
        let s = "35600001009074";
        assert_eq!(s.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 5, 0);
        assert!(!luhn_valid(s));
        assert!(validate_siret(s).is_err());
    }

    #[test]
    fn siret_checksum_message() {
        let e = validate_siret("73282932000075").unwrap_err();
        assert_eq!(e.to_string(), "SIRET 73282932000075 invalide (clé de contrôle)");
    }

    #[test]
    fn siret_format_errors() {
        for s in [
            "7328293200007",
            "732829320000745",
            "7328293200007A",
            "732 829 320 00074",
            "",
        ] {
            let e = validate_siret(s).unwrap_err();
            assert!(
                matches!(
                    e,
                    IdError::Format {
                        kind: IdKind::Siret,
                        ..
                    }
                ),
                "{s}"
            );
        }
        assert_eq!(
            validate_siret("1234").unwrap_err().to_string(),
            "SIRET « 1234 » invalide (attendu : 14 chiffres, sans espace)"
        );
        assert_eq!(
            validate_siret("1234").unwrap_err().words().en,
            "invalid SIRET “1234” (expected: 14 digits, no space)"
        );
    }

    #[test]
    fn siret_with_invalid_siren_part_is_refused() {
        // 732829321 is not a valid SIREN; complete it into a Luhn-valid SIRET.
        let prefix = "7328293210007";
        let key = luhn_check_digit(prefix).unwrap();
        let s = format!("{prefix}{key}");
        assert!(luhn_valid(&s));
        assert_eq!(
            validate_siret(&s).unwrap_err().to_string(),
            format!("SIRET {s} invalide (clé de contrôle du SIREN 732829321)")
        );
    }

    #[test]
    fn siren_rules() {
        assert_eq!(validate_siren("732829320"), Ok(()));
        assert_eq!(validate_siren("356000000"), Ok(()));
        assert_eq!(
            validate_siren("732829321").unwrap_err().to_string(),
            "SIREN 732829321 invalide (clé de contrôle)"
        );
        assert!(matches!(validate_siren("73282932"), Err(IdError::Format { .. })));
        assert!(matches!(validate_siren("73282932O"), Err(IdError::Format { .. })));
    }

    #[test]
    fn luhn_check_digit_completes_valid_numbers() {
        assert_eq!(luhn_check_digit("73282932"), Some(0));
        assert_eq!(luhn_check_digit("7328293200007"), Some(4));
        assert_eq!(luhn_check_digit("3560000000004"), Some(8));
        assert_eq!(luhn_check_digit(""), None);
        assert_eq!(luhn_check_digit("12a"), None);
        for p in ["1", "12", "123456", "98765432", "1000000000001"] {
            let d = luhn_check_digit(p).unwrap();
            assert!(luhn_valid(&format!("{p}{d}")), "{p}{d}");
        }
    }

    #[test]
    fn rna_rules() {
        assert_eq!(validate_rna("W351234567"), Ok(()));
        assert_eq!(validate_rna("W2A1001234"), Ok(()), "Corsica");
        assert_eq!(validate_rna("W9M1000010"), Ok(()), "overseas registry");
        for s in [
            "W2A100123X",
            "WA21001234",
            "w351234567",
            "W35123456",
            "W3512345678",
            "351234567W",
            "WW51234567",
            "W35123456X",
        ] {
            assert!(validate_rna(s).is_err(), "{s}");
        }
        assert_eq!(
            validate_rna("w351234567").unwrap_err().to_string(),
            "numéro RNA « w351234567 » invalide (attendu : W majuscule suivi de 9 caractères, ex. W351234567 ou W2A1001234)"
        );
    }

    #[test]
    fn commune_rules() {
        for s in [
            "35238", "01001", "95127", "2A004", "2B033", "97411", "97101", "97611", "97502", "98818",
        ] {
            assert_eq!(validate_commune_insee(s), Ok(()), "{s}");
        }
        for s in [
            "3523", "352380", "20004", "2C004", "2a004", "00123", "96001", "97011", "97901", "98301", "35A38", "3523é",
            "",
        ] {
            assert!(
                matches!(
                    validate_commune_insee(s),
                    Err(IdError::Format {
                        kind: IdKind::Commune,
                        ..
                    })
                ),
                "{s}"
            );
        }
    }

    #[test]
    fn department_rules() {
        for s in ["01", "19", "21", "95", "2A", "2B", "971", "974", "976"] {
            assert_eq!(validate_department_code(s), Ok(()), "{s}");
        }
        for s in ["00", "20", "96", "1", "001", "2C", "2a", "970", "977", "98", "9A", ""] {
            assert!(validate_department_code(s).is_err(), "{s}");
        }
        assert_eq!(
            validate_department_code("20").unwrap_err().to_string(),
            "code département « 20 » invalide (attendu : 01 à 95 (sauf 20 : la Corse s'écrit 2A ou 2B), 2A, 2B ou 971 à 976)"
        );
    }

    #[test]
    fn region_rules() {
        for s in REGION_CODES {
            assert_eq!(validate_region_code(s), Ok(()), "{s}");
        }
        for s in ["05", "21", "22", "1", "011", "", "93 "] {
            assert!(validate_region_code(s).is_err(), "{s}");
        }
    }

    #[test]
    fn commune_department_consistency() {
        assert_eq!(check_commune_in_department("35238", "35"), Ok(()));
        assert_eq!(check_commune_in_department("97411", "974"), Ok(()));
        assert_eq!(check_commune_in_department("2A004", "2A"), Ok(()));
        assert!(check_commune_in_department("2A004", "2B").is_err());
        assert!(check_commune_in_department("97411", "971").is_err());
        assert_eq!(
            check_commune_in_department("35238", "31").unwrap_err().to_string(),
            "la commune 35238 n'est pas dans le département 31 (son code devrait commencer par 31)"
        );
    }

    #[test]
    fn words_say_in_french_what_display_says_and_have_english() {
        let errors = [
            validate_siret("1234").unwrap_err(),
            validate_siret("73282932000075").unwrap_err(),
            validate_siren("732829321").unwrap_err(),
            validate_rna("w351234567").unwrap_err(),
            validate_commune_insee("3523").unwrap_err(),
            validate_department_code("20").unwrap_err(),
            validate_region_code("21").unwrap_err(),
            check_commune_in_department("35238", "31").unwrap_err(),
        ];
        for e in errors {
            let words = e.words();
            assert_eq!(words.fr, e.to_string());
            assert_ne!(words.en, words.fr, "{e}");
        }
        assert_eq!(
            check_commune_in_department("35238", "31").unwrap_err().words().en,
            "the commune 35238 is not in the department 31 (its code should start with 31)"
        );
    }
}
