//! A bookable agenda as FHIR: one `Schedule` per practitioner role, place and modality, whose
//! availability rules (weekly hours, exceptions, visit length, buffer, notice, horizon,
//! cancellation notice) travel as Carefront extensions on the Schedule itself, so the rules
//! and the slots they produce live in the same versioned record.

use carefront_scheduling::jiff::civil::{Time, Weekday};
use carefront_scheduling::jiff::tz::TimeZone;
use carefront_scheduling::jiff::Timestamp;
use carefront_scheduling::{AvailabilityException, ExceptionKind, Modality, Rules, WeeklyHours};
use serde_json::{json, Value};

use crate::error::BookingError;
use crate::time::{civil_in, instant_text, parse_instant};

/// Where Carefront's own FHIR definitions live.
pub const BASE: &str = "https://carefront.health/fhir/StructureDefinition/";
pub const EXT_MODALITY: &str = "https://carefront.health/fhir/StructureDefinition/visit-modality";
pub const EXT_RULES: &str = "https://carefront.health/fhir/StructureDefinition/availability-rules";
/// On a pending Appointment: when its hold on the slot lapses.
pub const EXT_HOLD_EXPIRES: &str = "https://carefront.health/fhir/StructureDefinition/hold-expires";
/// On an Appointment booked into a slot that was already taken: why staff overbooked.
pub const EXT_OVERBOOK: &str = "https://carefront.health/fhir/StructureDefinition/overbooking";
/// The R4 core extension for an IANA time zone, as on Locations.
pub const EXT_TIMEZONE: &str = "http://hl7.org/fhir/StructureDefinition/timezone";
pub const MODALITY_SYSTEM: &str = "https://carefront.health/fhir/CodeSystem/visit-modality";

/// Defaults for a new schedule.
pub const DEFAULT_NOTICE_MINUTES: u32 = 60;
pub const DEFAULT_HORIZON_DAYS: u32 = 56;
pub const DEFAULT_CANCEL_NOTICE_HOURS: u32 = 24;

/// A schedule as the booking service works with it.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    pub id: String,
    pub active: bool,
    pub role_id: String,
    pub location_id: String,
    /// The visit type (HealthcareService), when the schedule names one.
    pub service_id: Option<String>,
    pub modality: Modality,
    /// The IANA zone of the location; rules are local times there.
    pub zone_name: String,
    pub weekly: Vec<WeeklyHours>,
    pub exceptions: Vec<AvailabilityException>,
    pub slot_minutes: u32,
    pub buffer_minutes: u32,
    pub notice_minutes: u32,
    pub horizon_days: u32,
    pub cancel_notice_hours: u32,
    /// What the Schedule says about itself (shown to staff).
    pub comment: Option<String>,
}

impl ScheduleSpec {
    /// A new active schedule of `role_id` at `location_id` for `modality`, in `zone_name`,
    /// with no opening hours yet and the default rules.
    pub fn new(role_id: &str, location_id: &str, modality: Modality, zone_name: &str) -> Self {
        ScheduleSpec {
            id: Self::id_for(role_id, modality),
            active: true,
            role_id: role_id.to_owned(),
            location_id: location_id.to_owned(),
            service_id: None,
            modality,
            zone_name: zone_name.to_owned(),
            weekly: Vec::new(),
            exceptions: Vec::new(),
            slot_minutes: 20,
            buffer_minutes: 0,
            notice_minutes: DEFAULT_NOTICE_MINUTES,
            horizon_days: DEFAULT_HORIZON_DAYS,
            cancel_notice_hours: DEFAULT_CANCEL_NOTICE_HOURS,
            comment: None,
        }
    }

    /// The same schedule open around the clock, every day (tests and always-on services).
    pub fn open_all_week(mut self) -> Self {
        self.weekly = carefront_scheduling::WEEK
            .iter()
            .map(|&day| WeeklyHours {
                day,
                start: Time::midnight(),
                end: Time::midnight(),
            })
            .collect();
        self
    }

    /// The id of the schedule of `role_id` for `modality`: one per role and modality.
    pub fn id_for(role_id: &str, modality: Modality) -> String {
        format!("sch-{role_id}-{}", modality.code())
    }

