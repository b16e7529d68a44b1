//! The SMTP side: `smtp_url` parsed into a lettre transport, and one outbox mail sent.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use percent_encoding::percent_decode_str;

use carefront_store::tables::outbox::Mail;

/// Shorter than the claim lease, so a slow server cannot outlive the claim (see `LEASE`).
const TIMEOUT: Duration = Duration::from_secs(30);

/// An SMTP server to deliver through, with the sender address.
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    shown: String,
}

/// A failed delivery: `detail` is kept in the outbox for the operator (it may quote the
/// server, which can echo the recipient); `kind` alone is fit for logs.
#[derive(Debug)]
pub struct SmtpError {
    pub kind: &'static str,
    pub detail: String,
}

impl Smtp {
    /// `smtp://[user[:password]@]host[:port][/ehlo-name][?tls=starttls|opportunistic|none]`
    /// (STARTTLS required unless told otherwise; port 587, or 25 with `tls=none`) or
    /// `smtps://…` (TLS from the first byte; port 465). User and password are
    /// percent-decoded. Errors never quote the URL, which holds the password.
    pub fn from_url(smtp_url: &str, mail_from: &str) -> Result<Smtp, String> {
        let url = url::Url::parse(smtp_url).map_err(|e| format!("smtp_url is not a URL: {e}"))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("smtp_url has no host")?
            .trim_matches(['[', ']'])
            .to_owned();
        let tls_param = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let tls_params =
            || TlsParameters::new(host.clone()).map_err(|e| format!("smtp_url TLS setup: {e}"));
        let (tls, port, mode) = match (url.scheme(), tls_param.as_deref()) {
            ("smtp", None | Some("starttls" | "required")) => {
                (Tls::Required(tls_params()?), 587, "STARTTLS")
            }
            ("smtp", Some("opportunistic")) => (
                Tls::Opportunistic(tls_params()?),
                587,
                "STARTTLS if offered",
            ),
            ("smtp", Some("none")) => (Tls::None, 25, "no TLS"),
            ("smtps", None | Some("implicit" | "tls")) => (Tls::Wrapper(tls_params()?), 465, "TLS"),
            (scheme, tls) => {
                return Err(format!(
                    "smtp_url: scheme '{scheme}' with tls={} is not supported (smtp:// with \
                     tls=starttls|opportunistic|none, or smtps://)",
                    tls.unwrap_or("(none)")
                ))
            }
        };
        let port = url.port().unwrap_or(port);
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        let name = url.path().trim_matches('/');
        if !name.is_empty() {
            builder = builder.hello_name(ClientId::Domain(name.to_owned()));
        }
        let user = decode(url.username())?;
        if !user.is_empty() {
            let password = decode(url.password().unwrap_or(""))?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let from: Mailbox = mail_from
            .parse()
            .map_err(|e| format!("mail_from '{mail_from}' is not an address: {e}"))?;
        let who = if user.is_empty() {
            String::new()
        } else {
            format!("{user}@")
        };
        Ok(Smtp {
            transport: builder.build(),
            from,
            shown: format!("{}://{who}{host}:{port} ({mode})", url.scheme()),
        })
    }

    /// The server for logs: scheme, user, host, port and TLS mode; never the password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Send one outbox mail as plain text, with its attachment (an .ics invitation) if any.
    pub async fn send(&self, mail: &Mail) -> Result<(), SmtpError> {
        let to: Mailbox = mail.to.parse().map_err(|e| SmtpError {
            kind: "bad recipient address",
            detail: format!("recipient address: {e}"),
        })?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone());
        let bad = |e: lettre::error::Error| SmtpError {
            kind: "bad message",
            detail: e.to_string(),
        };
        let message = match &mail.attachment {
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(mail.body_text.clone())
                .map_err(bad)?,
            Some(a) => {
                let content_type = ContentType::parse(&a.content_type).map_err(|e| SmtpError {
                    kind: "bad message",
                    detail: format!("attachment type: {e}"),
                })?;
                builder
                    .multipart(
                        MultiPart::mixed()
                            .singlepart(SinglePart::plain(mail.body_text.clone()))
                            .singlepart(
                                Attachment::new(a.name.clone()).body(a.body.clone(), content_type),
                            ),
                    )
                    .map_err(bad)?
            }
        };
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SmtpError {
                kind: kind(&e),
                detail: e.to_string(),
            })
    }
}

fn decode(part: &str) -> Result<String, String> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "smtp_url: user or password is not UTF-8 once decoded".to_owned())
}

fn kind(e: &lettre::transport::smtp::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_tls() {
        "TLS"
    } else if e.is_permanent() {
        "rejected (permanent)"
    } else if e.is_transient() {
        "rejected (transient)"
    } else if e.is_client() {
        "client"
    } else {
        "connection"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_tls_and_port_and_hide_the_password() {
        let s = Smtp::from_url(
            "smtp://mailer:p%40ss@mail.example.org?tls=starttls",
            "Carefront <care@example.org>",
        )
        .unwrap();
        assert_eq!(s.shown(), "smtp://mailer@mail.example.org:587 (STARTTLS)");
        let s = Smtp::from_url("smtps://mail.example.org", "care@example.org").unwrap();
        assert_eq!(s.shown(), "smtps://mail.example.org:465 (TLS)");
        let s = Smtp::from_url("smtp://127.0.0.1:2525?tls=none", "care@example.org").unwrap();
        assert_eq!(s.shown(), "smtp://127.0.0.1:2525 (no TLS)");
    }

    #[test]
    fn bad_settings_are_explained_without_the_password() {
        for (url, from, expect) in [
            ("http://u:secret@h", "a@b.org", "scheme 'http'"),
            ("smtp://u:secret@h?tls=maybe", "a@b.org", "tls=maybe"),
            ("smtp://u:secret@h", "not an address", "mail_from"),
            ("not a url secret", "a@b.org", "not a URL"),
        ] {
            let err = Smtp::from_url(url, from).err().unwrap();
            assert!(err.contains(expect), "{err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
