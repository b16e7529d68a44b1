//! The printed report: one table per store, then the targets met or not.

use std::time::Duration;

use super::load::{self, PhaseStats};
use super::race::{RaceOutcome, RACERS};
use super::server::Stopped;
use super::sys::Memory;
use super::{Plan, StoreKind};

/// More errors than this in any phase fails the benchmark.
pub const MAX_ERROR_RATIO: f64 = 0.01;
const MB: f64 = 1_000_000.0;
/// The search target is set for this many patients.
const TARGET_PATIENTS: u64 = 100_000;

pub struct StoreReport {
    pub kind: StoreKind,
    /// Where the data lived (file or database name).
    pub db: String,
    pub ready_in: Duration,
    pub idle_memory: Option<Memory>,
    pub loaded_memory: Option<Memory>,
    pub seeded: usize,
    pub phases: Vec<PhaseStats>,
    pub race: Result<RaceOutcome, String>,
    pub stopped: Result<Stopped, String>,
    /// The end of the server's log, shown when something failed.
    pub log_tail: String,
}

impl StoreReport {
    fn phase(&self, name: &str) -> Option<&PhaseStats> {
        self.phases
            .iter()
            .find(|p| p.name == name && p.skipped.is_none())
    }

    /// What makes the command fail (targets missed do not: they depend on the machine).
    pub fn failures(&self) -> Vec<String> {
        let store = self.kind.label();
        let mut out = Vec::new();
        for p in &self.phases {
            if p.error_ratio() > MAX_ERROR_RATIO {
                out.push(format!(
                    "{store} {}: {:.1}% errors",
                    p.name,
                    p.error_ratio() * 100.0
                ));
            }
            if let Some(why) = &p.skipped {
                out.push(format!("{store} {}: not run ({why})", p.name));
            }
        }
        match &self.race {
            Ok(r) if r.passed() => {}
            Ok(_) => out.push(format!("{store} conditional-create race: FAIL")),
            Err(e) => out.push(format!(
                "{store} conditional-create race could not run: {e}"
            )),
        }
        match &self.stopped {
            Ok(s) if !s.killed && s.status.success() => {}
            Ok(s) if s.killed => out.push(format!("{store} server ignored SIGTERM")),
            Ok(s) => out.push(format!("{store} server exited with {}", s.status)),
            Err(e) => out.push(format!("{store} server stop: {e}")),
        }
        out
    }
}

pub fn print_preamble(plan: &Plan) {
    println!(
        "Carefront FHIR benchmark: {} patients, {} s per phase, {} connections",
        thousands(plan.patients),
        plan.seconds.as_secs(),
        plan.connections
    );
    println!(
        "Note: the load generator runs in this process on the same {} CPU core(s) as the server \
         (and PostgreSQL); its share is the 'bench cpu' column. 'server cpu' is the carefront \
         process alone (not PostgreSQL's); 'host busy' counts every process on the machine, \
         other work included. CPU columns are % of one core. Throughput is a lower bound for \
         a dedicated server.",
        super::sys::cores()
    );
}

pub fn print_store(plan: &Plan, r: &StoreReport) {
    println!();
    println!("== {} ({}) ==", r.kind.label(), r.db);
    let stopped = match &r.stopped {
        Ok(s) if s.killed => format!("killed after {} (SIGTERM not obeyed)", ms(s.after)),
        Ok(s) => format!("stopped {} after SIGTERM ({})", ms(s.after), s.status),
        Err(e) => format!("stop failed: {e}"),
    };
    println!(
        "ready in {} | idle RSS {} | RSS after load {} | {stopped}",
        ms(r.ready_in),
        memory(r.idle_memory),
        memory(r.loaded_memory)
    );
    println!(
        "{:<24} {:>9} {:>10} {:>8} {:>8} {:>7} {:>10} {:>9} {:>9}",
        "phase",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server cpu",
        "bench cpu",
        "host busy"
    );
    for p in &r.phases {
        if let Some(why) = &p.skipped {
            println!("{:<24} not run: {why}", p.name);
            continue;
        }
        let pct = |f: fn(&super::sys::CpuUse) -> f64| {
            p.cpu
                .as_ref()
                .map_or("n/a".to_owned(), |c| format!("{:.0}%", f(c)))
        };
        println!(
            "{:<24} {:>9} {:>10.1} {:>8} {:>8} {:>7} {:>10} {:>9} {:>9}",
            p.name,
            p.requests,
            p.per_second(),
            opt_ms(p.percentile_ms(0.50)),
            opt_ms(p.percentile_ms(0.99)),
            p.errors,
            pct(|c| c.server),
            pct(|c| c.bench),
            pct(|c| c.host_busy),
        );
    }
    if let Some(seed) = r.phase(load::SEED) {
        println!(
            "  (seeding: {} patients stored, {:.0} patients/s)",
            thousands(r.seeded as u64),
            r.seeded as f64 / seed.elapsed.as_secs_f64().max(1e-9)
        );
    }
    for p in r.phases.iter().filter(|p| p.errors > 0) {
        println!(
            "  ! {}: {} errors ({:.2}%){}; first: {}",
            p.name,
            p.errors,
            p.error_ratio() * 100.0,
            if p.error_ratio() > MAX_ERROR_RATIO {
                " - over the 1% limit"
            } else {
                ""
            },
            p.first_error.as_deref().unwrap_or("?")
        );
    }
    print_race(&r.race);
    if !r.failures().is_empty() && !r.log_tail.is_empty() {
        println!("the server log ends with:");
        for line in r.log_tail.lines() {
            println!("  | {line}");
        }
    }
    print_targets(plan, r);
}