    pub fn rules(&self) -> Result<Rules, BookingError> {
        let zone = zone(&self.zone_name)?;
        let rules = Rules {
            zone,
            weekly: self.weekly.clone(),
            exceptions: self.exceptions.clone(),
            slot_minutes: self.slot_minutes,
            buffer_minutes: self.buffer_minutes,
            notice_minutes: self.notice_minutes,
            horizon_days: self.horizon_days,
            cancel_notice_hours: self.cancel_notice_hours,
        };
        rules
            .check()
            .map_err(|e| BookingError::invalid(e.to_string()))?;
        Ok(rules)
    }

    /// The Schedule resource.
    pub fn to_fhir(&self) -> Result<Value, BookingError> {
        let zone = zone(&self.zone_name)?;
        let mut rules = vec![
            json!({ "url": "slotMinutes", "valuePositiveInt": self.slot_minutes }),
            json!({ "url": "bufferMinutes", "valueUnsignedInt": self.buffer_minutes }),
            json!({ "url": "noticeMinutes", "valueUnsignedInt": self.notice_minutes }),
            json!({ "url": "horizonDays", "valuePositiveInt": self.horizon_days }),
            json!({ "url": "cancelNoticeHours", "valueUnsignedInt": self.cancel_notice_hours }),
        ];
        for w in &self.weekly {
            rules.push(json!({ "url": "weekly", "extension": [
                { "url": "day", "valueCode": day_code(w.day) },
                { "url": "start", "valueTime": time_text(w.start) },
                { "url": "end", "valueTime": time_text(w.end) },
            ]}));
        }
        for e in &self.exceptions {
            let start = local_instant(&zone, e.start)?;
            let end = local_instant(&zone, e.end)?;
            let mut parts = vec![
                json!({ "url": "kind", "valueCode": match e.kind {
                    ExceptionKind::Unavailable => "unavailable",
                    ExceptionKind::Extra => "extra",
                }}),
                json!({ "url": "period", "valuePeriod": {
                    "start": instant_text(start, &zone),
                    "end": instant_text(end, &zone),
                }}),
            ];
            if let Some(note) = e.note.as_deref().filter(|n| !n.trim().is_empty()) {
                parts.push(json!({ "url": "note", "valueString": note }));
            }
            rules.push(json!({ "url": "exception", "extension": parts }));
        }
        let mut actor = vec![
            json!({ "reference": format!("PractitionerRole/{}", self.role_id) }),
            json!({ "reference": format!("Location/{}", self.location_id) }),
        ];
        if let Some(service) = &self.service_id {
            actor.push(json!({ "reference": format!("HealthcareService/{service}") }));
        }
        let mut schedule = json!({
            "resourceType": "Schedule",
            "id": self.id,
            "extension": [
                { "url": EXT_MODALITY, "valueCode": self.modality.code() },
                { "url": EXT_TIMEZONE, "valueCode": self.zone_name },
                { "url": EXT_RULES, "extension": rules },
            ],
            "active": self.active,
            "serviceCategory": [{ "coding": [{
                "system": MODALITY_SYSTEM, "code": self.modality.code(),
            }]}],
            "actor": actor,
        });
        if let Some(comment) = &self.comment {
            schedule["comment"] = json!(comment);
        }
        Ok(schedule)
    }

