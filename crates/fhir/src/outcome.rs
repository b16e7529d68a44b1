//! Problems found in a request, in the shape of a FHIR OperationOutcome issue.
//!
//! Every layer reports a problem as an [`Issue`]; the HTTP layer turns it into an
//! OperationOutcome with the HTTP status the issue code calls for.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fatal,
    Error,
    Warning,
    Information,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// The subset of the R4 `issue-type` codes Carefront reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    /// Content is not valid FHIR or breaks a StructureDefinition rule.
    Invalid,
    /// Structural problem (malformed JSON, wrong JSON type).
    Structure,
    /// A required element is missing.
    Required,
    /// A value is not allowed (bad code, bad format).
    Value,
    /// An invariant or business rule is broken.
    Invariant,
    /// The request asks for something the server does not support.
    NotSupported,
    /// The resource does not exist.
    NotFound,
    /// The resource existed and was deleted.
    Deleted,
    /// Version conflict or duplicate.
    Conflict,
    /// Too many matches for a conditional operation.
    MultipleMatches,
    /// Request too large, too many requests, or a limit was hit.
    TooCostly,
    /// Not allowed.
    Forbidden,
    /// Login required.
    Login,
    /// Server-side failure.
    Exception,
    /// Informational note.
    Informational,
    /// Operation processed; no issues.
    Processing,
}

impl IssueCode {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::Invalid => "invalid",
            IssueCode::Structure => "structure",
            IssueCode::Required => "required",
            IssueCode::Value => "value",
            IssueCode::Invariant => "invariant",
            IssueCode::NotSupported => "not-supported",
            IssueCode::NotFound => "not-found",
            IssueCode::Deleted => "deleted",
            IssueCode::Conflict => "conflict",
            IssueCode::MultipleMatches => "multiple-matches",
            IssueCode::TooCostly => "too-costly",
            IssueCode::Forbidden => "forbidden",
            IssueCode::Login => "login",
            IssueCode::Exception => "exception",
            IssueCode::Informational => "informational",
            IssueCode::Processing => "processing",
        }
    }
}

/// One problem: what kind, a plain-words explanation, and where (FHIRPath-style paths such as
/// `Patient.name[0].given`).
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub severity: Severity,
    pub code: IssueCode,
    pub diagnostics: String,
    pub expression: Vec<String>,
}

impl Issue {
    pub fn error(code: IssueCode, diagnostics: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Error,
            code,
            diagnostics: diagnostics.into(),
            expression: Vec::new(),
        }
    }

    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.expression.push(path.into());
        self
    }

    pub fn to_json(&self) -> Value {
        let mut issue = json!({
            "severity": self.severity.as_str(),
            "code": self.code.as_str(),
            "diagnostics": self.diagnostics,
        });
        if !self.expression.is_empty() {
            issue["expression"] = json!(self.expression);
        }
        issue
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostics)?;
        if !self.expression.is_empty() {
            write!(f, " (at {})", self.expression.join(", "))?;
        }
        Ok(())
    }
}

/// An OperationOutcome resource holding `issues`.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": issues.iter().map(Issue::to_json).collect::<Vec<_>>(),
    })
}
