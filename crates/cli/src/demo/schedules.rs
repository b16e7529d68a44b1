//! Bookable agendas for the demo network: every clinician's `availableTime` becomes FHIR
//! Schedules with Slots (through the booking service, as an administrator's edit would), and
//! the sample patient gets two upcoming appointments so that their pages show some.
//!
//! A clinician is never offered in two places at once: general practitioners and mental
//! health doctors see patients by video in the mornings and at the clinic in the afternoons;
//! nurses are at the clinic in the mornings and visit patients at home in the afternoons;
//! the other specialties are at the clinic all day. Pharmacists are not booked.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use carefront_booking::schedule::{parse_day, parse_time, EXT_TIMEZONE};
use carefront_booking::scheduling::jiff::civil::Time;
use carefront_booking::scheduling::jiff::{SignedDuration, Timestamp};
use carefront_booking::scheduling::{Modality, WeeklyHours};
use carefront_booking::{Actor, BookRequest, Booking, ScheduleSpec, SlotQuery, Sort};
use carefront_demo::DemoNetwork;
use carefront_store::repository::RepoError;
use serde_json::Value;

/// Specialty codes (SNOMED CT) whose clinicians also see patients by video.
const VIDEO_SPECIALTIES: [&str; 2] = ["394814009", "394587001"];
const GENERAL_PRACTICE: &str = "394814009";
/// How far ahead patients may book the demo's clinicians.
const HORIZON_DAYS: u32 = 28;
/// Schedules saved at once: enough to overlap validation with the single SQLite writer,
/// few enough to leave the writer to the server's first requests.
const CONCURRENT: usize = 4;

/// What [`ensure`] did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Schedules the demo defines, and how many of them this run created.
    pub schedules: usize,
    pub created: usize,
    /// Slots written by this run.
    pub slots: usize,
    /// Appointments booked for the sample patient by this run.
    pub booked: usize,
    pub took: Duration,
}

/// Create the demo schedules that do not exist yet (with their slots), then book the sample
/// patient's appointments if they have none. Existing schedules are left as they are: the
/// server's upkeep extends every schedule to its horizon as it starts.
pub async fn ensure(
    booking: &Booking,
    network: &DemoNetwork,
    now: Timestamp,
) -> Result<Outcome, String> {
    let started = Instant::now();
    let specs = demo_schedules(network)?;
    let mut outcome = Outcome {
        schedules: specs.len(),
        ..Outcome::default()
    };
    let missing = missing(booking, specs).await?;
    outcome.created = missing.len();
    outcome.slots = save_all(booking, missing, now).await?;
    outcome.booked = book_sample_patient(booking, network, now).await?;
    outcome.took = started.elapsed();
    Ok(outcome)
}

/// The schedules of every bookable role of the network.
pub fn demo_schedules(network: &DemoNetwork) -> Result<Vec<ScheduleSpec>, String> {
    let zones: HashMap<&str, &str> = network
        .directory
        .iter()
        .filter(|r| r["resourceType"] == "Location")
        .filter_map(|l| Some((l["id"].as_str()?, zone_of(l)?)))
        .collect();
    let mut specs = Vec::new();
    for role in network
        .directory
        .iter()
        .filter(|r| r["resourceType"] == "PractitionerRole")
    {
        specs.extend(role_schedules(role, &zones)?);
    }
    Ok(specs)
}

/// The IANA zone a Location declares with the R4 core extension.
fn zone_of(location: &Value) -> Option<&str> {
    location["extension"]
        .as_array()?
        .iter()
        .find(|e| e["url"] == EXT_TIMEZONE)?["valueCode"]
        .as_str()
}

/// How a role's working hours are shared between modalities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    ClinicAllDay,
    /// Video before noon, clinic after.
    VideoMornings,
    /// Clinic until 13:00, home visits from 14:00.
    HomeAfternoons,
}

fn pattern(role: &Value) -> Option<Pattern> {
    let code = role["code"][0]["coding"][0]["code"].as_str().unwrap_or("");
    let specialty = role["specialty"][0]["coding"][0]["code"]
        .as_str()
        .unwrap_or("");
    match code {
        "pharmacist" => None,
        "nurse" => Some(Pattern::HomeAfternoons),
        _ if VIDEO_SPECIALTIES.contains(&specialty) => Some(Pattern::VideoMornings),
        _ => Some(Pattern::ClinicAllDay),
    }
}