    /// Read a Schedule resource written by [`ScheduleSpec::to_fhir`] (or by a FHIR client
    /// following the same profile).
    pub fn from_fhir(schedule: &Value) -> Result<ScheduleSpec, BookingError> {
        let id = str_at(schedule, "id").ok_or_else(|| BookingError::invalid("no id"))?;
        let actors: Vec<&str> = schedule["actor"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r["reference"].as_str()).collect())
            .unwrap_or_default();
        let actor = |prefix: &str| {
            actors
                .iter()
                .find_map(|r| r.strip_prefix(prefix))
                .map(str::to_owned)
        };
        let role_id = actor("PractitionerRole/").ok_or_else(|| {
            BookingError::invalid("a bookable Schedule needs a PractitionerRole actor")
        })?;
        let location_id = actor("Location/")
            .ok_or_else(|| BookingError::invalid("a bookable Schedule needs a Location actor"))?;
        let modality = extension(schedule, EXT_MODALITY)
            .and_then(|e| e["valueCode"].as_str())
            .and_then(Modality::parse)
            .ok_or_else(|| {
                BookingError::invalid("a bookable Schedule needs its visit modality extension")
            })?;
        let zone_name = extension(schedule, EXT_TIMEZONE)
            .and_then(|e| e["valueCode"].as_str())
            .ok_or_else(|| BookingError::invalid("a bookable Schedule needs its time zone"))?
            .to_owned();
        let zone = zone(&zone_name)?;
        let rules = extension(schedule, EXT_RULES)
            .ok_or_else(|| BookingError::invalid("a bookable Schedule needs availability rules"))?;
        let parts = rules["extension"].as_array().cloned().unwrap_or_default();
        let number = |name: &str, default: u32| {
            parts
                .iter()
                .find(|p| p["url"] == name)
                .and_then(|p| {
                    p.get("valuePositiveInt")
                        .or(p.get("valueUnsignedInt"))
                        .and_then(Value::as_u64)
                })
                .map_or(default, |n| n.min(u32::MAX as u64) as u32)
        };
        let mut weekly = Vec::new();
        let mut exceptions = Vec::new();
        for part in &parts {
            let sub = |name: &str| -> Option<&Value> {
                part["extension"]
                    .as_array()?
                    .iter()
                    .find(|s| s["url"] == name)
            };
            match part["url"].as_str() {
                Some("weekly") => {
                    let day = sub("day")
                        .and_then(|d| d["valueCode"].as_str())
                        .and_then(parse_day);
                    let start = sub("start")
                        .and_then(|t| t["valueTime"].as_str())
                        .and_then(parse_time);
                    let end = sub("end")
                        .and_then(|t| t["valueTime"].as_str())
                        .and_then(parse_time);
                    match (day, start, end) {
                        (Some(day), Some(start), Some(end)) => {
                            weekly.push(WeeklyHours { day, start, end })
                        }
                        _ => {
                            return Err(BookingError::invalid(
                                "weekly hours need day, start and end",
                            ))
                        }
                    }
                }
                Some("exception") => {
                    let kind = match sub("kind").and_then(|k| k["valueCode"].as_str()) {
                        Some("extra") => ExceptionKind::Extra,
                        Some("unavailable") => ExceptionKind::Unavailable,
                        _ => return Err(BookingError::invalid("an exception needs its kind")),
                    };
                    let period = sub("period").map(|p| &p["valuePeriod"]);
                    let bound = |name: &str| {
                        period
                            .and_then(|p| p[name].as_str())
                            .and_then(parse_instant)
                            .map(|t| civil_in(t, &zone))
                    };
                    let (Some(start), Some(end)) = (bound("start"), bound("end")) else {
                        return Err(BookingError::invalid(
                            "an exception needs a period with start and end",
                        ));
                    };
                    let note = sub("note")
                        .and_then(|n| n["valueString"].as_str())
                        .map(str::to_owned);
                    exceptions.push(AvailabilityException {
                        kind,
                        start,
                        end,
                        note,
                    });
                }
                _ => {}
            }
        }
        Ok(ScheduleSpec {
            id: id.to_owned(),
            active: schedule["active"].as_bool().unwrap_or(true),
            role_id,
            location_id,
            service_id: actor("HealthcareService/"),
            modality,
            zone_name,
            weekly,
            exceptions,
            slot_minutes: number("slotMinutes", 20),
            buffer_minutes: number("bufferMinutes", 0),
            notice_minutes: number("noticeMinutes", DEFAULT_NOTICE_MINUTES),
            horizon_days: number("horizonDays", DEFAULT_HORIZON_DAYS),
            cancel_notice_hours: number("cancelNoticeHours", DEFAULT_CANCEL_NOTICE_HOURS),
            comment: str_at(schedule, "comment").map(str::to_owned),
        })
    }
}

/// A specialty as a CodeableConcept: a SNOMED CT coding when the key is a code, and the
/// words when known; `None` when there is neither.
pub fn specialty_concept(key: &str, name: &str) -> Option<Value> {
    let mut concept = serde_json::Map::new();
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_digit()) {
        let mut coding = json!({ "system": "http://snomed.info/sct", "code": key });
        if !name.is_empty() {
            coding["display"] = json!(name);
        }
        concept.insert("coding".into(), json!([coding]));
    }
    if !name.is_empty() {
        concept.insert("text".into(), json!(name));
    }
    (!concept.is_empty()).then_some(Value::Object(concept))
}

/// Whether a Schedule is one of ours (a bookable agenda); others are left alone.
pub fn is_bookable(schedule: &Value) -> bool {
    extension(schedule, EXT_RULES).is_some()
}

