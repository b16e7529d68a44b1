//! Binding the shared SQL's values with rusqlite.

use carefront_store::sql::Bind;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::ToSql;

pub struct BindRef<'a>(&'a Bind);

impl ToSql for BindRef<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Bind::Text(s) => ValueRef::Text(s.as_bytes()),
            Bind::OptText(Some(s)) => ValueRef::Text(s.as_bytes()),
            Bind::OptText(None) => ValueRef::Null,
            Bind::Int(i) | Bind::OptInt(Some(i)) => ValueRef::Integer(*i),
            Bind::OptInt(None) => ValueRef::Null,
            Bind::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Bind::Float(f) | Bind::OptFloat(Some(f)) => ValueRef::Real(*f),
            Bind::OptFloat(None) => ValueRef::Null,
        }))
    }
}

pub fn params(binds: &[Bind]) -> rusqlite::ParamsFromIter<impl Iterator<Item = BindRef<'_>>> {
    rusqlite::params_from_iter(binds.iter().map(BindRef))
}
