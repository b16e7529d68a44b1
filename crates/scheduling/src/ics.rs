//! iCalendar (RFC 5545) invitations and cancellations for booked visits.
//!
//! A deliberately small serializer: one VEVENT per calendar, UTC times only.

use jiff::Timestamp;

/// The iTIP method of a calendar: a new or changed visit, or a cancelled one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Create or update the event (`METHOD:REQUEST`, `STATUS:CONFIRMED`).
    Request,
    /// Remove the event (`METHOD:CANCEL`, `STATUS:CANCELLED`).
    Cancel,
}

/// One visit as a calendar event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// Globally unique and stable for the visit, so updates and cancellations replace it.
    pub uid: &'a str,
    /// Revision number: increase it on every change, including cancellation.
    pub sequence: u32,
    /// Start of the visit.
    pub start: Timestamp,
    /// End of the visit.
    pub end: Timestamp,
    /// When this version of the event was created (usually now).
    pub stamp: Timestamp,
    /// Title, e.g. "Video visit with Dr Martin".
    pub summary: &'a str,
    /// Address or "Video call".
    pub location: Option<&'a str>,
    /// Free text, may span several lines.
    pub description: Option<&'a str>,
    /// Link to the visit (manage, join the call).
    pub url: Option<&'a str>,
}

/// Longest content line, in octets, before it must be folded (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// A complete VCALENDAR (PRODID -//Carefront//Booking//EN, VERSION 2.0, METHOD REQUEST or
/// CANCEL, one VEVENT with STATUS CONFIRMED or CANCELLED), CRLF line endings, TEXT values
/// escaped (backslash, semicolon, comma, newline), content lines folded at 75 octets without
/// splitting a UTF-8 character, times in UTC basic format (20261123T093000Z).
///
/// Control characters other than newlines and tabs, which RFC 5545 forbids, are dropped;
/// the URL is written as is apart from that (URIs are not escaped).
pub fn calendar(method: Method, event: &Event) -> String {
    let (method, status) = match method {
        Method::Request => ("REQUEST", "CONFIRMED"),
        Method::Cancel => ("CANCEL", "CANCELLED"),
    };
    let mut out = String::with_capacity(512);
    let mut line = |name: &str, value: &str| {
        let mut content = String::with_capacity(name.len() + 1 + value.len());
        content.push_str(name);
        content.push(':');
        content.push_str(value);
        push_folded(&mut out, &content);
    };
    line("BEGIN", "VCALENDAR");
    line("PRODID", "-//Carefront//Booking//EN");
    line("VERSION", "2.0");
    line("CALSCALE", "GREGORIAN");
    line("METHOD", method);
    line("BEGIN", "VEVENT");
    line("UID", &escape_text(event.uid));
    line("SEQUENCE", &event.sequence.to_string());
    line("DTSTAMP", &utc(event.stamp));
    line("DTSTART", &utc(event.start));
    line("DTEND", &utc(event.end));
    line("SUMMARY", &escape_text(event.summary));
    if let Some(location) = event.location {
        line("LOCATION", &escape_text(location));
    }
    if let Some(description) = event.description {
        line("DESCRIPTION", &escape_text(description));
    }
    if let Some(url) = event.url {
        let url: String = url.chars().filter(|&c| !is_forbidden_control(c)).collect();
        line("URL", &url);
    }
    line("STATUS", status);
    line("END", "VEVENT");
    line("END", "VCALENDAR");
    out
}

