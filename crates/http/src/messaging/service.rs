//! What messaging does, for the JSON API and the pages alike: who is writing ([`Party`]),
//! the threads they may see, opening one (which marks it read), starting and answering
//! threads with attachments, serving an attachment, and the team's response times.
//!
//! Access: a patient sees the threads whose subject is their own record; a practitioner sees
//! the threads addressed to one of their organisations (their team). Anything else is "not
//! found", never "forbidden", so that ids do not disclose that a thread exists.

use axum::http::StatusCode;
use base64::Engine as _;
use carefront_auth::{Principal, Role};
use carefront_store::repository::{format_instant, now_micros, RepoError};
use carefront_store::tables::accounts::{self, Account};
use serde::Serialize;
use serde_json::{json, Value};

use super::attachment::{self, Refused, Upload};
use super::index::{self, Scope, ThreadRow};
use super::model::{AttachmentRef, Draft, Message, Side};
use super::notify;
use crate::auth::{account_caller, Caller};
use crate::live::{self, Topic};
use crate::AppState;

/// Longest topic and message text, in characters.
pub const MAX_TOPIC: usize = 200;
pub const MAX_TEXT: usize = 5000;
/// Threads listed at most.
pub const LIST_LIMIT: usize = 200;
/// The response-time window.
const WINDOW_DAYS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum MsgError {
    #[error("no such thread or file")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(Invalid),
    #[error("{0}")]
    Attachment(Refused),
    #[error("the store failed")]
    Store(RepoError),
}

/// What is wrong with a message; the `Display` text is the API's, `key` the pages'.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Invalid {
    #[error("say what the message is about (topic)")]
    NoTopic,
    #[error("a topic has at most 200 characters")]
    LongTopic,
    #[error("a message has at most 5000 characters")]
    LongText,
    #[error("write a message or attach a file")]
    Empty,
    #[error("your record has no care team to write to yet")]
    NoTeam,
    #[error("the data of '{0}' is not base64")]
    NotBase64(String),
}

impl Invalid {
    pub fn key(&self) -> &'static str {
        match self {
            Invalid::NoTopic => "messages.error.topic",
            Invalid::LongTopic => "messages.error.topic_long",
            Invalid::LongText => "messages.error.text_long",
            Invalid::Empty => "messages.error.empty",
            Invalid::NoTeam => "messages.error.no_team",
            Invalid::NotBase64(_) => "messages.error.file_type",
        }
    }
}

