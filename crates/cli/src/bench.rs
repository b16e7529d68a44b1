//! `carefront bench`: being written.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// FHIR API throughput and latency on SQLite and PostgreSQL.
    Fhir,
}

pub async fn run(cmd: BenchCommand) -> Result<(), String> {
    match cmd {
        BenchCommand::Fhir => Err("not yet".into()),
    }
}
