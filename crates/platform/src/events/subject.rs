//! NATS subjects: validation of event types and wildcard matching.
//!
//! An event type is also the NATS subject it travels on
//! (`vigie.<service>.<aggregate>.<event>.v1`), so it must be a valid literal
//! subject. Consumers declare the types they want as subjects or NATS
//! patterns (`*` = exactly one token, `>` = one or more trailing tokens); the
//! embedded bus and the JetStream adapter both route with [`subject_matches`].

/// Whether `subject` matches the NATS `pattern` (`*` matches exactly one
/// token, a final `>` matches one or more tokens; anything else matches
/// literally).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for token in pattern.split('.') {
        match (token, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (literal, Some(actual)) if literal == actual => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

/// Checks that `subject` is a literal subject an event can be published on.
pub(crate) fn validate_event_type(subject: &str) -> Result<(), String> {
    validate(subject, false)
}

/// Checks that `pattern` is a valid subject or subscription pattern.
pub(crate) fn validate_pattern(pattern: &str) -> Result<(), String> {
    validate(pattern, true)
}

fn validate(subject: &str, wildcards: bool) -> Result<(), String> {
    if subject.is_empty() {
        return Err("empty subject".to_owned());
    }
    let tokens: Vec<&str> = subject.split('.').collect();
    for (index, token) in tokens.iter().enumerate() {
        if token.is_empty() {
            return Err(format!("empty token in subject {subject:?}"));
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("whitespace or control character in subject {subject:?}"));
        }
        let wildcard = *token == "*" || *token == ">";
        if wildcard && !wildcards {
            return Err(format!("wildcard in event type {subject:?}"));
        }
        if *token == ">" && index + 1 != tokens.len() {
            return Err(format!("'>' must be the last token in {subject:?}"));
        }
        if !wildcard && (token.contains('*') || token.contains('>')) {
            return Err(format!("misplaced wildcard in {subject:?}"));
        }
    }
    Ok(())
}

/// Checks a durable consumer name: what JetStream accepts, and what can be a
/// subject token (`vigie.deadletter.<name>`).
pub(crate) fn validate_consumer_name(name: &str) -> Result<(), String> {
    let valid =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "consumer name {name:?} must be 1 to 64 ASCII letters, digits, '-' or '_'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_literals_and_wildcards() {
        let subject = "vigie.inventory.structure.inventoried.v1";
        assert!(subject_matches(subject, subject));
        assert!(subject_matches("vigie.inventory.>", subject));
        assert!(subject_matches("vigie.*.structure.*.v1", subject));
        assert!(subject_matches(">", subject));
        assert!(!subject_matches("vigie.inventory", subject));
        assert!(!subject_matches("vigie.training.>", subject));
        assert!(!subject_matches("vigie.inventory.structure.inventoried.v1.x", subject));
        assert!(!subject_matches("vigie.inventory.structure.inventoried", subject));
        assert!(!subject_matches("vigie.inventory.>", "vigie.inventory"));
        assert!(!subject_matches("vigie.*", subject));
    }

    #[test]
    fn validates_event_types_and_patterns() {
        assert!(validate_event_type("vigie.inventory.structure.inventoried.v1").is_ok());
        assert!(validate_event_type("vigie.inventory.>").is_err());
        assert!(validate_event_type("vigie..x").is_err());
        assert!(validate_event_type("vigie.in ventory").is_err());
        assert!(validate_event_type("").is_err());
        assert!(validate_pattern("vigie.inventory.>").is_ok());
        assert!(validate_pattern("vigie.*.structure.>").is_ok());
        assert!(validate_pattern("vigie.>.x").is_err());
        assert!(validate_pattern("vigie.a*").is_err());
    }

    #[test]
    fn validates_consumer_names() {
        assert!(validate_consumer_name("training-inventory").is_ok());
        assert!(validate_consumer_name("a.b").is_err());
        assert!(validate_consumer_name("").is_err());
        assert!(validate_consumer_name("x y").is_err());
    }
}
