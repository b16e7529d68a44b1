//! Settings: command-line flags and environment variables over an optional TOML file over
//! defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// Database URL: `sqlite://path/to/file.db` or `postgres://user@host/db`
    /// [default: sqlite file carefront.db under --data-dir]
    #[arg(long, env = "CAREFRONT_DB")]
    pub db: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "CAREFRONT_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Folder for the default SQLite database [default: ./carefront-data]
    #[arg(long, env = "CAREFRONT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML file with any of: db, listen, data_dir, public_url, max_body_bytes,
    /// log_format, sqlite_readers, postgres_max_connections, search_max_count, smtp_url,
    /// mail_from, stun_urls, turn_urls, turn_secret, turn_ttl (seconds)
    #[arg(long, short = 'c', env = "CAREFRONT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Public base URL used in links and Location headers (behind a proxy)
    #[arg(long, env = "CAREFRONT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Log format: `text` or `json` [default: text]
    #[arg(long, env = "CAREFRONT_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// SMTP server for outgoing mail: `smtp://user:pass@host:587?tls=starttls` (or
    /// tls=opportunistic|none) or `smtps://user:pass@host:465`; without it mail waits at
    /// /mailbox
    #[arg(long, env = "CAREFRONT_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SmtpUrl>,
    /// Sender address of outgoing mail, e.g. `Carefront <care@example.org>` (needed with
    /// --smtp-url)
    #[arg(long, env = "CAREFRONT_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// STUN server(s) for video visits, e.g. `stun:stun.example.org:3478` (comma-separated)
    #[arg(long = "stun-url", env = "CAREFRONT_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Vec<String>,
    /// TURN server(s) for video visits, e.g. `turn:turn.example.org:3478` (comma-separated)
    #[arg(long = "turn-url", env = "CAREFRONT_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server (time-limited credentials, coturn's
    /// `use-auth-secret`)
    #[arg(long, env = "CAREFRONT_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<TurnSecret>,
}

/// The TURN shared secret: its `Debug` does not show it.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct TurnSecret(pub String);

impl std::fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TurnSecret(..)")
    }
}

impl std::str::FromStr for TurnSecret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(TurnSecret(s.to_owned()))
    }
}

/// An SMTP URL, which may hold a password: its `Debug` does not show it.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct SmtpUrl(pub String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpUrl(..)")
    }
}

impl std::str::FromStr for SmtpUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SmtpUrl(s.to_owned()))
    }
}

/// Outgoing mail: where to send it and who it is from.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp_url: SmtpUrl,
    pub mail_from: String,
}

/// The settings file, every key optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    db: Option<String>,
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    max_body_bytes: Option<usize>,
    log_format: Option<String>,
    sqlite_readers: Option<u32>,
    postgres_max_connections: Option<u32>,
    search_max_count: Option<usize>,
    smtp_url: Option<SmtpUrl>,
    mail_from: Option<String>,
    stun_urls: Option<Vec<String>>,
    turn_urls: Option<Vec<String>>,
    turn_secret: Option<TurnSecret>,
    turn_ttl: Option<u64>,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub db: String,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
    pub json_logs: bool,
    pub sqlite_readers: u32,
    pub postgres_max_connections: u32,
    pub search_max_count: usize,
    /// SMTP delivery; `None` keeps mail in the outbox, readable at `/mailbox`.
    pub mail: Option<MailConfig>,
    /// `carefront demo`: the mailbox stays open to anyone while there is no SMTP.
    pub demo: bool,
    /// STUN/TURN servers for video visits (none by default: enough on one network).
    pub ice: carefront_http::visits::IceConfig,
}

impl Config {
    pub fn resolve(args: &ServeArgs) -> Result<Config, String> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("carefront-data"));
        let db = args
            .db
            .clone()
            .or(file.db)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("carefront.db").display()));
        let log_format = args
            .log_format
            .clone()
            .or(file.log_format)
            .unwrap_or_else(|| "text".into());
        let json_logs = match log_format.as_str() {
            "json" => true,
            "text" => false,
            other => return Err(format!("log format '{other}' is not 'text' or 'json'")),
        };
        let mail = match (
            args.smtp_url.clone().or(file.smtp_url),
            args.mail_from.clone().or(file.mail_from),
        ) {
            (Some(smtp_url), Some(mail_from)) => Some(MailConfig {
                smtp_url,
                mail_from,
            }),
            (Some(_), None) => return Err("smtp_url needs mail_from (the sender address)".into()),
            (None, _) => None,
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        Ok(Config {
            db,
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            public_url: args.public_url.clone().or(file.public_url),
            max_body_bytes: file.max_body_bytes.unwrap_or(16 * 1024 * 1024),
            json_logs,
            sqlite_readers: file.sqlite_readers.unwrap_or(cores * 2),
            postgres_max_connections: file.postgres_max_connections.unwrap_or(cores * 8),
            search_max_count: file.search_max_count.unwrap_or(1000),
            mail,
            demo: false,
            ice: carefront_http::visits::IceConfig {
                stun_urls: flag_or_file(&args.stun_urls, file.stun_urls),
                turn_urls: flag_or_file(&args.turn_urls, file.turn_urls),
                turn_secret: args.turn_secret.clone().or(file.turn_secret).map(|s| s.0),
                turn_ttl: std::time::Duration::from_secs(file.turn_ttl.unwrap_or(24 * 3600)),
            },
        })
    }
}

