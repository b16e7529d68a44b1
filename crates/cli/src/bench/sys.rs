//! Process and host figures from Linux's /proc (elsewhere they read as "n/a").

use std::time::Instant;

/// Clock ticks per second in /proc `stat` files: USER_HZ, which the kernel ABI fixes at 100
/// on every mainstream architecture (so no libc `sysconf` is needed).
const TICKS_PER_SECOND: f64 = 100.0;

/// Resident memory of a process, from /proc/PID/status.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// `VmRSS`: everything resident.
    pub rss: u64,
    /// `RssAnon`: heap and stacks, the memory the process really owns.
    pub anon: u64,
    /// `RssFile` + `RssShmem`: mapped files (SQLite's mmap of the database, the binary);
    /// the kernel can drop these pages under pressure.
    pub file: u64,
}

pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let bytes = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let kib: u64 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
        Some(kib * 1024)
    };
    Some(Memory {
        rss: bytes("VmRSS:")?,
        anon: bytes("RssAnon:").unwrap_or(0),
        file: bytes("RssFile:").unwrap_or(0) + bytes("RssShmem:").unwrap_or(0),
    })
}

/// User + system CPU ticks used so far by a process (all its threads); `None` = this one.
fn process_ticks(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    // After it come field 3 (state) onwards; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy and total ticks of all CPUs of the host (the first line of /proc/stat).
fn host_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// CPU used during a phase, in percent of one core (200% = two cores busy).
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    pub server: f64,
    pub bench: f64,
    /// Share of all the host's cores that were busy, whoever used them (other builds too).
    pub host_busy: f64,
}

/// Started before a phase and finished after it.
pub struct CpuProbe {
    server_pid: u32,
    at: Instant,
    server: Option<u64>,
    bench: Option<u64>,
    host: Option<(u64, u64)>,
}

impl CpuProbe {
    pub fn start(server_pid: u32) -> Self {
        CpuProbe {
            server_pid,
            at: Instant::now(),
            server: process_ticks(Some(server_pid)),
            bench: process_ticks(None),
            host: host_ticks(),
        }
    }

    pub fn finish(self) -> Option<CpuUse> {
        let seconds = self.at.elapsed().as_secs_f64();
        if seconds <= 0.0 {
            return None;
        }
        let pct = |before: u64, after: u64| {
            after.saturating_sub(before) as f64 / TICKS_PER_SECOND / seconds * 100.0
        };
        let server = pct(self.server?, process_ticks(Some(self.server_pid))?);
        let bench = pct(self.bench?, process_ticks(None)?);
        let (busy0, total0) = self.host?;
        let (busy1, total1) = host_ticks()?;
        let host_busy = if total1 > total0 {
            busy1.saturating_sub(busy0) as f64 / (total1 - total0) as f64 * 100.0
        } else {
            0.0
        };
        Some(CpuUse {
            server,
            bench,
            host_busy,
        })
    }
}
