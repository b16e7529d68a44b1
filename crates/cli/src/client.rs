//! `carefront client create`: register an OAuth2 system client (client-credentials grant)
//! and print its secret, once.

use carefront_auth::{ScopeContext, ScopeSet};
use carefront_store::repository::now_micros;
use carefront_store::tables::clients;
use clap::{Args, Subcommand};

use crate::config::{Config, ServeArgs};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a system client; prints its client_id and secret (the secret only once).
    Create(CreateArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// What the client is, for people reading the audit log (`lab feed`)
    #[arg(long)]
    name: String,
    /// Space-separated SMART system scopes, e.g. "system/Patient.read system/Observation.cru"
    #[arg(long)]
    scope: String,
    #[command(flatten)]
    store: ServeArgs,
}

pub async fn run(cmd: ClientCommand) -> Result<(), String> {
    match cmd {
        ClientCommand::Create(args) => create(args).await,
    }
}

async fn create(args: CreateArgs) -> Result<(), String> {
    let name = args.name.trim();
    if name.is_empty() {
        return Err("--name must not be empty".into());
    }
    let scopes = ScopeSet::parse(&args.scope).map_err(|e| e.to_string())?;
    if scopes.is_empty() {
        return Err("--scope needs at least one scope, such as system/*.read".into());
    }
    // A client-credentials token has no user or patient behind it: other contexts would
    // grant nothing.
    if let Some(s) = scopes.iter().find(|s| s.context() != ScopeContext::System) {
        return Err(format!(
            "scope {s} is not a system/ scope; system clients take system/ scopes only"
        ));
    }
    let config = Config::resolve(&args.store)?;
    let store = crate::serve::open_store(&config).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let secret = clients::register(store.as_ref(), &id, name, &scopes.to_string(), now_micros())
        .await
        .map_err(|e| format!("cannot register the client: {e}"))?;
    println!("client_id: {id}");
    println!("client_secret: {secret}");
    println!("scope: {scopes}");
    eprintln!("Keep the secret now: it is stored hashed and will not be shown again.");
    Ok(())
}
