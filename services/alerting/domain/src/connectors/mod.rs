//! Parsers of the sources of calls: each turns one document into a [`crate::call::Parsed`].
