//! The inventory's error type, and its one mapping to gRPC status codes.

use vigie_platform::words::IntoStatus;
use vigie_platform::words::{internal_status, not_found_status, rejected_status, Words};
use vigie_tabular::RowError;

use crate::storage::StorageError;

/// What can go wrong in the inventory's use cases.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The object does not exist (or is outside the caller's scope).
    #[error("{0} introuvable")]
    NotFound(Words),
    /// The request is malformed.
    #[error("{0}")]
    Invalid(Words),
    /// An import was refused; nothing was changed.
    #[error("import refusé : {} erreur(s)", .0.len())]
    Rejected(Vec<RowError>),
    /// Storage failed.
    #[error("stockage : {0}")]
    Storage(#[from] StorageError),
    /// The event backbone failed to record an event.
    #[error("événements : {0}")]
    Events(String),
}

vigie_platform::from_database_errors!(InventoryError);

impl From<InventoryError> for tonic::Status {
    /// Client errors keep their message, in both languages; internal ones are
    /// logged with their cause chain, once, and the client only learns that
    /// it failed.
    fn from(error: InventoryError) -> Self {
        match error {
            InventoryError::NotFound(what) => not_found_status(what),
            InventoryError::Invalid(message) => message.into_status(tonic::Code::InvalidArgument),
            InventoryError::Rejected(errors) => rejected_status(errors.iter().map(RowError::to_words)),
            internal @ (InventoryError::Storage(_) | InventoryError::Events(_)) => {
                internal_status("inventory", "service d'inventaire", &internal)
            }
        }
    }
}
