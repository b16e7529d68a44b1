//! The `carefront serve` binary: starts on the options given, answers, stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    answer
}

#[test]
fn serve_starts_answers_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("carefront-serve-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_carefront"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .env("CAREFRONT_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start carefront");
    let started = Instant::now();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the listening line");
    let addr = line
        .trim()
        .strip_prefix("Carefront listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "ready in {:?}",
        started.elapsed()
    );

    assert!(http_get(&addr, "/readyz").starts_with("HTTP/1.1 200"));
    let metadata = http_get(&addr, "/fhir/metadata");
    assert!(metadata.contains("\"fhirVersion\":\"4.0.1\""), "{metadata}");
    assert!(
        dir.join("carefront.db").exists(),
        "the SQLite file is created under --data-dir"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    let exit = child.wait().expect("wait for carefront");
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(logs.contains("shutting down"), "{logs}");
    // Structured logs: every line is a JSON object.
    for l in logs.lines().filter(|l| !l.is_empty()) {
        assert!(
            serde_json::from_str::<serde_json::Value>(l).is_ok(),
            "not JSON: {l}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bad_database_url_is_explained() {
    let output = Command::new(env!("CARGO_BIN_EXE_carefront"))
        .args(["serve", "--db", "mysql://nope", "--listen", "127.0.0.1:0"])
        .output()
        .expect("run carefront");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("neither sqlite://") && stderr.contains("postgres://"),
        "{stderr}"
    );
}
