//! Why a FHIR interaction failed, and the HTTP status FHIR gives it.

use carefront_fhir::{Issue, IssueCode};

use crate::{StoreError, StoredResource};

#[derive(Debug)]
pub enum RepoError {
    /// The URL names a type that is not an R4 resource type.
    UnknownType(String),
    NotFound(String),
    /// The resource was deleted; holds the deletion marker (for its version and time).
    Gone(StoredResource),
    /// `If-Match` named another version.
    PreconditionFailed(String),
    /// A conditional interaction matched more than one resource.
    MultipleMatches,
    /// The request itself is wrong (bad parameter, bad patch, id mismatch).
    BadRequest(Issue),
    /// The resource breaks the R4 rules.
    Invalid(Vec<Issue>),
    /// The write breaks a rule of a workflow (the slot is already booked): 409, not retried.
    Conflict(Issue),
    /// A Bundle entry failed; the transaction was rolled back.
    InEntry(usize, Box<RepoError>),
    Store(StoreError),
}

impl RepoError {
    pub fn not_found(resource_type: &str, id: &str) -> Self {
        RepoError::NotFound(format!("{resource_type}/{id} is not known"))
    }

    /// The HTTP status FHIR answers with.
    pub fn status(&self) -> u16 {
        match self {
            RepoError::UnknownType(_) | RepoError::NotFound(_) => 404,
            RepoError::Gone(_) => 410,
            RepoError::PreconditionFailed(_) | RepoError::MultipleMatches => 412,
            RepoError::BadRequest(_) => 400,
            RepoError::Invalid(_) => 422,
            RepoError::Conflict(_) => 409,
            RepoError::InEntry(_, inner) => inner.status(),
            RepoError::Store(StoreError::Conflict(_)) => 409,
            RepoError::Store(StoreError::Unavailable(_)) => 503,
            RepoError::Store(StoreError::Database(_)) => 500,
        }
    }

    /// What went wrong, for an OperationOutcome. Database details are not shown to clients.
    pub fn issues(&self) -> Vec<Issue> {
        match self {
            RepoError::UnknownType(t) => vec![Issue::error(
                IssueCode::NotSupported,
                format!("'{t}' is not a FHIR R4 resource type"),
            )],
            RepoError::NotFound(what) => vec![Issue::error(IssueCode::NotFound, what.clone())],
            RepoError::Gone(r) => vec![Issue::error(
                IssueCode::Deleted,
                format!(
                    "{}/{} was deleted (version {})",
                    r.resource_type, r.id, r.version
                ),
            )],
            RepoError::PreconditionFailed(why) => {
                vec![Issue::error(IssueCode::Conflict, why.clone())]
            }
            RepoError::MultipleMatches => vec![Issue::error(
                IssueCode::MultipleMatches,
                "the conditional criteria match more than one resource; make them more selective",
            )],
            RepoError::BadRequest(issue) | RepoError::Conflict(issue) => vec![issue.clone()],
            RepoError::Invalid(issues) => issues.clone(),
            RepoError::InEntry(index, inner) => inner
                .issues()
                .into_iter()
                .map(|mut issue| {
                    issue.diagnostics = format!(
                        "Bundle.entry[{index}]: {}; nothing in the transaction was applied",
                        issue.diagnostics
                    );
                    issue
                })
                .collect(),
            RepoError::Store(StoreError::Conflict(what)) => vec![Issue::error(
                IssueCode::Conflict,
                format!("{what} was changed by someone else at the same time; try again"),
            )],
            RepoError::Store(StoreError::Unavailable(_)) => vec![Issue::error(
                IssueCode::Exception,
                "the database is not reachable right now; try again shortly",
            )],
            RepoError::Store(StoreError::Database(_)) => vec![Issue::error(
                IssueCode::Exception,
                "the server could not complete the request",
            )],
        }
    }
}

impl From<StoreError> for RepoError {
    fn from(e: StoreError) -> Self {
        RepoError::Store(e)
    }
}

impl std::fmt::Display for RepoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RepoError::Store(e) => write!(f, "{e}"),
            other => {
                let issues: Vec<String> = other.issues().iter().map(|i| i.to_string()).collect();
                f.write_str(&issues.join("; "))
            }
        }
    }
}
