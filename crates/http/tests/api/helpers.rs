//! `spawn_app()`: a real Carefront server on 127.0.0.1:0 over a fresh database, SQLite or
//! PostgreSQL, and a client to talk to it.

use std::sync::Arc;

use carefront_http::{AppState, HttpConfig};
use carefront_store::repository::{Repository, SearchLimits};
use carefront_store::tables::{accounts, sessions};
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
    /// The server's state: its store and audit sink, for tests that look behind the API.
    pub state: AppState,
    /// The `system/*.*` bearer token every request helper sends (see [`TestApp::as_user`]
    /// for other callers).
    pub token: String,
    _db: Arc<DbGuard>,
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
        state.clone(),
        std::future::pending(),
    ));
    let root = format!("http://{addr}");
    let token = system_token(&state, &root).await;
    TestApp {
        base: format!("http://{addr}/fhir"),
        root,
        client: client_with(&[("authorization", &format!("Bearer {token}"))]),
        backend,
        state,
        token,
        _db: Arc::new(guard),
    }
}

/// Register a `system/*.*` client straight in the store and get a token for it over HTTP.
async fn system_token(state: &AppState, root: &str) -> String {
    let store = state.repo.store().as_ref();
    let secret =
        carefront_store::tables::clients::register(store, "tests", "tests", "system/*.*", 0)
            .await
            .expect("register the test client");
    let answer: Value = reqwest::Client::new()
        .post(format!("{root}/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "tests"),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {answer}"))
        .to_owned()
}

