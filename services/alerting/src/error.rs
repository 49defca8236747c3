//! The alerting service's error type and its one mapping to gRPC statuses.

use vigie_alerting_domain::call::ImportProblem;

use crate::storage::StorageError;

/// What can go wrong in the alerting use cases.
#[derive(Debug, thiserror::Error)]
pub enum AlertingError {
    /// Unknown call, structure or network (or outside the caller's scope).
    #[error("{0} introuvable")]
    NotFound(String),
    /// A malformed request.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error("stockage : {0}")]
    Storage(#[from] StorageError),
    /// The outbox could not record an event.
    #[error("événements : {0}")]
    Events(String),
    /// A remote source could not be reached at all.
    #[error("source injoignable : {0}")]
    Source(String),
    /// A file import was refused; nothing changed.
    #[error("fichier refusé : {} erreur(s)", .0.iter().filter(|p| p.severity == vigie_alerting_domain::call::Severity::Error).count())]
    Rejected(Vec<ImportProblem>),
}

impl From<vigie_platform::db::DbError> for AlertingError {
    fn from(error: vigie_platform::db::DbError) -> Self {
        AlertingError::Storage(StorageError::Db(error))
    }
}

impl From<sqlx::Error> for AlertingError {
    fn from(error: sqlx::Error) -> Self {
        AlertingError::Storage(StorageError::Database(error))
    }
}

impl From<AlertingError> for tonic::Status {
    fn from(error: AlertingError) -> Self {
        match &error {
            AlertingError::NotFound(_) => tonic::Status::not_found(error.to_string()),
            AlertingError::Invalid(_) | AlertingError::Rejected(_) => {
                tonic::Status::invalid_argument(error.to_string())
            }
            AlertingError::Source(_) => tonic::Status::unavailable(error.to_string()),
            AlertingError::Storage(_) | AlertingError::Events(_) => {
                tracing::error!(%error, "alerting request failed");
                tonic::Status::internal("erreur interne du service d'alertes")
            }
        }
    }
}
