//! Mail about new messages, written to the outbox in the message's own transaction. Mail
//! crosses servers Carefront does not control, so it says only that there is a message and
//! where to sign in to read it: never the topic, the text, a file or anyone's name.
//!
//! Who gets mail: the patient's accounts for every message from the team; the team's
//! practitioners once per new thread (not for each reply: their inbox and its live count
//! show replies, and a busy team would otherwise drown in mail).

use carefront_store::sql::{statement, Bind, Dialect};
use carefront_store::tables::outbox::{self, Outgoing};
use carefront_store::StoreTx;
use serde_json::Value;

use super::index::ThreadRow;
use super::model::{ref_id, Side};
use super::service::MsgError;
use crate::web::forms::message;
use crate::web::i18n::translate;
use crate::AppState;

/// An address and the language of its account.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub email: String,
    pub lang: &'static str,
}

/// Who hears of a message `from` one side in `thread` (`new_thread`: its first message).
pub async fn recipients(
    state: &AppState,
    from: Side,
    thread: &ThreadRow,
    new_thread: bool,
) -> Result<Vec<Recipient>, MsgError> {
    let linked: Vec<String> = match (from, new_thread) {
        (Side::Team, _) => vec![format!("Patient/{}", thread.patient_id)],
        (Side::Patient, true) => practitioners_of(state, &thread.organization_id).await?,
        (Side::Patient, false) => Vec::new(),
    };
    if linked.is_empty() {
        return Ok(Vec::new());
    }
    let store = state.repo.store();
    let rows = store
        .query(statement(
            Dialect::of(store.backend()),
            &format!(
                "SELECT email, locale FROM accounts WHERE disabled = {{}} AND email_confirmed = {{}} \
                 AND fhir_ref IN ({}) ORDER BY email",
                vec!["{}"; linked.len()].join(", ")
            ),
            [Bind::Bool(false), Bind::Bool(true)]
                .into_iter()
                .chain(linked.into_iter().map(Bind::Text))
                .collect(),
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(Recipient {
                email: r[0].text()?.to_owned(),
                lang: if r[1].text().is_some_and(|l| l.starts_with("fr")) {
                    "fr"
                } else {
                    "en"
                },
            })
        })
        .collect())
}

/// `Practitioner/…` references of the practitioners working for `organization`.
async fn practitioners_of(state: &AppState, organization: &str) -> Result<Vec<String>, MsgError> {
    let pairs = [
        (
            "organization".to_owned(),
            format!("Organization/{organization}"),
        ),
        ("_count".to_owned(), "500".to_owned()),
    ];
    let query = state
        .repo
        .parse_search(Some("PractitionerRole"), &pairs, false)?;
    let mut refs = Vec::new();
    for role in state.repo.search(&query).await?.matches {
        let Ok(json) = serde_json::from_slice::<Value>(&role.content) else {
            continue;
        };
        if let Some(id) = ref_id(&json["practitioner"], "Practitioner") {
            let r = format!("Practitioner/{id}");
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
    }
    Ok(refs)
}

/// The mail to one recipient: a link to the thread, nothing of its content.
pub fn mail(to: &Recipient, base_url: &str, thread_id: &str) -> Outgoing {
    let link = format!("{}/messages/{thread_id}", base_url.trim_end_matches('/'));
    Outgoing {
        to: to.email.clone(),
        subject: translate(to.lang, "mail.message.subject").into_owned(),
        body_text: message(to.lang, "mail.message.body", &[("link", link)]),
        ..Outgoing::default()
    }
}

pub async fn enqueue_in(
    tx: &mut dyn StoreTx,
    recipients: &[Recipient],
    base_url: &str,
    thread_id: &str,
    now: i64,
) -> Result<(), MsgError> {
    for r in recipients {
        outbox::enqueue_in(tx, &mail(r, base_url, thread_id), now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_links_to_the_thread_in_the_reader_language() {
        for lang in ["en", "fr"] {
            let m = mail(
                &Recipient {
                    email: "a@example.org".into(),
                    lang,
                },
                "https://care.example/",
                "t1",
            );
            assert!(m.body_text.contains("https://care.example/messages/t1"));
            assert!(!m.subject.starts_with("mail."), "{lang}: translated");
        }
    }
}