fn role_schedules(role: &Value, zones: &HashMap<&str, &str>) -> Result<Vec<ScheduleSpec>, String> {
    let Some(pattern) = pattern(role) else {
        return Ok(Vec::new());
    };
    let role_id = role["id"].as_str().unwrap_or_default();
    let location_id = role["location"][0]["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Location/"))
        .ok_or_else(|| format!("PractitionerRole/{role_id} names no location"))?;
    let zone = zones
        .get(location_id)
        .ok_or_else(|| format!("Location/{location_id} has no time zone"))?;
    let hours = weekly_hours(role)?;
    let noon = Time::constant(12, 0, 0, 0);
    let parts: Vec<(Modality, Vec<WeeklyHours>)> = match pattern {
        Pattern::ClinicAllDay => vec![(Modality::InClinic, hours)],
        Pattern::VideoMornings => vec![
            (Modality::Video, clip(&hours, None, Some(noon))),
            (Modality::InClinic, clip(&hours, Some(noon), None)),
        ],
        Pattern::HomeAfternoons => vec![
            (
                Modality::InClinic,
                clip(&hours, None, Some(Time::constant(13, 0, 0, 0))),
            ),
            (
                Modality::Home,
                clip(&hours, Some(Time::constant(14, 0, 0, 0)), None),
            ),
        ],
    };
    let slot_minutes = if pattern == Pattern::HomeAfternoons {
        30
    } else {
        20
    };
    Ok(parts
        .into_iter()
        .filter(|(_, weekly)| !weekly.is_empty())
        .map(|(modality, weekly)| ScheduleSpec {
            id: ScheduleSpec::id_for(role_id, modality),
            active: true,
            role_id: role_id.to_owned(),
            location_id: location_id.to_owned(),
            service_id: None,
            modality,
            zone_name: (*zone).to_owned(),
            weekly,
            exceptions: Vec::new(),
            slot_minutes,
            buffer_minutes: 0,
            notice_minutes: 60,
            horizon_days: HORIZON_DAYS,
            cancel_notice_hours: 24,
            comment: None,
        })
        .collect())
}

/// `availableTime` (days of week with start and end times) as weekly hours.
fn weekly_hours(role: &Value) -> Result<Vec<WeeklyHours>, String> {
    let mut out = Vec::new();
    for block in role["availableTime"].as_array().into_iter().flatten() {
        let time = |key: &str| block[key].as_str().and_then(parse_time);
        let (Some(start), Some(end)) = (time("availableStartTime"), time("availableEndTime"))
        else {
            continue;
        };
        for day in block["daysOfWeek"].as_array().into_iter().flatten() {
            if let Some(day) = day.as_str().and_then(parse_day) {
                out.push(WeeklyHours { day, start, end });
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "PractitionerRole/{} has no available time",
            role["id"].as_str().unwrap_or("?")
        ));
    }
    Ok(out)
}

/// The part of each block between `from` and `until` (either open); empty parts are dropped.
fn clip(hours: &[WeeklyHours], from: Option<Time>, until: Option<Time>) -> Vec<WeeklyHours> {
    hours
        .iter()
        .map(|h| WeeklyHours {
            day: h.day,
            start: from.map_or(h.start, |f| h.start.max(f)),
            end: until.map_or(h.end, |u| h.end.min(u)),
        })
        .filter(|h| h.start < h.end)
        .collect()
}

/// The schedules not stored yet.
async fn missing(booking: &Booking, specs: Vec<ScheduleSpec>) -> Result<Vec<ScheduleSpec>, String> {
    let repo = booking.repository();
    let mut out = Vec::new();
    for spec in specs {
        match repo.read("Schedule", &spec.id).await {
            Ok(_) => {}
            Err(RepoError::NotFound(_) | RepoError::Gone(_)) => out.push(spec),
            Err(e) => return Err(format!("cannot look for Schedule/{}: {e}", spec.id)),
        }
    }
    Ok(out)
}

/// Save `specs` (each writes its Slots) a few at a time; the slots written.
async fn save_all(
    booking: &Booking,
    specs: Vec<ScheduleSpec>,
    now: Timestamp,
) -> Result<usize, String> {
    let mut lanes: Vec<Vec<ScheduleSpec>> = vec![Vec::new(); CONCURRENT];
    for (i, spec) in specs.into_iter().enumerate() {
        lanes[i % CONCURRENT].push(spec);
    }
    let tasks: Vec<_> = lanes
        .into_iter()
        .map(|lane| {
            let booking = booking.clone();
            tokio::spawn(async move {
                let mut slots = 0;
                for spec in lane {
                    let saved = booking
                        .save_schedule(&spec, now)
                        .await
                        .map_err(|e| format!("cannot save Schedule/{}: {e}", spec.id))?;
                    slots += saved.created;
                }
                Ok::<usize, String>(slots)
            })
        })
        .collect();
    let mut slots = 0;
    for task in tasks {
        slots += task.await.map_err(|e| e.to_string())??;
    }
    Ok(slots)
}

