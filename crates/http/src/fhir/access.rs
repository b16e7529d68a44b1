//! Access control on `/fhir`: the facts [`carefront_auth::decide`] needs (whose Patient
//! compartment a resource is in, which organisations manage that patient), and the answer
//! when it says no.
//!
//! A resource is in the compartment of each Patient its `patient`, `subject` or
//! `beneficiary` search parameter points to (a Patient is in its own). The organisations of
//! a patient are `Patient.managingOrganization` and the Organizations among
//! `Patient.generalPractitioner`: the practices that registered or follow the patient.
//!
//! Facts cost reads and are only gathered when the decision depends on them: for patients and
//! practitioners on clinical types. Clients, and every caller on directory or reference data,
//! are decided on the resource type alone, so the hot path adds no query.

use std::collections::HashMap;

use axum::http::StatusCode;
use carefront_auth::{
    classify, decide, AccessRequest, Action, Decision, DenyReason, OrganizationRef, PatientRef,
    Principal, ResourceClass, Role,
};
use carefront_fhir::search::{extract, IndexValue};
use carefront_fhir::IssueCode;
use carefront_store::StoredResource;
use serde_json::Value;

use crate::auth::Caller;
use crate::{ApiError, AppState};

/// Stands for a Patient that does not exist yet (created in this request): it is nobody's
/// own record, and its organisations come from its body.
const NEW_PATIENT: &str = "-new-";

/// The answer to a denial: 401 to sign in, else 403 with the decision's message (which names
/// no patient or resource).
pub fn refusal(reason: DenyReason) -> ApiError {
    match reason {
        DenyReason::Unauthenticated => ApiError::new(
            StatusCode::UNAUTHORIZED,
            IssueCode::Login,
            reason.to_string(),
        ),
        _ => ApiError::new(
            StatusCode::FORBIDDEN,
            IssueCode::Forbidden,
            reason.to_string(),
        ),
    }
}

/// Allow, or the refusal. Aggregate-only access is a refusal here: searches handle it.
pub fn permit(decision: Decision) -> Result<Decision, ApiError> {
    match decision {
        Decision::Allow { .. } => Ok(decision),
        Decision::AllowAggregateOnly => Err(refusal(DenyReason::AggregateOnly)),
        Decision::Deny(reason) => Err(refusal(reason)),
    }
}

/// The decision on the type alone (no compartment): for system and type-level interactions,
/// and for callers whose rights do not depend on whose record it is.
pub fn decide_type(caller: &Caller, action: Action, resource_type: &str) -> Decision {
    decide(
        &caller.principal,
        &AccessRequest {
            action,
            resource_type,
            compartment: None,
            patient_organizations: &[],
        },
    )
}

/// Whether deciding on `resource_type` for this caller needs the resource's compartment.
pub fn needs_facts(caller: &Caller, resource_type: &str) -> bool {
    matches!(
        &caller.principal,
        Principal::Account(a) if matches!(a.role, Role::Patient | Role::Practitioner)
    ) && classify(resource_type) == ResourceClass::Clinical
}

/// The facts gathered for one request: the organisations of each patient met so far, and
/// those of Patients created in the same Bundle (by `urn:uuid:` full URL).
#[derive(Default)]
pub struct Facts {
    organizations: HashMap<String, Vec<OrganizationRef>>,
}

impl Facts {
    /// A Patient created in this request under `full_url`, managed by what its body says.
    pub fn new_patient(&mut self, full_url: &str, body: &Value) {
        self.organizations
            .insert(full_url.to_owned(), patient_organizations(body));
    }

    /// The decision for `action` on `resource` (a body or a stored version) of type
    /// `resource_type`; `id` is the resource's id when the body may lack it (an update).
    pub async fn decide(
        &mut self,
        state: &AppState,
        caller: &Caller,
        action: Action,
        resource_type: &str,
        resource: Option<&Value>,
        id: Option<&str>,
    ) -> Decision {
        if !needs_facts(caller, resource_type) {
            return decide_type(caller, action, resource_type);
        }
        let owners = match resource {
            Some(r) => owners(resource_type, r, id),
            None => Vec::new(),
        };
        let mut first_denial = None;
        for owner in &owners {
            let orgs = self
                .organizations_of(state, caller, owner, resource_type, resource)
                .await;
            let key = if owner.starts_with("urn:") {
                NEW_PATIENT
            } else {
                owner
            };
            let Ok(patient) = PatientRef::parse(key) else {
                continue;
            };
            let d = decide(
                &caller.principal,
                &AccessRequest {
                    action,
                    resource_type,
                    compartment: Some(&patient),
                    patient_organizations: &orgs,
                },
            );
            if d.is_allowed() {
                return d;
            }
            first_denial.get_or_insert(d);
        }
        first_denial.unwrap_or_else(|| decide_type(caller, action, resource_type))
    }

