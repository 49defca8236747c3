//! shutdown (in progress)
