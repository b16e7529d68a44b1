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

use std::fmt::Write;

use serde_json::{Map, Value};

use crate::outcome::{Issue, IssueCode, Severity};
use defs::{choice_key, Defs, ElementDef, TypeDef, TypeId, TypeRef};
use primitive::{Primitive, Problem};

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
        self.path.push('.');
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
            None => self.report(IssueCode::Structure, "The resource has no resourceType"),
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

    /// Checks the properties of a JSON object against the complex type `ty`.
    fn object(&mut self, obj: &Map<String, Value>, ty: TypeId, is_resource: bool) {
        if obj.is_empty() {
            return self.report(
                IssueCode::Structure,
                "Empty objects are not allowed in FHIR JSON",
            );
        }
        let def = &self.defs.types[ty];
        // Choice elements seen so far: (element index, JSON key), to catch a second variant.
        let mut choices: Vec<(usize, &str)> = Vec::new();
        let mut ext_key = String::new();
        for (key, value) in obj {
            if self.full() {
                self.truncated = true;
                return;
            }
            if key == "fhir_comments" || (is_resource && key == "resourceType") {
                continue;
            }
            let (name, is_ext) = match key.strip_prefix('_') {
                Some(name) => (name, true),
                None => (key.as_str(), false),
            };
            let Some((index, t)) = def.lookup(name) else {
                self.unknown(def, key);
                continue;
            };
            let element = &def.elements[index];
            let primitive = matches!(element.types[t], TypeRef::Primitive(_));
            if is_ext && !primitive {
                self.unknown(def, key);
                continue;
            }
            if is_ext && obj.contains_key(name) {
                continue; // checked together with its value
            }
            if element.choice {
                self.one_choice(&mut choices, index, element, name);
            }
            if is_ext {
                self.element(element, t, None, Some(value));
            } else {
                let ext = primitive.then(|| {
                    ext_key.clear();
                    ext_key.push('_');
                    ext_key.push_str(key);
                    obj.get(&ext_key)
                });
                self.element(element, t, Some(value), ext.flatten());
            }
        }
        self.required(def, obj);
    }

    /// Reports a second variant of the same choice element (`valueString` and `valueQuantity`).
    fn one_choice<'k>(
        &mut self,
        seen: &mut Vec<(usize, &'k str)>,
        index: usize,
        element: &ElementDef,
        key: &'k str,
    ) {
        match seen.iter().find(|(i, _)| *i == index) {
            Some((_, first)) => {
                let msg = format!(
                    "Only one of {}[x] is allowed, found {first} and {key}",
                    element.name
                );
                self.report_child(key, IssueCode::Invalid, msg);
            }
            None => seen.push((index, key)),
        }
    }

    fn unknown(&mut self, def: &TypeDef, key: &str) {
        let msg = match wrong_choice_type(self.defs, def, key) {
            Some(hint) => hint,
            None => format!("Unknown element '{key}' in {}", def.name),
        };
        self.report_child(key, IssueCode::Structure, msg);
    }

    /// Reports required elements that are absent (neither `x` nor `_x` present).
    fn required(&mut self, def: &TypeDef, obj: &Map<String, Value>) {
        for element in def.elements.iter().filter(|e| e.min > 0) {
            let present = if element.choice {
                element.types.iter().any(|&t| {
                    let key = choice_key(&element.name, self.defs.type_name(t));
                    obj.contains_key(&key) || obj.contains_key(&format!("_{key}"))
                })
            } else {
                obj.contains_key(&*element.name) || obj.contains_key(&format!("_{}", element.name))
            };
            if !present {
                let msg = format!(
                    "Missing required element '{}' (min {})",
                    element.name, element.min
                );
                self.report_child(&element.name, IssueCode::Required, msg);
            }
        }
    }

    /// One element: its value(s) and, for primitives, the matching `_x` extension(s).
    fn element(
        &mut self,
        element: &ElementDef,
        t: usize,
        value: Option<&Value>,
        ext: Option<&Value>,
    ) {
        let len = self.push(&element.name);
        if element.choice {
            let _ = write!(
                self.path,
                ".ofType({})",
                self.defs.type_name(element.types[t])
            );
        }
        if let (Some(values), Some(exts)) = (self.shape(element, value), self.shape(element, ext)) {
            self.items(element, t, values, exts);
        }
        self.path.truncate(len);
    }

    /// The items of a value: an array for repeating elements, a single value otherwise.
    /// `None` (after reporting) when the shape is wrong.
    fn shape<'v>(&mut self, element: &ElementDef, value: Option<&'v Value>) -> Option<&'v [Value]> {
        match (value, element.repeats()) {
            (None, _) => Some(&[]),
            (Some(Value::Array(items)), true) if items.is_empty() => {
                self.report(
                    IssueCode::Structure,
                    "Empty arrays are not allowed in FHIR JSON",
                );
                None
            }
            (Some(Value::Array(items)), true) => Some(items),
            (Some(Value::Array(_)), false) => {
                self.report(
                    IssueCode::Structure,
                    format!("'{}' has max 1 and must not be an array", element.name),
                );
                None
            }
            (Some(_), true) => {
                self.report(
                    IssueCode::Structure,
                    format!("'{}' repeats and must be an array", element.name),
                );
                None
            }
            (Some(single), false) => Some(std::slice::from_ref(single)),
        }
    }

    fn items(&mut self, element: &ElementDef, t: usize, values: &[Value], exts: &[Value]) {
        if !values.is_empty() && !exts.is_empty() && values.len() != exts.len() {
            let msg = format!(
                "'{0}' and '_{0}' arrays must have the same length",
                element.name
            );
            return self.report(IssueCode::Structure, msg);
        }
        let count = values.len().max(exts.len());
        if element.max.is_some_and(|max| count > max as usize) {
            let max = element.max.unwrap_or_default();
            self.report(
                IssueCode::Invalid,
                format!(
                    "'{}' allows at most {max} items, found {count}",
                    element.name
                ),
            );
        }
        if count < element.min as usize {
            self.report(
                IssueCode::Required,
                format!("'{}' needs at least {} items", element.name, element.min),
            );
        }
        let len = self.path.len();
        for i in 0..count {
            if element.repeats() {
                let _ = write!(self.path, "[{i}]");
            }
            let value = values.get(i).filter(|v| !v.is_null());
            let ext = exts.get(i).filter(|v| !v.is_null());
            if value.is_none() && ext.is_none() {
                self.report(IssueCode::Structure, "null is not allowed here");
            }
            if let Some(value) = value {
                self.value(element, element.types[t], value);
            }
            if let Some(ext) = ext {
                self.primitive_extension(ext);
            }
            self.path.truncate(len);
        }
    }

    /// One (non-null) value of the given type.
    fn value(&mut self, element: &ElementDef, t: TypeRef, value: &Value) {
        match t {
            TypeRef::Primitive(p) => self.primitive(element, p, value),
            TypeRef::Complex(ty) => match value {
                Value::Object(obj) => self.object(obj, ty, false),
                other => {
                    let msg = format!(
                        "Expected an object ({}), found {}",
                        self.defs.type_name(t),
                        kind(other)
                    );
                    self.report(IssueCode::Structure, msg);
                }
            },
            TypeRef::Resource => self.nested_resource(value),
        }
    }

    fn primitive(&mut self, element: &ElementDef, p: Primitive, value: &Value) {
        match p.check(value) {
            Ok(()) => self.binding(element, p, value),
            Err(Problem::JsonType(expected)) => {
                let msg = format!("Expected {expected} ({}), found {}", p.name(), kind(value));
                self.report(IssueCode::Structure, msg);
            }
            Err(Problem::Empty) => self.report(
                IssueCode::Value,
                "Empty strings are not allowed in FHIR JSON",
            ),
            Err(Problem::Format(expected)) => {
                let msg = format!(
                    "Invalid {} {}: expected {expected}",
                    p.name(),
                    preview(value)
                );
                self.report(IssueCode::Value, msg);
            }
        }
    }

    /// Required binding of a `code` element, where the allowed codes are known.
    fn binding(&mut self, element: &ElementDef, p: Primitive, value: &Value) {
        if p != Primitive::Code || element.codes.is_empty() {
            return;
        }
        let code = value.as_str().unwrap_or_default();
        if !element.codes.iter().any(|c| &**c == code) {
            let allowed = element.codes.join(" | ");
            self.report(
                IssueCode::Value,
                format!("Code '{code}' is not allowed here (required: {allowed})"),
            );
        }
    }

    /// The `_x` sibling of a primitive: an Element with id and extensions only.
    fn primitive_extension(&mut self, ext: &Value) {
        match ext {
            Value::Object(obj) => self.object(obj, self.defs.element, false),
            other => {
                let msg = format!(
                    "Expected an object (primitive id/extension), found {}",
                    kind(other)
                );
                self.report(IssueCode::Structure, msg);
            }
        }
    }
}

/// For `valueFoo` where `value[x]` exists but Foo is not one of its types, a helpful message.
fn wrong_choice_type(defs: &Defs, def: &TypeDef, key: &str) -> Option<String> {
    let key = key.strip_prefix('_').unwrap_or(key);
    let element = def.elements.iter().find(|e| {
        e.choice
            && key
                .strip_prefix(&*e.name)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    })?;
    let suffix = &key[element.name.len()..];
    let allowed: Vec<&str> = element.types.iter().map(|&t| defs.type_name(t)).collect();
    Some(format!(
        "Type '{suffix}' is not allowed for {}.{}[x] (allowed: {})",
        def.name,
        element.name,
        allowed.join(", ")
    ))
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

/// A short rendering of a value for messages (long strings such as base64 are cut).
fn preview(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > 60 => {
            format!("'{}...'", s.chars().take(57).collect::<String>())
        }
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}
