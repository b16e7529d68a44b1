//! FHIR search, without I/O: the R4 search parameter registry, extraction of index values
//! from a resource, and parsing of a search request into a [`SearchQuery`] that a store turns
//! into SQL.

mod datetime;
mod decimal;
mod extract;
mod fhirpath;
mod index;
mod lead_stubs; // TEMPORARY: see the file
mod normalize;
mod query;
mod registry;

pub use lead_stubs::*; // TEMPORARY

pub use datetime::{date_range, OPEN_END, OPEN_START};
pub use decimal::{parse_decimal, Decimal};
pub use extract::extract;
pub use index::{IndexEntry, IndexValue};
pub use normalize::{normalize, MAX_NORMALIZED_BYTES};
pub use registry::{resource_param, search_param, search_params, SearchParam};
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
