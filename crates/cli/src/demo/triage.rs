//! Demo triage: a few finished interviews for the sample patient, played from the case
//! vignettes (one per urgency level), so the clinicians' queue has something in it.

use carefront_store::repository::Repository;
use carefront_triage::vignettes;
use carefront_triage::Level;
use carefront_triage_service::{Start, Triage};

pub async fn ensure(repo: &Repository, sample_patient: &str) -> Result<usize, String> {
    let triage = Triage::new(repo.clone());
    let fail = |e: carefront_triage_service::TriageError| format!("cannot seed demo triage: {e}");
    if !triage
        .history(sample_patient, 1)
        .await
        .map_err(fail)?
        .is_empty()
    {
        return Ok(0);
    }
    let cases = vignettes::embedded()?;
    let mut written = 0;
    for level in [Level::Urgent, Level::Routine, Level::SelfCare] {
        // An adult story, so it fits the sample patient.
        let Some(case) = cases
            .iter()
            .find(|c| c.expect == level && c.patient().age_years() >= 18.0)
        else {
            continue;
        };
        let mut record = triage
            .start(Start {
                patient_id: sample_patient.to_owned(),
                patient: case.patient(),
                protocol: case.protocol.clone(),
                lang: case.lang,
                for_child: false,
                complaint_text: Some(case.says.clone()),
            })
            .await
            .map_err(fail)?;
        let protocol = record
            .protocol(triage.library())
            .ok_or("a vignette names an unknown protocol")?;
        while let carefront_triage::Step::Ask(asked) = record.interview.step(protocol) {
            let reply = case.reply(&asked.question.id, &asked.question.kind)?;
            let (next, _) = triage
                .answer(&record.id, &asked.question.id, &reply, None)
                .await
                .map_err(fail)?;
            if next.status == carefront_triage_service::Status::Completed {
                break;
            }
            record = next;
        }
        written += 1;
    }
    Ok(written)
}
