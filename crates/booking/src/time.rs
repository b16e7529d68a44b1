//! Instants as FHIR writes them and as the booking index stores them (Unix seconds).

use carefront_scheduling::jiff::civil::DateTime;
use carefront_scheduling::jiff::tz::TimeZone;
use carefront_scheduling::jiff::Timestamp;

/// A FHIR instant or dateTime with a time and offset; `None` for anything else.
pub fn parse_instant(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok()
}

/// The instant as FHIR text, with the offset of `zone` (readable by people in that place).
pub fn instant_text(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned(zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// The wall-clock time of `at` in `zone`.
pub fn civil_in(at: Timestamp, zone: &TimeZone) -> DateTime {
    at.to_zoned(zone.clone()).datetime()
}

pub fn seconds(at: Timestamp) -> i64 {
    at.as_second()
}

pub fn from_seconds(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_keep_their_offset() {
        let zone = TimeZone::get("America/New_York").unwrap();
        let t = parse_instant("2026-07-01T13:00:00Z").unwrap();
        assert_eq!(instant_text(t, &zone), "2026-07-01T09:00:00-04:00");
        assert_eq!(parse_instant("2026-07-01T09:00:00-04:00"), Some(t));
        assert_eq!(parse_instant("2026-07-01"), None);
    }
}
