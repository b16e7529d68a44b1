//! A parsed search request.

use super::ParamKind;

/// A search on one resource type (or on all types when `resource_type` is `None`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchQuery {
    pub resource_type: Option<String>,
    /// Every filter must match (AND); each filter holds alternatives (OR).
    pub filters: Vec<Filter>,
    pub sort: Vec<SortKey>,
    /// Page size (`_count`), already clamped to the server maximum.
    pub count: usize,
    /// Number of matches to skip (`_offset`, from next/previous links).
    pub offset: usize,
    pub includes: Vec<Include>,
    pub revincludes: Vec<Include>,
    pub summary: Summary,
    pub total: Total,
    /// `_elements`: top-level element names to keep (plus the mandatory ones).
    pub elements: Option<Vec<String>>,
    /// Parameters that were ignored under `Prefer: handling=lenient`, for the self link.
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Parameter code, e.g. `family`, `_id`, `_lastUpdated`.
    pub param: String,
    pub kind: ParamKind,
    pub modifier: Modifier,
    /// Alternatives: a resource matches when any value matches (comma-separated in the URL).
    pub values: Vec<SearchValue>,
    /// `patient.family=x`: the filter applies to the resource the reference points to.
    pub chain: Option<Chain>,
}

/// `param[:Type].chained_param`: `values` then match `chained_param` on the referenced resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// Restricts the referenced type (`subject:Patient.name`); otherwise any target type.
    pub target_type: Option<String>,
    pub param: String,
    pub kind: ParamKind,
    pub modifier: Modifier,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Modifier {
    #[default]
    None,
    Exact,
    Contains,
    /// `:missing=true|false` (the value is the boolean).
    Missing,
    Not,
    Text,
    Above,
    Below,
    /// `:Type` on a reference parameter.
    Type,
    Identifier,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefix {
    #[default]
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

/// One alternative value of a filter, parsed for its parameter kind.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchValue {
    /// Already normalized the same way as the index (unless `:exact`, which keeps it as is).
    String(String),
    /// `system|code`, `|code` (system: Some("")), `code` (system: None), `system|` (code None).
    Token {
        system: Option<String>,
        code: Option<String>,
    },
    /// `Type/id`, `id`, or an absolute URL.
    Reference {
        target_type: Option<String>,
        target_id: Option<String>,
        url: Option<String>,
    },
    /// A date with its implicit range, microseconds since epoch (start inclusive, end exclusive).
    /// For `ap` the range is already widened by the approximation margin (so are a number's
    /// and a quantity's `low`/`high`).
    Date {
        prefix: Prefix,
        start: i64,
        end: i64,
    },
    Number {
        prefix: Prefix,
        value: f64,
        low: f64,
        high: f64,
    },
    Quantity {
        prefix: Prefix,
        value: f64,
        low: f64,
        high: f64,
        system: Option<String>,
        code: Option<String>,
    },
    Uri(String),
    /// For `:missing`.
    Missing(bool),
    /// For `_id`.
    Id(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub param: String,
    pub kind: ParamKind,
    pub descending: bool,
}

/// `_include=Source:param[:Target]` or `_revinclude=Source:param[:Target]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    pub source_type: String,
    pub param: String,
    pub target_type: Option<String>,
    pub iterate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Summary {
    #[default]
    False,
    True,
    Count,
    Text,
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Total {
    None,
    Estimate,
    #[default]
    Accurate,
}