impl MsgError {
    pub fn status(&self) -> StatusCode {
        match self {
            MsgError::NotFound => StatusCode::NOT_FOUND,
            MsgError::Forbidden(_) => StatusCode::FORBIDDEN,
            MsgError::Invalid(_) | MsgError::Attachment(_) => StatusCode::UNPROCESSABLE_ENTITY,
            MsgError::Store(e) => {
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

impl From<RepoError> for MsgError {
    fn from(e: RepoError) -> Self {
        MsgError::Store(e)
    }
}

impl From<carefront_store::StoreError> for MsgError {
    fn from(e: carefront_store::StoreError) -> Self {
        MsgError::Store(e.into())
    }
}

/// Someone who writes and reads messages.
#[derive(Debug, Clone)]
pub struct Party {
    pub account_id: String,
    /// The name others see on their messages.
    pub name: String,
    pub side: Side,
    /// `Patient/p1` or `Practitioner/x`.
    pub reference: String,
    /// A patient's own record.
    pub patient_id: Option<String>,
    /// A practitioner's organisations (their teams).
    pub teams: Vec<String>,
}

impl Party {
    /// Patients linked to their record, and practitioners of at least one organisation.
    pub async fn of(state: &AppState, account: &Account) -> Result<Party, MsgError> {
        let refused = || {
            MsgError::Forbidden(
                "messaging is for patients and the clinicians of their care team".into(),
            )
        };
        let caller = account_caller(state, account).await;
        let Principal::Account(a) = &caller.principal else {
            return Err(refused());
        };
        let linked = account.fhir_ref.clone().ok_or_else(refused)?;
        let (side, patient_id, teams) = match a.role {
            Role::Patient => (
                Side::Patient,
                Some(a.patient_id.as_ref().ok_or_else(refused)?.id().to_owned()),
                Vec::new(),
            ),
            Role::Practitioner if !a.organizations.is_empty() => (
                Side::Team,
                None,
                a.organizations.iter().map(|o| o.id().to_owned()).collect(),
            ),
            _ => return Err(refused()),
        };
        Ok(Party {
            account_id: account.id.clone(),
            name: account.display_name.clone(),
            side,
            reference: linked,
            patient_id,
            teams,
        })
    }

    /// The party of an API caller (an account; clients have no side in a conversation).
    pub async fn of_caller(state: &AppState, caller: &Caller) -> Result<Party, MsgError> {
        Party::of(state, &account_of(state, caller).await?).await
    }

    fn scope(&self) -> Scope<'_> {
        match &self.patient_id {
            Some(p) => Scope::Patient(p),
            None => Scope::Teams(&self.teams),
        }
    }

    fn may_see(&self, t: &ThreadRow) -> bool {
        match self.side {
            Side::Patient => self.patient_id.as_deref() == Some(t.patient_id.as_str()),
            Side::Team => self.teams.contains(&t.organization_id),
        }
    }
}

/// The account behind an API caller.
pub async fn account_of(state: &AppState, caller: &Caller) -> Result<Account, MsgError> {
    let Principal::Account(a) = &caller.principal else {
        return Err(MsgError::Forbidden(
            "messaging is for patients and the clinicians of their care team".into(),
        ));
    };
    accounts::by_id(state.repo.store().as_ref(), &a.id)
        .await?
        .ok_or(MsgError::NotFound)
}

/// A thread in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThreadSummary {
    pub id: String,
    pub topic: String,
    pub patient_id: String,
    pub organization_id: String,
    pub started: String,
    pub last_message: String,
    /// Who wrote last.
    pub last_side: Side,
    /// Waiting for the team since (none: answered).
    pub waiting_since: Option<String>,
    pub messages: i64,
    pub unread: i64,
}

/// The threads `party` may see: a patient's newest first, a team's unanswered first.
pub async fn list(state: &AppState, party: &Party) -> Result<Vec<ThreadSummary>, MsgError> {
    let store = state.repo.store().as_ref();
    let scope = party.scope();
    let rows = index::threads(store, &scope, party.side == Side::Team, LIST_LIMIT).await?;
    let unread = index::unread(store, &scope, &party.account_id, party.side).await?;
    let mut out = Vec::with_capacity(rows.len());
    for t in rows {
        let topic = match state.repo.read("Communication", &t.thread_id).await {
            Ok(r) => serde_json::from_slice::<Value>(&r.content)
                .ok()
                .and_then(|c| c["topic"]["text"].as_str().map(str::to_owned))
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        out.push(ThreadSummary {
            unread: unread
                .iter()
                .find(|(id, _)| *id == t.thread_id)
                .map_or(0, |u| u.1),
            id: t.thread_id,
            topic,
            patient_id: t.patient_id,
            organization_id: t.organization_id,
            started: format_instant(t.started_at),
            last_message: format_instant(t.last_at),
            last_side: t.last_side,
            waiting_since: t.waiting_since.map(format_instant),
            messages: t.messages,
        });
    }
    Ok(out)
}

/// Unread messages across `party`'s threads (the navigation's count).
pub async fn unread_total(state: &AppState, party: &Party) -> Result<i64, MsgError> {
    let counts = index::unread(
        state.repo.store().as_ref(),
        &party.scope(),
        &party.account_id,
        party.side,
    )
    .await?;
    Ok(counts.iter().map(|c| c.1).sum())
}

/// A thread with its messages, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThreadView {
    pub id: String,
    pub topic: String,
    pub patient_id: String,
    pub organization_id: String,
    pub answered: bool,
    pub messages: Vec<Message>,
}

/// The thread `id` if `party` may see it.
async fn visible(state: &AppState, party: &Party, id: &str) -> Result<ThreadRow, MsgError> {
    index::thread(state.repo.store().as_ref(), id)
        .await?
        .filter(|t| party.may_see(t))
        .ok_or(MsgError::NotFound)
}

/// The messages of thread `id` (its first message and every reply), oldest first.
async fn messages_of(state: &AppState, id: &str) -> Result<Vec<Message>, MsgError> {
    let root = state
        .repo
        .read("Communication", id)
        .await
        .map_err(|_| MsgError::NotFound)?;
    let root: Value = serde_json::from_slice(&root.content).map_err(|_| MsgError::NotFound)?;
    let mut messages = vec![Message::of(id, &root)];
    let pairs = [
        ("part-of".to_owned(), format!("Communication/{id}")),
        ("_count".to_owned(), "1000".to_owned()),
    ];
    let query = state
        .repo
        .parse_search(Some("Communication"), &pairs, false)?;
    for r in state.repo.search(&query).await?.matches {
        if let Ok(c) = serde_json::from_slice::<Value>(&r.content) {
            messages.push(Message::of(&r.id, &c));
        }
    }
    messages.sort_by(|a, b| a.sent_at.cmp(&b.sent_at).then_with(|| a.id.cmp(&b.id)));
    Ok(messages)
}

/// Open thread `id`: its messages, and it is read up to now for `party`.
pub async fn open(state: &AppState, party: &Party, id: &str) -> Result<ThreadView, MsgError> {
    let t = visible(state, party, id).await?;
    let messages = messages_of(state, id).await?;
    index::mark_read(state.repo.store().as_ref(), id, &party.account_id).await?;
    Ok(ThreadView {
        id: t.thread_id,
        topic: messages
            .first()
            .and_then(|m| m.topic.clone())
            .unwrap_or_default(),
        patient_id: t.patient_id,
        organization_id: t.organization_id,
        answered: t.waiting_since.is_none(),
        messages,
    })
}

/// Attachment `file` of thread `id`, with its bytes.
pub async fn file(
    state: &AppState,
    party: &Party,
    id: &str,
    file: &str,
) -> Result<(AttachmentRef, Vec<u8>), MsgError> {
    visible(state, party, id).await?;
    let found = messages_of(state, id)
        .await?
        .into_iter()
        .flat_map(|m| m.attachments)
        .find(|a| a.id == file)
        .ok_or(MsgError::NotFound)?;
    let binary = state
        .repo
        .read("Binary", file)
        .await
        .map_err(|_| MsgError::NotFound)?;
    let bytes = serde_json::from_slice::<Value>(&binary.content)
        .ok()
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b["data"].as_str()?)
                .ok()
        })
        .ok_or(MsgError::NotFound)?;
    Ok((found, bytes))
}

