//! Mail with a one-time link (email confirmation, password reset), written to the outbox, and
//! `/mailbox`: the operator's view of that outbox while no SMTP server delivers it (see
//! `crate::mail` for delivery). With SMTP configured the page answers 404. Without, `demo`
//! leaves it open to anyone, so that a newcomer can confirm the demo sign-up; `serve` shows it
//! to administrators only, since the links in it take over accounts.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use carefront_auth::Role;
use carefront_store::repository::{format_instant, now_micros};
use carefront_store::tables::{one_time, outbox};
use carefront_store::StoreResult;
use minijinja::context;
use serde::Serialize;

use super::forms::message;
use super::page::message_page;
use super::session::SignedIn;
use super::{html_page, i18n, LangQuery};
use crate::AppState;

pub const CONFIRM_PURPOSE: &str = "confirm-email";
pub const RESET_PURPOSE: &str = "reset-password";
const CONFIRM_LIFETIME_MICROS: i64 = 24 * 3600 * 1_000_000;
const RESET_LIFETIME_MICROS: i64 = 3600 * 1_000_000;

/// The base of links in mail: the configured public URL, else the request's Host.
///
/// Without a public URL an attacker could make a reset mail point at their own host by
/// sending a forged Host header: production deployments must set `public_url`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Which mail to send: the strings are `mail.<kind>.subject` and `mail.<kind>.body`, whose
/// body has `{link}` and `{hours}`.
#[derive(Clone, Copy)]
pub enum LinkMail {
    Confirm,
    Reset,
}

impl LinkMail {
    fn parts(self) -> (&'static str, &'static str, &'static str, i64) {
        match self {
            LinkMail::Confirm => (
                "confirm",
                CONFIRM_PURPOSE,
                "/confirm",
                CONFIRM_LIFETIME_MICROS,
            ),
            LinkMail::Reset => ("reset", RESET_PURPOSE, "/reset", RESET_LIFETIME_MICROS),
        }
    }
}

/// Issue a one-time link for `account_id` and put the mail in the outbox.
pub async fn send_link(
    state: &AppState,
    base: &str,
    kind: LinkMail,
    account_id: &str,
    to: &str,
    lang: &str,
) -> StoreResult<()> {
    let (name, purpose, path, lifetime) = kind.parts();
    let store = state.repo.store().as_ref();
    let now = now_micros();
    let token = one_time::issue(store, account_id, purpose, now + lifetime).await?;
    let link = format!("{base}{path}?token={token}");
    let hours = (lifetime / 3_600_000_000).to_string();
    let subject = message(lang, &format!("mail.{name}.subject"), &[]);
    let body = message(
        lang,
        &format!("mail.{name}.body"),
        &[("link", link), ("hours", hours)],
    );
    outbox::enqueue(store, to, &subject, &body, now).await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// A piece of a mail's text: plain, or a link to make clickable.
#[derive(Serialize)]
struct Piece {
    text: String,
    link: bool,
}

/// Split text into plain pieces and `http(s)://` links (a link runs to the next whitespace).
fn linkify(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        let end = rest[start..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |e| start + e);
        if start > 0 {
            out.push(Piece {
                text: rest[..start].to_owned(),
                link: false,
            });
        }
        out.push(Piece {
            text: rest[start..end].to_owned(),
            link: true,
        });
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        out.push(Piece {
            text: rest.to_owned(),
            link: false,
        });
    }
    out
}

#[derive(Serialize)]
struct ShownMail {
    to: String,
    subject: String,
    at: String,
    body: Vec<Piece>,
}

/// Whether `who` may read the mailbox: see the module comment.
pub fn may_read(state: &AppState, who: Option<&SignedIn>) -> bool {
    state.config.mailbox_open()
        || (state.config.demo_mailbox
            && who.is_some_and(|w| {
                !w.needs_second_factor() && w.account.role == Role::Administrator.as_str()
            }))
}

pub async fn page(
    State(state): State<AppState>,
    who: Option<SignedIn>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    // 404 rather than 403: others need not learn that the page exists.
    if !may_read(&state, who.as_ref()) {
        return message_page(
            StatusCode::NOT_FOUND,
            lang,
            "error.not_found.title",
            "error.not_found.body",
        );
    }
    let mails = match outbox::recent(state.repo.store().as_ref(), None, 50).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "reading the mail outbox failed");
            return super::page::internal_error_page(lang);
        }
    };
    let shown: Vec<ShownMail> = mails
        .into_iter()
        .map(|m| ShownMail {
            to: m.to,
            subject: m.subject,
            at: format_instant(m.created_at),
            body: linkify(&m.body_text),
        })
        .collect();
    html_page(
        "mailbox.html",
        context! { lang => lang, mails => shown },
        lang,
        q.lang.is_some(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_cut_out_of_the_text() {
        let p = linkify("Open http://h:1/confirm?token=ab to confirm.\nThanks");
        let shown: Vec<(&str, bool)> = p.iter().map(|p| (p.text.as_str(), p.link)).collect();
        assert_eq!(
            shown,
            vec![
                ("Open ", false),
                ("http://h:1/confirm?token=ab", true),
                (" to confirm.\nThanks", false)
            ]
        );
        assert_eq!(linkify("https://x").len(), 1);
        assert!(linkify("").is_empty());
    }

    #[test]
    fn link_mail_is_written_in_both_languages() {
        for lang in i18n::LANGUAGES {
            for name in ["confirm", "reset"] {
                let body = message(
                    lang,
                    &format!("mail.{name}.body"),
                    &[("link", "L".into()), ("hours", "1".into())],
                );
                assert!(
                    body.contains('L') && !body.contains("{link}"),
                    "{lang} {name}"
                );
            }
        }
    }
}
