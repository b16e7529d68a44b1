//! Attachments: PNG and JPEG images (previewed in the thread) and PDF documents, at most
//! [`MAX_BYTES`] each and [`MAX_PER_MESSAGE`] per message. The type is read from the bytes,
//! never trusted from the upload, and files are served so that a browser never runs them:
//! images inline, PDFs as downloads, with `nosniff` and a sandboxing CSP.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Largest attachment, in bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Most attachments on one message.
pub const MAX_PER_MESSAGE: usize = 4;

/// An uploaded file, before it is checked.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Why an upload is refused; the `Display` text is the API's message, `key` the page's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    #[error("'{0}' is not a PNG or JPEG image or a PDF document")]
    Type(String),
    #[error("'{0}' is larger than 5 MB")]
    TooLarge(String),
    #[error("'{0}' is empty")]
    Empty(String),
    #[error("at most 4 attachments per message")]
    TooMany,
}

impl Refused {
    /// The translation key of the message (`{name}` is the file name).
    pub fn key(&self) -> &'static str {
        match self {
            Refused::Type(_) => "messages.error.file_type",
            Refused::TooLarge(_) => "messages.error.file_size",
            Refused::Empty(_) => "messages.error.file_empty",
            Refused::TooMany => "messages.error.file_count",
        }
    }

    pub fn filename(&self) -> &str {
        match self {
            Refused::Type(n) | Refused::TooLarge(n) | Refused::Empty(n) => n,
            Refused::TooMany => "",
        }
    }
}

/// The content type of `bytes` by its signature, if it is one we accept.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// A file name safe to store and to put in a header: letters, digits, `.-_` and spaces,
/// at most 100 characters.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || ".-_ ".contains(*c))
        .take(100)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// An accepted file: its name, type and bytes.
#[derive(Debug, Clone)]
pub struct Checked {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Check every upload of one message.
pub fn check(uploads: Vec<Upload>) -> Result<Vec<Checked>, Refused> {
    if uploads.len() > MAX_PER_MESSAGE {
        return Err(Refused::TooMany);
    }
    uploads
        .into_iter()
        .map(|u| {
            let filename = clean_name(&u.filename);
            if u.bytes.is_empty() {
                return Err(Refused::Empty(filename));
            }
            if u.bytes.len() > MAX_BYTES {
                return Err(Refused::TooLarge(filename));
            }
            let content_type = sniff(&u.bytes).ok_or_else(|| Refused::Type(filename.clone()))?;
            Ok(Checked {
                filename,
                content_type,
                bytes: u.bytes,
            })
        })
        .collect()
}

/// The response serving a stored attachment: never active content (an image is shown
/// inline, anything else downloads), never sniffed into another type, never cached by
/// shared caches.
pub fn serve(content_type: &str, filename: &str, bytes: Vec<u8>) -> Response {
    // Only what we accepted goes out as itself; anything else as opaque bytes.
    let (content_type, inline) = match content_type {
        "image/png" => ("image/png", true),
        "image/jpeg" => ("image/jpeg", true),
        "application/pdf" => ("application/pdf", false),
        _ => ("application/octet-stream", false),
    };
    let disposition = format!(
        "{}; filename=\"{}\"",
        if inline { "inline" } else { "attachment" },
        clean_name(filename)
    );
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(name: &str, bytes: &[u8]) -> Upload {
        Upload {
            filename: name.into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn types_are_read_from_the_bytes() {
        let ok = check(vec![
            up("a.png", b"\x89PNG\r\n\x1a\nrest"),
            up("b.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]),
            up("c.pdf", b"%PDF-1.7"),
        ])
        .unwrap();
        let types: Vec<_> = ok.iter().map(|c| c.content_type).collect();
        assert_eq!(types, ["image/png", "image/jpeg", "application/pdf"]);
        assert_eq!(
            check(vec![up("x.png", b"<svg onload=alert(1)>")]).unwrap_err(),
            Refused::Type("x.png".into())
        );
        let big = vec![0xFFu8; MAX_BYTES + 1];
        assert!(matches!(
            check(vec![up("big.jpg", &big)]),
            Err(Refused::TooLarge(_))
        ));
        assert_eq!(
            check(vec![up("e.pdf", b"")]).unwrap_err(),
            Refused::Empty("e.pdf".into())
        );
        assert_eq!(
            check(vec![up("a.pdf", b"%PDF-"); 5]).unwrap_err(),
            Refused::TooMany
        );
    }

    #[test]
    fn names_are_tamed() {
        assert_eq!(clean_name("../../etc/pass\"wd"), "passwd");
        assert_eq!(clean_name("C:\\x\\scan 1.pdf"), "scan 1.pdf");
        assert_eq!(clean_name("\"\r\n"), "attachment");
        assert_eq!(clean_name(".htaccess"), "htaccess");
    }
}
