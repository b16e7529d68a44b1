//! `/home`: each role's dashboard, and the navigation that goes with it. The features behind
//! the sections come later; until then each section says what will appear there.

use axum::extract::Query;
use axum::http::HeaderMap;
use axum::response::Response;
use carefront_auth::Role;
use minijinja::{context, Value};
use serde::Serialize;

use super::session::SignedIn;
use super::{html_page, i18n, LangQuery};

/// The sections of a role's dashboard, in order. Strings: `dash.<role>.<section>.title` and
/// `.empty`.
pub fn sections(role: Role) -> &'static [&'static str] {
    match role {
        Role::Patient => &[
            "symptoms",
            "appointments",
            "messages",
            "prescriptions",
            "record",
        ],
        Role::Practitioner => &["agenda", "queue"],
        Role::Pharmacist => &["dispense"],
        Role::Dispatcher => &["visits"],
        Role::EmployerAdmin => &["enrolment", "reports"],
        Role::Administrator => &["clinics", "practitioners", "schedules", "accounts", "audit"],
    }
}

/// Where a section lives: the administrator's sections, a patient's appointments and
/// symptom check, a clinician's agenda and triage queue are pages of their own; the others
/// are still cards on the dashboard.
pub fn section_page(role: Role, section: &str) -> Option<String> {
    match (role, section) {
        (Role::Administrator, _) => Some(format!("/admin/{section}")),
        (Role::Patient, "appointments") => Some("/appointments".into()),
        (Role::Patient, "symptoms") => Some("/triage".into()),
        (Role::Patient, "messages") => Some("/messages".into()),
        (Role::Practitioner, "agenda") => Some("/agenda".into()),
        (Role::Practitioner, "queue") => Some("/triage/queue".into()),
        _ => None,
    }
}

/// The navigation label of a section, when it differs from the card's title.
fn nav_label(role: Role, section: &str) -> String {
    match (role, section) {
        (Role::Patient, "appointments") => "nav.appointments".into(),
        (Role::Patient, "symptoms") => "nav.triage".into(),
        (Role::Practitioner, "agenda") => "nav.agenda".into(),
        (Role::Practitioner, "queue") => "nav.triage_queue".into(),
        _ => format!("dash.{}.{section}.title", role.as_str()),
    }
}

#[derive(Serialize)]
struct NavItem {
    href: String,
    label: String,
    /// A fragment the page loads into the item (the unread count), when set.
    badge: Option<&'static str>,
}

/// Where the navigation loads the unread message count from.
const UNREAD_BADGE: &str = "/messages/unread";

#[derive(Serialize)]
struct Section {
    id: &'static str,
    title: String,
    empty: String,
    href: Option<String>,
}

fn role_of(who: &SignedIn) -> Role {
    // Accounts are written through `Role`, so an unknown value is a damaged row: show the
    // least-privileged dashboard rather than fail.
    Role::parse(&who.account.role).unwrap_or(Role::Patient)
}

/// What the page frame needs about the signed-in person: name, role, navigation and the
/// token for the sign-out form.
pub fn user_context(who: &SignedIn) -> Value {
    let role = role_of(who);
    let mut nav: Vec<NavItem> = sections(role)
        .iter()
        .map(|s| NavItem {
            href: section_page(role, s).unwrap_or_else(|| format!("/home#{s}")),
            label: nav_label(role, s),
            badge: (*s == "messages").then_some(UNREAD_BADGE),
        })
        .collect();
    // Booking: patients find a time first; clinic staff run their clinic's day.
    if role == Role::Patient {
        nav.insert(
            0,
            NavItem {
                href: "/book".into(),
                label: "nav.book".into(),
                badge: None,
            },
        );
    }
    // Administrators work the triage queue too (practitioners have it as a section).
    if role == Role::Administrator {
        nav.push(NavItem {
            href: "/triage/queue".into(),
            label: "nav.triage_queue".into(),
            badge: None,
        });
    }
    // Patients read their finished visits; practitioners are the on-demand pool.
    let record = match role {
        Role::Patient => Some(("/record/visits", "nav.visits")),
        Role::Practitioner => Some(("/ondemand", "nav.ondemand")),
        _ => None,
    };
    if let Some((href, label)) = record {
        nav.push(NavItem {
            href: href.into(),
            label: label.into(),
            badge: None,
        });
    }
    // The care team answers patients' messages; administrators follow response times.
    match role {
        Role::Practitioner => nav.push(NavItem {
            href: "/messages/inbox".into(),
            label: "nav.messages_inbox".into(),
            badge: Some(UNREAD_BADGE),
        }),
        Role::Administrator => nav.push(NavItem {
            href: "/messages/response-times".into(),
            label: "nav.messages_times".into(),
            badge: None,
        }),
        _ => {}
    }
    if super::booking::STAFF.contains(&role) {
        nav.push(NavItem {
            href: "/clinic".into(),
            label: "nav.clinic".into(),
            badge: None,
        });
    }
    nav.insert(
        0,
        NavItem {
            href: "/home".into(),
            label: "nav.dashboard".into(),
            badge: None,
        },
    );
    nav.push(NavItem {
        href: "/account".into(),
        label: "nav.account".into(),
        badge: None,
    });
    context! {
        name => who.account.display_name,
        role => role.as_str(),
        role_label => format!("role.{}", role.as_str()),
        csrf => who.session.csrf_token,
        nav => nav,
    }
}

pub async fn page(who: SignedIn, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = i18n::choose(q.lang.as_deref(), &headers);
    let role = role_of(&who);
    let sections: Vec<Section> = sections(role)
        .iter()
        .map(|s| Section {
            id: s,
            title: i18n::translate(lang, &format!("dash.{}.{s}.title", role.as_str())).into(),
            empty: i18n::translate(lang, &format!("dash.{}.{s}.empty", role.as_str())).into(),
            href: section_page(role, s),
        })
        .collect();
    html_page(
        "dashboard.html",
        context! { lang => lang, user => user_context(&who), sections => sections },
        lang,
        q.lang.is_some(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_is_written_in_both_languages() {
        for role in Role::ALL {
            assert!(!sections(role).is_empty());
            for s in sections(role) {
                for part in ["title", "empty"] {
                    let key = format!("dash.{}.{s}.{part}", role.as_str());
                    for lang in i18n::LANGUAGES {
                        assert_ne!(i18n::translate(lang, &key), key, "{lang}: {key}");
                    }
                }
            }
            if role == Role::Administrator {
                for s in sections(role) {
                    assert_eq!(section_page(role, s), Some(format!("/admin/{s}")));
                }
            }
            let key = format!("role.{}", role.as_str());
            assert_ne!(i18n::translate("fr", &key), key);
        }
    }
}
