//! The walk through a resource: each JSON property checked against its element definition.

use std::fmt::Write;

use serde_json::{Map, Value};

use super::defs::{choice_key, Defs, ElementDef, TypeDef, TypeId, TypeRef};
use super::primitive::{Primitive, Problem};
use super::{kind, Validator};
use crate::outcome::IssueCode;

impl Validator {
    /// Checks the properties of a JSON object against the complex type `ty`.
    pub(super) fn object(&mut self, obj: &Map<String, Value>, ty: TypeId, is_resource: bool) {
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
