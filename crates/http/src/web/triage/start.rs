//! `/triage`: who the symptom check is for (the patient or a child in their care), age,
//! sex, known conditions and the main complaint, typed (recognised against every
//! complaint's words, misspellings forgiven) or picked from the list. Unclear text asks
//! "Did you mean"; unknown text asks to pick from the list.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use carefront_auth::Action;
use carefront_triage::{Condition, Lang, Library, Patient, Protocol, Sex, Understood};
use carefront_triage_service::Start;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{caller, content_lang, failed, patient_only, summary, Summary};
use crate::triage::access;
use crate::web::admin::Choice;
use crate::web::booking::{ticked, Visitor};
use crate::web::csrf;
use crate::web::dashboard::user_context;
use crate::web::forms::{self, message, FieldErrors};
use crate::web::page::{csrf_failed_page, see_other};
use crate::AppState;

/// Recent symptom checks listed under the form.
const HISTORY: usize = 5;
/// Ages the form accepts: years, and months for babies.
const MAX_YEARS: u32 = 120;
const MAX_MONTHS: u32 = 36;

#[derive(Deserialize, Serialize, Default, Clone, Debug)]
#[serde(default)]
pub struct StartForm {
    /// `me` (default) or `child`.
    pub whom: String,
    pub age: String,
    /// `years` (default) or `months`.
    pub age_unit: String,
    /// `female` or `male`.
    pub sex: String,
    pub pregnant: String,
    /// What the patient typed.
    pub complaint_text: String,
    /// A complaint picked from the list.
    pub complaint: String,
    /// A complaint picked among the "Did you mean" choices.
    pub pick: String,
    #[serde(skip_serializing)]
    pub csrf: String,
}

/// A known condition as a checkbox.
#[derive(Serialize)]
struct ConditionBox {
    code: &'static str,
    label: &'static str,
    checked: bool,
}

/// The conditions ticked on the form (`condition` may repeat).
fn ticked_conditions(body: &[u8]) -> Vec<Condition> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == "condition")
        .filter_map(|(_, v)| Condition::parse(&v))
        .collect()
}

/// Every complaint, by title in `lang`.
fn complaints(library: &Library, lang: Lang) -> Vec<Choice> {
    let mut all: Vec<Choice> = library
        .all()
        .iter()
        .map(|p| Choice {
            value: p.id.clone(),
            label: p.title.get(lang).to_owned(),
        })
        .collect();
    all.sort_by_key(|c| c.label.to_lowercase());
    all
}

/// What the form says, checked.
enum Checked<'a> {
    Start(Patient, &'a Protocol),
    /// The typed complaint could be one of these.
    Unclear(Vec<&'a Protocol>),
}

/// The age in months: years, or months for a baby.
fn age_months(f: &StartForm) -> Option<u32> {
    let n: u32 = f.age.trim().parse().ok()?;
    match f.age_unit.as_str() {
        "months" => (n <= MAX_MONTHS).then_some(n),
        _ => (n <= MAX_YEARS).then_some(n * 12),
    }
}

fn check<'a>(
    f: &StartForm,
    conditions: Vec<Condition>,
    library: &'a Library,
    lang: &str,
) -> Result<Checked<'a>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let months = age_months(f);
    if months.is_none() {
        errors.add("age", message(lang, "triage.error.age", &[]));
    }
    let sex = match f.sex.as_str() {
        "female" => Some(Sex::Female),
        "male" => Some(Sex::Male),
        _ => {
            errors.add("sex", message(lang, "triage.error.sex", &[]));
            None
        }
    };
    let (Some(age_months), Some(sex)) = (months, sex) else {
        return Err(errors);
    };
    let patient = Patient {
        age_months,
        sex,
        pregnant: sex == Sex::Female && ticked(&f.pregnant),
        conditions,
    };
    let age = patient.age_years();
    let chosen = [f.pick.trim(), f.complaint.trim()]
        .into_iter()
        .find(|id| !id.is_empty());
    if let Some(id) = chosen {
        return match library.get(id) {
            Some(p) if p.ages.admits(age) => Ok(Checked::Start(patient, p)),
            Some(_) => {
                errors.add(
                    "complaint",
                    message(lang, "triage.error.complaint_age", &[]),
                );
                Err(errors)
            }
            None => {
                errors.add(
                    "complaint",
                    message(lang, "triage.error.complaint_pick", &[]),
                );
                Err(errors)
            }
        };
    }
    let text = f.complaint_text.trim();
    if text.is_empty() {
        errors.add(
            "complaint_text",
            message(lang, "triage.error.complaint_needed", &[]),
        );
        return Err(errors);
    }
    if text.chars().count() > 500 {
        errors.add(
            "complaint_text",
            message(lang, "form.text.too_long", &[("max", "500".into())]),
        );
        return Err(errors);
    }
    match library.understand(text, Some(age)) {
        Understood::Nothing => {
            errors.add(
                "complaint_text",
                message(lang, "triage.error.complaint_unknown", &[]),
            );
            Err(errors)
        }
        Understood::One(protocol) => Ok(Checked::Start(patient, protocol)),
        Understood::Several(list) => Ok(Checked::Unclear(list)),
    }
}