    /// [`Facts::decide`] for a stored resource (deleted: no compartment is known).
    pub async fn decide_stored(
        &mut self,
        state: &AppState,
        caller: &Caller,
        action: Action,
        r: &StoredResource,
    ) -> Decision {
        if !needs_facts(caller, &r.resource_type) {
            return decide_type(caller, action, &r.resource_type);
        }
        let json = serde_json::from_slice::<Value>(&r.content).ok();
        self.decide(
            state,
            caller,
            action,
            &r.resource_type,
            json.as_ref(),
            Some(&r.id),
        )
        .await
    }

    async fn organizations_of(
        &mut self,
        state: &AppState,
        caller: &Caller,
        owner: &str,
        resource_type: &str,
        resource: Option<&Value>,
    ) -> Vec<OrganizationRef> {
        // A patient's own rights do not depend on organisations: spare the read.
        if matches!(&caller.principal, Principal::Account(a) if a.role == Role::Patient) {
            return Vec::new();
        }
        // A Patient body being written counts with the organisations it will have.
        if resource_type == "Patient" {
            if let Some(body) = resource {
                return patient_organizations(body);
            }
        }
        if let Some(orgs) = self.organizations.get(owner) {
            return orgs.clone();
        }
        let orgs = match state.repo.read("Patient", owner).await {
            Ok(p) => serde_json::from_slice::<Value>(&p.content)
                .map(|json| patient_organizations(&json))
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        self.organizations.insert(owner.to_owned(), orgs.clone());
        orgs
    }
}

/// The Patients whose compartment `resource` is in: ids, or `urn:uuid:` URLs of Patients
/// created in the same Bundle.
pub fn owners(resource_type: &str, resource: &Value, id: Option<&str>) -> Vec<String> {
    if resource_type == "Patient" {
        let id = id.or_else(|| resource.get("id").and_then(Value::as_str));
        return vec![id.unwrap_or(NEW_PATIENT).to_owned()];
    }
    let mut out: Vec<String> = Vec::new();
    for entry in extract(resource) {
        if !matches!(entry.param.as_str(), "patient" | "subject" | "beneficiary") {
            continue;
        }
        let IndexValue::Reference {
            target_type,
            target_id,
            url,
        } = entry.value
        else {
            continue;
        };
        let owner = match (target_type.as_deref(), target_id, url) {
            (Some("Patient"), Some(id), _) => id,
            (_, _, Some(url)) if url.starts_with("urn:uuid:") => url,
            _ => continue,
        };
        if !out.contains(&owner) {
            out.push(owner);
        }
    }
    out
}

/// `Patient.managingOrganization` and the Organizations among `generalPractitioner`.
pub fn patient_organizations(patient: &Value) -> Vec<OrganizationRef> {
    let mut orgs: Vec<OrganizationRef> = organization_ref(&patient["managingOrganization"])
        .into_iter()
        .collect();
    for gp in patient["generalPractitioner"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(org) = organization_ref(gp) {
            if !orgs.contains(&org) {
                orgs.push(org);
            }
        }
    }
    orgs
}

/// The Organization a Reference points to (`Organization/x`, relative or absolute).
pub fn organization_ref(reference: &Value) -> Option<OrganizationRef> {
    let text = reference["reference"].as_str()?;
    let text = text.split("/_history/").next().unwrap_or(text);
    let mut parts = text.rsplit('/');
    let id = parts.next()?;
    (parts.next()? == "Organization")
        .then(|| OrganizationRef::parse(id).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owners_of_resources() {
        let obs = json!({"resourceType": "Observation", "status": "final",
            "code": {"text": "x"}, "subject": {"reference": "Patient/p1"}});
        assert_eq!(owners("Observation", &obs, None), ["p1"]);
        let p = json!({"resourceType": "Patient", "id": "p2"});
        assert_eq!(owners("Patient", &p, None), ["p2"]);
        assert_eq!(
            owners("Patient", &json!({"resourceType": "Patient"}), None),
            [NEW_PATIENT]
        );
        let group = json!({"resourceType": "Observation", "status": "final",
            "code": {"text": "x"}, "subject": {"reference": "Group/g"}});
        assert!(owners("Observation", &group, None).is_empty());
    }

    #[test]
    fn organisations_of_a_patient() {
        let p = json!({"resourceType": "Patient",
            "managingOrganization": {"reference": "Organization/a"},
            "generalPractitioner": [{"reference": "Practitioner/x"},
                {"reference": "http://h/fhir/Organization/b"}, {"reference": "Organization/a"}]});
        let ids: Vec<String> = patient_organizations(&p)
            .iter()
            .map(|o| o.id().to_owned())
            .collect();
        assert_eq!(ids, ["a", "b"]);
    }
}