/// UTC date-time in basic format, e.g. `20261123T093000Z` (seconds precision).
fn utc(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// RFC 5545 CONTROL characters, which no value may contain (tab is allowed).
fn is_forbidden_control(c: char) -> bool {
    (c.is_ascii_control() && c != '\t') || c == '\u{7f}'
}

/// Escape a TEXT value: `\` `;` `,` are backslashed, each newline (LF, CR LF or CR) becomes `\n`.
fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            c if is_forbidden_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Append `line` with CRLF, folded so no physical line exceeds 75 octets: each
/// continuation starts with a space, which counts towards its 75.
fn push_folded(out: &mut String, line: &str) {
    let mut rest = line;
    let mut limit = MAX_LINE_OCTETS;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = MAX_LINE_OCTETS - 1;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn event() -> Event<'static> {
        Event {
            uid: "appt-42@carefront.example.org",
            sequence: 0,
            start: ts("2026-11-23T09:30:00Z"),
            end: ts("2026-11-23T10:00:00Z"),
            stamp: ts("2026-11-20T14:05:09Z"),
            summary: "Video visit",
            location: None,
            description: None,
            url: None,
        }
    }

    /// Undo folding (RFC 5545 §3.1) to get the logical content lines.
    fn unfold(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split_terminator("\r\n")
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn minimal_request() {
        assert_eq!(
            calendar(Method::Request, &event()),
            "BEGIN:VCALENDAR\r\n\
             PRODID:-//Carefront//Booking//EN\r\n\
             VERSION:2.0\r\n\
             CALSCALE:GREGORIAN\r\n\
             METHOD:REQUEST\r\n\
             BEGIN:VEVENT\r\n\
             UID:appt-42@carefront.example.org\r\n\
             SEQUENCE:0\r\n\
             DTSTAMP:20261120T140509Z\r\n\
             DTSTART:20261123T093000Z\r\n\
             DTEND:20261123T100000Z\r\n\
             SUMMARY:Video visit\r\n\
             STATUS:CONFIRMED\r\n\
             END:VEVENT\r\n\
             END:VCALENDAR\r\n"
        );
    }

    #[test]
    fn cancel_with_every_field() {
        let event = Event {
            sequence: 3,
            location: Some("12 rue de la Paix, Paris"),
            description: Some("Bring your card"),
            url: Some("https://care.example.org/visits/42?a=1,b;c"),
            ..event()
        };
        let ics = calendar(Method::Cancel, &event);
        let lines = unfold(&ics);
        let expected = [
            "METHOD:CANCEL",
            "SEQUENCE:3",
            "LOCATION:12 rue de la Paix\\, Paris",
            "DESCRIPTION:Bring your card",
            "URL:https://care.example.org/visits/42?a=1,b;c",
            "STATUS:CANCELLED",
        ];
        for line in expected {
            assert!(lines.iter().any(|l| l == line), "{line} missing from {ics}");
        }
        assert!(!ics.contains("CONFIRMED") && !ics.contains("REQUEST"));
        // LOCATION, DESCRIPTION and URL come between SUMMARY and STATUS.
        let summary = lines
            .iter()
            .position(|l| l.starts_with("SUMMARY:"))
            .unwrap();
        assert_eq!(lines[summary + 1..summary + 4], expected[2..5]);
    }

    #[test]
    fn text_is_escaped() {
        let event = Event {
            summary: "Dr. O'Brien; check-up, fasting \\ bring results",
            description: Some("Line one\nLine two\r\nLine three\rEnd\u{7}"),
            ..event()
        };
        let lines = unfold(&calendar(Method::Request, &event));
        assert!(lines
            .contains(&"SUMMARY:Dr. O'Brien\\; check-up\\, fasting \\\\ bring results".to_owned()));
        assert!(lines.contains(&"DESCRIPTION:Line one\\nLine two\\nLine three\\nEnd".to_owned()));
    }

    #[test]
    fn line_endings_are_crlf_only() {
        let event = Event {
            description: Some("a\nb\rc"),
            ..event()
        };
        let ics = calendar(Method::Request, &event);
        assert!(ics.ends_with("\r\n"));
        assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
        assert_eq!(ics.matches('\r').count(), ics.matches("\r\n").count());
    }

    #[test]
    fn long_ascii_lines_fold_at_75_octets() {
        let summary = "x".repeat(200);
        let ics = calendar(
            Method::Request,
            &Event {
                summary: &summary,
                ..event()
            },
        );
        let physical: Vec<&str> = ics.split_terminator("\r\n").collect();
        let start = physical
            .iter()
            .position(|l| l.starts_with("SUMMARY:"))
            .unwrap();
        // 8 + 200 octets: 75, then 1 + 74, then 1 + 59.
        assert_eq!(physical[start].len(), 75);
        assert_eq!(physical[start + 1], format!(" {}", "x".repeat(74)));
        assert_eq!(physical[start + 2], format!(" {}", "x".repeat(59)));
        assert!(physical[start + 3].starts_with("STATUS:"));
        assert!(unfold(&ics).contains(&format!("SUMMARY:{summary}")));
    }

    #[test]
    fn folding_never_splits_a_character() {
        // 2-, 3- and 4-octet characters at every alignment.
        for prefix in 0..4 {
            let text = format!("{}{}", "a".repeat(prefix), "é€😀".repeat(40));
            let ics = calendar(
                Method::Request,
                &Event {
                    description: Some(&text),
                    ..event()
                },
            );
            for line in ics.split_terminator("\r\n") {
                assert!(line.len() <= 75, "{} octets: {line}", line.len());
            }
            // Splitting inside a character would have made the output invalid UTF-8 already;
            // check the text also survives unfolding intact.
            assert!(unfold(&ics).contains(&format!("DESCRIPTION:{text}")));
        }
    }

    #[test]
    fn exactly_75_octets_is_not_folded() {
        let summary = "y".repeat(75 - "SUMMARY:".len());
        let ics = calendar(
            Method::Request,
            &Event {
                summary: &summary,
                ..event()
            },
        );
        assert!(ics.contains(&format!("\r\nSUMMARY:{summary}\r\nSTATUS:")));
    }

    #[test]
    fn controls_are_dropped_from_urls() {
        let event = Event {
            url: Some("https://x.example/a\r\nATTACH:evil"),
            ..event()
        };
        let lines = unfold(&calendar(Method::Request, &event));
        assert!(lines.contains(&"URL:https://x.example/aATTACH:evil".to_owned()));
        assert!(!lines.iter().any(|l| l.starts_with("ATTACH")));
    }
}
