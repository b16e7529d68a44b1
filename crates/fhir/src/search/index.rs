//! Index values extracted from a resource for its search parameters.

/// One value of one search parameter of a resource, ready to be stored in a search index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// The search parameter code, e.g. `family`.
    pub param: String,
    pub value: IndexValue,
}

/// Index values per parameter kind. Times are microseconds since the Unix epoch, UTC; a
/// partial date such as `2020-03` covers the whole month (`start` inclusive, `end` exclusive).
#[derive(Debug, Clone, PartialEq)]
pub enum IndexValue {
    /// `normalized` is [`normalize`](super::normalize)d: lower-cased, Latin accents folded,
    /// whitespace collapsed, at most 1,024 bytes (for the default starts-with and :contains
    /// matches); `exact` is the value as written (for :exact).
    String {
        normalized: String,
        exact: String,
    },
    /// A coded value (`system|code`; a ContactPoint or plain code has no system).
    Token {
        system: Option<String>,
        code: Option<String>,
    },
    /// A reference to `target_type/target_id` (relative or absolute URL resolved to type and
    /// id where possible); `url` keeps canonical or external references that have no id here.
    Reference {
        target_type: Option<String>,
        target_id: Option<String>,
        url: Option<String>,
    },
    Date {
        start: i64,
        end: i64,
    },
    /// The implicit range of the number given its precision (1.5 covers [1.45, 1.55)).
    Number {
        low: f64,
        high: f64,
    },
    Quantity {
        low: f64,
        high: f64,
        system: Option<String>,
        code: Option<String>,
    },
    Uri(String),
}
