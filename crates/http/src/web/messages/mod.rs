//! The messaging pages: a patient's threads (`/messages`), a new thread (`/messages/new`),
//! a thread with its reply form (`/messages/{id}`), the team inbox (`/messages/inbox`), the
//! team's response times (`/messages/response-times`), attachments, and the unread count the
//! navigation loads (`/messages/unread`). Forms post `multipart/form-data` (files). Every
//! page calls the same service and access rules as `/api/messages` and audits what it reads
//! and writes. Open pages refresh on `live:message` (see `assets/live.js`).

mod form;

use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde::Serialize;

use self::form::Posted;
use super::booking::Visitor;
use super::dashboard::user_context;
use super::forms::{message, FieldErrors};
use super::page::{internal_error_page, not_found_page, see_other};
use crate::messaging::service::{self, Compose, MsgError, Party, ThreadSummary};
use crate::messaging::{attachment, model::Side};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", get(list))
        .route("/messages/inbox", get(inbox))
        .route("/messages/unread", get(unread))
        .route("/messages/response-times", get(response_times))
        .route("/messages/new", get(new_show).post(new_submit))
        .route("/messages/{id}", get(thread_show).post(thread_reply))
        .route("/messages/{id}/files/{file}", get(file))
}

/// The page for a failure: not found, refused, or ours.
fn failed(v: &Visitor, e: &MsgError) -> Response {
    match e {
        MsgError::NotFound => not_found_page(v.lang),
        MsgError::Forbidden(_) => v.forbidden(),
        e => {
            tracing::error!(status = e.status().as_u16(), "messaging page failed");
            internal_error_page(v.lang)
        }
    }
}

async fn party(state: &AppState, v: &Visitor) -> Result<Party, Response> {
    Party::of(state, &v.who.account)
        .await
        .map_err(|e| failed(v, &e))
}

/// An instant as pages show it: `2026-11-24 09:30 UTC`.
fn when(instant: &str) -> String {
    match instant.get(..16) {
        Some(t) => format!("{} UTC", t.replace('T', " ")),
        None => instant.to_owned(),
    }
}

/// A duration in words: `2 h 05 min`, `3 d 4 h`.
fn age(lang: &str, seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let day = if lang == "fr" { "j" } else { "d" };
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m:02} min"),
        _ => format!("{d} {day} {h} h"),
    }
}

/// A thread as a list shows it.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    thread: ThreadSummary,
    last: String,
    waiting: Option<String>,
    patient: String,
}

async fn rows(state: &AppState, v: &Visitor, party: &Party) -> Result<Vec<Row>, Response> {
    let threads = service::list(state, party).await;
    v.audit(state, "search", "Communication", None, threads.is_ok())
        .await;
    let threads = threads.map_err(|e| failed(v, &e))?;
    let now = carefront_store::repository::now_micros();
    let mut names: Vec<(String, String)> = Vec::new();
    let mut out = Vec::with_capacity(threads.len());
    for t in threads {
        // The team sees whose thread it is (each patient's record read once, audited).
        let patient = if party.side == Side::Team {
            match names.iter().find(|(id, _)| *id == t.patient_id) {
                Some((_, name)) => name.clone(),
                None => {
                    let name = super::triage::patient_name(state, v, &t.patient_id).await;
                    names.push((t.patient_id.clone(), name.clone()));
                    name
                }
            }
        } else {
            String::new()
        };
        let waiting = t.waiting_since.as_deref().map(|w| {
            let since = crate::messaging::model::micros_of(w).unwrap_or(now);
            age(v.lang, (now - since) / 1_000_000)
        });
        out.push(Row {
            last: when(&t.last_message),
            waiting,
            patient,
            thread: t,
        });
    }
    Ok(out)
}

/// `/messages`: a patient's threads; the team works from its inbox.
async fn list(State(state): State<AppState>, v: Visitor) -> Response {
    threads_page(&state, &v, Side::Patient).await
}

/// `/messages/inbox`: the threads of the clinician's teams, unanswered first.
async fn inbox(State(state): State<AppState>, v: Visitor) -> Response {
    threads_page(&state, &v, Side::Team).await
}

/// The list of `side`'s threads; the other side is sent to its own list.
async fn threads_page(state: &AppState, v: &Visitor, side: Side) -> Response {
    let party = match party(state, v).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (own, template) = match party.side {
        Side::Patient => ("/messages", "messages_list.html"),
        Side::Team => ("/messages/inbox", "messages_inbox.html"),
    };
    if party.side != side {
        return see_other(own);
    }
    let rows = match rows(state, v, &party).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let ctx = context! { lang => v.lang, user => user_context(&v.who), rows };
    v.render(StatusCode::OK, template, ctx)
}

