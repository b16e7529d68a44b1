//! TEMPORARY (lead): placeholders so that the store/HTTP crates compile while the real search
//! functions are being written. Delete this file (and its `mod`/`pub use` lines in mod.rs)
//! as soon as the real `extract`, `parse_query`, `apply_elements`, `apply_summary`,
//! `supported_params`, `preload` exist with these signatures.

use serde_json::Value;

use super::{IndexEntry, ParamKind, SearchQuery, Summary};
use crate::Issue;

pub struct ParamInfo {
    pub code: &'static str,
    pub url: &'static str,
    pub kind: ParamKind,
}

impl ParamInfo {
    pub fn kind_code(&self) -> &'static str {
        "string"
    }
}

pub fn extract(_resource: &Value) -> Vec<IndexEntry> {
    Vec::new()
}

pub fn parse_query(
    resource_type: Option<&str>,
    _params: &[(String, String)],
    _lenient: bool,
    default_count: usize,
    _max_count: usize,
) -> Result<SearchQuery, Issue> {
    Ok(SearchQuery {
        resource_type: resource_type.map(str::to_owned),
        count: default_count,
        ..SearchQuery::default()
    })
}

pub fn apply_elements(_resource: &mut Value, _elements: &[String]) {}

pub fn apply_summary(_resource: &mut Value, _summary: Summary) {}

pub fn supported_params(_resource_type: &str) -> impl Iterator<Item = ParamInfo> {
    std::iter::empty()
}

pub fn preload() {}
