//! The server under test: this same binary, started as `carefront serve` in a child process
//! so that its start-up time, memory and CPU are its own and not the load generator's.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::client::Client;

const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
const LISTENING: &str = "Carefront listening on http://";

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// From spawning the process to the first 200 of `/readyz`.
    pub ready_in: Duration,
    log: PathBuf,
}

/// How the server ended after SIGTERM.
pub struct Stopped {
    pub after: Duration,
    pub status: ExitStatus,
    /// SIGTERM could not be sent or was not obeyed in time, so the process was killed.
    pub killed: bool,
}

impl Server {
    /// Start `carefront serve --db <db>` on a free port; its logs go to `log`.
    pub async fn start(db: &str, log: &Path) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let log_file = std::fs::File::create(log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let spawned = Instant::now();
        let mut child = Command::new(exe)
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            // The default filter, whatever the shell says: request logs at debug level would
            // measure the terminal, not the server.
            .env("RUST_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ready_in: Duration::ZERO,
            log: log.to_owned(),
        };

        // A plain thread: the pipe is blocking I/O, and tokio's `process` feature is not
        // otherwise needed.
        let (line_tx, line_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = line_tx.send(line);
            // Keep reading so the server never writes into a closed pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = match tokio::time::timeout(START_TIMEOUT, line_rx).await {
            Ok(Ok(line)) => line,
            _ => return Err(server.failure("did not print its listening address")),
        };
        server.addr = match line
            .trim()
            .strip_prefix(LISTENING)
            .and_then(|a| a.parse().ok())
        {
            Some(addr) => addr,
            None => return Err(server.failure(&format!("printed {line:?}, not an address"))),
        };

        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(server.failure(&format!("exited ({status}) before it was ready")));
            }
            if spawned.elapsed() > START_TIMEOUT {
                return Err(server.failure("was not ready within a minute"));
            }
            if let Ok(mut client) = Client::connect(server.addr).await {
                if let Ok(answer) = client.get("/readyz").await {
                    if answer.status.as_u16() == 200 {
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.ready_in = spawned.elapsed();
        Ok(server)
    }

    /// Register a `system/*.*` client on database `db` with `carefront client create` (the
    /// way an operator would) and send its bearer token with every request from now on.
    pub async fn authenticate(&self, db: &str) -> Result<(), String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let out = Command::new(exe)
            .args([
                "client",
                "create",
                "--name",
                "bench",
                "--scope",
                "system/*.*",
                "--db",
                db,
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run `carefront client create`: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
        };
        let (Some(id), Some(secret)) = (field("client_id:"), field("client_secret:")) else {
            return Err(format!(
                "`carefront client create` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        };
        let token = Client::connect(self.addr)
            .await?
            .token(&id, &secret)
            .await?;
        super::client::set_bearer(&token)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn memory(&self) -> Option<super::sys::Memory> {
        super::sys::memory(self.pid())
    }

    /// Send SIGTERM (so graceful shutdown is exercised) and wait for the process to end.
    pub async fn stop(&mut self) -> Result<Stopped, String> {
        let sent = Instant::now();
        let signalled = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !signalled {
            let _ = self.child.kill();
        }
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    return Ok(Stopped {
                        after: sent.elapsed(),
                        status,
                        killed: !signalled,
                    })
                }
                Ok(None) if sent.elapsed() > STOP_TIMEOUT => {
                    let _ = self.child.kill();
                    let status = self.child.wait().map_err(|e| e.to_string())?;
                    return Ok(Stopped {
                        after: sent.elapsed(),
                        status,
                        killed: true,
                    });
                }
                Ok(None) => tokio::time::sleep(Duration::from_millis(5)).await,
                Err(e) => return Err(format!("cannot wait for the server: {e}")),
            }
        }
    }

    /// The last lines the server logged.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn failure(&self, what: &str) -> String {
        let tail = self.log_tail(20);
        if tail.is_empty() {
            format!("the server {what}")
        } else {
            format!("the server {what}; its log ends with:\n{tail}")
        }
    }
}

impl Drop for Server {
    /// On any early return the child must not outlive the benchmark.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
