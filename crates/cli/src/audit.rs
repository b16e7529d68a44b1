//! `carefront audit`: check the audit chain, list recent entries.

use carefront_store::tables::audit::{self, AuditFilter, ChainedEntry};
use clap::{Args, Subcommand};

use crate::config::{Config, ServeArgs};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; print the entry count and OK, or the first broken entry
    /// (exit status 1). Takes the database options of `serve`.
    Verify(ServeArgs),
    /// Print recent entries, newest first.
    List(ListArgs),
}

#[derive(Args)]
pub struct ListArgs {
    /// Only this actor (`account:<id>`, `client:<id>`, `anonymous`)
    #[arg(long)]
    actor: Option<String>,
    /// Only this resource: `Type/id`, or a whole type: `Type`
    #[arg(long)]
    resource: Option<String>,
    /// How many entries at most
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[command(flatten)]
    db: ServeArgs,
}

pub async fn run(command: AuditCommand) -> Result<(), String> {
    match command {
        AuditCommand::Verify(args) => verify(args).await,
        AuditCommand::List(args) => list(args).await,
    }
}

async fn verify(args: ServeArgs) -> Result<(), String> {
    let store = crate::serve::open_store(&Config::resolve(&args)?).await?;
    let checked = audit::verify(store.as_ref())
        .await
        .map_err(|e| format!("cannot read the audit log: {e}"))?;
    match checked.first_broken {
        None => {
            println!("{} audit entries, chain OK", checked.entries);
            Ok(())
        }
        Some(seq) => Err(format!(
            "audit chain BROKEN at entry {seq}: it was changed, removed or inserted \
             ({} entries before it verify)",
            checked.entries
        )),
    }
}

async fn list(args: ListArgs) -> Result<(), String> {
    let store = crate::serve::open_store(&Config::resolve(&args.db)?).await?;
    let (resource_type, resource_id) = match args.resource.as_deref() {
        Some(r) => match r.split_once('/') {
            Some((t, id)) => (Some(t.to_owned()), Some(id.to_owned())),
            None => (Some(r.to_owned()), None),
        },
        None => (None, None),
    };
    let filter = AuditFilter {
        actor: args.actor,
        resource_type,
        resource_id,
        ..AuditFilter::default()
    };
    let entries = audit::list(store.as_ref(), &filter, args.limit, 0)
        .await
        .map_err(|e| format!("cannot read the audit log: {e}"))?;
    print!("{}", table(&entries));
    Ok(())
}

/// Entries as aligned text columns.
fn table(entries: &[ChainedEntry]) -> String {
    let header = [
        "seq",
        "time (UTC)",
        "actor",
        "role",
        "action",
        "resource",
        "outcome",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for c in entries {
        let e = &c.entry;
        let resource = match (&e.resource_type, &e.resource_id) {
            (Some(t), Some(id)) => format!("{t}/{id}"),
            (Some(t), None) => t.clone(),
            _ => "-".to_owned(),
        };
        rows.push(vec![
            c.seq.to_string(),
            timestamp(e.at),
            e.actor.clone(),
            e.actor_role.clone(),
            e.action.clone(),
            resource,
            format!("{} ({}) from {}", e.outcome, e.detail, e.source),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `2024-05-01 12:34:56.789` from microseconds since the epoch.
fn timestamp(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let millis = micros.rem_euclid(1_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{millis:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_dates() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00.000");
        assert_eq!(timestamp(1_709_210_096_789_000), "2024-02-29 12:34:56.789");
    }
}
