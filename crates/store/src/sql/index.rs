//! Writing the search index of one resource version.

use super::{Bind, Dialect, Sql};
use carefront_fhir::search::{IndexEntry, IndexValue};

/// Rows per INSERT statement: keeps statements under SQLite's bound-variable limit.
const ROWS_PER_STATEMENT: usize = 100;

/// Statements that delete the old index rows of `rid` (unless the resource is `new`, so has
/// none) and insert `entries`.
pub fn index_inserts(
    dialect: Dialect,
    rid: i64,
    new: bool,
    res_type: &str,
    entries: &[IndexEntry],
) -> Vec<Sql> {
    let mut out = Vec::new();
    for table in TABLES {
        if !new {
            let mut del = Sql::new(dialect);
            del.push("DELETE FROM ")
                .push(table.name)
                .push(" WHERE rid = ")
                .bind_int(rid);
            out.push(del);
        }
        let rows: Vec<&IndexEntry> = entries.iter().filter(|e| (table.holds)(&e.value)).collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut ins = Sql::new(dialect);
            ins.push("INSERT INTO ")
                .push(table.name)
                .push(" (rid, res_type, param, ")
                .push(table.columns)
                .push(") VALUES ");
            for (i, entry) in chunk.iter().enumerate() {
                if i > 0 {
                    ins.push(", ");
                }
                ins.push("(").bind_int(rid).push(", ").bind_text(res_type);
                ins.push(", ").bind_text(&entry.param);
                for value in values_of(&entry.value) {
                    ins.push(", ").bind(value);
                }
                ins.push(")");
            }
            out.push(ins);
        }
    }
    out
}

struct Table {
    name: &'static str,
    columns: &'static str,
    holds: fn(&IndexValue) -> bool,
}

const TABLES: [Table; 7] = [
    Table {
        name: "idx_string",
        columns: "value, exact",
        holds: |v| matches!(v, IndexValue::String { .. }),
    },
    Table {
        name: "idx_token",
        columns: "system, code",
        holds: |v| matches!(v, IndexValue::Token { .. }),
    },
    Table {
        name: "idx_reference",
        columns: "target_type, target_id, url",
        holds: |v| matches!(v, IndexValue::Reference { .. }),
    },
    Table {
        name: "idx_date",
        columns: "start_ts, end_ts",
        holds: |v| matches!(v, IndexValue::Date { .. }),
    },
    Table {
        name: "idx_number",
        columns: "low, high",
        holds: |v| matches!(v, IndexValue::Number { .. }),
    },
    Table {
        name: "idx_quantity",
        columns: "low, high, system, code",
        holds: |v| matches!(v, IndexValue::Quantity { .. }),
    },
    Table {
        name: "idx_uri",
        columns: "uri",
        holds: |v| matches!(v, IndexValue::Uri(_)),
    },
];

/// The bound values of one index row after `rid, res_type, param`, in table column order.
fn values_of(value: &IndexValue) -> Vec<Bind> {
    match value {
        IndexValue::String { normalized, exact } => {
            vec![Bind::Text(normalized.clone()), Bind::Text(exact.clone())]
        }
        IndexValue::Token { system, code } => {
            vec![Bind::OptText(system.clone()), Bind::OptText(code.clone())]
        }
        IndexValue::Reference {
            target_type,
            target_id,
            url,
        } => vec![
            Bind::OptText(target_type.clone()),
            Bind::OptText(target_id.clone()),
            Bind::OptText(url.clone()),
        ],
        IndexValue::Date { start, end } => vec![Bind::Int(*start), Bind::Int(*end)],
        IndexValue::Number { low, high } => vec![Bind::Float(*low), Bind::Float(*high)],
        IndexValue::Quantity {
            low,
            high,
            system,
            code,
        } => vec![
            Bind::Float(*low),
            Bind::Float(*high),
            Bind::OptText(system.clone()),
            Bind::OptText(code.clone()),
        ],
        IndexValue::Uri(uri) => vec![Bind::Text(uri.clone())],
    }
}
