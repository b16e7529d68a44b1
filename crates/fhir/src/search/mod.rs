//! FHIR search, without I/O: the R4 search parameter registry, extraction of index values
//! from a resource, and parsing of a search request into a [`SearchQuery`] that a store turns
//! into SQL.

mod index;
mod lead_stubs; // TEMPORARY: see the file
mod query;

pub use lead_stubs::*; // TEMPORARY

pub use index::{IndexEntry, IndexValue};
pub use query::{
    Chain, Filter, Include, Modifier, Prefix, SearchQuery, SearchValue, SortKey, Summary, Total,
};

/// Kinds of search parameter (R4 `search-param-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamKind {
    Number,
    Date,
    String,
    Token,
    Reference,
    Composite,
    Quantity,
    Uri,
    Special,
}
