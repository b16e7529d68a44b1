//! `/admin/…`: the administrator's pages (clinics, practitioners, accounts, audit log). Every
//! handler takes [`Admin`], so no page can be reached without the administrator role.

mod accounts;
mod audit;
mod clinics;
mod practitioners;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use carefront_auth::Role;
use serde::Serialize;
use serde_json::Value;

use super::page::message_page;
use super::session::SignedIn;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/clinics", get(clinics::show).post(clinics::submit))
        .route(
            "/admin/practitioners",
            get(practitioners::show).post(practitioners::submit),
        )
        .route("/admin/accounts", get(accounts::show))
        .route(
            "/admin/accounts/{id}/disabled",
            post(accounts::set_disabled),
        )
        .route("/admin/audit", get(audit::show))
        .route("/admin/audit/verify", post(audit::verify))
}

/// A signed-in administrator, with the page language and the client's address (for audit
/// entries). Signed out: to `/signin`; another role: a 403 page.
pub struct Admin {
    pub who: SignedIn,
    pub lang: &'static str,
    /// `?lang=` was given: the page remembers it in a cookie.
    pub lang_chosen: bool,
    pub source: String,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let v = crate::web::booking::Visitor::from_request_parts(parts, state).await?;
        if v.role != Role::Administrator {
            return Err(message_page(
                StatusCode::FORBIDDEN,
                v.lang,
                "error.forbidden.title",
                "error.forbidden.body",
            ));
        }
        Ok(Admin {
            who: v.who,
            lang: v.lang,
            lang_chosen: v.lang_chosen,
            source: v.source,
        })
    }
}

impl Admin {
    /// Record what the administrator did to a resource in the audit chain (the `/fhir` layer
    /// does this for the API; these pages write through the repository directly). Account
    /// changes have no resource type, only the account id.
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        resource_type: Option<&str>,
        resource_id: Option<&str>,
        outcome: &str,
    ) {
        crate::web::session::audit_page_access(
            state,
            crate::web::session::PageAccess {
                account_id: &self.who.account.id,
                role: Role::Administrator.as_str(),
                source: &self.source,
                action,
                resource_type,
                resource_id,
                outcome,
            },
        )
        .await;
    }
}

/// One option of a `<select>`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The page number (at least 1) and the offset of its first row.
pub fn page_and_offset(page: Option<usize>, size: usize) -> (usize, usize) {
    let page = page.unwrap_or(1).max(1);
    (page, (page - 1).saturating_mul(size))
}

/// A string inside a resource, by a path of keys and array indexes.
pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| match k.parse::<usize>() {
            Ok(i) => v.get(i),
            Err(_) => v.get(k),
        })
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The current resources of one type (at most `count`), parsed; for the lists and selects.
pub(crate) async fn list_resources(
    state: &AppState,
    resource_type: &str,
    params: &[(&str, &str)],
) -> Result<Vec<(String, Value)>, carefront_store::repository::RepoError> {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let query = state
        .repo
        .parse_search(Some(resource_type), &params, false)?;
    let page = state.repo.search(&query).await?;
    Ok(page
        .matches
        .iter()
        .chain(page.included.iter())
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.content).unwrap_or_default();
            (r.id.clone(), v)
        })
        .collect())
}

/// The Organizations an administrator can link to, by name.
/// The organisations to choose from, or the error page to answer with.
async fn organizations_or_error_page(
    state: &AppState,
    lang: &str,
) -> Result<Vec<Choice>, Response> {
    organizations(state).await.map_err(|e| {
        tracing::error!(status = e.status(), "admin: listing organizations failed");
        crate::web::page::internal_error_page(lang)
    })
}

async fn organizations(
    state: &AppState,
) -> Result<Vec<Choice>, carefront_store::repository::RepoError> {
    let orgs = list_resources(state, "Organization", &[("_count", "200")]).await?;
    let mut choices: Vec<Choice> = orgs
        .into_iter()
        .map(|(id, org)| {
            let name = str_at(&org, &["name"]);
            Choice {
                label: if name.is_empty() {
                    id.clone()
                } else {
                    name.to_owned()
                },
                value: id,
            }
        })
        .collect();
    choices.sort_by_key(|c| c.label.to_lowercase());
    Ok(choices)
}

/// The chosen Organization: empty means none; anything else must be one of `choices`.
pub fn organization_choice(
    input: &str,
    choices: &[Choice],
) -> Result<Option<String>, &'static str> {
    let id = input.trim();
    if id.is_empty() {
        return Ok(None);
    }
    choices
        .iter()
        .find(|c| c.value == id)
        .map(|c| Some(c.value.clone()))
        .ok_or("admin.organization.unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_start_at_one() {
        assert_eq!(page_and_offset(None, 50), (1, 0));
        assert_eq!(page_and_offset(Some(0), 50), (1, 0));
        assert_eq!(page_and_offset(Some(3), 50), (3, 100));
    }

    #[test]
    fn only_listed_organizations_are_accepted() {
        let choices = [Choice {
            value: "org-1".into(),
            label: "Lyon Health".into(),
        }];
        assert_eq!(organization_choice(" ", &choices), Ok(None));
        assert_eq!(
            organization_choice("org-1", &choices),
            Ok(Some("org-1".into()))
        );
        assert!(organization_choice("org-2", &choices).is_err());
    }
}