/// A client sending `headers` with every request.
pub fn client_with(headers: &[(&str, &str)]) -> reqwest::Client {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        map.insert(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    reqwest::Client::builder()
        .default_headers(map)
        .build()
        .unwrap()
}

impl TestApp {
    /// The same server, with requests sent by `client` (another caller).
    pub fn with_client(&self, client: reqwest::Client) -> TestApp {
        TestApp {
            base: self.base.clone(),
            root: self.root.clone(),
            client,
            backend: self.backend,
            state: self.state.clone(),
            token: self.token.clone(),
            _db: self._db.clone(),
        }
    }

    /// The same server, as the browser of someone signed in with session cookie `session`.
    pub fn as_user(&self, session: &str) -> TestApp {
        self.with_client(client_with(&[(
            "cookie",
            &format!("{}={session}", carefront_http::web::session::SESSION_COOKIE),
        )]))
    }

    /// The same server, with no credentials at all.
    pub fn anonymous(&self) -> TestApp {
        self.with_client(reqwest::Client::new())
    }
}

/// A signed-in session for a new account of `role` linked to `fhir_ref`.
pub async fn session_for(app: &TestApp, role: &str, fhir_ref: Option<&str>) -> String {
    session_with_csrf(app, role, fhir_ref, "csrf").await
}

/// [`session_for`] with the CSRF token its forms must carry (web form tests need a
/// well-formed one: 64 hex digits).
pub async fn session_with_csrf(
    app: &TestApp,
    role: &str,
    fhir_ref: Option<&str>,
    csrf: &str,
) -> String {
    let store = app.state.repo.store().as_ref();
    let id = uuid::Uuid::new_v4().to_string();
    accounts::insert(
        store,
        &accounts::Account {
            id: id.clone(),
            email: format!("{id}@example.org"),
            role: role.into(),
            display_name: role.into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            email_confirmed: true,
            disabled: false,
            fhir_ref: fhir_ref.map(str::to_owned),
            totp_secret: None,
            totp_last_step: None,
            locale: "en".into(),
            created_at: 1,
            updated_at: 1,
        },
    )
    .await
    .unwrap();
    sessions::create(
        store,
        &sessions::Session {
            account_id: id,
            csrf_token: csrf.into(),
            second_factor_pending: false,
            created_at: 1,
            expires_at: i64::MAX / 2,
        },
    )
    .await
    .unwrap()
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
    /// The body as received.
    pub raw: Vec<u8>,
}

impl Answer {
    /// Fail with the body when the status is not `status`.
    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type of the body, without parameters (`application/fhir+json`).
    pub fn media_type(&self) -> &str {
        self.header("content-type")
            .and_then(|ct| ct.split(';').next())
            .map(str::trim)
            .unwrap_or("")
    }

    /// A short description for assertion messages: status and diagnostics (or the body).
    pub fn describe(&self) -> String {
        let diagnostics = self.diagnostics();
        if diagnostics.is_empty() {
            let text = String::from_utf8_lossy(&self.raw);
            format!(
                "HTTP {}: {}",
                self.status,
                text.chars().take(600).collect::<String>()
            )
        } else {
            format!("HTTP {}: {diagnostics}", self.status)
        }
    }

    /// Assert that this is an error answered the FHIR way: `status`, an OperationOutcome
    /// with at least one issue, as `application/fhir+json`.
    pub fn assert_outcome(&self, status: u16, what: &str) {
        assert_eq!(self.status, status, "{what}: {}", self.describe());
        assert_eq!(
            self.media_type(),
            "application/fhir+json",
            "{what}: an error must be sent as application/fhir+json ({})",
            self.describe()
        );
        assert_eq!(
            self.body["resourceType"],
            "OperationOutcome",
            "{what}: an error body must be an OperationOutcome ({})",
            self.describe()
        );
        let issues = self.body["issue"].as_array().map(Vec::len).unwrap_or(0);
        assert!(issues > 0, "{what}: the OperationOutcome has no issue");
        for issue in self.body["issue"].as_array().into_iter().flatten() {
            assert!(
                issue["severity"].is_string() && issue["code"].is_string(),
                "{what}: every issue needs a severity and a code: {issue}"
            );
        }
    }

    /// The `expression`s of all issues of an OperationOutcome body.
    pub fn expressions(&self) -> Vec<String> {
        self.body["issue"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|i| i["expression"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e.as_str().map(str::to_owned))
            .collect()
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
            raw: bytes.to_vec(),
        }
    }

    /// Any request: `method` on `path` (relative to the FHIR base) with extra `headers` and
    /// an optional FHIR JSON body.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/fhir+json")
                .body(body.to_string());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// `method` on `path` with a body of raw bytes and the given content type.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        self.send(
            self.client
                .request(method, self.url(path))
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    /// GET an absolute URL (a `next` link, a `Location`).
    pub async fn get_absolute(&self, url: &str) -> Answer {
        self.send(self.client.get(url)).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.request(reqwest::Method::GET, path, headers, None)
            .await
    }

    pub async fn post_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
        self.request(reqwest::Method::POST, path, headers, Some(body))
            .await
    }

    pub async fn put_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
        self.request(reqwest::Method::PUT, path, headers, Some(body))
            .await
    }

    /// PATCH with a JSON Patch document sent as `content_type`, plus extra `headers`.
    pub async fn patch(
        &self,
        path: &str,
        patch: &Value,
        content_type: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .client
            .patch(self.url(path))
            .header("content-type", content_type)
            .body(patch.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// POST a transaction or batch Bundle to the base URL.
    pub async fn post_bundle(&self, bundle: &Value) -> Answer {
        self.send(
            self.client
                .post(&self.base)
                .header("content-type", "application/fhir+json")
                .body(bundle.to_string()),
        )
        .await
    }

    /// `PUT [type]/[id]` of `resource` (which carries its id); returns the stored resource,
    /// asserting 200 or 201.
    pub async fn upsert(&self, resource: &Value) -> Value {
        let rt = resource["resourceType"].as_str().expect("resourceType");
        let id = resource["id"].as_str().expect("id");
        let answer = self.put(&format!("{rt}/{id}"), resource).await;
        assert!(
            answer.status == 200 || answer.status == 201,
            "PUT {rt}/{id}: {}",
            answer.describe()
        );
        answer.body
    }

    /// `GET [type]?params`, the parameters URL-encoded.
    pub async fn find(&self, resource_type: &str, params: &[(&str, &str)]) -> Answer {
        self.get(&format!("{resource_type}?{}", query(params)))
            .await
    }

    /// Ids of the `match` entries of `GET [type]?params` (asserting 200), sorted.
    pub async fn find_ids(&self, resource_type: &str, params: &[(&str, &str)]) -> Vec<String> {
        let answer = self.find(resource_type, params).await;
        assert_eq!(
            answer.status,
            200,
            "search {resource_type}?{}: {}",
            query(params),
            answer.describe()
        );
        assert_eq!(
            answer.body["type"], "searchset",
            "a search answers with a searchset Bundle"
        );
        let mut ids = entry_ids(&answer.body);
        ids.sort();
        ids
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

/// A URL-encoded query string.
pub fn query(params: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(params).expect("query string")
}

/// The entries of a Bundle (empty when it has none).
pub fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"].as_array().cloned().unwrap_or_default()
}

/// The URL of the Bundle link with this relation.
pub fn link(bundle: &Value, relation: &str) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == relation)
        .and_then(|l| l["url"].as_str())
        .map(str::to_owned)
}

/// A transaction Bundle of `entries`.
pub fn transaction(entries: Vec<Value>) -> Value {
    serde_json::json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries })
}

/// A batch Bundle of `entries`.
pub fn batch(entries: Vec<Value>) -> Value {
    serde_json::json!({ "resourceType": "Bundle", "type": "batch", "entry": entries })
}

/// A `POST [type]` Bundle entry for `resource`, with `full_url` (a `urn:uuid:`) when given.
pub fn post_entry(resource: Value, full_url: Option<&str>) -> Value {
    let rt = resource["resourceType"]
        .as_str()
        .expect("resourceType")
        .to_owned();
    let mut entry = serde_json::json!({
        "resource": resource,
        "request": { "method": "POST", "url": rt },
    });
    if let Some(url) = full_url {
        entry["fullUrl"] = Value::String(url.to_owned());
    }
    entry
}

/// `Type/id` of a `Type/id/_history/n` location (absolute or relative).
pub fn type_and_id(location: &str) -> String {
    let path = location.split("/_history/").next().unwrap_or(location);
    let parts: Vec<&str> = path.rsplitn(3, '/').collect();
    assert!(parts.len() >= 2, "not a resource location: {location}");
    format!("{}/{}", parts[1], parts[0])
}

/// A fresh `urn:uuid:` URL.
pub fn urn_uuid() -> String {
    format!("urn:uuid:{}", uuid())
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
