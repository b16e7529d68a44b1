//! Delivery of the mail outbox over SMTP. Web handlers only enqueue (see
//! `web::mailbox::send_link`); a [`Sender`] started by `serve`/`demo` when `smtp_url` is set
//! delivers. Without SMTP the outbox is read at `/mailbox` instead.
//!
//! Logs name a mail by its id only: addresses, subjects and bodies (one-time links) and the
//! SMTP password never reach them.

mod sender;
mod smtp;

pub use sender::{backoff, Sender, LEASE, MAX_ATTEMPTS};
pub use smtp::{Smtp, SmtpError};
