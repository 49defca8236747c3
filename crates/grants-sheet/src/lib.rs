//! The applications-and-grants sheet (issue 16, docs/grants.md « Import
//! d'un tableau »): an exchange format, read by the alerting service and
//! checked before upload by the console and the CLI, written as a template
//! by the workbook. The rules a row must follow are those of
//! `RecordApplication` and `RecordGrant` ([`validate`]), so they live here
//! with it (ADR 0004: services share kernels, never each other).

pub mod import;
pub mod validate;