/// What someone writes.
#[derive(Debug, Clone, Default)]
pub struct Compose {
    pub topic: Option<String>,
    pub text: Option<String>,
    pub uploads: Vec<Upload>,
}

fn trimmed(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// A patient starts a thread with their care team; its id.
pub async fn start(
    state: &AppState,
    party: &Party,
    compose: Compose,
    base_url: &str,
) -> Result<String, MsgError> {
    let Some(patient_id) = party.patient_id.clone() else {
        return Err(MsgError::Forbidden(
            "patients start threads; answer them from the team inbox".into(),
        ));
    };
    let topic = trimmed(&compose.topic).ok_or(MsgError::Invalid(Invalid::NoTopic))?;
    if topic.chars().count() > MAX_TOPIC {
        return Err(MsgError::Invalid(Invalid::LongTopic));
    }
    let patient = state.repo.read("Patient", &patient_id).await?;
    let patient: Value = serde_json::from_slice(&patient.content).unwrap_or_default();
    let team = crate::fhir::access::organization_ref(&patient["managingOrganization"])
        .or_else(|| {
            crate::fhir::access::patient_organizations(&patient)
                .into_iter()
                .next()
        })
        .map(|o| o.id().to_owned())
        .ok_or(MsgError::Invalid(Invalid::NoTeam))?;
    let id = uuid::Uuid::new_v4().to_string();
    let thread = ThreadRow {
        thread_id: id.clone(),
        patient_id,
        organization_id: team,
        started_at: 0,
        last_at: 0,
        last_side: Side::Patient,
        first_response_at: None,
        waiting_since: None,
        messages: 0,
    };
    write(state, party, &thread, None, Some(&topic), compose, base_url).await?;
    Ok(id)
}

/// `party` answers thread `id`; the new message's id.
pub async fn reply(
    state: &AppState,
    party: &Party,
    id: &str,
    compose: Compose,
    base_url: &str,
) -> Result<String, MsgError> {
    let thread = visible(state, party, id).await?;
    let previous = index::latest_message(state.repo.store().as_ref(), id)
        .await?
        .unwrap_or_else(|| id.to_owned());
    write(
        state,
        party,
        &thread,
        Some(&previous),
        None,
        compose,
        base_url,
    )
    .await
}

/// Write one message (and its attachments) with its mail and read marker, then tell the
/// open pages. `previous`: the message a reply answers.
async fn write(
    state: &AppState,
    party: &Party,
    thread: &ThreadRow,
    previous: Option<&str>,
    topic: Option<&str>,
    compose: Compose,
    base_url: &str,
) -> Result<String, MsgError> {
    let text = trimmed(&compose.text);
    if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
        return Err(MsgError::Invalid(Invalid::LongText));
    }
    let files = attachment::check(compose.uploads).map_err(MsgError::Attachment)?;
    if text.is_none() && files.is_empty() {
        return Err(MsgError::Invalid(Invalid::Empty));
    }
    let now = now_micros();
    // Ids are chosen here so that everything is validated before the transaction (which,
    // on SQLite, holds the single writer).
    let mut refs = Vec::new();
    let mut binaries = Vec::new();
    for f in &files {
        let id = uuid::Uuid::new_v4().to_string();
        binaries.push(state.repo.check(json!({
            "resourceType": "Binary",
            "id": id,
            "contentType": f.content_type,
            "securityContext": { "reference": format!("Patient/{}", thread.patient_id) },
            "data": base64::engine::general_purpose::STANDARD.encode(&f.bytes),
        }))?);
        refs.push(AttachmentRef {
            id,
            content_type: f.content_type.to_owned(),
            title: f.filename.clone(),
            size: f.bytes.len() as u64,
        });
    }
    let message_id = if previous.is_none() {
        thread.thread_id.clone()
    } else {
        uuid::Uuid::new_v4().to_string()
    };
    let recipient = match party.side {
        Side::Patient => format!("Organization/{}", thread.organization_id),
        Side::Team => format!("Patient/{}", thread.patient_id),
    };
    let mut communication = Draft {
        patient_id: &thread.patient_id,
        sender: (party.reference.clone(), party.name.clone()),
        recipient,
        topic,
        reply_to: previous.map(|p| (thread.thread_id.as_str(), p)),
        text: text.as_deref(),
        attachments: &refs,
        sent: format_instant(now),
    }
    .to_fhir();
    communication["id"] = json!(message_id);
    let communication = state.repo.check(communication)?;
    let mail_to = notify::recipients(state, party.side, thread, previous.is_none()).await?;
    let mut tx = state.repo.begin().await?;
    for b in &binaries {
        state.repo.create_checked_in_tx(tx.as_mut(), b).await?;
    }
    state
        .repo
        .create_checked_in_tx(tx.as_mut(), &communication)
        .await?;
    index::mark_read_in(tx.as_mut(), &thread.thread_id, &party.account_id, now).await?;
    notify::enqueue_in(tx.as_mut(), &mail_to, base_url, &thread.thread_id, now).await?;
    tx.commit().await?;
    if !mail_to.is_empty() {
        state.mail_wake.notify_one();
    }
    let event = json!({ "thread": thread.thread_id });
    live::publish(
        state,
        &Topic::Patient(thread.patient_id.clone()),
        "message",
        event.clone(),
    )
    .await;
    live::publish(
        state,
        &Topic::Team(thread.organization_id.clone()),
        "message",
        event,
    )
    .await;
    Ok(message_id)
}

