//! The error every service's storage layer returns, so repositories on top of
//! [`super::Db`] do not each define their own.

/// A storage failure: a database error, or a stored value that no longer
/// parses (which would mean the schema and the code disagree).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database refused or failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The storage layer (pool, transaction) failed.
    #[error(transparent)]
    Db(#[from] super::DbError),
    /// A stored value is not valid for the domain.
    #[error("valeur stockée invalide dans {table}.{column} : {value}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The offending value.
        value: String,
    },
}

impl StorageError {
    /// A stored value of `table.column` that does not parse.
    pub fn corrupt(table: &'static str, column: &'static str, value: impl ToString) -> Self {
        StorageError::Corrupt {
            table,
            column,
            value: value.to_string(),
        }
    }
}

/// Lets `?` turn the database's own errors (`sqlx::Error`,
/// [`DbError`](super::DbError)) into a service's error type, through the
/// [`StorageError`] its `Storage(#[from] StorageError)` variant wraps:
/// `vigie_platform::from_database_errors!(TrainingError);`. Every service
/// wrote these two conversions word for word; `From` cannot be implemented
/// here once for all of them (the service's type is foreign to this crate).
#[macro_export]
macro_rules! from_database_errors {
    ($error:ty) => {
        impl ::std::convert::From<$crate::db::DbError> for $error {
            fn from(error: $crate::db::DbError) -> Self {
                <$error>::from($crate::db::StorageError::Db(error))
            }
        }

        impl ::std::convert::From<::sqlx::Error> for $error {
            fn from(error: ::sqlx::Error) -> Self {
                <$error>::from($crate::db::StorageError::Database(error))
            }
        }
    };
}