/// `/messages/unread`: ` (2)` for the navigation, or nothing.
async fn unread(State(state): State<AppState>, v: Visitor) -> Response {
    let count = match Party::of(&state, &v.who.account).await {
        Ok(p) => service::unread_total(&state, &p).await.unwrap_or(0),
        Err(_) => 0,
    };
    let text = if count > 0 {
        format!(" ({count})")
    } else {
        String::new()
    };
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// What a compose form shows again after a refusal.
#[derive(Serialize, Default)]
struct Shown {
    topic: String,
    text: String,
    errors: FieldErrors,
}

/// The errors of a refused message, by field, translated.
fn explain(v: &Visitor, e: &MsgError) -> Option<FieldErrors> {
    let mut errors = FieldErrors::default();
    match e {
        MsgError::Invalid(i) => {
            let field = match i {
                service::Invalid::NoTopic | service::Invalid::LongTopic => "topic",
                _ => "text",
            };
            errors.add(field, message(v.lang, i.key(), &[]));
        }
        MsgError::Attachment(r) => errors.add(
            "files",
            message(v.lang, r.key(), &[("name", r.filename().to_owned())]),
        ),
        _ => return None,
    }
    Some(errors)
}

async fn new_show(State(state): State<AppState>, v: Visitor) -> Response {
    match party(&state, &v).await {
        Ok(p) if p.side == Side::Patient => new_page(&v, StatusCode::OK, Shown::default()),
        Ok(_) => see_other("/messages/inbox"),
        Err(r) => r,
    }
}

/// The attachment size limit in MB, as the forms' hint says it.
fn max_mb() -> String {
    (attachment::MAX_BYTES / (1024 * 1024)).to_string()
}

/// A posted message form, who posts it, and the base of links in the mail it causes.
async fn posted(
    state: &AppState,
    v: &Visitor,
    headers: &HeaderMap,
    multipart: Multipart,
) -> Result<(Posted, Party, String), Response> {
    let posted = form::read(multipart, v).await?;
    let party = party(state, v).await?;
    Ok((posted, party, super::mailbox::base_url(state, headers)))
}

fn new_page(v: &Visitor, status: StatusCode, shown: Shown) -> Response {
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        form => shown,
        max_mb => max_mb(),
    };
    v.render(status, "messages_new.html", ctx)
}

async fn new_submit(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let (posted, party, base) = match posted(&state, &v, &headers, multipart).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let shown = Shown {
        topic: posted.topic.clone(),
        text: posted.text.clone(),
        errors: FieldErrors::default(),
    };
    let started = service::start(&state, &party, posted.compose(), &base).await;
    v.audit(
        &state,
        "create",
        "Communication",
        started.as_deref().ok(),
        started.is_ok(),
    )
    .await;
    match started {
        Ok(id) => see_other(&format!("/messages/{id}")),
        Err(e) => match explain(&v, &e) {
            Some(errors) => new_page(
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                Shown { errors, ..shown },
            ),
            None => failed(&v, &e),
        },
    }
}

async fn thread_show(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    thread_page(&state, &v, &id, StatusCode::OK, Shown::default()).await
}

/// The thread (opening it marks it read) with its reply form.
async fn thread_page(
    state: &AppState,
    v: &Visitor,
    id: &str,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let party = match party(state, v).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let view = service::open(state, &party, id).await;
    v.audit(state, "read", "Communication", Some(id), view.is_ok())
        .await;
    let view = match view {
        Ok(view) => view,
        Err(e) => return failed(v, &e),
    };
    let patient = if party.side == Side::Team {
        super::triage::patient_name(state, v, &view.patient_id).await
    } else {
        String::new()
    };
    let messages: Vec<_> = view
        .messages
        .iter()
        .map(|m| {
            context! {
                message => m,
                when => when(&m.sent),
                mine => m.side == party.side,
            }
        })
        .collect();
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        thread => view,
        messages,
        patient,
        team => party.side == Side::Team,
        form => shown,
        max_mb => max_mb(),
    };
    v.render(status, "messages_thread.html", ctx)
}

async fn thread_reply(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Response {
    let (posted, party, base) = match posted(&state, &v, &headers, multipart).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let text = posted.text.clone();
    let sent = service::reply(&state, &party, &id, posted.compose(), &base).await;
    v.audit(&state, "create", "Communication", Some(&id), sent.is_ok())
        .await;
    match sent {
        Ok(_) => see_other(&format!("/messages/{id}#latest")),
        Err(e) => match explain(&v, &e) {
            Some(errors) => {
                let shown = Shown {
                    text,
                    errors,
                    ..Shown::default()
                };
                thread_page(&state, &v, &id, StatusCode::UNPROCESSABLE_ENTITY, shown).await
            }
            None => failed(&v, &e),
        },
    }
}

async fn file(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let party = match party(&state, &v).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let found = service::file(&state, &party, &id, &file).await;
    v.audit(&state, "read", "Binary", Some(&file), found.is_ok())
        .await;
    match found {
        Ok((a, bytes)) => attachment::serve(&a.content_type, &a.title, bytes),
        Err(e) => failed(&v, &e),
    }
}

/// `/messages/response-times`: per team, time to the first answer over 30 days and what
/// waits now.
async fn response_times(State(state): State<AppState>, v: Visitor) -> Response {
    let report = match service::report_teams(&state, &v.who.account).await {
        Ok(teams) => service::response_times(&state, &teams).await,
        Err(e) => Err(e),
    };
    v.audit(&state, "search", "Communication", None, report.is_ok())
        .await;
    let report = match report {
        Ok(r) => r,
        Err(e) => return failed(&v, &e),
    };
    let teams: Vec<_> = report
        .iter()
        .map(|t| {
            context! {
                team => t,
                median => t.median_seconds.map(|s| age(v.lang, s)),
                p90 => t.p90_seconds.map(|s| age(v.lang, s)),
                waiting => t.waiting.iter().map(|w| context! {
                    thread => w.thread,
                    since => when(&w.since),
                    age => age(v.lang, w.age_seconds),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        teams,
        practitioner => v.role == carefront_auth::Role::Practitioner,
    };
    v.render(StatusCode::OK, "messages_times.html", ctx)
}

impl Posted {
    fn compose(self) -> Compose {
        Compose {
            topic: Some(self.topic),
            text: Some(self.text),
            uploads: self.uploads,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_times_read_well() {
        assert_eq!(age("en", 59), "0 min");
        assert_eq!(age("en", 3600 + 300), "1 h 05 min");
        assert_eq!(age("fr", 2 * 86_400 + 7200), "2 j 2 h");
        assert_eq!(when("2026-11-24T09:30:12.5Z"), "2026-11-24 09:30 UTC");
    }
}
