//! The `carefront` command: serve the platform, try it on a demo network, or benchmark it.

mod account;
mod audit;
mod bench;
mod client;
mod config;
mod demo;
mod serve;

use clap::{Parser, Subcommand};

/// Carefront: internet-first medical care on FHIR R4.
#[derive(Parser)]
#[command(name = "carefront", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (FHIR API under /fhir, /healthz, /readyz, /metrics).
    Serve(config::ServeArgs),
    /// Serve a store seeded with a demo care network (its own database, demo.db, by
    /// default); takes the options of `serve`.
    Demo(config::ServeArgs),
    /// Check the audit chain (`verify`) or list recent audit entries (`list`).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Create staff accounts (`create --role … --email … --name … --password-stdin`).
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// Apply database migrations and exit.
    Migrate(config::ServeArgs),
    /// Register OAuth2 system clients (`create`).
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Measure throughput and latency against a server started for the purpose.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("carefront: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Migrate(args) => serve::migrate(args).await,
            Command::Account(cmd) => account::run(cmd).await,
            Command::Client(cmd) => client::run(cmd).await,
            Command::Audit(cmd) => audit::run(cmd).await,
            Command::Bench(cmd) => bench::run(cmd).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("carefront: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
