//! Who may do what to which FHIR resource, as pure functions. The HTTP layer works out the
//! facts (who is asking, the resource type, whose Patient compartment the resource is in, which
//! organisations manage that patient) and asks [`decide`]; nothing here reads a database.
//!
//! Deny is the default: a role gets only what a rule below grants, and a resource type not
//! listed as network or reference data is treated as clinical.

use std::fmt;

use crate::role::Role;
use crate::scope::{ScopeContext, ScopeSet};

/// A FHIR interaction, as far as access control cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    Search,
    Create,
    Update,
    Delete,
    History,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Read,
        Action::Search,
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::History,
    ];

    pub fn is_write(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Search => "search",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::History => "history",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a FHIR id is 1 to 64 letters, digits, '-' or '.'")]
pub struct InvalidId;

/// FHIR's id syntax: `[A-Za-z0-9\-\.]{1,64}`.
fn check_id(id: &str) -> Result<(), InvalidId> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then_some(()).ok_or(InvalidId)
}

/// The id of a Patient resource: the owner of a Patient compartment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PatientRef(String);

impl PatientRef {
    pub fn parse(id: &str) -> Result<Self, InvalidId> {
        check_id(id).map(|()| Self(id.to_owned()))
    }

    pub fn id(&self) -> &str {
        &self.0
    }
}

/// The id of an Organization resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrganizationRef(String);

impl OrganizationRef {
    pub fn parse(id: &str) -> Result<Self, InvalidId> {
        check_id(id).map(|()| Self(id.to_owned()))
    }

    pub fn id(&self) -> &str {
        &self.0
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    Account(AccountPrincipal),
    Client(ClientPrincipal),
}

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct AccountPrincipal {
    pub id: String,
    pub role: Role,
    /// The Patient resource a patient account is (none for staff, or a patient whose record
    /// is not linked yet).
    pub patient_id: Option<PatientRef>,
    /// The organisations a member of staff works for.
    pub organizations: Vec<OrganizationRef>,
}

/// An OAuth2 client holding a bearer token from the client-credentials grant.
#[derive(Debug, Clone)]
pub struct ClientPrincipal {
    pub id: String,
    pub scopes: ScopeSet,
}

/// What is being asked for. The caller fills in the facts it found out.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    pub action: Action,
    pub resource_type: &'a str,
    /// The patient whose Patient compartment the resource is in: for a read, update or delete
    /// the stored resource's; for a create the new resource's; for a search or a history the
    /// patient the request is limited to. None when there is none.
    pub compartment: Option<&'a PatientRef>,
    /// The organisations that manage that patient (`Patient.managingOrganization` and
    /// whatever else the caller counts as a care relationship).
    pub patient_organizations: &'a [OrganizationRef],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead. With `audit_required`, the access is outside a care relationship (an
    /// administrator reading a clinical record): the caller must record it in the audit log,
    /// marked for review, before answering.
    Allow {
        audit_required: bool,
    },
    /// Only counts and other aggregate figures may be answered, never a resource; the caller
    /// also limits them to the employer's programme and suppresses small numbers.
    AllowAggregateOnly,
    Deny(DenyReason),
}

impl Decision {
    const ALLOW: Decision = Decision::Allow {
        audit_required: false,
    };

    /// True for `Allow` (aggregate-only is not access to the resources themselves).
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    pub fn audit_required(&self) -> bool {
        matches!(
            self,
            Decision::Allow {
                audit_required: true
            }
        )
    }
}

/// Why access was refused. Messages name no patient or resource, so they may be logged and
/// shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DenyReason {
    #[error("sign in first")]
    Unauthenticated,
    #[error("the account is not linked to a patient record")]
    NoLinkedPatient,
    #[error("the request must be limited to one patient's records")]
    CompartmentRequired,
    #[error("the record belongs to another patient")]
    OtherPatient,
    #[error("the patient is not cared for by your organisations")]
    PatientNotInYourOrganizations,
    #[error("your role has no access to this type of resource")]
    ResourceTypeNotPermitted,
    #[error("your role cannot do this to this type of resource")]
    ActionNotPermitted,
    #[error("employer administrators see aggregate figures only")]
    AggregateOnly,
    #[error("the token's scopes do not allow this")]
    ScopeMissing,
}

