//! FHIR search, without I/O: the R4 search parameter registry, extraction of index values
//! from a resource, and parsing of a search request into a [`SearchQuery`] that a store turns
//! into SQL.

mod datetime;
mod decimal;
mod extract;
mod fhirpath;
mod index;
mod normalize;
mod query;
mod registry;
mod request;
mod subset;

pub use datetime::{date_range, OPEN_END, OPEN_START};
pub use decimal::{parse_decimal, Decimal};
pub use extract::extract;
pub use index::{IndexEntry, IndexValue};
pub use normalize::{normalize, MAX_NORMALIZED_BYTES};
pub use query::{
    Chain, Filter, Include, Modifier, Prefix, SearchQuery, SearchValue, SortKey, Summary, Total,
};
pub use registry::{
    preload, resource_param, search_param, search_params, supported_params, ParamInfo, SearchParam,
};
pub use request::parse_query;
pub use subset::{apply_elements, apply_summary};

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
