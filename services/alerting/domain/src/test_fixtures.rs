//! Values the unit tests of the reminder planning share (calls' and duties'
//! alike): dates written as numbers, a recipient of each kind, a network's
//! contacts.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::plan::{NetworkContacts, Recipient, RecipientKind};

/// A date; the tests write only valid ones.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An instant on the hour, UTC.
pub fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// Person `id` reached by email, as a recipient of `kind`.
pub fn person(id: &str, kind: RecipientKind) -> Recipient {
    Recipient {
        id: format!("person:{id}"),
        kind,
        person_id: Some(id.into()),
        name: id.into(),
        channel: "email",
        address: format!("{id}@example.org"),
    }
}

/// A network with a referent and no webhook.
pub fn contacts() -> NetworkContacts {
    NetworkContacts {
        referent_name: "Référente".into(),
        referent_email: "ref@example.org".into(),
        webhook_url: String::new(),
    }
}