impl DenyReason {
    /// A stable code for the audit log.
    pub fn code(self) -> &'static str {
        match self {
            DenyReason::Unauthenticated => "unauthenticated",
            DenyReason::NoLinkedPatient => "no-linked-patient",
            DenyReason::CompartmentRequired => "compartment-required",
            DenyReason::OtherPatient => "other-patient",
            DenyReason::PatientNotInYourOrganizations => "patient-not-in-organizations",
            DenyReason::ResourceTypeNotPermitted => "resource-type-not-permitted",
            DenyReason::ActionNotPermitted => "action-not-permitted",
            DenyReason::AggregateOnly => "aggregate-only",
            DenyReason::ScopeMissing => "scope-missing",
        }
    }
}

/// How access control sees a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceClass {
    /// The care network's directory: who works where, what is offered, when.
    Network,
    /// Definitions, terminology and catalogues: the same for every patient, no personal data.
    Reference,
    /// Everything else, including types not yet thought about: may hold health data.
    Clinical,
}

const NETWORK: &[&str] = &[
    "Organization",
    "OrganizationAffiliation",
    "Location",
    "Practitioner",
    "PractitionerRole",
    "HealthcareService",
    "Endpoint",
    "Schedule",
    "Slot",
];

const REFERENCE: &[&str] = &[
    "ActivityDefinition",
    "CapabilityStatement",
    "ChargeItemDefinition",
    "CodeSystem",
    "CompartmentDefinition",
    "ConceptMap",
    "EventDefinition",
    "GraphDefinition",
    "ImplementationGuide",
    "Library",
    "Measure",
    "Medication",
    "MedicationKnowledge",
    "MessageDefinition",
    "NamingSystem",
    "ObservationDefinition",
    "OperationDefinition",
    "PlanDefinition",
    "Questionnaire",
    "SearchParameter",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "TerminologyCapabilities",
    "ValueSet",
];

pub fn classify(resource_type: &str) -> ResourceClass {
    if NETWORK.contains(&resource_type) {
        ResourceClass::Network
    } else if REFERENCE.contains(&resource_type) {
        ResourceClass::Reference
    } else {
        ResourceClass::Clinical
    }
}

/// Clinical types a pharmacist may read: prescriptions and what dispensing needs.
const PHARMACIST_READS: &[&str] = &[
    "MedicationRequest",
    "MedicationDispense",
    "AllergyIntolerance",
    "Patient",
];
const PHARMACIST_WRITES: &[&str] = &["MedicationDispense"];
/// A dispatcher books and routes visits: the patient's details and appointments, not the
/// clinical record.
const DISPATCHER_READS: &[&str] = &["Patient", "Appointment", "AppointmentResponse"];
const DISPATCHER_WRITES: &[&str] = &["Appointment", "AppointmentResponse"];
const DISPATCHER_NETWORK_WRITES: &[&str] = &["Schedule", "Slot"];

/// The access decision for one request.
pub fn decide(principal: &Principal, request: &AccessRequest<'_>) -> Decision {
    match principal {
        Principal::Anonymous => Decision::Deny(DenyReason::Unauthenticated),
        // A client-credentials token has no user or patient behind it, so only `system/`
        // scopes grant anything.
        Principal::Client(client) => {
            if client
                .scopes
                .allows_in(ScopeContext::System, request.resource_type, request.action)
            {
                Decision::ALLOW
            } else {
                Decision::Deny(DenyReason::ScopeMissing)
            }
        }
        Principal::Account(account) => match classify(request.resource_type) {
            ResourceClass::Reference => reference(account.role, request),
            ResourceClass::Network => network(account.role, request),
            ResourceClass::Clinical => clinical(account, request),
        },
    }
}

fn reference(role: Role, request: &AccessRequest<'_>) -> Decision {
    if !request.action.is_write() || role == Role::Administrator {
        Decision::ALLOW
    } else {
        Decision::Deny(DenyReason::ActionNotPermitted)
    }
}