/// Two upcoming visits for the sample patient with their own general practitioner, one at
/// the clinic and one by video, unless they already have appointments (booked once).
async fn book_sample_patient(
    booking: &Booking,
    network: &DemoNetwork,
    now: Timestamp,
) -> Result<usize, String> {
    let patient_id = network.sample_patient();
    if has_appointments(booking, patient_id).await? {
        return Ok(0);
    }
    let gp = network
        .records
        .iter()
        .find(|r| r[0]["id"] == patient_id)
        .and_then(|r| r[0]["generalPractitioner"][0]["reference"].as_str())
        .and_then(|r| r.strip_prefix("Practitioner/"))
        .map(str::to_owned);
    let staff = Actor::Staff {
        account_id: "demo-seed".into(),
        name: "Carefront demo".into(),
    };
    let visits = [
        (Modality::InClinic, 2, "Diabetes follow-up"),
        (Modality::Video, 9, "HbA1c results"),
    ];
    let mut booked = 0;
    for (modality, days_ahead, reason) in visits {
        let Some(slot_id) = first_slot(booking, gp.as_deref(), modality, days_ahead, now).await?
        else {
            continue;
        };
        let request = BookRequest {
            slot_id,
            patient_id: patient_id.to_owned(),
            reason: Some(reason.to_owned()),
            ..BookRequest::default()
        };
        booking
            .book(&staff, &request, now)
            .await
            .map_err(|e| format!("cannot book the sample patient's visit: {e}"))?;
        booked += 1;
    }
    Ok(booked)
}

async fn has_appointments(booking: &Booking, patient_id: &str) -> Result<bool, String> {
    let repo = booking.repository();
    let params = [
        ("patient".to_owned(), format!("Patient/{patient_id}")),
        ("_summary".to_owned(), "count".to_owned()),
    ];
    let query = repo
        .parse_search(Some("Appointment"), &params, false)
        .map_err(|e| e.to_string())?;
    let page = repo.search(&query).await.map_err(|e| e.to_string())?;
    Ok(page.total.unwrap_or(0) > 0)
}

/// The first free general-practice slot `days_ahead` days from now or later, with the
/// patient's own doctor when they offer one.
async fn first_slot(
    booking: &Booking,
    practitioner_id: Option<&str>,
    modality: Modality,
    days_ahead: i64,
    now: Timestamp,
) -> Result<Option<String>, String> {
    let mut query = SlotQuery {
        specialty: Some(GENERAL_PRACTICE.into()),
        modality: Some(modality),
        practitioner_id: practitioner_id.map(str::to_owned),
        from: Some(now + SignedDuration::from_hours(24 * days_ahead)),
        sort: Sort::Earliest,
        limit: 1,
        slots_per_result: 1,
        ..SlotQuery::default()
    };
    for _ in 0..2 {
        let offers = booking
            .search(&query, now)
            .await
            .map_err(|e| format!("cannot search the demo's free times: {e}"))?;
        if let Some(slot) = offers.first().and_then(|o| o.slots.first()) {
            return Ok(Some(slot.slot_id.clone()));
        }
        // Their doctor has no such time: any general practitioner.
        query.practitioner_id = None;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clinician_but_pharmacists_gets_schedules_that_never_overlap() {
        let network = carefront_demo::generate(42);
        let specs = demo_schedules(&network).unwrap();
        let roles = network
            .directory
            .iter()
            .filter(|r| r["resourceType"] == "PractitionerRole")
            .filter(|r| r["code"][0]["coding"][0]["code"] != "pharmacist")
            .count();
        assert!(roles > 0);
        for modality in [Modality::InClinic, Modality::Video, Modality::Home] {
            assert!(specs.iter().any(|s| s.modality == modality), "{modality:?}");
        }
        assert_eq!(
            specs
                .iter()
                .filter(|s| s.modality == Modality::InClinic)
                .count(),
            roles
        );
        for spec in &specs {
            spec.rules().expect("valid rules");
            assert!(spec.zone_name == "Europe/Paris" || spec.zone_name == "America/New_York");
            let id = ScheduleSpec::id_for(&spec.role_id, spec.modality);
            assert_eq!(spec.id, id);
            // The same role's other schedules never share a minute with this one.
            for other in specs
                .iter()
                .filter(|o| o.role_id == spec.role_id && o.id != spec.id)
            {
                for a in &spec.weekly {
                    for b in other.weekly.iter().filter(|b| b.day == a.day) {
                        assert!(a.end <= b.start || b.end <= a.start, "{a:?} {b:?}");
                    }
                }
            }
        }
        let home = specs.iter().find(|s| s.modality == Modality::Home).unwrap();
        assert_eq!(home.slot_minutes, 30);
        assert!(home.weekly.iter().all(|w| w.start.hour() >= 14));
        let video = specs
            .iter()
            .find(|s| s.modality == Modality::Video)
            .unwrap();
        assert!(video.weekly.iter().all(|w| w.end.hour() <= 12));
    }
}
