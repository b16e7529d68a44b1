//! The storage interface of Carefront.
//!
//! A [`Store`] keeps versioned FHIR resources with their search indexes; the SQLite and
//! PostgreSQL crates implement it. Everything both backends share lives here: the SQL they
//! run (`sql`, parameterised by [`sql::Dialect`]) and the FHIR interactions built on a store
//! (`repository`: create, update, patch, delete, conditional operations, bundles), so the two
//! backends differ only in how they connect, lock and bind values.

pub mod events;
mod model;
pub mod repository;
pub mod search;
pub mod sql;
pub mod tables;

pub use model::*;