/// A list flag wins when given at all; else the file's list; else none.
fn flag_or_file(flag: &[String], file: Option<Vec<String>>) -> Vec<String> {
    if flag.is_empty() {
        file.unwrap_or_default()
    } else {
        flag.to_vec()
    }
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_config(text: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("carefront-config-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn defaults_give_a_sqlite_file_on_loopback() {
        let c = Config::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(c.db, "sqlite://carefront-data/carefront.db");
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert!(!c.json_logs);
        assert_eq!(c.max_body_bytes, 16 * 1024 * 1024);
    }

    #[test]
    fn flags_win_over_the_file_which_wins_over_defaults() {
        let path = write_config(
            "db = \"postgres://db.example/care\"\nlisten = \"0.0.0.0:9000\"\nmax_body_bytes = 1024\nlog_format = \"json\"\n",
        );
        let from_file = Config::resolve(&ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(from_file.db, "postgres://db.example/care");
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(from_file.max_body_bytes, 1024);
        assert!(from_file.json_logs);
        let flags = Config::resolve(&ServeArgs {
            config: Some(path.clone()),
            db: Some("sqlite://other.db".into()),
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 1))),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(flags.db, "sqlite://other.db");
        assert_eq!(flags.listen.port(), 1);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn smtp_comes_from_flags_or_the_file_and_needs_a_sender() {
        assert!(Config::resolve(&ServeArgs::default())
            .unwrap()
            .mail
            .is_none());
        let path = write_config(
            "smtp_url = \"smtps://u:secret@mail.example.org\"\nmail_from = \"care@example.org\"\n",
        );
        let c = Config::resolve(&ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        })
        .unwrap();
        let mail = c.mail.clone().unwrap();
        assert_eq!(mail.smtp_url.0, "smtps://u:secret@mail.example.org");
        assert_eq!(mail.mail_from, "care@example.org");
        assert!(
            !format!("{c:?}").contains("secret"),
            "Debug hides the password"
        );
        let c = Config::resolve(&ServeArgs {
            config: Some(path.clone()),
            smtp_url: Some("smtp://relay:25?tls=none".parse().unwrap()),
            mail_from: Some("ops@example.org".into()),
            ..ServeArgs::default()
        })
        .unwrap();
        let mail = c.mail.unwrap();
        assert_eq!(mail.smtp_url.0, "smtp://relay:25?tls=none");
        assert_eq!(mail.mail_from, "ops@example.org");
        let _ = std::fs::remove_file(path);
        let err = Config::resolve(&ServeArgs {
            smtp_url: Some("smtp://relay".parse().unwrap()),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.contains("mail_from"), "{err}");
    }

    #[test]
    fn ice_servers_come_from_flags_or_the_file() {
        let path = write_config(
            "stun_urls = [\"stun:a.example\"]\nturn_urls = [\"turn:t.example\"]\nturn_secret = \"s3cret\"\nturn_ttl = 600\n",
        );
        let c = Config::resolve(&ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.ice.stun_urls, ["stun:a.example"]);
        assert_eq!(c.ice.turn_secret.as_deref(), Some("s3cret"));
        assert_eq!(c.ice.turn_ttl.as_secs(), 600);
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "the secret is never printed"
        );
        let flags = Config::resolve(&ServeArgs {
            config: Some(path),
            stun_urls: vec!["stun:b.example".into()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(flags.ice.stun_urls, ["stun:b.example"]);
        assert!(Config::resolve(&ServeArgs::default())
            .unwrap()
            .ice
            .stun_urls
            .is_empty());
    }

    #[test]
    fn data_dir_moves_the_default_database() {
        let c = Config::resolve(&ServeArgs {
            data_dir: Some(PathBuf::from("/var/lib/carefront")),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(c.db, "sqlite:///var/lib/carefront/carefront.db");
    }

    #[test]
    fn bad_settings_are_explained() {
        let path = write_config("listen = \"not an address\"\n");
        let err = Config::resolve(&ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.contains("config file"), "{err}");
        let _ = std::fs::remove_file(path);
        let path = write_config("colour = \"blue\"\n");
        let err = Config::resolve(&ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.contains("colour"), "unknown keys are named: {err}");
        let _ = std::fs::remove_file(path);
        let err = Config::resolve(&ServeArgs {
            log_format: Some("xml".into()),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.contains("xml"), "{err}");
    }
}
