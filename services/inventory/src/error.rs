//! The inventory's error type, and its one mapping to gRPC status codes.

use vigie_tabular::RowError;

use crate::storage::StorageError;

/// What can go wrong in the inventory's use cases.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The object does not exist (or is outside the caller's scope).
    #[error("{0} introuvable")]
    NotFound(String),
    /// The request is malformed.
    #[error("{0}")]
    Invalid(String),
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

impl From<vigie_platform::db::DbError> for InventoryError {
    fn from(error: vigie_platform::db::DbError) -> Self {
        InventoryError::Storage(StorageError::Db(error))
    }
}

impl From<sqlx::Error> for InventoryError {
    fn from(error: sqlx::Error) -> Self {
        InventoryError::Storage(StorageError::Database(error))
    }
}

impl From<InventoryError> for tonic::Status {
    /// Client errors keep their message; internal ones are logged with their
    /// cause chain here, once, and the client only learns that it failed.
    fn from(error: InventoryError) -> Self {
        match error {
            InventoryError::NotFound(what) => tonic::Status::not_found(format!("{what} introuvable")),
            InventoryError::Invalid(message) => tonic::Status::invalid_argument(message),
            InventoryError::Rejected(errors) => {
                let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                tonic::Status::invalid_argument(lines.join("\n"))
            }
            internal @ (InventoryError::Storage(_) | InventoryError::Events(_)) => {
                tracing::error!(error = %internal, "inventory request failed");
                tonic::Status::internal("erreur interne du service d'inventaire (voir les journaux du serveur)")
            }
        }
    }
}
