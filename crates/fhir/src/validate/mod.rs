//! Structure validation of a resource in FHIR JSON against its base R4 StructureDefinition.
//!
//! [`validate`] walks the resource following the (embedded, compacted) official R4
//! StructureDefinitions, through complex datatypes, backbone elements, `contentReference`s,
//! contained resources and other `Resource`-typed elements such as `Bundle.entry.resource`,
//! and reports every problem it finds (up to [`MAX_ISSUES`]):
//!
//! - the root is an object with a known `resourceType`;
//! - no unknown elements (besides `resourceType` of resources, `fhir_comments`, and the `_x`
//!   siblings that carry a primitive's id and extensions);
//! - cardinality: required elements present; elements with max 1 are single values and
//!   repeating elements arrays (the FHIR JSON rule), and no more than max;
//! - the JSON type of every primitive (string, number or boolean) and its R4 format (dates,
//!   ids, codes, integers in 32-bit range, ...);
//! - the codes of `code` elements with a required binding, where the R4 definitions spell the
//!   complete code list out (the ValueSets themselves are not embedded);
//! - choice elements (`value[x]`): only the allowed types, and only one of them;
//! - no `null`, empty strings, empty objects or empty arrays (FHIR JSON forbids them; `null`
//!   is allowed only as a place holder in a primitive array paired with its `_x` array).
//!
//! Extensions are checked as the Extension datatype (url, one typed value), not against their
//! extension definitions. Profiles are not applied, terminology beyond required `code`
//! bindings is not checked, and FHIRPath invariants (`constraint`s such as `dom-2` or
//! `ext-1`) are not evaluated.
//!
//! Locations are FHIRPath-style: `Patient.name[0].given[1]`, with choice elements written as
//! `Observation.value.ofType(Quantity)` and primitive extensions as `Patient.birthDate.extension[0]`.

mod defs;
mod primitive;
#[cfg(test)]
mod tests;
mod walk;

use serde_json::Value;

use crate::outcome::{Issue, IssueCode, Severity};
use defs::Defs;

/// Validation stops after this many issues.
pub const MAX_ISSUES: usize = 50;

/// Checks `resource` (FHIR JSON) against the base R4 definition of its `resourceType`.
///
/// Returns every problem found (at most [`MAX_ISSUES`], then a note that more may follow).
/// An unknown resource type is reported as [`IssueCode::NotSupported`].
pub fn validate(resource: &Value) -> Result<(), Vec<Issue>> {
    let mut validator = Validator {
        defs: Defs::get(),
        path: String::new(),
        issues: Vec::new(),
        truncated: false,
    };
    validator.root(resource);
    validator.finish()
}

struct Validator {
    defs: &'static Defs,
    /// Location of the value being checked; segments are pushed and truncated as we walk.
    path: String,
    issues: Vec<Issue>,
    truncated: bool,
}

impl Validator {
    fn finish(mut self) -> Result<(), Vec<Issue>> {
        if self.truncated {
            self.issues.push(Issue {
                severity: Severity::Information,
                code: IssueCode::Informational,
                diagnostics: format!(
                    "Validation stopped after {MAX_ISSUES} issues; there may be more"
                ),
                expression: Vec::new(),
            });
        }
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(self.issues)
        }
    }

    fn full(&self) -> bool {
        self.issues.len() >= MAX_ISSUES
    }

    /// Records a problem at the current path.
    fn report(&mut self, code: IssueCode, diagnostics: impl Into<String>) {
        if self.full() {
            self.truncated = true;
            return;
        }
        let issue = Issue::error(code, diagnostics);
        self.issues.push(if self.path.is_empty() {
            issue
        } else {
            issue.at(self.path.clone())
        });
    }

    /// Records a problem at the current path plus `.segment`.
    fn report_child(&mut self, segment: &str, code: IssueCode, diagnostics: impl Into<String>) {
        let len = self.push(segment);
        self.report(code, diagnostics);
        self.path.truncate(len);
    }

    /// Appends `.segment` to the path; returns the length to truncate back to.
    fn push(&mut self, segment: &str) -> usize {
        let len = self.path.len();
        if len > 0 {
            self.path.push('.');
        }
        self.path.push_str(segment);
        len
    }

    fn root(&mut self, value: &Value) {
        let Value::Object(obj) = value else {
            return self.report(
                IssueCode::Structure,
                format!("A resource must be a JSON object, not {}", kind(value)),
            );
        };
        match obj.get("resourceType") {
            Some(Value::String(name)) => match self.defs.resource(name) {
                Some(ty) => {
                    self.path.push_str(name);
                    self.object(obj, ty, true);
                }
                None => self.report(
                    IssueCode::NotSupported,
                    format!("Unknown resource type '{name}'"),
                ),
            },
            Some(other) => self.report_child(
                "resourceType",
                IssueCode::Structure,
                format!("resourceType must be a string, not {}", kind(other)),
            ),
            None => self.report(IssueCode::Required, "The resource has no resourceType"),
        }
    }

    /// A resource inside another one (contained, Bundle.entry.resource, Parameters...).
    fn nested_resource(&mut self, value: &Value) {
        let Value::Object(obj) = value else {
            return self.report(
                IssueCode::Structure,
                format!("Expected a resource (JSON object), found {}", kind(value)),
            );
        };
        match obj.get("resourceType") {
            Some(Value::String(name)) => match self.defs.resource(name) {
                Some(ty) => self.object(obj, ty, true),
                None => self.report(
                    IssueCode::Invalid,
                    format!("Unknown resource type '{name}'"),
                ),
            },
            Some(other) => self.report_child(
                "resourceType",
                IssueCode::Structure,
                format!("resourceType must be a string, not {}", kind(other)),
            ),
            None => self.report(IssueCode::Required, "The resource has no resourceType"),
        }
    }
}

/// The JSON kind of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
