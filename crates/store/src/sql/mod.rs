//! SQL shared by the SQLite and PostgreSQL stores.
//!
//! Statements are built as text plus a list of [`Bind`] values; each backend binds them with
//! its own driver. The two dialects differ only in placeholders (`?N` vs `$N`) here; the
//! schema in each backend's migrations keeps the same table and column names.

mod history;
mod index;
mod search;

pub use history::{history_sql, read_version_sql};
pub use index::index_inserts;
pub use search::{count_sql, include_sql, matches_sql, page_sql, revinclude_sql};

/// The columns of `resources r` every query that returns resources selects, in this order.
pub const RESOURCE_COLUMNS: &str =
    "r.rid, r.res_type, r.res_id, r.version, r.last_updated, r.deleted, r.content";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect of a backend named as [`crate::Store::backend`] names it.
    pub fn of(backend: &str) -> Dialect {
        match backend {
            "postgres" => Dialect::Postgres,
            _ => Dialect::Sqlite,
        }
    }
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    OptText(Option<String>),
    OptInt(Option<i64>),
    Int(i64),
    Float(f64),
    OptFloat(Option<f64>),
    Bool(bool),
}

/// A statement with its bound values.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
    dialect: Dialect,
}

impl Sql {
    pub fn new(dialect: Dialect) -> Self {
        Sql {
            text: String::with_capacity(256),
            binds: Vec::new(),
            dialect,
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder for `value`.
    pub fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        let n = self.binds.len();
        let sigil = match self.dialect {
            Dialect::Sqlite => '?',
            Dialect::Postgres => '$',
        };
        self.text.push(sigil);
        self.text.push_str(&n.to_string());
        self
    }

    pub fn bind_text(&mut self, value: &str) -> &mut Self {
        self.bind(Bind::Text(value.to_owned()))
    }

    pub fn bind_int(&mut self, value: i64) -> &mut Self {
        self.bind(Bind::Int(value))
    }
}

/// Build a statement from SQL text with `{}` where each value goes, in order.
pub fn statement(dialect: Dialect, text: &str, binds: Vec<Bind>) -> Sql {
    let mut s = Sql::new(dialect);
    let mut parts = text.split("{}");
    if let Some(first) = parts.next() {
        s.push(first);
    }
    let mut binds = binds.into_iter();
    for part in parts {
        let value = binds.next().expect("as many values as placeholders");
        s.bind(value).push(part);
    }
    assert!(binds.next().is_none(), "as many placeholders as values");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_dialect() {
        let mut s = Sql::new(Dialect::Postgres);
        s.push("a = ").bind_int(1).push(" AND b = ").bind_text("x");
        assert_eq!(s.text, "a = $1 AND b = $2");
        let mut s = Sql::new(Dialect::Sqlite);
        s.push("a = ").bind_int(1).push(" AND b = ").bind_text("x");
        assert_eq!(s.text, "a = ?1 AND b = ?2");
        assert_eq!(s.binds.len(), 2);
    }
}
