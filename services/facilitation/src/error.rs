//! The facilitation service's error type and its one mapping to gRPC statuses.

use vigie_tabular::RowError;

use crate::storage::StorageError;

/// What can go wrong in the facilitation use cases.
#[derive(Debug, thiserror::Error)]
pub enum FacilitationError {
    /// Unknown request, structure, person (or outside the caller's scope).
    #[error("{0} introuvable")]
    NotFound(String),
    /// A malformed request.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (already closed…).
    #[error("{0}")]
    Conflict(String),
    /// A facilitators import was refused; nothing changed.
    #[error("fichier des facilitateurs refusé : {} erreur(s)", .0.len())]
    Rejected(Vec<RowError>),
    /// Storage failed.
    #[error("stockage : {0}")]
    Storage(#[from] StorageError),
    /// The outbox could not record an event.
    #[error("événements : {0}")]
    Events(String),
}

impl From<vigie_platform::db::DbError> for FacilitationError {
    fn from(error: vigie_platform::db::DbError) -> Self {
        FacilitationError::Storage(StorageError::Db(error))
    }
}

impl From<sqlx::Error> for FacilitationError {
    fn from(error: sqlx::Error) -> Self {
        FacilitationError::Storage(StorageError::Database(error))
    }
}

impl From<FacilitationError> for tonic::Status {
    fn from(error: FacilitationError) -> Self {
        match error {
            FacilitationError::NotFound(what) => tonic::Status::not_found(format!("{what} introuvable")),
            FacilitationError::Invalid(message) => tonic::Status::invalid_argument(message),
            FacilitationError::Conflict(message) => tonic::Status::failed_precondition(message),
            FacilitationError::Rejected(errors) => {
                tonic::Status::invalid_argument(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
            }
            internal @ (FacilitationError::Storage(_) | FacilitationError::Events(_)) => {
                tracing::error!(error = %internal, "facilitation request failed");
                tonic::Status::internal("erreur interne du service de facilitation (voir les journaux du serveur)")
            }
        }
    }
}
