//! How booking pages show times, places and offers. Pure: unit-tested here.
//!
//! Instants come from the service as FHIR text with the clinic's offset
//! (`2026-11-24T09:20:00+01:00`), so their wall-clock part is already the clinic's local
//! time: pages show that, never the server's or the browser's zone.

use carefront_booking::scheduling::jiff::civil::{Date, DateTime};
use carefront_booking::{Offer, OfferedSlot};
use serde::Serialize;

use crate::web::i18n::translate;

/// The clinic-local wall-clock time of a FHIR instant with offset.
pub fn local(instant: &str) -> Option<DateTime> {
    instant.get(..19)?.parse().ok()
}

fn names(lang: &str, key: &str) -> Vec<String> {
    translate(lang, key)
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect()
}

fn day_name(lang: &str, d: Date, long: bool) -> String {
    let i = usize::try_from(d.weekday().to_monday_zero_offset()).unwrap_or(0);
    let key = if long { "cal.days_long" } else { "cal.days" };
    names(lang, key).get(i).cloned().unwrap_or_default()
}

fn month_name(lang: &str, d: Date, long: bool) -> String {
    let i = usize::try_from(d.month() - 1).unwrap_or(0);
    let key = if long {
        "cal.months_long"
    } else {
        "cal.months"
    };
    names(lang, key).get(i).cloned().unwrap_or_default()
}

/// `Tue 24 Nov 09:20` (`mar. 24 nov. 09:20`).
pub fn short(lang: &str, instant: &str) -> String {
    match local(instant) {
        Some(t) => format!(
            "{} {} {} {:02}:{:02}",
            day_name(lang, t.date(), false),
            t.day(),
            month_name(lang, t.date(), false),
            t.hour(),
            t.minute()
        ),
        None => instant.to_owned(),
    }
}

/// `09:20`.
pub fn clock(instant: &str) -> String {
    match local(instant) {
        Some(t) => format!("{:02}:{:02}", t.hour(), t.minute()),
        None => String::new(),
    }
}

/// `Tuesday 24 November 2026` (`mardi 24 novembre 2026`).
pub fn long_date(lang: &str, d: Date) -> String {
    format!(
        "{} {} {} {}",
        day_name(lang, d, true),
        d.day(),
        month_name(lang, d, true),
        d.year()
    )
}

/// `Tue 24 Nov` (`mar. 24 nov.`).
pub fn short_date(lang: &str, d: Date) -> String {
    format!(
        "{} {} {}",
        day_name(lang, d, false),
        d.day(),
        month_name(lang, d, false)
    )
}

/// `Tuesday 24 November 2026 at 09:20`.
pub fn long(lang: &str, instant: &str) -> String {
    match local(instant) {
        Some(t) => format!(
            "{} {} {:02}:{:02}",
            long_date(lang, t.date()),
            translate(lang, "cal.at"),
            t.hour(),
            t.minute()
        ),
        None => instant.to_owned(),
    }
}

/// The local date of an instant, `YYYY-MM-DD`.
pub fn date_of(instant: &str) -> String {
    local(instant)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// The translation key of a visit modality.
pub fn modality_key(code: &str) -> String {
    match code {
        "in-clinic" | "video" | "home" => format!("modality.{code}"),
        _ => "modality.unknown".into(),
    }
}

/// A distance in km, one decimal, with the language's decimal mark.
pub fn distance(lang: &str, km: f64) -> String {
    let text = if km < 10.0 {
        format!("{km:.1}")
    } else {
        format!("{km:.0}")
    };
    let text = if lang == "fr" {
        text.replace('.', ",")
    } else {
        text
    };
    format!("{text} km")
}

/// A free time as a button shows it.
#[derive(Serialize, Debug, Clone)]
pub struct SlotView {
    pub slot_id: String,
    pub label: String,
    /// The FHIR instant (for `<time datetime>`).
    pub start: String,
    /// The clinic-local date, `YYYY-MM-DD`.
    pub date: String,
}

pub fn slot_view(lang: &str, s: &OfferedSlot) -> SlotView {
    SlotView {
        slot_id: s.slot_id.clone(),
        label: short(lang, &s.start),
        start: s.start.clone(),
        date: date_of(&s.start),
    }
}

/// A clinician at a place with their first free times, as a result card shows it.
#[derive(Serialize, Debug, Clone)]
pub struct OfferView {
    pub practitioner: String,
    pub location: String,
    pub location_id: String,
    pub modality: String,
    pub modality_label: String,
    pub specialty: String,
    pub languages: String,
    pub distance: Option<String>,
    pub slots: Vec<SlotView>,
}

pub fn offer_view(lang: &str, o: &Offer, max_slots: usize) -> OfferView {
    OfferView {
        practitioner: o.practitioner_name.clone(),
        location: o.location_name.clone(),
        location_id: o.location_id.clone(),
        modality: o.modality.clone(),
        modality_label: translate(lang, &modality_key(&o.modality)).into_owned(),
        specialty: o.specialty.clone(),
        languages: o
            .languages
            .iter()
            .map(|l| language_name(lang, l))
            .collect::<Vec<_>>()
            .join(", "),
        distance: o.distance_km.map(|d| distance(lang, d)),
        slots: o
            .slots
            .iter()
            .take(max_slots)
            .map(|s| slot_view(lang, s))
            .collect(),
    }
}

/// A language's name in the page's language (`French`, `français`) when the pages know it,
/// else its code.
pub fn language_name(lang: &str, code: &str) -> String {
    let key = format!("lang_name.{code}");
    let name = translate(lang, &key);
    if name == key {
        code.to_owned()
    } else {
        name.into_owned()
    }
}

/// The translation key of an appointment status.
pub fn status_key(status: &str) -> String {
    match status {
        "proposed" | "pending" | "booked" | "arrived" | "fulfilled" | "cancelled" | "noshow"
        | "entered-in-error" | "checked-in" | "waitlist" => format!("appt.status.{status}"),
        _ => "appt.status.unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carefront_booking::scheduling::jiff::civil::date;

    #[test]
    fn times_are_the_clinics_wall_clock_in_both_languages() {
        let at = "2026-11-24T09:20:00+01:00";
        assert_eq!(short("en", at), "Tue 24 Nov 09:20");
        assert_eq!(short("fr", at), "mar. 24 nov. 09:20");
        assert_eq!(clock("2026-07-01T16:05:00-04:00"), "16:05");
        assert_eq!(date_of(at), "2026-11-24");
        assert_eq!(
            long_date("en", date(2026, 11, 24)),
            "Tuesday 24 November 2026"
        );
        assert_eq!(
            long_date("fr", date(2026, 11, 24)),
            "mardi 24 novembre 2026"
        );
        assert!(long("en", at).ends_with("at 09:20"));
        assert_eq!(short("en", "garbage"), "garbage");
        assert_eq!(clock("garbage"), "");
    }

    #[test]
    fn distances_and_labels() {
        assert_eq!(distance("en", 2.345), "2.3 km");
        assert_eq!(distance("fr", 2.345), "2,3 km");
        assert_eq!(distance("en", 123.4), "123 km");
        assert_eq!(modality_key("video"), "modality.video");
        assert_eq!(modality_key("other"), "modality.unknown");
        assert_eq!(language_name("en", "fr"), "French");
        assert_eq!(language_name("fr", "es"), "espagnol");
        assert_eq!(language_name("en", "xx"), "xx");
        assert_eq!(status_key("booked"), "appt.status.booked");
        assert_eq!(status_key("weird"), "appt.status.unknown");
    }
}
