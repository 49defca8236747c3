//! Generated protobuf and gRPC types of Vigie.
//!
//! The sources live in `proto/` at the repository root; they are compiled by
//! `build.rs` with protox, so no system `protoc` is needed.
#![allow(missing_docs, clippy::all)]

/// One `pub mod <package> { pub mod v1 { … } }` per protobuf package, so
/// that each package is named once (its doc, its module, its proto name)
/// rather than restating the same include block for every API.
macro_rules! proto_packages {
    ($($(#[$doc:meta])* $module:ident => $package:literal;)*) => {
        $(
            $(#[$doc])*
            pub mod $module {
                pub mod v1 {
                    tonic::include_proto!($package);
                }
            }
        )*
    };
}

proto_packages! {
    /// Types shared by every API.
    common => "vigie.common.v1";
    /// The inventory service API.
    inventory => "vigie.inventory.v1";
    /// The training service API.
    training => "vigie.training.v1";
    /// The facilitation service API.
    facilitation => "vigie.facilitation.v1";
    /// The alerting service API.
    alerting => "vigie.alerting.v1";
    /// The federation of regional instances: snapshots and the national view.
    federation => "vigie.federation.v1";
    /// Event payloads carried over the event backbone.
    events => "vigie.events.v1";
}

pub mod event;
pub use event::Event;

/// `en` for an English reader when it was sent, else `fr`.
fn message_in<'a>(lang: vigie_words::Lang, fr: &'a str, en: &'a str) -> &'a str {
    if lang == vigie_words::Lang::En && !en.is_empty() {
        en
    } else {
        fr
    }
}

/// One problem of an import of calls or of the grants sheet.
impl alerting::v1::ImportProblem {
    /// The problem at `position`, in both languages; `error` when it
    /// refuses its item, else a warning.
    pub fn new(position: String, message: vigie_words::Words, error: bool) -> Self {
        alerting::v1::ImportProblem {
            position,
            message: message.fr,
            message_en: message.en,
            error,
        }
    }

    /// The message in `lang`; in French when English is asked for but was
    /// not sent.
    pub fn message_in(&self, lang: vigie_words::Lang) -> &str {
        message_in(lang, &self.message, &self.message_en)
    }
}

/// One problem of a refused import, as every import RPC answers it (the
/// inventory's set, the training catalogue, the facilitators' file).
impl inventory::v1::ImportError {
    /// The problem at `line` of `file`, in both languages.
    pub fn new(file: String, line: u64, message: vigie_words::Words) -> Self {
        inventory::v1::ImportError {
            file,
            line,
            message: message.fr,
            message_en: message.en,
        }
    }

    /// The message in `lang`; in French when English is asked for but was
    /// not sent (servers older than `message_en` send French only).
    pub fn message_in(&self, lang: vigie_words::Lang) -> &str {
        message_in(lang, &self.message, &self.message_en)
    }
}

/// Conversions between `vigie.common.v1.Date` and calendar dates, and the
/// one text form of an instant, shared by every service's adapters.
pub mod dates {
    use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};

    use crate::common::v1::Date;

    /// A calendar date as a protobuf date.
    pub fn date_to_pb(date: NaiveDate) -> Date {
        Date {
            year: date.year(),
            month: date.month(),
            day: date.day(),
        }
    }

    /// A protobuf date as a calendar date, `None` when it does not exist.
    pub fn date_from_pb(date: &Date) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(date.year, date.month, date.day)
    }

    /// A protobuf date as machine output and files print it, `YYYY-MM-DD`
    /// (as received, even when it does not exist); empty when absent.
    pub fn date_text(date: Option<&Date>) -> String {
        date.map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
            .unwrap_or_default()
    }

    /// An instant as the APIs spell it and the services store it: RFC 3339,
    /// UTC (`Z`), to the second — fixed width, so the text sorts as the
    /// instants do.
    pub fn rfc3339(t: DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// Encoded `FileDescriptorSet` of every Vigie proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vigie_descriptor.bin"));

#[cfg(test)]
mod tests {
    use vigie_words::{words, Lang};

    use crate::alerting::v1::ImportProblem;
    use crate::inventory::v1::ImportError;

    #[test]
    fn a_reader_gets_its_language_and_french_from_an_older_server() {
        let both = ImportError::new("people.csv".to_owned(), 3, words!("rôle inconnu", "unknown role"));
        assert_eq!(both.message_in(Lang::En), "unknown role");
        assert_eq!(both.message_in(Lang::Fr), "rôle inconnu");
        // A server older than `message_en` leaves it empty.
        let older = ImportError {
            message_en: String::new(),
            ..both
        };
        assert_eq!(older.message_in(Lang::En), "rôle inconnu");
        let problem = ImportProblem::new("f.csv:2".to_owned(), words!("date illisible", "unreadable date"), false);
        assert_eq!(
            (problem.message_in(Lang::En), problem.error),
            ("unreadable date", false)
        );
    }
}
