//! The plain tables on real SQLite and PostgreSQL databases.

use std::sync::Arc;

use carefront_store::sql::{Bind, Dialect, Sql};
use carefront_store::tables::audit::{self, AuditEntry, AuditFilter};
use carefront_store::tables::{accounts, clients, login_failures, one_time, outbox, sessions};
use carefront_store::{Store, StoreError};

/// Run `body` once on a fresh SQLite file and once on a fresh PostgreSQL database.
async fn on_both<F, Fut>(body: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = std::env::temp_dir().join(format!("carefront-tables-{}", uuid()));
    let sqlite = carefront_store_sqlite::SqliteStore::open(&dir.join("t.db"), 2)
        .await
        .expect("open SQLite");
    body(Arc::new(sqlite)).await;
    let _ = std::fs::remove_dir_all(&dir);

    let server = std::env::var("CAREFRONT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let name = format!("carefront_tables_{}", uuid().replace('-', ""));
    let mut admin =
        <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{server}/postgres"))
            .await
            .expect("PostgreSQL must be running for the tests");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let pg = carefront_store_postgres::PostgresStore::connect(&format!("{server}/{name}"), 4)
        .await
        .expect("open PostgreSQL");
    body(Arc::new(pg)).await;
    let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await;
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn account(id: &str, email: &str) -> accounts::Account {
    accounts::Account {
        id: id.into(),
        email: email.into(),
        role: "patient".into(),
        display_name: "Ada Lovelace".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        email_confirmed: false,
        disabled: false,
        fhir_ref: Some("Patient/p1".into()),
        totp_secret: None,
        totp_last_step: None,
        locale: "en".into(),
        created_at: 1,
        updated_at: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_unique_by_email_and_keep_every_field() {
    on_both(|store| async move {
        let s = store.as_ref();
        accounts::insert(s, &account("a1", "ada@example.org"))
            .await
            .unwrap();
        let again = accounts::insert(s, &account("a2", "ada@example.org")).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        let mut a = accounts::by_email(s, "ada@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a, account("a1", "ada@example.org"));
        a.email_confirmed = true;
        a.totp_secret = Some("JBSWY3DPEHPK3PXP".into());
        a.totp_last_step = Some(42);
        a.updated_at = 2;
        accounts::update(s, &a).await.unwrap();
        assert_eq!(accounts::by_id(s, "a1").await.unwrap().unwrap(), a);
        accounts::insert(s, &account("a3", "bob@example.org"))
            .await
            .unwrap();
        let all = accounts::list(s, Some("patient"), 10, 0).await.unwrap();
        let emails: Vec<_> = all.iter().map(|a| a.email.as_str()).collect();
        assert_eq!(emails, ["ada@example.org", "bob@example.org"]);
        assert!(accounts::by_email(s, "nobody@example.org")
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_and_end() {
    on_both(|store| async move {
        let s = store.as_ref();
        accounts::insert(s, &account("a1", "ada@example.org"))
            .await
            .unwrap();
        let session = sessions::Session {
            account_id: "a1".into(),
            csrf_token: "csrf".into(),
            second_factor_pending: true,
            created_at: 100,
            expires_at: 200,
        };
        let token = sessions::create(s, &session).await.unwrap();
        assert_eq!(
            sessions::find(s, &token, 150).await.unwrap(),
            Some(session.clone())
        );
        assert_eq!(
            sessions::find(s, &token, 200).await.unwrap(),
            None,
            "expired"
        );
        assert_eq!(sessions::find(s, "forged", 150).await.unwrap(), None);
        sessions::complete_second_factor(s, &token).await.unwrap();
        assert!(
            !sessions::find(s, &token, 150)
                .await
                .unwrap()
                .unwrap()
                .second_factor_pending
        );
        sessions::delete(s, &token).await.unwrap();
        assert_eq!(sessions::find(s, &token, 150).await.unwrap(), None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_tokens_work_once_for_their_purpose() {
    on_both(|store| async move {
        let s = store.as_ref();
        accounts::insert(s, &account("a1", "ada@example.org"))
            .await
            .unwrap();
        let token = one_time::issue(s, "a1", "confirm-email", 1_000)
            .await
            .unwrap();
        assert_eq!(
            one_time::redeem(s, &token, "reset-password", 10)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            one_time::redeem(s, &token, "confirm-email", 1_000)
                .await
                .unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            one_time::redeem(s, &token, "confirm-email", 10)
                .await
                .unwrap(),
            Some("a1".into())
        );
        assert_eq!(
            one_time::redeem(s, &token, "confirm-email", 10)
                .await
                .unwrap(),
            None,
            "spent"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_get_tokens_with_their_scopes() {
    on_both(|store| async move {
        let s = store.as_ref();
        let secret = clients::register(s, "c1", "lab feed", "system/Observation.write", 1)
            .await
            .unwrap();
        let client = clients::by_id(s, "c1").await.unwrap().unwrap();
        assert!(clients::secret_matches(&client, &secret));
        assert!(!clients::secret_matches(&client, "guess"));
        assert_ne!(
            client.secret_hash, secret,
            "the secret itself is not stored"
        );
        let token = clients::issue_token(s, "c1", &client.scopes, 100)
            .await
            .unwrap();
        assert_eq!(
            clients::token(s, &token, 50).await.unwrap(),
            Some(("c1".into(), "system/Observation.write".into()))
        );
        assert_eq!(
            clients::token(s, &token, 100).await.unwrap(),
            None,
            "expired"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_waits_in_the_outbox_until_sent() {
    on_both(|store| async move {
        let s = store.as_ref();
        let id = outbox::enqueue(s, "ada@example.org", "Confirm", "Open the link", 5)
            .await
            .unwrap();
        outbox::enqueue(s, "bob@example.org", "Hello", "Hi", 6)
            .await
            .unwrap();
        let ada = outbox::recent(s, Some("ada@example.org"), 10)
            .await
            .unwrap();
        assert_eq!(ada.len(), 1);
        assert_eq!(ada[0].subject, "Confirm");
        assert_eq!(outbox::unsent(s, 10).await.unwrap().len(), 2);
        outbox::mark(s, &id, 7, Some("connection refused"))
            .await
            .unwrap();
        outbox::mark(s, &id, 8, None).await.unwrap();
        let unsent = outbox::unsent(s, 10).await.unwrap();
        assert_eq!(unsent.len(), 1);
        assert_eq!(unsent[0].to, "bob@example.org");
        let sent = &outbox::recent(s, Some("ada@example.org"), 1).await.unwrap()[0];
        assert_eq!((sent.sent_at, sent.attempts), (Some(8), 2));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sender_claims_each_mail_and_failures_wait_for_their_retry() {
    on_both(|store| async move {
        let s = store.as_ref();
        let a = outbox::enqueue(s, "ada@example.org", "Confirm", "Open", 5)
            .await
            .unwrap();
        let b = outbox::enqueue(s, "bob@example.org", "Reset", "Open", 6)
            .await
            .unwrap();
        let due: Vec<_> = outbox::due(s, 10, 3, 10).await.unwrap();
        assert_eq!(due.iter().map(|m| &m.id).collect::<Vec<_>>(), [&a, &b]);
        // Two instances race for `a`: only the first gets it, until its lease runs out.
        assert!(outbox::claim(s, &a, 10, 100).await.unwrap());
        assert!(!outbox::claim(s, &a, 20, 120).await.unwrap());
        assert_eq!(
            outbox::due(s, 20, 3, 10).await.unwrap().len(),
            1,
            "a is claimed"
        );
        assert!(
            outbox::claim(s, &a, 101, 200).await.unwrap(),
            "lease expired"
        );
        // A failure counts, keeps the error and waits for its retry time.
        outbox::fail(s, &a, "connection refused", 300)
            .await
            .unwrap();
        assert!(!outbox::claim(s, &a, 250, 400).await.unwrap());
        let m = &outbox::recent(s, Some("ada@example.org"), 1).await.unwrap()[0];
        assert_eq!(
            (m.attempts, m.last_error.as_deref()),
            (1, Some("connection refused"))
        );
        assert_eq!(outbox::due(s, 301, 3, 10).await.unwrap().len(), 2);
        // Past the attempt limit the mail stays unsent, for the operator, but is not due.
        outbox::fail(s, &a, "refused", 0).await.unwrap();
        outbox::fail(s, &a, "refused", 0).await.unwrap();
        let due = outbox::due(s, 301, 3, 10).await.unwrap();
        assert_eq!(due.iter().map(|m| &m.id).collect::<Vec<_>>(), [&b]);
        assert_eq!(outbox::unsent(s, 10).await.unwrap().len(), 2);
        // Sent mail can no longer be claimed.
        assert!(outbox::claim(s, &b, 301, 400).await.unwrap());
        outbox::mark(s, &b, 302, None).await.unwrap();
        assert!(!outbox::claim(s, &b, 500, 600).await.unwrap());
        assert!(outbox::due(s, 500, 3, 10).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_failures_are_counted_per_key() {
    on_both(|store| async move {
        let s = store.as_ref();
        for at in [10, 20, 30] {
            login_failures::record(s, "ada@example.org", at)
                .await
                .unwrap();
        }
        login_failures::record(s, "127.0.0.1", 25).await.unwrap();
        assert_eq!(
            login_failures::since(s, "ada@example.org", 15)
                .await
                .unwrap(),
            [20, 30]
        );
        login_failures::clear(s, "ada@example.org").await.unwrap();
        assert!(login_failures::since(s, "ada@example.org", 0)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            login_failures::since(s, "127.0.0.1", 0).await.unwrap(),
            [25]
        );
    })
    .await;
}

fn entry(at: i64, action: &str, id: &str) -> AuditEntry {
    AuditEntry {
        at,
        actor: "account:a1".into(),
        actor_role: "practitioner".into(),
        action: action.into(),
        resource_type: Some("Patient".into()),
        resource_id: Some(id.into()),
        outcome: "success".into(),
        source: "127.0.0.1".into(),
        detail: "200".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_chain_reveals_tampering() {
    on_both(|store| async move {
        let s = store.as_ref();
        let batch: Vec<_> = (0..120)
            .map(|i| entry(i, "read", &format!("p{i}")))
            .collect();
        audit::append(s, &batch).await.unwrap();
        audit::append(s, &[entry(500, "update", "p7")])
            .await
            .unwrap();
        let check = audit::verify(s).await.unwrap();
        assert_eq!((check.entries, check.first_broken), (121, None));

        let filter = AuditFilter {
            action: Some("update".into()),
            ..AuditFilter::default()
        };
        let updates = audit::list(s, &filter, 10, 0).await.unwrap();
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].seq, 121);
        assert_eq!(updates[0].entry.resource_id.as_deref(), Some("p7"));

        // Someone with database access rewrites history: the chain shows where.
        let dialect = if s.backend() == "postgres" {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        };
        let mut tamper = Sql::new(dialect);
        tamper
            .push("UPDATE audit_log SET resource_id = ")
            .bind(Bind::Text("someone-else".into()))
            .push(" WHERE seq = ")
            .bind_int(40);
        s.execute(tamper).await.unwrap();
        assert_eq!(audit::verify(s).await.unwrap().first_broken, Some(40));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_keep_one_chain() {
    on_both(|store| async move {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..5 {
                    audit::append(store.as_ref(), &[entry(t * 10 + i, "read", "p")])
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let check = audit::verify(store.as_ref()).await.unwrap();
        assert_eq!((check.entries, check.first_broken), (40, None));
    })
    .await;
}
