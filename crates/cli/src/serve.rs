//! `carefront serve`: open the store, then serve HTTP until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use carefront_http::mail::{Sender, Smtp};
use carefront_http::{AppState, HttpConfig};
use carefront_store::repository::{Repository, SearchLimits};
use carefront_store::Store;
use tokio::net::TcpListener;

use crate::config::{Config, ServeArgs};

pub async fn run(args: ServeArgs) -> Result<(), String> {
    let config = Config::resolve(&args)?;
    Server::start(&config).await?.run().await
}

/// A server that is set up but not yet answering: `serve` runs it at once, `demo` seeds its
/// store first. Requests that arrive meanwhile wait in the socket's backlog.
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    started: Instant,
    /// Where the outbox goes when SMTP is configured.
    smtp: Option<Smtp>,
}

impl Server {
    /// Logging, the store with its schema up to date, the R4 definitions and the listening
    /// socket.
    pub async fn start(config: &Config) -> Result<Server, String> {
        let started = Instant::now();
        init_logging(config.json_logs);
        // A bad smtp_url stops the start rather than the first mail.
        let smtp = match &config.mail {
            Some(m) => Some(Smtp::from_url(&m.smtp_url.0, &m.mail_from)?),
            None => None,
        };
        let store = open_store(config).await?;
        // Load the R4 definitions now rather than on the first request.
        carefront_fhir::search::preload();
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        Ok(Server {
            listener,
            addr,
            state: app_state(store, config),
            started,
            smtp,
        })
    }

    pub fn repository(&self) -> &Repository {
        &self.state.repo
    }

    /// The base URL clients use: `--public-url` when given, else the address listened on.
    pub fn base_url(&self) -> String {
        match &self.state.config.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.addr),
        }
    }

    /// Answer requests until SIGTERM or Ctrl-C.
    pub async fn run(self) -> Result<(), String> {
        let addr = self.addr;
        // Take over SIGTERM before announcing the address: a script that stops the server as
        // soon as it reads the line must get a graceful shutdown, not the default kill.
        let shutdown = shutdown_signal();
        tracing::info!(
            %addr,
            store = self.state.repo.store().backend(),
            ready_ms = self.started.elapsed().as_millis() as u64,
            "Carefront is listening"
        );
        // A line for people and for scripts that start the server on port 0.
        println!("Carefront listening on http://{addr}");
        let sender = self.smtp.map(|smtp| {
            let store = self.state.repo.store().clone();
            Sender::new(store, smtp, self.state.mail_wake.clone()).spawn()
        });
        let upkeep = self.state.booking.spawn_upkeep();
        let served = carefront_http::serve(self.listener, self.state, shutdown).await;
        upkeep.abort();
        // A mail cut off mid-send stays claimed until its lease ends, then goes out again.
        if let Some(sender) = sender {
            sender.abort();
        }
        served.map_err(|e| format!("server error: {e}"))?;
        tracing::info!("Carefront stopped");
        Ok(())
    }
}

pub async fn migrate(args: ServeArgs) -> Result<(), String> {
    let config = Config::resolve(&args)?;
    init_logging(config.json_logs);
    let store = open_store(&config).await?;
    println!("migrations applied ({} store)", store.backend());
    Ok(())
}

pub fn app_state(store: Arc<dyn Store>, config: &Config) -> AppState {
    let limits = SearchLimits {
        default_count: 20,
        max_count: config.search_max_count,
    };
    AppState::new(
        Repository::new(store, limits),
        HttpConfig {
            max_body_bytes: config.max_body_bytes,
            public_url: config.public_url.clone(),
            // With SMTP the mail is delivered and the page is gone; without, `serve` keeps it
            // for administrators (its links take over accounts) and `demo` for anyone.
            demo_mailbox: config.mail.is_none(),
            mailbox_admins_only: !config.demo,
            ice: config.ice.clone(),
            ..HttpConfig::default()
        },
    )
}

/// Open the store named by `config.db` and bring its schema up to date.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, String> {
    let db = config.db.as_str();
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        let store =
            carefront_store_postgres::PostgresStore::connect(db, config.postgres_max_connections)
                .await
                .map_err(|e| format!("cannot open the PostgreSQL store: {e}"))?;
        Ok(Arc::new(store))
    } else if db.starts_with("sqlite:") {
        let store = carefront_store_sqlite::SqliteStore::open_url(db, config.sqlite_readers)
            .await
            .map_err(|e| format!("cannot open the SQLite store {db}: {e}"))?;
        Ok(Arc::new(store))
    } else {
        Err(format!(
            "database URL '{db}' is neither sqlite://... nor postgres://..."
        ))
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

/// Resolves on SIGTERM or Ctrl-C. The signal handlers are installed when this is called,
/// not when the future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate()).ok();
    let interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        tokio::select! {
            _ = received(term) => {},
            _ = received(interrupt) => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}

#[cfg(unix)]
async fn received(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    }
}
