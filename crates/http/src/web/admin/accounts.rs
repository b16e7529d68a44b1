//! `/admin/accounts`: every account (email, role, confirmed, disabled), a page at a time, with
//! a button per row to disable or enable it. Disabling ends the account's sessions at once.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use carefront_store::repository::now_micros;
use carefront_store::tables::{accounts, sessions};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{page_and_offset, Admin};
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms;
use crate::web::page::{csrf_failed_page, html_page, internal_error_page, message_page, see_other};
use crate::AppState;

/// Accounts per page.
pub const PAGE_SIZE: usize = 50;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AccountsQuery {
    page: Option<usize>,
    /// What the last button did: `disabled` or `enabled`.
    done: Option<String>,
}

#[derive(Serialize)]
struct Row {
    id: String,
    email: String,
    role: String,
    confirmed: bool,
    disabled: bool,
    /// The administrator's own row has no button: they cannot lock themselves out.
    is_self: bool,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<AccountsQuery>,
) -> Response {
    let lang = admin.lang;
    let (page, offset) = page_and_offset(q.page, PAGE_SIZE);
    let store = state.repo.store().as_ref();
    // One more than a page tells whether there is a next page.
    let mut found = match accounts::list(store, None, PAGE_SIZE + 1, offset).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "admin: listing accounts failed");
            return internal_error_page(lang);
        }
    };
    let has_next = found.len() > PAGE_SIZE;
    found.truncate(PAGE_SIZE);
    let rows: Vec<Row> = found
        .into_iter()
        .map(|a| Row {
            is_self: a.id == admin.who.account.id,
            id: a.id,
            email: a.email,
            role: format!("role.{}", a.role),
            confirmed: a.email_confirmed,
            disabled: a.disabled,
        })
        .collect();
    let notice = match q.done.as_deref() {
        Some("disabled") => Some("admin.accounts.disabled_done"),
        Some("enabled") => Some("admin.accounts.enabled_done"),
        _ => None,
    };
    html_page(
        "admin_accounts.html",
        context! {
            lang,
            user => user_context(&admin.who),
            rows,
            page,
            prev => (page > 1).then(|| page - 1),
            next => has_next.then_some(page + 1),
            notice,
        },
        lang,
        admin.lang_chosen,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DisableForm {
    /// `true` to disable, `false` to enable again.
    pub disabled: bool,
    pub page: Option<usize>,
    pub csrf: String,
}

pub async fn set_disabled(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = admin.lang;
    let form: DisableForm = forms::parse(&body);
    if !csrf::session_ok(&admin.who, &form.csrf) {
        return csrf_failed_page(lang);
    }
    if id == admin.who.account.id {
        return message_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            "admin.accounts.self.title",
            "admin.accounts.self.body",
        );
    }
    let store = state.repo.store().as_ref();
    let mut account = match accounts::by_id(store, &id).await {
        Ok(Some(a)) => a,
        Ok(None) => return crate::web::not_found_page(lang),
        Err(e) => {
            tracing::error!(error = %e, "admin: reading an account failed");
            return internal_error_page(lang);
        }
    };
    account.disabled = form.disabled;
    account.updated_at = now_micros();
    if let Err(e) = accounts::update(store, &account).await {
        tracing::error!(error = %e, "admin: updating an account failed");
        return internal_error_page(lang);
    }
    if form.disabled {
        // Sessions are checked against `disabled` on every request too; deleting them makes
        // the sign-out immediate and final.
        if let Err(e) = sessions::delete_for_account(store, &account.id).await {
            tracing::error!(error = %e, "admin: ending a disabled account's sessions failed");
            return internal_error_page(lang);
        }
    }
    let done = if form.disabled { "disabled" } else { "enabled" };
    let action = if form.disabled { "disable" } else { "enable" };
    admin
        .audit(&state, action, None, Some(&account.id), "success")
        .await;
    tracing::info!(account = %account.id, by = %admin.who.account.id, done, "account access changed");
    let (page, _) = page_and_offset(form.page, PAGE_SIZE);
    see_other(&format!("/admin/accounts?page={page}&done={done}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_button_form_parses() {
        let f: DisableForm = forms::parse(b"disabled=true&page=2&csrf=abc");
        assert!(f.disabled);
        assert_eq!(f.page, Some(2));
        assert_eq!(f.csrf, "abc");
        let f: DisableForm = forms::parse(b"disabled=false");
        assert!(!f.disabled);
        assert_eq!(f.page, None);
    }
}