fn print_race(race: &Result<RaceOutcome, String>) {
    match race {
        Err(e) => println!("conditional-create race: FAIL (could not run: {e})"),
        Ok(o) => {
            let statuses: Vec<String> = o
                .statuses
                .iter()
                .map(|(s, n)| format!("{n}x {s}"))
                .collect();
            let stored = match &o.stored {
                Ok(n) => format!("{n} stored"),
                Err(e) => format!("stored count unknown: {e}"),
            };
            println!(
                "conditional-create race: {} ({RACERS} simultaneous POSTs with one If-None-Exist: \
                 {}; {} distinct id(s) returned; {stored})",
                if o.passed() { "PASS" } else { "FAIL" },
                statuses.join(", "),
                o.ids.len(),
            );
            if let Some(e) = &o.first_error {
                println!("  ! first error: {e}");
            }
        }
    }
}

fn print_targets(plan: &Plan, r: &StoreReport) {
    println!("targets:");
    let line = |target: &str, figure: String, met: Option<bool>, note: &str| {
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "not measured",
        };
        println!("  {target:<46} {figure:>14}  {verdict}{note}");
    };
    line(
        "ready < 1 s",
        ms(r.ready_in),
        Some(r.ready_in < Duration::from_secs(1)),
        "",
    );
    line(
        "idle RSS < 50 MB",
        mb(r.idle_memory.map(|m| m.rss)),
        r.idle_memory.map(|m| (m.rss as f64) < 50.0 * MB),
        "",
    );
    let (read, create) = match r.kind {
        StoreKind::Sqlite => (40_000.0, 5_000.0),
        StoreKind::Postgres => (20_000.0, 3_000.0),
    };
    for (name, goal) in [(load::READ, read), (load::CREATE, create)] {
        let phase = r.phase(name);
        let (met, note) = match phase {
            None => (None, ""),
            Some(p) if p.error_ratio() > MAX_ERROR_RATIO => (Some(false), " (too many errors)"),
            Some(p) => (Some(p.per_second() >= goal), ""),
        };
        line(
            &format!("{name} >= {} req/s", thousands(goal as u64)),
            phase.map_or("-".into(), |p| {
                format!("{} req/s", thousands(p.per_second().round() as u64))
            }),
            met,
            note,
        );
    }
    if r.kind == StoreKind::Sqlite {
        let phase = r.phase(load::SEARCH);
        let p99 = phase.and_then(|p| p.percentile_ms(0.99));
        let met = match phase {
            Some(p) if p.error_ratio() > MAX_ERROR_RATIO => Some(false),
            _ => p99.map(|v| v < 20.0),
        };
        let note = if plan.patients != TARGET_PATIENTS {
            format!(
                " (measured at {} patients; the target is for {})",
                thousands(plan.patients),
                thousands(TARGET_PATIENTS)
            )
        } else {
            String::new()
        };
        line(
            "search family p99 < 20 ms (100,000 patients)",
            opt_ms(p99) + " ms",
            met,
            &note,
        );
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

fn memory(m: Option<Memory>) -> String {
    m.map_or("n/a".into(), |m| {
        format!(
            "{} (anon {}, file-backed {})",
            mb(Some(m.rss)),
            mb(Some(m.anon)),
            mb(Some(m.file))
        )
    })
}

fn mb(bytes: Option<u64>) -> String {
    bytes.map_or("n/a".into(), |b| format!("{:.1} MB", b as f64 / MB))
}

pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    // The first group holds 1-3 digits, every later one exactly 3.
    let head = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let mut out = digits[..head].to_owned();
    for group in digits.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).expect("ASCII digits"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (100_000, "100,000"),
        ];
        for (n, text) in cases {
            assert_eq!(super::thousands(n), text);
        }
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
