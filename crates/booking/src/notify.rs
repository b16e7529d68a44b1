//! Mail about appointments, written to the outbox in the booking's own transaction: the
//! confirmation with a calendar invitation (.ics), the reminders (mail that waits until its
//! time, withdrawn when the visit is cancelled or moved), cancellations and waitlist offers.
//!
//! Mail says when and where, never why: no specialty, clinician or reason, since mail
//! crosses servers Carefront does not control.

use carefront_scheduling::ics::{self, Event, Method};
use carefront_scheduling::jiff::tz::TimeZone;
use carefront_scheduling::jiff::Timestamp;
use carefront_scheduling::{reminder_times, Modality};
use carefront_store::tables::outbox::{self, Attachment, Outgoing};
use carefront_store::{StoreResult, StoreTx};

use crate::Settings;

/// What mail about one visit needs.
#[derive(Debug, Clone)]
pub(crate) struct VisitMail {
    /// The patient's address; no address, no mail.
    pub to: Option<String>,
    pub french: bool,
    pub appointment_id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub zone: TimeZone,
    pub location_name: String,
    pub modality: Modality,
    pub public_url: String,
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

impl VisitMail {
    fn when(&self) -> String {
        let local = self.start.to_zoned(self.zone.clone());
        if self.french {
            local.strftime("%d/%m/%Y à %H:%M").to_string()
        } else {
            local.strftime("%A %-d %B %Y at %H:%M").to_string()
        }
    }

    fn place(&self) -> String {
        match (self.modality, self.french) {
            (Modality::InClinic, _) => self.location_name.clone(),
            (Modality::Video, true) => "Téléconsultation (vidéo)".into(),
            (Modality::Video, false) => "Video visit".into(),
            (Modality::Home, true) => "Visite à domicile".into(),
            (Modality::Home, false) => "Home visit".into(),
        }
    }

    fn link(&self) -> String {
        format!("{}/appointments/{}", self.public_url, self.appointment_id)
    }

    fn summary(&self) -> String {
        if self.french {
            format!("Rendez-vous Carefront — {}", self.place())
        } else {
            format!("Carefront appointment — {}", self.place())
        }
    }

    fn invitation(&self, method: Method, sequence: u32, now: Timestamp) -> Attachment {
        let place = self.place();
        let link = self.link();
        let summary = self.summary();
        let body = ics::calendar(
            method,
            &Event {
                uid: &format!("{}@carefront", self.appointment_id),
                sequence,
                start: self.start,
                end: self.end,
                stamp: now,
                summary: &summary,
                location: Some(&place),
                description: None,
                url: Some(&link),
            },
        );
        Attachment {
            name: "appointment.ics".into(),
            content_type: match method {
                Method::Request => "text/calendar; charset=utf-8; method=REQUEST".into(),
                Method::Cancel => "text/calendar; charset=utf-8; method=CANCEL".into(),
            },
            body,
        }
    }

    fn mail(&self, subject: String, body: String) -> Option<Outgoing> {
        Some(Outgoing {
            to: self.to.clone()?,
            subject,
            body_text: body,
            topic: Some(self.appointment_id.clone()),
            ..Outgoing::default()
        })
    }
}

/// Confirmation now, reminders later. `sequence` rises each time the visit moves, so
/// calendars replace the earlier invitation.
pub(crate) async fn booked(
    tx: &mut dyn StoreTx,
    visit: &VisitMail,
    settings: &Settings,
    now: Timestamp,
    sequence: u32,
) -> StoreResult<()> {
    let (subject, body) = if visit.french {
        (
            format!("Rendez-vous confirmé : {}", visit.when()),
            format!(
                "Votre rendez-vous est confirmé.\n\nQuand : {}\nOù : {}\n\nPour le voir, le déplacer ou l'annuler : {}\n\nL'invitation jointe l'ajoute à votre agenda.\n",
                visit.when(), visit.place(), visit.link()
            ),
        )
    } else {
        (
            format!("Appointment confirmed: {}", visit.when()),
            format!(
                "Your appointment is confirmed.\n\nWhen: {}\nWhere: {}\n\nTo see, move or cancel it: {}\n\nThe attached invitation adds it to your calendar.\n",
                visit.when(), visit.place(), visit.link()
            ),
        )
    };
    let Some(mut confirmation) = visit.mail(subject, body) else {
        return Ok(());
    };
    confirmation.attachment = Some(visit.invitation(Method::Request, sequence, now));
    outbox::enqueue_in(tx, &confirmation, micros(now)).await?;
    for at in reminder_times(visit.start, &settings.reminders, now) {
        let (subject, body) = if visit.french {
            (
                format!("Rappel : rendez-vous le {}", visit.when()),
                format!(
                    "Rappel de votre rendez-vous.\n\nQuand : {}\nOù : {}\n\nEmpêché ? Annulez ou déplacez-le : {}\n",
                    visit.when(), visit.place(), visit.link()
                ),
            )
        } else {
            (
                format!("Reminder: appointment on {}", visit.when()),
                format!(
                    "A reminder of your appointment.\n\nWhen: {}\nWhere: {}\n\nCan't make it? Cancel or move it: {}\n",
                    visit.when(), visit.place(), visit.link()
                ),
            )
        };
        if let Some(mut reminder) = visit.mail(subject, body) {
            reminder.send_after = Some(micros(at));
            outbox::enqueue_in(tx, &reminder, micros(now)).await?;
        }
    }
    Ok(())
}

pub(crate) async fn cancelled(
    tx: &mut dyn StoreTx,
    visit: &VisitMail,
    now: Timestamp,
) -> StoreResult<()> {
    let (subject, body) = if visit.french {
        (
            format!("Rendez-vous annulé : {}", visit.when()),
            format!(
                "Votre rendez-vous du {} ({}) est annulé.\n\nPrendre un autre rendez-vous : {}/book\n",
                visit.when(), visit.place(), visit.public_url
            ),
        )
    } else {
        (
            format!("Appointment cancelled: {}", visit.when()),
            format!(
                "Your appointment on {} ({}) is cancelled.\n\nBook another time: {}/book\n",
                visit.when(),
                visit.place(),
                visit.public_url
            ),
        )
    };
    let Some(mut mail) = visit.mail(subject, body) else {
        return Ok(());
    };
    // Cancellation mail must survive the withdrawal of the topic's pending mail.
    mail.topic = None;
    mail.attachment = Some(visit.invitation(Method::Cancel, 99, now));
    outbox::enqueue_in(tx, &mail, micros(now)).await?;
    Ok(())
}

/// An earlier time was freed for a patient on the waitlist; it is held until `expires`.
pub(crate) async fn offered(
    tx: &mut dyn StoreTx,
    visit: &VisitMail,
    expires: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    let until = expires
        .to_zoned(visit.zone.clone())
        .strftime("%H:%M")
        .to_string();
    let (subject, body) = if visit.french {
        (
            format!("Un créneau plus tôt est libre : {}", visit.when()),
            format!(
                "Un créneau s'est libéré : {} ({}).\n\nIl vous est réservé jusqu'à {until}. Pour le confirmer : {}\n",
                visit.when(), visit.place(), visit.link()
            ),
        )
    } else {
        (
            format!("An earlier time is free: {}", visit.when()),
            format!(
                "A time has become free: {} ({}).\n\nIt is kept for you until {until}. To take it: {}\n",
                visit.when(), visit.place(), visit.link()
            ),
        )
    };
    if let Some(mail) = visit.mail(subject, body) {
        outbox::enqueue_in(tx, &mail, micros(now)).await?;
    }
    Ok(())
}
