//! `/admin/audit`: the audit chain, newest first, filtered by actor, action, resource and
//! outcome (a GET form, so a filtered view can be bookmarked), 50 entries a page; and a button
//! that checks the whole chain's hashes.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use carefront_store::tables::audit::{self, AuditFilter, ChainedEntry, Verification};
use minijinja::context;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{page_and_offset, Admin};
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms;
use crate::web::page::{csrf_failed_page, html_page, internal_error_page};
use crate::AppState;

/// Entries per page.
pub const PAGE_SIZE: usize = 50;

/// The filters as typed (kept in the form and the paging links).
#[derive(Deserialize, Serialize, Default, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct AuditQuery {
    pub actor: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub outcome: String,
    #[serde(skip_serializing)]
    pub page: Option<usize>,
}

/// The outcomes the log records (the filter's choices).
pub const OUTCOMES: [&str; 4] = ["success", "denied", "not-found", "error"];

impl AuditQuery {
    /// The store's filter: blank fields do not filter; values are matched exactly.
    pub fn filter(&self) -> AuditFilter {
        let value = |s: &str| {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_owned())
        };
        AuditFilter {
            actor: value(&self.actor),
            action: value(&self.action),
            resource_type: value(&self.resource_type),
            resource_id: value(&self.resource_id),
            outcome: value(&self.outcome),
            since: None,
            until: None,
        }
    }

    /// The query string of these filters on another page.
    pub fn link(&self, page: usize) -> String {
        let filters = serde_urlencoded::to_string(self).unwrap_or_default();
        format!("/admin/audit?{filters}&page={page}")
    }
}

#[derive(Serialize)]
struct Row {
    seq: i64,
    at: String,
    actor: String,
    actor_role: String,
    action: String,
    resource: String,
    outcome: String,
    source: String,
    detail: String,
}

/// `2026-11-23 21:19:14 UTC` from microseconds since the epoch.
pub fn timestamp(micros: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

fn row(c: ChainedEntry) -> Row {
    let e = c.entry;
    let resource = match (e.resource_type, e.resource_id) {
        (Some(t), Some(id)) => format!("{t}/{id}"),
        (Some(t), None) => t,
        (None, Some(id)) => id,
        (None, None) => String::new(),
    };
    Row {
        seq: c.seq,
        at: timestamp(e.at),
        actor: e.actor,
        actor_role: e.actor_role,
        action: e.action,
        resource,
        outcome: e.outcome,
        source: e.source,
        detail: e.detail,
    }
}

async fn page(
    state: &AppState,
    admin: &Admin,
    q: &AuditQuery,
    verification: Option<Verification>,
) -> Response {
    let lang = admin.lang;
    let (page, offset) = page_and_offset(q.page, PAGE_SIZE);
    let store = state.repo.store().as_ref();
    let mut entries = match audit::list(store, &q.filter(), PAGE_SIZE + 1, offset).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "admin: listing the audit log failed");
            return internal_error_page(lang);
        }
    };
    let has_next = entries.len() > PAGE_SIZE;
    entries.truncate(PAGE_SIZE);
    let rows: Vec<Row> = entries.into_iter().map(row).collect();
    let verification = verification.map(|v| {
        context! { entries => v.entries, first_broken => v.first_broken }
    });
    html_page(
        "admin_audit.html",
        context! {
            lang,
            user => user_context(&admin.who),
            rows,
            filters => q,
            outcomes => OUTCOMES,
            page,
            prev => (page > 1).then(|| q.link(page - 1)),
            next => has_next.then(|| q.link(page + 1)),
            verification,
        },
        lang,
        admin.lang_chosen,
    )
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<AuditQuery>,
) -> Response {
    page(&state, &admin, &q, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VerifyForm {
    pub csrf: String,
}

/// Recompute the chain's hashes and show the answer above the (unfiltered) log.
pub async fn verify(State(state): State<AppState>, admin: Admin, body: Bytes) -> Response {
    let lang = admin.lang;
    let form: VerifyForm = forms::parse(&body);
    if !csrf::session_ok(&admin.who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    // Entries still queued in the sink would otherwise be missing from the count.
    state.audit.flush().await;
    match audit::verify(state.repo.store().as_ref()).await {
        Ok(v) => {
            if let Some(seq) = v.first_broken {
                tracing::error!(seq, "the audit chain is broken");
            }
            page(&state, &admin, &AuditQuery::default(), Some(v)).await
        }
        Err(e) => {
            tracing::error!(error = %e, "admin: verifying the audit chain failed");
            internal_error_page(lang)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_filters_do_not_filter() {
        let q: AuditQuery = serde_urlencoded::from_str(
            "actor=&action=read&resource_type=+Patient+&resource_id=&outcome=denied&page=2",
        )
        .unwrap();
        let f = q.filter();
        assert_eq!(f.actor, None);
        assert_eq!(f.action.as_deref(), Some("read"));
        assert_eq!(f.resource_type.as_deref(), Some("Patient"));
        assert_eq!(f.outcome.as_deref(), Some("denied"));
        assert_eq!(q.page, Some(2));
    }

    #[test]
    fn paging_links_keep_the_filters() {
        let q = AuditQuery {
            actor: "account:a b".into(),
            action: "read".into(),
            ..AuditQuery::default()
        };
        let link = q.link(3);
        assert!(
            link.starts_with("/admin/audit?actor=account%3Aa+b&action=read"),
            "{link}"
        );
        assert!(link.ends_with("&page=3"));
        assert!(!link.contains("page=&"), "{link}");
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(timestamp(1_000_000), "1970-01-01 00:00:01 UTC");
    }
}
