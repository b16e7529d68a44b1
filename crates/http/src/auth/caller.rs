//! The [`Caller`] of a `/fhir` request and the middleware that finds it.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use carefront_auth::{AccountPrincipal, OrganizationRef, PatientRef, Principal, Role};
use carefront_fhir::IssueCode;
use carefront_store::tables::accounts::Account;
use serde_json::Value;

use super::TokenCache;
use crate::web::session::SignedIn;
use crate::{ApiError, AppState};

/// Who is calling, as the audit log and the access decisions need it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// For the audit log: `client:<id>`, `account:<id>` or `anonymous`.
    pub actor: String,
    /// `system` for a client, the account's role (`patient`, ...), or `anonymous`.
    pub role: String,
}

impl Caller {
    pub fn anonymous() -> Self {
        Caller {
            principal: Principal::Anonymous,
            actor: "anonymous".into(),
            role: "anonymous".into(),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self.principal, Principal::Anonymous)
    }
}

/// Handlers take the caller as an extractor; without the layer (never in `router`) a request
/// is anonymous, so nothing is granted by mistake.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(Caller::anonymous))
    }
}

/// A bearer token was sent but is unknown, expired or malformed: 401, whatever else the
/// request carries.
#[derive(Debug, Clone, Copy)]
struct InvalidToken;

/// The state of [`layer`]: the application's, and the token cache it alone uses.
#[derive(Clone)]
pub struct AuthState {
    app: AppState,
    tokens: Arc<TokenCache>,
}

impl AuthState {
    pub fn new(app: AppState) -> Self {
        AuthState {
            app,
            tokens: Arc::default(),
        }
    }
}

/// Use with `from_fn_with_state(AuthState::new(state), auth::layer)`, outside the audit
/// layer so that it sees the caller. Requests outside `/fhir` and `/api` (pages find their
/// session themselves) pass straight through.
pub async fn layer(State(auth): State<AuthState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path != "/fhir" && !path.starts_with("/fhir/") && !path.starts_with("/api/") {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let caller = match identify(&auth, &mut parts).await {
        Ok(caller) => caller,
        Err(e) => {
            // The store could not be asked: the request cannot be authorised.
            return e.into_response();
        }
    };
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

/// On the FHIR routes that need a caller: 401 for anonymous requests.
pub async fn require(req: Request, next: Next) -> Response {
    let invalid_token = req.extensions().get::<InvalidToken>().is_some();
    let anonymous = req
        .extensions()
        .get::<Caller>()
        .is_none_or(Caller::is_anonymous);
    if !anonymous {
        return next.run(req).await;
    }
    let (message, challenge) = if invalid_token {
        (
            "the bearer token is unknown or has expired; get a new one from /oauth2/token",
            "Bearer error=\"invalid_token\"",
        )
    } else {
        (
            "sign in, or send a bearer token from /oauth2/token",
            "Bearer",
        )
    };
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, IssueCode::Login, message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

async fn identify(auth: &AuthState, parts: &mut Parts) -> Result<Caller, ApiError> {
    let store = auth.app.repo.store().as_ref();
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let client = match token {
            Some(token) if !token.is_empty() => auth
                .tokens
                .lookup(store, token)
                .await
                .map_err(carefront_store::repository::RepoError::from)?,
            _ => None,
        };
        return Ok(match client {
            Some(client) => Caller {
                actor: format!("client:{}", client.id),
                role: "system".into(),
                principal: Principal::Client(client),
            },
            None => {
                parts.extensions.insert(InvalidToken);
                Caller::anonymous()
            }
        });
    }
    let signed_in =
        <SignedIn as OptionalFromRequestParts<AppState>>::from_request_parts(parts, &auth.app)
            .await
            .unwrap_or(None);
    match signed_in {
        // Half signed in (TOTP still owed) is not signed in.
        Some(s) if !s.needs_second_factor() => Ok(account_caller(&auth.app, &s.account).await),
        _ => Ok(Caller::anonymous()),
    }
}

/// The caller a signed-in account is (web pages that decide access like `/fhir` use it).
pub async fn account_caller(state: &AppState, account: &Account) -> Caller {
    let Ok(role) = Role::parse(&account.role) else {
        tracing::warn!("an account has an unknown role; treated as anonymous");
        return Caller::anonymous();
    };
    let linked = |prefix: &str| {
        account
            .fhir_ref
            .as_deref()
            .and_then(|r| r.strip_prefix(prefix))
            .map(str::to_owned)
    };
    let patient_id = linked("Patient/").and_then(|id| PatientRef::parse(&id).ok());
    let organizations = match (role, linked("Practitioner/")) {
        (Role::Patient, _) | (_, None) => Vec::new(),
        (_, Some(practitioner)) => organizations_of(state, &practitioner).await,
    };
    Caller {
        actor: format!("account:{}", account.id),
        role: role.as_str().into(),
        principal: Principal::Account(AccountPrincipal {
            id: account.id.clone(),
            role,
            patient_id,
            organizations,
        }),
    }
}

/// The organisations a practitioner works for: those of their PractitionerRoles.
async fn organizations_of(state: &AppState, practitioner_id: &str) -> Vec<OrganizationRef> {
    let pairs = [
        (
            "practitioner".to_owned(),
            format!("Practitioner/{practitioner_id}"),
        ),
        ("_count".to_owned(), "100".to_owned()),
    ];
    let page = match state
        .repo
        .parse_search(Some("PractitionerRole"), &pairs, false)
    {
        Ok(query) => state.repo.search(&query).await,
        Err(e) => Err(e),
    };
    let Ok(page) = page else {
        tracing::warn!("the organisations of a practitioner could not be found");
        return Vec::new();
    };
    let mut orgs = Vec::new();
    for role in &page.matches {
        let Ok(json) = serde_json::from_slice::<Value>(&role.content) else {
            continue;
        };
        if let Some(org) = crate::fhir::access::organization_ref(&json["organization"]) {
            if !orgs.contains(&org) {
                orgs.push(org);
            }
        }
    }
    orgs
}
