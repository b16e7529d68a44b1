//! Reading a posted message form (`multipart/form-data`: `csrf`, `topic`, `text` and any
//! number of `files`), with its CSRF token checked. Size and type are the service's to
//! judge, so the page and the API refuse the same files.

use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::Response;

use crate::messaging::attachment::Upload;
use crate::web::booking::Visitor;
use crate::web::csrf;
use crate::web::page::{csrf_failed_page, message_page};

#[derive(Debug, Default)]
pub struct Posted {
    pub topic: String,
    pub text: String,
    pub uploads: Vec<Upload>,
}

/// The form, or the page to answer with (forged, or unreadable: larger than the server's
/// body limit).
pub async fn read(mut multipart: Multipart, v: &Visitor) -> Result<Posted, Response> {
    let unreadable = || {
        message_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            v.lang,
            "messages.error.unreadable.title",
            "messages.error.unreadable.body",
        )
    };
    let mut posted = Posted::default();
    let mut token = String::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|_| unreadable())?;
        match (name.as_str(), filename) {
            // A file input left empty still sends a part, without a name or bytes.
            ("files", Some(filename)) if !(filename.is_empty() && bytes.is_empty()) => {
                posted.uploads.push(Upload {
                    filename,
                    bytes: bytes.to_vec(),
                });
            }
            ("csrf", None) => token = String::from_utf8_lossy(&bytes).into_owned(),
            ("topic", None) => posted.topic = String::from_utf8_lossy(&bytes).into_owned(),
            ("text", None) => posted.text = String::from_utf8_lossy(&bytes).into_owned(),
            _ => {}
        }
    }
    if !csrf::session_ok(&v.who, &token) {
        return Err(csrf_failed_page(v.lang));
    }
    Ok(posted)
}
