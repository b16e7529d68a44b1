//! Outbox delivery against a fake SMTP server written here, and who may read `/mailbox`.

use std::sync::Arc;
use std::time::Duration;

use carefront_http::mail::{Sender, Smtp};
use carefront_http::{AppState, HttpConfig};
use carefront_store::repository::{now_micros, Repository, SearchLimits};
use carefront_store::tables::{accounts, outbox, sessions};
use carefront_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

async fn sqlite() -> (Arc<dyn Store>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("carefront-mail-{}", uuid::Uuid::new_v4()));
    let store = carefront_store_sqlite::SqliteStore::open(&dir.join("t.db"), 2)
        .await
        .expect("open SQLite");
    (Arc::new(store), dir)
}

/// Just enough SMTP: greet, answer EHLO/MAIL/RCPT/DATA/QUIT, and hand each message's DATA
/// to the returned channel.
async fn fake_smtp() -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "DATA" => {
                            write.write_all(b"354 go on\r\n").await.unwrap();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            let _ = tx.send(data);
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"502 what\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

fn smtp(port: u16) -> Smtp {
    Smtp::from_url(
        &format!("smtp://127.0.0.1:{port}?tls=none"),
        "Carefront <care@example.org>",
    )
    .unwrap()
}

#[tokio::test]
async fn enqueued_mail_is_delivered_and_marked_sent() {
    let (store, dir) = sqlite().await;
    let (port, mut inbox) = fake_smtp().await;
    let s = store.as_ref();
    let id = outbox::enqueue(
        s,
        "ada@example.org",
        "Confirm your email",
        "Open the link.",
        1,
    )
    .await
    .unwrap();
    let sender = Sender::new(store.clone(), smtp(port), Arc::new(Notify::new()));
    assert_eq!(sender.run_once().await, 1);
    let data = inbox.recv().await.unwrap();
    assert!(data.contains("To: ada@example.org"), "{data}");
    assert!(
        data.contains("From: Carefront <care@example.org>"),
        "{data}"
    );
    assert!(data.contains("Subject: Confirm your email"), "{data}");
    assert!(data.contains("\nOpen the link."), "{data}");
    let mail = &outbox::recent(s, None, 1).await.unwrap()[0];
    assert_eq!(mail.id, id);
    assert!(mail.sent_at.is_some());
    assert_eq!((mail.attempts, mail.last_error.as_deref()), (1, None));
    assert_eq!(sender.run_once().await, 0, "sent once only");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_woken_sender_delivers_without_waiting_for_the_poll() {
    let (store, dir) = sqlite().await;
    let (port, mut inbox) = fake_smtp().await;
    let wake = Arc::new(Notify::new());
    let task = Sender::new(store.clone(), smtp(port), wake.clone()).spawn();
    // Let the first (empty) round pass, so the mail below waits for the wake-up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    outbox::enqueue(store.as_ref(), "bob@example.org", "Reset", "Hi", 1)
        .await
        .unwrap();
    wake.notify_one();
    let data = tokio::time::timeout(Duration::from_secs(3), inbox.recv())
        .await
        .expect("delivered within the poll interval")
        .unwrap();
    assert!(data.contains("To: bob@example.org"), "{data}");
    task.abort();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_unreachable_server_leaves_the_mail_unsent_with_its_error() {
    let (store, dir) = sqlite().await;
    // A port nobody listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let s = store.as_ref();
    outbox::enqueue(s, "ada@example.org", "Confirm", "Open", 1)
        .await
        .unwrap();
    let sender = Sender::new(store.clone(), smtp(port), Arc::new(Notify::new()));
    assert_eq!(sender.run_once().await, 0);
    let mail = &outbox::unsent(s, 10).await.unwrap()[0];
    assert_eq!(mail.sent_at, None);
    assert_eq!(mail.attempts, 1);
    assert!(mail.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    // It waits for its retry rather than being tried again at once.
    assert!(outbox::due(s, now_micros(), 10, 10)
        .await
        .unwrap()
        .is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

/// A server with one administrator and one patient, each signed in: their session cookies.
async fn mailbox_server(config: HttpConfig) -> (String, String, String, std::path::PathBuf) {
    let (store, dir) = sqlite().await;
    let s = store.as_ref();
    let mut cookies = Vec::new();
    for (id, role) in [("admin", "administrator"), ("pat", "patient")] {
        accounts::insert(
            s,
            &accounts::Account {
                id: id.into(),
                email: format!("{id}@example.org"),
                role: role.into(),
                display_name: id.into(),
                password_hash: "x".into(),
                email_confirmed: true,
                disabled: false,
                fhir_ref: None,
                totp_secret: None,
                totp_last_step: None,
                locale: "en".into(),
                created_at: 1,
                updated_at: 1,
            },
        )
        .await
        .unwrap();
        let token = sessions::create(
            s,
            &sessions::Session {
                account_id: id.into(),
                csrf_token: "c".into(),
                second_factor_pending: false,
                created_at: now_micros(),
                expires_at: now_micros() + 3_600_000_000,
            },
        )
        .await
        .unwrap();
        cookies.push(format!("cf_session={token}"));
    }
    let state = AppState::new(Repository::new(store, SearchLimits::default()), config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let root = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(carefront_http::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let patient = cookies.pop().unwrap();
    (root, cookies.pop().unwrap(), patient, dir)
}

async fn status(root: &str, cookie: Option<&str>) -> u16 {
    let mut r = reqwest::Client::new().get(format!("{root}/mailbox"));
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    r.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_mailbox_is_for_administrators_outside_the_demo_and_gone_with_smtp() {
    // `serve` without SMTP.
    let (root, admin, patient, dir) = mailbox_server(HttpConfig {
        demo_mailbox: true,
        mailbox_admins_only: true,
        ..HttpConfig::default()
    })
    .await;
    assert_eq!(status(&root, None).await, 404);
    assert_eq!(status(&root, Some(&patient)).await, 404);
    assert_eq!(status(&root, Some(&admin)).await, 200);
    let _ = std::fs::remove_dir_all(dir);
    // `demo` without SMTP: open to anyone.
    let (root, _, _, dir) = mailbox_server(HttpConfig {
        demo_mailbox: true,
        mailbox_admins_only: false,
        ..HttpConfig::default()
    })
    .await;
    assert_eq!(status(&root, None).await, 200);
    let _ = std::fs::remove_dir_all(dir);
    // SMTP configured: no mailbox, even for administrators.
    let (root, admin, _, dir) = mailbox_server(HttpConfig {
        demo_mailbox: false,
        mailbox_admins_only: true,
        ..HttpConfig::default()
    })
    .await;
    assert_eq!(status(&root, Some(&admin)).await, 404);
    let _ = std::fs::remove_dir_all(dir);
}
