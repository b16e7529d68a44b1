//! `carefront bench triage`: how long the engine takes to decide one interview step (record
//! an answer and find the next question or the outcome), over every case vignette, and how
//! long recognising the typed complaint takes; then the suite's accuracy per urgency level.

use std::time::Instant;

use carefront_triage::vignettes::{self, Report};
use carefront_triage::{Interview, Library, Step};
use clap::Args;

#[derive(Args, Debug)]
pub struct TriageArgs {
    /// How many times to run the whole vignette suite.
    #[arg(long, default_value_t = 200)]
    rounds: usize,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

fn print_line(what: &str, mut nanos: Vec<u64>) {
    nanos.sort_unstable();
    println!(
        "{what:<34} {:>9} {:>8.1} µs {:>8.1} µs {:>8.1} µs {:>8.1} µs",
        nanos.len(),
        percentile(&nanos, 0.5) as f64 / 1000.0,
        percentile(&nanos, 0.99) as f64 / 1000.0,
        percentile(&nanos, 0.999) as f64 / 1000.0,
        nanos.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
}

pub fn run(args: TriageArgs) -> Result<(), String> {
    let loading = Instant::now();
    let library = Library::embedded().map_err(|errors| {
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let loaded = loading.elapsed();
    let cases = vignettes::embedded()?;
    println!(
        "triage engine: {} protocols ({} questions, {} rules) loaded in {:.1} ms; {} vignettes x {} rounds",
        library.all().len(),
        library.all().iter().map(|p| p.questions.len()).sum::<usize>(),
        library.all().iter().map(|p| p.rules.len()).sum::<usize>(),
        loaded.as_secs_f64() * 1000.0,
        cases.len(),
        args.rounds
    );
    let mut steps = Vec::new();
    let mut recognise = Vec::new();
    let mut interviews = Vec::new();
    for _ in 0..args.rounds {
        for case in &cases {
            let started = Instant::now();
            let found = library.recognise(&case.says, Some(case.patient().age_years()), 5);
            recognise.push(started.elapsed().as_nanos() as u64);
            let Some(protocol) = found.first().map(|m| m.protocol) else {
                continue;
            };
            let whole = Instant::now();
            let mut interview = Interview::new(protocol, case.patient());
            let t = Instant::now();
            let mut step = interview.step(protocol);
            steps.push(t.elapsed().as_nanos() as u64);
            while let Step::Ask(asked) = step {
                let Ok(reply) = case.reply(&asked.question.id, &asked.question.kind) else {
                    break;
                };
                let id = asked.question.id.clone();
                let t = Instant::now();
                if interview.answer(protocol, &id, &reply).is_err() {
                    break;
                }
                step = interview.step(protocol);
                steps.push(t.elapsed().as_nanos() as u64);
            }
            interviews.push(whole.elapsed().as_nanos() as u64);
        }
    }
    println!(
        "{:<34} {:>9} {:>11} {:>11} {:>11} {:>11}",
        "", "count", "p50", "p99", "p99.9", "max"
    );
    print_line("interview step (answer + next)", steps.clone());
    print_line("recognise the typed complaint", recognise);
    print_line("whole interview (engine only)", interviews);
    let mut sorted = steps;
    sorted.sort_unstable();
    let p99 = percentile(&sorted, 0.99);
    println!(
        "target: an interview step in well under 1 ms (p99 {:.1} µs): {}",
        p99 as f64 / 1000.0,
        if p99 < 1_000_000 { "PASS" } else { "FAIL" }
    );
    let mut report = Report::default();
    for case in &cases {
        report.record(case, case.run(&library).map(|(l, m, _)| (l, m)));
    }
    println!("\nvignette suite accuracy:\n{report}");
    Ok(())
}
