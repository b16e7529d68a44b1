//! Request counters and latency histograms in the Prometheus text format.
//!
//! Labels are the route template (`/fhir/{rtype}/{id}`), method and status class, never the
//! concrete URL, so no identifier or search term reaches the metrics.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Series by route template, then by (method, status).
type ByRoute = HashMap<String, HashMap<(&'static str, u16), Series>>;

#[derive(Default)]
pub struct Metrics {
    series: Mutex<ByRoute>,
}

impl Metrics {
    pub fn observe(&self, route: &str, method: &'static str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        // Look up by &str first: the route String is allocated once per route, not per request.
        if !series.contains_key(route) {
            series.insert(route.to_owned(), HashMap::new());
        }
        let s = series
            .get_mut(route)
            .expect("inserted above")
            .entry((method, status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            s.buckets[i] += 1;
        }
    }

    pub fn render(&self, backend: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP carefront_info Build and store of this instance."
        );
        let _ = writeln!(out, "# TYPE carefront_info gauge");
        let _ = writeln!(
            out,
            "carefront_info{{version=\"{}\",store=\"{backend}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(
            out,
            "# HELP carefront_http_requests_seconds HTTP requests by route, method and status."
        );
        let _ = writeln!(out, "# TYPE carefront_http_requests_seconds histogram");
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<(&String, &(&'static str, u16), &Series)> = series
            .iter()
            .flat_map(|(route, by)| by.iter().map(move |(k, s)| (route, k, s)))
            .collect();
        keys.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        for (route, (method, status), s) in keys {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i];
                let _ = writeln!(
                    out,
                    "carefront_http_requests_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "carefront_http_requests_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "carefront_http_requests_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "carefront_http_requests_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}
