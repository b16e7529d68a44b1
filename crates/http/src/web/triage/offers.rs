//! The visits an outcome offers: free times of the outcome's specialty and kind of visit
//! within the hours its urgency allows (for a child, paediatrics first, then general
//! practice). When nothing is free that soon, the earliest later times, said plainly.

use carefront_booking::scheduling::jiff::{SignedDuration, Timestamp};
use carefront_booking::scheduling::Modality;
use carefront_booking::{BookingError, Offer, SlotQuery, Sort};
use carefront_triage::{GENERAL_PRACTICE, PAEDIATRICS};
use serde::Serialize;

use crate::triage::view::OutcomeView;
use crate::web::booking::display::{offer_view, OfferView};
use crate::AppState;

/// Free times shown on an outcome page.
const SHOWN: usize = 6;

#[derive(Serialize, Default)]
pub struct Offered {
    pub offers: Vec<OfferView>,
    /// Nothing is free within the hours the urgency allows: these are later.
    pub later: bool,
    /// The search page with the same specialty and kind of visit.
    pub search: String,
}

/// Offers holding only the `max` earliest times among them, earliest clinician first.
fn earliest(mut offers: Vec<Offer>, max: usize) -> Vec<Offer> {
    let mut starts: Vec<i64> = offers
        .iter()
        .flat_map(|o| o.slots.iter().map(|s| s.starts_at))
        .collect();
    starts.sort_unstable();
    let Some(&last) = starts.get(max.saturating_sub(1)).or(starts.last()) else {
        return Vec::new();
    };
    let mut kept = 0;
    for o in &mut offers {
        o.slots.retain(|s| s.starts_at <= last);
        o.slots.truncate(max - kept.min(max));
        kept += o.slots.len();
    }
    offers.retain(|o| !o.slots.is_empty());
    offers.sort_by_key(|o| o.slots.first().map(|s| s.starts_at));
    offers
}

async fn search(
    state: &AppState,
    specialty: &str,
    modality: Option<Modality>,
    to: Option<Timestamp>,
    now: Timestamp,
) -> Result<Vec<Offer>, BookingError> {
    let query = SlotQuery {
        specialty: Some(specialty.to_owned()),
        modality,
        to,
        sort: Sort::Earliest,
        limit: SHOWN,
        slots_per_result: SHOWN,
        ..SlotQuery::default()
    };
    state.booking.search(&query, now).await
}

/// The booking search for the outcome's specialty and kind of visit (none for an
/// emergency).
pub fn search_link(outcome: &OutcomeView) -> Option<String> {
    let specialty = outcome.specialty.as_deref()?;
    let mut params = vec![("specialty", specialty)];
    if let Some(m) = outcome
        .modality
        .as_deref()
        .filter(|m| Modality::parse(m).is_some())
    {
        params.push(("modality", m));
    }
    Some(format!(
        "/book?{}",
        serde_urlencoded::to_string(params).unwrap_or_default()
    ))
}

/// What to offer for `outcome` (nothing for an emergency).
pub async fn offered(
    state: &AppState,
    lang: &str,
    outcome: &OutcomeView,
    now: Timestamp,
) -> Result<Offered, BookingError> {
    let Some(specialty) = outcome.specialty.as_deref() else {
        return Ok(Offered::default());
    };
    let modality = outcome.modality.as_deref().and_then(Modality::parse);
    let search_link = search_link(outcome).unwrap_or_default();
    let specialties: Vec<&str> = if specialty == PAEDIATRICS {
        vec![PAEDIATRICS, GENERAL_PRACTICE]
    } else {
        vec![specialty]
    };
    let until = outcome
        .within_hours
        .map(|h| now + SignedDuration::from_hours(i64::from(h)));
    for (later, to) in [(false, until), (true, None)] {
        if later && until.is_none() {
            break;
        }
        for s in &specialties {
            let found = search(state, s, modality, to, now).await?;
            if !found.is_empty() {
                return Ok(Offered {
                    offers: earliest(found, SHOWN)
                        .iter()
                        .map(|o| offer_view(lang, o, SHOWN))
                        .collect(),
                    later,
                    search: search_link,
                });
            }
        }
    }
    Ok(Offered {
        search: search_link,
        ..Offered::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use carefront_booking::OfferedSlot;

    fn offer(name: &str, starts: &[i64]) -> Offer {
        Offer {
            schedule_id: name.into(),
            role_id: "r".into(),
            practitioner_id: "p".into(),
            practitioner_name: name.into(),
            location_id: "l".into(),
            location_name: "Clinic".into(),
            modality: "video".into(),
            specialty: "GP".into(),
            languages: vec![],
            zone: "UTC".into(),
            distance_km: None,
            slots: starts
                .iter()
                .map(|s| OfferedSlot {
                    slot_id: format!("{name}{s}"),
                    start: String::new(),
                    end: String::new(),
                    starts_at: *s,
                })
                .collect(),
        }
    }

    #[test]
    fn only_the_earliest_times_are_kept() {
        let kept = earliest(
            vec![
                offer("b", &[5, 6, 7, 8]),
                offer("a", &[1, 2, 9]),
                offer("c", &[10]),
            ],
            4,
        );
        let names: Vec<&str> = kept.iter().map(|o| o.practitioner_name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let times: Vec<i64> = kept
            .iter()
            .flat_map(|o| o.slots.iter().map(|s| s.starts_at))
            .collect();
        assert_eq!(times, [1, 2, 5, 6]);
        assert_eq!(earliest(vec![offer("a", &[3])], 6).len(), 1);
        assert!(earliest(vec![offer("a", &[])], 6).is_empty());
    }
}