/// A team's response times over the last 30 days, and what waits now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeamTimes {
    pub organization_id: String,
    pub name: String,
    /// Threads started in the window that were answered.
    pub answered: usize,
    /// Threads started in the window still without a first answer.
    pub unanswered_in_window: usize,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
    /// Threads waiting for the team now, longest waiting first.
    pub waiting: Vec<Waiting>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Waiting {
    pub thread: String,
    pub since: String,
    pub age_seconds: i64,
}

/// The `q`-quantile (0..=1) of sorted `values`, nearest rank.
pub fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// The teams whose figures `account` sees: a practitioner's or administrator's own
/// organisations; an administrator tied to none (who runs the whole network) sees every team.
pub async fn report_teams(state: &AppState, account: &Account) -> Result<Vec<String>, MsgError> {
    let caller = account_caller(state, account).await;
    let Principal::Account(a) = &caller.principal else {
        return Err(MsgError::Forbidden("sign in".into()));
    };
    match a.role {
        Role::Practitioner | Role::Administrator if !a.organizations.is_empty() => {
            Ok(a.organizations.iter().map(|o| o.id().to_owned()).collect())
        }
        Role::Administrator => Ok(index::teams(state.repo.store().as_ref()).await?),
        _ => Err(MsgError::Forbidden(
            "response times are for the care team's practitioners and administrators".into(),
        )),
    }
}