/// Everyone signed in reads the directory (patients need it to book); administrators manage
/// it, and dispatchers manage schedules and slots.
fn network(role: Role, request: &AccessRequest<'_>) -> Decision {
    let may_write = match role {
        Role::Administrator => true,
        Role::Dispatcher => DISPATCHER_NETWORK_WRITES.contains(&request.resource_type),
        _ => false,
    };
    if !request.action.is_write() || may_write {
        Decision::ALLOW
    } else {
        Decision::Deny(DenyReason::ActionNotPermitted)
    }
}

fn clinical(account: &AccountPrincipal, request: &AccessRequest<'_>) -> Decision {
    let action = request.action;
    let rt = request.resource_type;
    match account.role {
        Role::Patient => {
            let Some(own) = &account.patient_id else {
                return Decision::Deny(DenyReason::NoLinkedPatient);
            };
            match request.compartment {
                None => Decision::Deny(DenyReason::CompartmentRequired),
                Some(owner) if owner != own => Decision::Deny(DenyReason::OtherPatient),
                // A record is kept, not deleted: a patient corrects or cancels by updating.
                Some(_) if action == Action::Delete => {
                    Decision::Deny(DenyReason::ActionNotPermitted)
                }
                Some(_) => Decision::ALLOW,
            }
        }
        Role::Practitioner => match request.compartment {
            // A search across patients is answered per patient: the caller either limits it to
            // one patient or keeps only the results `decide` allows for reading.
            None => Decision::Deny(DenyReason::CompartmentRequired),
            Some(_) => {
                let cares_for = request
                    .patient_organizations
                    .iter()
                    .any(|o| account.organizations.contains(o));
                if cares_for {
                    Decision::ALLOW
                } else {
                    Decision::Deny(DenyReason::PatientNotInYourOrganizations)
                }
            }
        },
        Role::Pharmacist => by_type(action, rt, PHARMACIST_READS, PHARMACIST_WRITES),
        Role::Dispatcher => by_type(action, rt, DISPATCHER_READS, DISPATCHER_WRITES),
        Role::EmployerAdmin => {
            if action == Action::Search {
                Decision::AllowAggregateOnly
            } else {
                Decision::Deny(DenyReason::AggregateOnly)
            }
        }
        Role::Administrator => {
            if action.is_write() {
                Decision::Deny(DenyReason::ActionNotPermitted)
            } else {
                Decision::Allow {
                    audit_required: true,
                }
            }
        }
    }
}