pub fn extension<'a>(resource: &'a Value, url: &str) -> Option<&'a Value> {
    resource["extension"]
        .as_array()?
        .iter()
        .find(|e| e["url"] == url)
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub fn zone(name: &str) -> Result<TimeZone, BookingError> {
    TimeZone::get(name).map_err(|_| {
        BookingError::invalid(format!(
            "'{name}' is not a known time zone (IANA name expected, e.g. Europe/Paris)"
        ))
    })
}

fn local_instant(
    zone: &TimeZone,
    at: carefront_scheduling::jiff::civil::DateTime,
) -> Result<Timestamp, BookingError> {
    zone.to_ambiguous_zoned(at)
        .compatible()
        .map(|z| z.timestamp())
        .map_err(|e| BookingError::invalid(e.to_string()))
}

pub const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

pub fn parse_day(code: &str) -> Option<Weekday> {
    DAYS.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

pub fn day_code(day: Weekday) -> &'static str {
    DAYS.iter()
        .find(|(_, d)| *d == day)
        .map(|(c, _)| *c)
        .expect("every weekday has a code")
}

/// `09:00`, `09:00:00` or `9:00`.
pub fn parse_time(text: &str) -> Option<Time> {
    let mut parts = text.trim().split(':');
    let hour: i8 = parts.next()?.parse().ok()?;
    let minute: i8 = parts.next()?.parse().ok()?;
    let second: i8 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    Time::new(hour, minute, second, 0).ok()
}

pub fn time_text(t: Time) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use carefront_scheduling::jiff::civil::date;

    fn spec() -> ScheduleSpec {
        ScheduleSpec {
            id: "sch-r1-video".into(),
            active: true,
            role_id: "r1".into(),
            location_id: "l1".into(),
            service_id: Some("gp".into()),
            modality: Modality::Video,
            zone_name: "Europe/Paris".into(),
            weekly: vec![WeeklyHours {
                day: Weekday::Monday,
                start: Time::constant(9, 0, 0, 0),
                end: Time::constant(12, 30, 0, 0),
            }],
            exceptions: vec![AvailabilityException {
                kind: ExceptionKind::Unavailable,
                start: date(2026, 12, 24).at(0, 0, 0, 0),
                end: date(2026, 12, 27).at(0, 0, 0, 0),
                note: Some("Christmas".into()),
            }],
            slot_minutes: 15,
            buffer_minutes: 5,
            notice_minutes: 120,
            horizon_days: 30,
            cancel_notice_hours: 12,
            comment: None,
        }
    }

    #[test]
    fn a_schedule_survives_the_round_trip_through_fhir() {
        let original = spec();
        let fhir = original.to_fhir().unwrap();
        carefront_fhir::validate::validate(&fhir).expect("a valid R4 Schedule");
        let back = ScheduleSpec::from_fhir(&fhir).unwrap();
        assert_eq!(back.weekly, original.weekly);
        assert_eq!(back.exceptions, original.exceptions);
        assert_eq!(back.modality, Modality::Video);
        assert_eq!(back.service_id.as_deref(), Some("gp"));
        assert_eq!(
            (back.slot_minutes, back.buffer_minutes, back.notice_minutes),
            (15, 5, 120)
        );
        assert_eq!((back.horizon_days, back.cancel_notice_hours), (30, 12));
        // The exception is stored as an absolute period with Paris's winter offset.
        assert!(fhir.to_string().contains("2026-12-24T00:00:00+01:00"));
    }

    #[test]
    fn unknown_zones_and_missing_actors_are_explained() {
        let mut s = spec();
        s.zone_name = "Mars/Olympus".into();
        assert!(s.to_fhir().unwrap_err().to_string().contains("time zone"));
        let mut fhir = spec().to_fhir().unwrap();
        fhir["actor"] = json!([{ "reference": "Location/l1" }]);
        assert!(ScheduleSpec::from_fhir(&fhir)
            .unwrap_err()
            .to_string()
            .contains("PractitionerRole"));
    }

    #[test]
    fn times_parse_leniently() {
        assert_eq!(parse_time("9:00"), Some(Time::constant(9, 0, 0, 0)));
        assert_eq!(parse_time("17:30:00"), Some(Time::constant(17, 30, 0, 0)));
        assert_eq!(parse_time("25:00"), None);
        assert_eq!(parse_day("sun"), Some(Weekday::Sunday));
    }
}
