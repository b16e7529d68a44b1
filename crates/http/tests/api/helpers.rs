//! `spawn_app()`: a real Carefront server on 127.0.0.1:0 over a fresh database, SQLite or
//! PostgreSQL, and a client to talk to it.

use std::sync::Arc;

use carefront_http::{AppState, HttpConfig};
use carefront_store::repository::{Repository, SearchLimits};
use carefront_store::Store;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT/fhir`
    pub base: String,
    /// `http://127.0.0.1:PORT`
    pub root: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    _db: DbGuard,
}

/// The PostgreSQL server the tests use (each test makes and drops its own database).
pub fn postgres_url() -> String {
    std::env::var("CAREFRONT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, HttpConfig::default()).await
}

pub async fn spawn_app_with(backend: Backend, config: HttpConfig) -> TestApp {
    let (store, guard): (Arc<dyn Store>, DbGuard) = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("carefront-test-{}", uuid()));
            let store = carefront_store_sqlite::SqliteStore::open(&dir.join("test.db"), 4)
                .await
                .expect("open SQLite store");
            (Arc::new(store), DbGuard::Dir(dir))
        }
        Backend::Postgres => {
            let name = format!("carefront_test_{}", uuid().replace('-', ""));
            let admin = format!("{}/postgres", postgres_url());
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .unwrap_or_else(|e| {
                    panic!("PostgreSQL must be running for the tests ({admin}): {e}")
                });
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let url = format!("{}/{name}", postgres_url());
            let store = carefront_store_postgres::PostgresStore::connect(&url, 16)
                .await
                .expect("open PostgreSQL store");
            (Arc::new(store), DbGuard::Postgres(name))
        }
    };
    let state = AppState::new(Repository::new(store, SearchLimits::default()), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(carefront_http::serve(
        listener,
        state,
        std::future::pending(),
    ));
    TestApp {
        base: format!("http://{addr}/fhir"),
        root: format!("http://{addr}"),
        client: reqwest::Client::new(),
        backend,
        _db: guard,
    }
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

enum DbGuard {
    Dir(std::path::PathBuf),
    Postgres(String),
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        match self {
            DbGuard::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            DbGuard::Postgres(name) => {
                let name = name.clone();
                // Drop runs inside the test's runtime: drop the database from a thread of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async move {
                        let admin = format!("{}/postgres", postgres_url());
                        if let Ok(mut conn) =
                            <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await
                        {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&mut conn)
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A response read whole: status, headers and JSON body (Null when empty or not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The diagnostics of an OperationOutcome body, joined.
    pub fn diagnostics(&self) -> String {
        self.body["issue"]
            .as_array()
            .map(|issues| {
                issues
                    .iter()
                    .filter_map(|i| i["diagnostics"].as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(
            self.client
                .post(self.url(path))
                .header("content-type", "application/fhir+json")
                .body(body.to_string()),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send(
            self.client
                .put(self.url(path))
                .header("content-type", "application/fhir+json")
                .body(body.to_string()),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(self.client.delete(self.url(path))).await
    }

    /// Create `resource` and return the stored resource (asserting 201).
    pub async fn create(&self, resource: &Value) -> Value {
        let rt = resource["resourceType"].as_str().expect("resourceType");
        let answer = self.post(rt, resource).await;
        assert_eq!(answer.status, 201, "create {rt}: {}", answer.diagnostics());
        answer.body
    }

    /// Ids of the `match` entries of a searchset, following no links.
    pub async fn search_ids(&self, path_and_query: &str) -> Vec<String> {
        let answer = self.get(path_and_query).await;
        assert_eq!(
            answer.status,
            200,
            "search {path_and_query}: {}",
            answer.diagnostics()
        );
        entry_ids(&answer.body)
    }
}

/// Ids of the entries of a Bundle whose search mode is `match`.
pub fn entry_ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["search"]["mode"] == "match")
                .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Declare tests that run once on SQLite and once on PostgreSQL:
/// `both_stores! { async fn name(app) { ... } }` gives `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_stores {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                    $body
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await;
                    $body
                }
            }
        )*
    };
}