/// Reads of `reads` types for any patient (a pharmacy serves whoever brings a prescription),
/// creates and updates of `writes` types, nothing else.
fn by_type(action: Action, rt: &str, reads: &[&str], writes: &[&str]) -> Decision {
    if !reads.contains(&rt) && !writes.contains(&rt) {
        return Decision::Deny(DenyReason::ResourceTypeNotPermitted);
    }
    let allowed = match action {
        Action::Read | Action::Search | Action::History => reads.contains(&rt),
        Action::Create | Action::Update => writes.contains(&rt),
        Action::Delete => false,
    };
    if allowed {
        Decision::ALLOW
    } else {
        Decision::Deny(DenyReason::ActionNotPermitted)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use DenyReason::*;

    const ALLOW: Decision = Decision::Allow {
        audit_required: false,
    };
    const AUDITED: Decision = Decision::Allow {
        audit_required: true,
    };
    const AGGREGATE: Decision = Decision::AllowAggregateOnly;

    const fn deny(r: DenyReason) -> Decision {
        Decision::Deny(r)
    }

    fn pat(id: &str) -> PatientRef {
        PatientRef::parse(id).unwrap()
    }

    fn org(id: &str) -> OrganizationRef {
        OrganizationRef::parse(id).unwrap()
    }

    fn account(role: Role, patient: Option<&str>, orgs: &[&str]) -> Principal {
        Principal::Account(AccountPrincipal {
            id: format!("acct-{}", role.as_str()),
            role,
            patient_id: patient.map(pat),
            organizations: orgs.iter().map(|o| org(o)).collect(),
        })
    }

    fn client(scopes: &str) -> Principal {
        Principal::Client(ClientPrincipal {
            id: "lab-system".into(),
            scopes: ScopeSet::parse(scopes).unwrap(),
        })
    }

    /// (what, action, resource type, compartment owner, the patient's organisations, expected)
    type Row<'a> = (
        &'a str,
        Action,
        &'a str,
        Option<&'a str>,
        &'a [&'a str],
        Decision,
    );

    fn run(principal: &Principal, rows: &[Row<'_>]) {
        for (what, action, rt, compartment, orgs, expected) in rows {
            let compartment = compartment.map(pat);
            let orgs: Vec<OrganizationRef> = orgs.iter().map(|o| org(o)).collect();
            let req = AccessRequest {
                action: *action,
                resource_type: rt,
                compartment: compartment.as_ref(),
                patient_organizations: &orgs,
            };
            assert_eq!(
                &decide(principal, &req),
                expected,
                "{what}: {action} {rt} in {compartment:?} managed by {orgs:?}"
            );
        }
    }

    fn request(action: Action, resource_type: &str) -> AccessRequest<'_> {
        AccessRequest {
            action,
            resource_type,
            compartment: None,
            patient_organizations: &[],
        }
    }

    #[test]
    fn anonymous_gets_nothing() {
        for action in Action::ALL {
            for rt in ["Patient", "Organization", "ValueSet"] {
                let got = decide(&Principal::Anonymous, &request(action, rt));
                assert_eq!(got, deny(Unauthenticated), "{action} {rt}");
            }
        }
    }

    #[rustfmt::skip]
    #[test]
    fn patient_only_their_own_compartment() {
        run(&account(Role::Patient, Some("p1"), &[]), &[
            ("own record",        Read,   "Patient",       Some("p1"), &[], ALLOW),
            ("own record",        Update, "Patient",       Some("p1"), &[], ALLOW),
            ("own observations",  Search, "Observation",   Some("p1"), &[], ALLOW),
            ("own history",       History,"Condition",     Some("p1"), &[], ALLOW),
            ("books",             Create, "Appointment",   Some("p1"), &[], ALLOW),
            ("cancels",           Update, "Appointment",   Some("p1"), &[], ALLOW),
            ("no deletes",        Delete, "Observation",   Some("p1"), &[], deny(ActionNotPermitted)),
            ("other patient",     Read,   "Observation",   Some("p2"), &[], deny(OtherPatient)),
            ("other patient",     Read,   "Patient",       Some("p2"), &[], deny(OtherPatient)),
            ("other patient",     Create, "Appointment",   Some("p2"), &[], deny(OtherPatient)),
            ("unscoped search",   Search, "Observation",   None,       &[], deny(CompartmentRequired)),
            ("another Patient",   Create, "Patient",       Some("p9"), &[], deny(OtherPatient)),
            ("directory",         Search, "Practitioner",  None,       &[], ALLOW),
            ("free slots",        Search, "Slot",          None,       &[], ALLOW),
            ("no directory edits",Update, "Slot",          None,       &[], deny(ActionNotPermitted)),
            ("questionnaire",     Read,   "Questionnaire", None,       &[], ALLOW),
            ("no reference edits",Create, "ValueSet",      None,       &[], deny(ActionNotPermitted)),
        ]);
        run(&account(Role::Patient, None, &[]), &[
            ("unlinked account",  Read,   "Patient",       Some("p1"), &[], deny(NoLinkedPatient)),
        ]);
    }

    #[rustfmt::skip]
    #[test]
    fn practitioner_patients_of_their_organisations() {
        run(&account(Role::Practitioner, None, &["clinic-a", "clinic-b"]), &[
            ("own org",           Read,   "Observation",     Some("p1"),  &["clinic-a"],      ALLOW),
            ("one shared org",    Read,   "Patient",         Some("p1"),  &["x", "clinic-b"], ALLOW),
            ("writes",            Create, "Observation",     Some("p1"),  &["clinic-a"],      ALLOW),
            ("writes",            Update, "Condition",       Some("p1"),  &["clinic-a"],      ALLOW),
            ("registers",         Create, "Patient",         Some("new"), &["clinic-b"],      ALLOW),
            ("history",           History,"Encounter",       Some("p1"),  &["clinic-a"],      ALLOW),
            ("other org",         Read,   "Observation",     Some("p2"),  &["clinic-z"],      deny(PatientNotInYourOrganizations)),
            ("no managing org",   Read,   "Patient",         Some("p3"),  &[],                deny(PatientNotInYourOrganizations)),
            ("unscoped search",   Search, "Observation",     None,        &[],                deny(CompartmentRequired)),
            ("directory",         Read,   "Location",        None,        &[],                ALLOW),
            ("directory",         Search, "PractitionerRole",None,        &[],                ALLOW),
            ("directory",         History,"Schedule",        None,        &[],                ALLOW),
            ("no directory edits",Update, "Organization",    None,        &[],                deny(ActionNotPermitted)),
            ("no directory edits",Create, "Slot",            None,        &[],                deny(ActionNotPermitted)),
            ("drug catalogue",    Read,   "Medication",      None,        &[],                ALLOW),
        ]);
        run(&account(Role::Practitioner, None, &[]), &[
            ("works nowhere",     Read,   "Observation",     Some("p1"),  &["clinic-a"],      deny(PatientNotInYourOrganizations)),
        ]);
    }

    #[rustfmt::skip]
    #[test]
    fn pharmacist_prescriptions_and_dispensing() {
        run(&account(Role::Pharmacist, None, &["pharmacy-1"]), &[
            ("prescription",      Read,   "MedicationRequest",  Some("p1"), &["clinic-a"], ALLOW),
            ("prescriptions",     Search, "MedicationRequest",  None,       &[],           ALLOW),
            ("allergies",         Read,   "AllergyIntolerance", Some("p1"), &[],           ALLOW),
            ("patient",           Read,   "Patient",            Some("p1"), &[],           ALLOW),
            ("drug",              Read,   "Medication",         None,       &[],           ALLOW),
            ("dispense",          Create, "MedicationDispense", Some("p1"), &[],           ALLOW),
            ("dispense",          Update, "MedicationDispense", Some("p1"), &[],           ALLOW),
            ("dispense",          Read,   "MedicationDispense", Some("p1"), &[],           ALLOW),
            ("no delete",         Delete, "MedicationDispense", Some("p1"), &[],           deny(ActionNotPermitted)),
            ("no prescribing",    Create, "MedicationRequest",  Some("p1"), &[],           deny(ActionNotPermitted)),
            ("no patient edits",  Update, "Patient",            Some("p1"), &[],           deny(ActionNotPermitted)),
            ("no drug edits",     Update, "Medication",         None,       &[],           deny(ActionNotPermitted)),
            ("no lab results",    Read,   "Observation",        Some("p1"), &[],           deny(ResourceTypeNotPermitted)),
            ("no notes",          Search, "DocumentReference",  None,       &[],           deny(ResourceTypeNotPermitted)),
        ]);
    }

    #[rustfmt::skip]
    #[test]
    fn dispatcher_visits_not_records() {
        run(&account(Role::Dispatcher, None, &["home-visits"]), &[
            ("address",           Read,   "Patient",      Some("p1"), &[], ALLOW),
            ("visits",            Search, "Appointment",  None,       &[], ALLOW),
            ("books",             Create, "Appointment",  Some("p1"), &[], ALLOW),
            ("slots",             Update, "Slot",         None,       &[], ALLOW),
            ("schedules",         Create, "Schedule",     None,       &[], ALLOW),
            ("no org edits",      Update, "Organization", None,       &[], deny(ActionNotPermitted)),
            ("no records",        Read,   "Condition",    Some("p1"), &[], deny(ResourceTypeNotPermitted)),
            ("no patient edits",  Update, "Patient",      Some("p1"), &[], deny(ActionNotPermitted)),
        ]);
    }

    #[test]
    fn employer_admin_never_sees_a_clinical_record() {
        let e = account(Role::EmployerAdmin, None, &["acme"]);
        let mut rows: Vec<Row> = Vec::new();
        for rt in [
            "Patient",
            "Observation",
            "Condition",
            "Encounter",
            "Appointment",
            "Basic",
        ] {
            for action in Action::ALL {
                let expected = if action == Search {
                    AGGREGATE
                } else {
                    deny(AggregateOnly)
                };
                rows.push(("clinical", action, rt, Some("p1"), &["acme"], expected));
            }
        }
        rows.push(("directory", Read, "Organization", None, &[], ALLOW));
        rows.push((
            "no directory edits",
            Update,
            "Organization",
            None,
            &[],
            deny(ActionNotPermitted),
        ));
        run(&e, &rows);
        let aggregate = decide(&e, &request(Search, "Observation"));
        assert!(
            !aggregate.is_allowed(),
            "aggregate-only is not access to records"
        );
    }

    #[rustfmt::skip]
    #[test]
    fn administrator_manages_the_network_and_reads_with_audit() {
        let admin = account(Role::Administrator, None, &[]);
        run(&admin, &[
            ("network",             Create, "Organization",     None,       &[], ALLOW),
            ("network",             Update, "PractitionerRole", None,       &[], ALLOW),
            ("network",             Delete, "Location",         None,       &[], ALLOW),
            ("reference",           Update, "Questionnaire",    None,       &[], ALLOW),
            ("clinical read",       Read,   "Observation",      Some("p1"), &[], AUDITED),
            ("clinical search",     Search, "Patient",          None,       &[], AUDITED),
            ("clinical history",    History,"Condition",        Some("p1"), &[], AUDITED),
            ("no clinical writes",  Update, "Observation",      Some("p1"), &[], deny(ActionNotPermitted)),
            ("no clinical deletes", Delete, "Patient",          Some("p1"), &[], deny(ActionNotPermitted)),
        ]);
        let read = decide(&admin, &request(Read, "Observation"));
        assert!(read.is_allowed() && read.audit_required());
        assert!(!decide(&admin, &request(Read, "Organization")).audit_required());
    }

    #[rustfmt::skip]
    #[test]
    fn clients_need_a_system_scope() {
        run(&client("system/Patient.read system/Observation.cruds patient/*.*"), &[
            ("scope",                Read,   "Patient",      Some("p1"), &[], ALLOW),
            ("scope",                Search, "Patient",      None,       &[], ALLOW),
            ("read only",            Update, "Patient",      Some("p1"), &[], deny(ScopeMissing)),
            ("v2 letters",           Create, "Observation",  Some("p1"), &[], ALLOW),
            ("v2 letters",           Delete, "Observation",  Some("p1"), &[], ALLOW),
            ("patient/ ignored",     Read,   "Condition",    Some("p1"), &[], deny(ScopeMissing)),
            ("directory needs one",  Read,   "Organization", None,       &[], deny(ScopeMissing)),
        ]);
        run(&client("system/*.read"), &[
            ("wildcard",             Read,   "Encounter",    None,       &[], ALLOW),
            ("wildcard",             Create, "Encounter",    None,       &[], deny(ScopeMissing)),
        ]);
        run(&client(""), &[
            ("no scopes",            Read,   "Patient",      None,       &[], deny(ScopeMissing)),
        ]);
    }

    #[test]
    fn classification_lists_are_real_types_and_default_to_clinical() {
        for rt in NETWORK.iter().chain(REFERENCE) {
            assert!(carefront_fhir::resource_types::is_resource_type(rt), "{rt}");
        }
        assert_eq!(classify("Slot"), ResourceClass::Network);
        assert_eq!(classify("ValueSet"), ResourceClass::Reference);
        assert_eq!(classify("Observation"), ResourceClass::Clinical);
        assert_eq!(classify("SomethingNew"), ResourceClass::Clinical);
        for rt in PHARMACIST_READS.iter().chain(DISPATCHER_READS) {
            assert_eq!(classify(rt), ResourceClass::Clinical, "{rt}");
        }
    }

    #[test]
    fn ids_follow_fhir_syntax_and_reasons_have_codes() {
        assert!(PatientRef::parse("abc-123.x").is_ok());
        assert_eq!(PatientRef::parse(""), Err(InvalidId));
        assert_eq!(PatientRef::parse("Patient/1"), Err(InvalidId));
        assert_eq!(OrganizationRef::parse(&"a".repeat(65)), Err(InvalidId));
        assert_eq!(OtherPatient.code(), "other-patient");
        assert_eq!(
            AggregateOnly.to_string(),
            "employer administrators see aggregate figures only"
        );
    }
}