/// The form (again), with what is wrong or the complaints the text may mean.
async fn render(
    state: &AppState,
    v: &Visitor,
    form: &StartForm,
    conditions: &[Condition],
    errors: FieldErrors,
    candidates: Vec<Choice>,
    status: StatusCode,
) -> Response {
    let lang = content_lang(v);
    let library = state.triage.library();
    let boxes: Vec<ConditionBox> = Condition::ALL
        .iter()
        .map(|c| ConditionBox {
            code: c.code(),
            label: c.label(lang),
            checked: conditions.contains(c),
        })
        .collect();
    let mut history: Vec<Summary> = Vec::new();
    if let Some(pid) = v.patient_id() {
        for (assessment_id, _) in state.triage.history(pid, HISTORY).await.unwrap_or_default() {
            history.extend(summary(state, v, &assessment_id, Some(pid)).await);
        }
    }
    let ctx = context! {
        lang => v.lang,
        user => user_context(&v.who),
        values => form,
        errors,
        conditions => boxes,
        complaints => complaints(library, lang),
        candidates,
        history,
    };
    v.render(status, "triage_start.html", ctx)
}

pub async fn show(State(state): State<AppState>, v: Visitor) -> Response {
    if v.patient_id().is_none() {
        return patient_only(&v);
    }
    let form = StartForm {
        whom: "me".into(),
        age_unit: "years".into(),
        ..StartForm::default()
    };
    render(
        &state,
        &v,
        &form,
        &[],
        FieldErrors::default(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn submit(State(state): State<AppState>, v: Visitor, body: Bytes) -> Response {
    let form: StartForm = forms::parse(&body);
    if !csrf::session_ok(&v.who, &form.csrf) {
        return csrf_failed_page(v.lang);
    }
    let Some(pid) = v.patient_id().map(str::to_owned) else {
        return patient_only(&v);
    };
    let conditions = ticked_conditions(&body);
    let lang = content_lang(&v);
    let library = state.triage.library();
    let (patient, protocol) = match check(&form, conditions.clone(), library, v.lang) {
        Ok(Checked::Start(patient, protocol)) => (patient, protocol),
        Ok(Checked::Unclear(several)) => {
            let candidates = several
                .into_iter()
                .map(|p| Choice {
                    value: p.id.clone(),
                    label: p.title.get(lang).to_owned(),
                })
                .collect();
            let errors = FieldErrors::default();
            return render(
                &state,
                &v,
                &form,
                &conditions,
                errors,
                candidates,
                StatusCode::OK,
            )
            .await;
        }
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render(&state, &v, &form, &conditions, errors, Vec::new(), status).await;
        }
    };
    let caller = caller(&state, &v).await;
    if let Err(e) = access::check(
        &state,
        &caller,
        Action::Create,
        "QuestionnaireResponse",
        &pid,
    )
    .await
    {
        v.audit(&state, "create", "QuestionnaireResponse", None, false)
            .await;
        return failed(&v, e);
    }
    let typed = form.complaint_text.trim();
    let started = state
        .triage
        .start(Start {
            patient_id: pid,
            patient,
            protocol: protocol.id.clone(),
            lang,
            for_child: form.whom == "child",
            complaint_text: (!typed.is_empty()).then(|| typed.to_owned()),
        })
        .await;
    v.audit(
        &state,
        "create",
        "QuestionnaireResponse",
        started.as_ref().ok().map(|r| r.id.as_str()),
        started.is_ok(),
    )
    .await;
    match started {
        Ok(record) => see_other(&format!("/triage/{}", record.id)),
        Err(e) => failed(&v, e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(age: &str, unit: &str, sex: &str, text: &str) -> StartForm {
        StartForm {
            age: age.into(),
            age_unit: unit.into(),
            sex: sex.into(),
            complaint_text: text.into(),
            ..StartForm::default()
        }
    }

    #[test]
    fn ages_are_years_or_months_for_a_baby() {
        assert_eq!(age_months(&form("40", "years", "", "")), Some(480));
        assert_eq!(age_months(&form("7", "months", "", "")), Some(7));
        assert_eq!(age_months(&form("37", "months", "", "")), None);
        assert_eq!(age_months(&form("121", "", "", "")), None);
        assert_eq!(age_months(&form("forty", "years", "", "")), None);
    }

    #[test]
    fn every_field_is_checked_at_once() {
        let library = Library::shared();
        let Err(e) = check(&form("", "years", "", ""), vec![], library, "en") else {
            panic!("must fail");
        };
        assert!(e.get("age").is_some() && e.get("sex").is_some());
        let Err(e) = check(&form("40", "years", "female", ""), vec![], library, "fr") else {
            panic!("must fail");
        };
        assert!(e.get("complaint_text").is_some());
        let Err(e) = check(
            &form("40", "years", "female", "zzzz qqqq xxxx"),
            vec![],
            library,
            "en",
        ) else {
            panic!("must fail");
        };
        assert!(e.get("complaint_text").is_some());
    }

    #[test]
    fn a_picked_complaint_wins_over_the_text_and_must_suit_the_age() {
        let library = Library::shared();
        let Some(first) = library.all().first() else {
            return;
        };
        let mut f = form("40", "years", "male", "zzzz");
        f.pick = first.id.clone();
        let age_ok = first.ages.admits(40.0);
        match check(&f, vec![Condition::Diabetes], library, "en") {
            Ok(Checked::Start(p, chosen)) => {
                assert!(age_ok);
                assert_eq!(chosen.id, first.id);
                assert_eq!(p.conditions, vec![Condition::Diabetes]);
                assert!(!p.pregnant, "only for women");
            }
            Err(e) => assert!(!age_ok && e.get("complaint").is_some()),
            Ok(Checked::Unclear(_)) => panic!("a pick is never unclear"),
        }
    }

    #[test]
    fn conditions_may_repeat_in_the_form() {
        let body = b"condition=diabetes&condition=lung_disease&condition=nonsense&csrf=x";
        assert_eq!(
            ticked_conditions(body),
            vec![Condition::Diabetes, Condition::LungDisease]
        );
        let f: StartForm = forms::parse(body);
        assert_eq!(f.csrf, "x", "the repeated field does not spoil the form");
    }
}