pub async fn response_times(
    state: &AppState,
    teams: &[String],
) -> Result<Vec<TeamTimes>, MsgError> {
    let now = now_micros();
    let since = now - WINDOW_DAYS * 86_400 * 1_000_000;
    let mut out = Vec::new();
    for org in teams {
        let rows = index::team_threads_since(state.repo.store().as_ref(), org, since).await?;
        let in_window: Vec<&ThreadRow> = rows.iter().filter(|t| t.started_at >= since).collect();
        let mut times: Vec<i64> = in_window
            .iter()
            .filter_map(|t| t.first_response_at.map(|r| (r - t.started_at) / 1_000_000))
            .collect();
        times.sort_unstable();
        let mut waiting: Vec<Waiting> = rows
            .iter()
            .filter_map(|t| {
                t.waiting_since.map(|w| Waiting {
                    thread: t.thread_id.clone(),
                    since: format_instant(w),
                    age_seconds: (now - w) / 1_000_000,
                })
            })
            .collect();
        waiting.sort_by_key(|w| std::cmp::Reverse(w.age_seconds));
        let name = state
            .repo
            .read("Organization", org)
            .await
            .ok()
            .and_then(|r| serde_json::from_slice::<Value>(&r.content).ok())
            .and_then(|o| o["name"].as_str().map(str::to_owned))
            .unwrap_or_else(|| org.clone());
        out.push(TeamTimes {
            organization_id: org.clone(),
            name,
            answered: times.len(),
            unanswered_in_window: in_window.len() - times.len(),
            median_seconds: quantile(&times, 0.5),
            p90_seconds: quantile(&times, 0.9),
            waiting,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_by_nearest_rank() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7], 0.9), Some(7));
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(quantile(&v, 0.5), Some(5));
        assert_eq!(quantile(&v, 0.9), Some(9));
        assert_eq!(quantile(&v, 1.0), Some(10));
    }
}
