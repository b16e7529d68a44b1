//! Evaluating a compiled [`Expr`] against a resource.

use serde_json::Value;

use super::{applies_to, Expr, Literal, Start, Step};
use crate::resource_types::is_resource_type;

/// One item of an evaluation result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Item<'a> {
    /// An element of the resource. `ty` is the type named by a choice element's key (`Quantity`
    /// for `valueQuantity`, `DateTime` for `onsetDateTime`); `None` for ordinary elements.
    Node {
        value: &'a Value,
        ty: Option<&'a str>,
    },
    Bool(bool),
    Str(&'a str),
    Num(f64),
    /// What `resolve()` yields here: the type of the resource a reference points to.
    Resolved(&'a str),
}

struct Ctx<'a> {
    root: &'a Value,
    resource_type: &'a str,
}

/// Append the items `expr` selects from `resource` to `out`.
pub fn evaluate<'a>(expr: &'a Expr, resource: &'a Value, out: &mut Vec<Item<'a>>) {
    let resource_type = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ctx = Ctx {
        root: resource,
        resource_type,
    };
    let focus = Item::Node {
        value: resource,
        ty: None,
    };
    eval(expr, focus, &ctx, out);
}

fn eval<'a>(expr: &'a Expr, focus: Item<'a>, ctx: &Ctx<'a>, out: &mut Vec<Item<'a>>) {
    match expr {
        Expr::Path { start, steps } => eval_path(start, steps, focus, ctx, out),
        Expr::Union(branches) => {
            for b in branches {
                eval(b, focus, ctx, out);
            }
        }
        Expr::And(l, r) => {
            let (l, r) = (truth(l, focus, ctx), truth(r, focus, ctx));
            match (l, r) {
                (Some(false), _) | (_, Some(false)) => out.push(Item::Bool(false)),
                (Some(true), Some(true)) => out.push(Item::Bool(true)),
                _ => {}
            }
        }
        Expr::Or(l, r) => {
            let (l, r) = (truth(l, focus, ctx), truth(r, focus, ctx));
            match (l, r) {
                (Some(true), _) | (_, Some(true)) => out.push(Item::Bool(true)),
                (Some(false), Some(false)) => out.push(Item::Bool(false)),
                _ => {}
            }
        }
        Expr::Compare { left, right, equal } => {
            let (mut l, mut r) = (Vec::new(), Vec::new());
            eval(left, focus, ctx, &mut l);
            eval(right, focus, ctx, &mut r);
            if !l.is_empty() && !r.is_empty() {
                let same = l.len() == r.len() && l.iter().zip(&r).all(|(a, b)| same_value(a, b));
                out.push(Item::Bool(same == *equal));
            }
        }
        Expr::Literal(Literal::String(s)) => out.push(Item::Str(s)),
        Expr::Literal(Literal::Number(n)) => out.push(Item::Num(*n)),
        Expr::Literal(Literal::Bool(b)) => out.push(Item::Bool(*b)),
    }
}

/// The boolean value of `expr` (empty: `None`; a single non-boolean item counts as true).
fn truth<'a>(expr: &'a Expr, focus: Item<'a>, ctx: &Ctx<'a>) -> Option<bool> {
    let mut items = Vec::new();
    eval(expr, focus, ctx, &mut items);
    as_bool(&items)
}

fn as_bool(items: &[Item]) -> Option<bool> {
    match items {
        [] => None,
        [Item::Bool(b)] => Some(*b),
        [Item::Node {
            value: Value::Bool(b),
            ..
        }] => Some(*b),
        _ => Some(true),
    }
}

fn eval_path<'a>(
    start: &'a Start,
    steps: &'a [Step],
    focus: Item<'a>,
    ctx: &Ctx<'a>,
    out: &mut Vec<Item<'a>>,
) {
    let mut cur = Vec::new();
    match start {
        Start::Type(t) => {
            if applies_to(t, ctx.resource_type) {
                cur.push(Item::Node {
                    value: ctx.root,
                    ty: None,
                });
            }
        }
        Start::This => cur.push(focus),
        Start::Group(inner) => eval(inner, focus, ctx, &mut cur),
    }
    let mut next = Vec::new();
    for step in steps {
        apply(step, &cur, ctx, &mut next);
        std::mem::swap(&mut cur, &mut next);
        next.clear();
    }
    out.append(&mut cur);
}

fn apply<'a>(step: &'a Step, input: &[Item<'a>], ctx: &Ctx<'a>, out: &mut Vec<Item<'a>>) {
    match step {
        Step::Child(name) => {
            for item in input {
                if let Item::Node { value, .. } = item {
                    child(value, name, out);
                }
            }
        }
        Step::Index(n) => out.extend(input.get(*n).copied()),
        Step::First => out.extend(input.first().copied()),
        Step::Exists => out.push(Item::Bool(!input.is_empty())),
        Step::Empty => out.push(Item::Bool(input.is_empty())),
        Step::Not => {
            if let Some(b) = as_bool(input) {
                out.push(Item::Bool(!b));
            }
        }
        Step::Where(criteria) => {
            let mut scratch = Vec::new();
            for item in input {
                scratch.clear();
                eval(criteria, *item, ctx, &mut scratch);
                if as_bool(&scratch) == Some(true) {
                    out.push(*item);
                }
            }
        }
        Step::Resolve => {
            for item in input {
                if let Some(t) = resolve(item, ctx) {
                    out.push(Item::Resolved(t));
                }
            }
        }
        Step::Extension(url) => {
            for item in input {
                extensions(item, url, out);
            }
        }
        Step::HasExtension(url) => {
            if !input.is_empty() {
                let mut found = Vec::new();
                for item in input {
                    extensions(item, url, &mut found);
                }
                out.push(Item::Bool(!found.is_empty()));
            }
        }
        Step::As(t) => out.extend(input.iter().filter(|i| is_type(i, t)).copied()),
        Step::Is(t) => {
            if let Some(first) = input.first() {
                out.push(Item::Bool(is_type(first, t)));
            }
        }
    }
}

/// `.name` on an element: arrays flatten; a missing `name` may be a choice element
/// (`value` → `valueQuantity`), whose type the key names.
fn child<'a>(value: &'a Value, name: &str, out: &mut Vec<Item<'a>>) {
    let Value::Object(map) = value else { return };
    if let Some(v) = map.get(name) {
        push_flat(v, None, out);
        return;
    }
    for (key, v) in map {
        if let Some(suffix) = key.strip_prefix(name) {
            if is_choice_suffix(suffix) {
                push_flat(v, Some(suffix), out);
                return;
            }
        }
    }
}

fn push_flat<'a>(value: &'a Value, ty: Option<&'a str>, out: &mut Vec<Item<'a>>) {
    match value {
        Value::Array(items) => out.extend(
            items
                .iter()
                .filter(|v| !v.is_null())
                .map(|value| Item::Node { value, ty }),
        ),
        Value::Null => {}
        value => out.push(Item::Node { value, ty }),
    }
}

/// The data types a choice element's key can end with (`value[x]` → `valueQuantity`).
const CHOICE_TYPES: &[&str] = &[
    "Address",
    "Age",
    "Annotation",
    "Attachment",
    "Base64Binary",
    "Boolean",
    "Canonical",
    "Code",
    "CodeableConcept",
    "Coding",
    "ContactDetail",
    "ContactPoint",
    "Contributor",
    "Count",
    "DataRequirement",
    "Date",
    "DateTime",
    "Decimal",
    "Distance",
    "Dosage",
    "Duration",
    "Expression",
    "HumanName",
    "Id",
    "Identifier",
    "Instant",
    "Integer",
    "Markdown",
    "Meta",
    "Money",
    "Oid",
    "ParameterDefinition",
    "Period",
    "PositiveInt",
    "Quantity",
    "Range",
    "Ratio",
    "Reference",
    "RelatedArtifact",
    "SampledData",
    "Signature",
    "String",
    "Time",
    "Timing",
    "TriggerDefinition",
    "UnsignedInt",
    "Uri",
    "Url",
    "UsageContext",
    "Uuid",
];

fn is_choice_suffix(suffix: &str) -> bool {
    suffix.starts_with(|c: char| c.is_ascii_uppercase()) && CHOICE_TYPES.contains(&suffix)
}

/// Whether a choice key's type suffix names type `t` (`DateTime` names `dateTime`).
fn names_type(suffix: &str, t: &str) -> bool {
    let (Some(a), Some(b)) = (suffix.chars().next(), t.chars().next()) else {
        return false;
    };
    a.eq_ignore_ascii_case(&b) && suffix[1..] == t[1..]
}

const STRING_PRIMITIVES: &[&str] = &[
    "string",
    "code",
    "id",
    "uri",
    "url",
    "canonical",
    "oid",
    "uuid",
    "markdown",
    "base64Binary",
    "date",
    "dateTime",
    "instant",
    "time",
];

fn is_type(item: &Item, t: &str) -> bool {
    match item {
        Item::Resolved(r) => *r == t || t == "Resource" || t == "DomainResource",
        Item::Node { ty: Some(s), .. } => names_type(s, t),
        // Not a choice element: judge by the JSON shape.
        Item::Node { value, ty: None } => match value {
            Value::String(_) => STRING_PRIMITIVES.contains(&t),
            Value::Bool(_) => t == "boolean",
            Value::Number(_) => matches!(t, "decimal" | "integer" | "positiveInt" | "unsignedInt"),
            Value::Object(map) => match map.get("resourceType").and_then(Value::as_str) {
                Some(rt) => applies_to(t, rt),
                None => t.starts_with(|c: char| c.is_ascii_uppercase()),
            },
            _ => false,
        },
        Item::Bool(_) => t == "boolean",
        Item::Str(_) => t == "string",
        Item::Num(_) => t == "decimal" || t == "integer",
    }
}

/// The type of the resource a Reference (or canonical/uri string, or inline resource) points to.
fn resolve<'a>(item: &Item<'a>, ctx: &Ctx<'a>) -> Option<&'a str> {
    let Item::Node { value, .. } = item else {
        return None;
    };
    let reference = match value {
        Value::String(s) => s.as_str(),
        Value::Object(map) => {
            if let Some(rt) = map.get("resourceType").and_then(Value::as_str) {
                return Some(rt);
            }
            map.get("reference")?.as_str()?
        }
        _ => return None,
    };
    if let Some(local) = reference.strip_prefix('#') {
        // A contained resource: its own resourceType says what it is.
        return ctx
            .root
            .get("contained")?
            .as_array()?
            .iter()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(local))?
            .get("resourceType")?
            .as_str();
    }
    reference_type(reference)
}

/// The resource type in a `Type/id`, `Type/id/_history/v` or `http://…/Type/id` reference.
pub(crate) fn reference_type(reference: &str) -> Option<&str> {
    let path = match reference.find("/_history/") {
        Some(i) => &reference[..i],
        None => reference,
    };
    let mut segments = path.rsplit('/');
    let _id = segments.next().filter(|id| !id.is_empty())?;
    segments.next().filter(|t| is_resource_type(t))
}

fn extensions<'a>(item: &Item<'a>, url: &str, out: &mut Vec<Item<'a>>) {
    let Item::Node { value, .. } = item else {
        return;
    };
    let Some(Value::Array(exts)) = value.get("extension") else {
        return;
    };
    for ext in exts {
        if ext.get("url").and_then(Value::as_str) == Some(url) {
            out.push(Item::Node {
                value: ext,
                ty: None,
            });
        }
    }
}

/// FHIRPath equality of two single items, comparing primitive values.
fn same_value(a: &Item, b: &Item) -> bool {
    #[derive(PartialEq)]
    enum Prim<'x> {
        S(&'x str),
        B(bool),
        N(f64),
        Other,
    }
    fn prim<'x>(i: &Item<'x>) -> Prim<'x> {
        match i {
            Item::Str(s) | Item::Resolved(s) => Prim::S(s),
            Item::Bool(b) => Prim::B(*b),
            Item::Num(n) => Prim::N(*n),
            Item::Node { value, .. } => match value {
                Value::String(s) => Prim::S(s),
                Value::Bool(b) => Prim::B(*b),
                Value::Number(n) => n.as_f64().map_or(Prim::Other, Prim::N),
                _ => Prim::Other,
            },
        }
    }
    let (a, b) = (prim(a), prim(b));
    a != Prim::Other && a == b
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use serde_json::json;

    fn eval_str<'a>(expr: &'a Expr, resource: &'a Value) -> Vec<Item<'a>> {
        let mut out = Vec::new();
        evaluate(expr, resource, &mut out);
        out
    }

    fn values(text: &str, resource: &Value) -> Vec<Value> {
        let expr = parse(text).unwrap();
        eval_str(&expr, resource)
            .into_iter()
            .map(|i| match i {
                Item::Node { value, .. } => value.clone(),
                Item::Bool(b) => json!(b),
                Item::Str(s) | Item::Resolved(s) => json!(s),
                Item::Num(n) => json!(n),
            })
            .collect()
    }

    #[test]
    fn paths_flatten_arrays_and_skip_other_types() {
        let p = json!({"resourceType": "Patient", "name": [
            {"family": "Chalmers", "given": ["Peter", "James"]},
            {"given": ["Jim"]}
        ]});
        assert_eq!(
            values("Patient.name.given", &p),
            vec![json!("Peter"), json!("James"), json!("Jim")]
        );
        assert_eq!(
            values("Patient.name.family | Practitioner.name.family", &p),
            vec![json!("Chalmers")]
        );
        assert!(values("Practitioner.name", &p).is_empty());
        assert_eq!(values("Resource.name[1].given", &p), vec![json!("Jim")]);
        assert_eq!(
            values("Patient.name.given.first()", &p),
            vec![json!("Peter")]
        );
    }

    #[test]
    fn choice_elements_and_type_filters() {
        let o = json!({"resourceType": "Observation",
            "valueQuantity": {"value": 6.3, "unit": "mmol/l"},
            "component": [{"valueCodeableConcept": {"text": "x"}}, {"valueString": "y"}]});
        assert_eq!(
            values("(Observation.value as Quantity)", &o),
            vec![json!({"value": 6.3, "unit": "mmol/l"})]
        );
        assert!(values("Observation.value.as(Range)", &o).is_empty());
        assert_eq!(
            values("(Observation.component.value as CodeableConcept).text", &o),
            vec![json!("x")]
        );
        assert_eq!(
            values("Observation.component.value.ofType(string)", &o),
            vec![json!("y")]
        );
        assert_eq!(values("Observation.value", &o).len(), 1);
        // `valueSet` is not a choice of `value`.
        let c = json!({"resourceType": "Questionnaire", "valueSet": "http://x"});
        assert!(values("Questionnaire.value", &c).is_empty());
    }

    #[test]
    fn where_with_resolve_and_equality() {
        let o = json!({"resourceType": "Observation", "subject": {"reference": "Patient/1"},
            "performer": [{"reference": "http://x/fhir/Practitioner/2/_history/3"},
                          {"reference": "#org"}, {"display": "no reference"}],
            "contained": [{"resourceType": "Organization", "id": "org"}]});
        assert_eq!(
            values("Observation.subject.where(resolve() is Patient)", &o).len(),
            1
        );
        assert!(values("Observation.subject.where(resolve() is Group)", &o).is_empty());
        assert_eq!(
            values("Observation.performer.where(resolve() is Practitioner)", &o).len(),
            1
        );
        assert_eq!(
            values("Observation.performer.where(resolve() is Organization)", &o).len(),
            1
        );
        let p = json!({"resourceType": "Patient", "telecom": [
            {"system": "phone", "value": "1"}, {"system": "email", "value": "a@b"}]});
        assert_eq!(
            values("Patient.telecom.where(system='email')", &p),
            vec![json!({"system": "email", "value": "a@b"})]
        );
    }

    #[test]
    fn booleans_exists_and_extensions() {
        let expr = "Patient.deceased.exists() and Patient.deceased != false";
        let alive = json!({"resourceType": "Patient"});
        assert_eq!(values(expr, &alive), vec![json!(false)]);
        let dead = json!({"resourceType": "Patient", "deceasedDateTime": "2020-01-01"});
        assert_eq!(values(expr, &dead), vec![json!(true)]);
        let not_dead = json!({"resourceType": "Patient", "deceasedBoolean": false});
        assert_eq!(values(expr, &not_dead), vec![json!(false)]);

        let p = json!({"resourceType": "Patient", "extension": [
            {"url": "http://a", "valueString": "Smith"}, {"url": "http://b", "valueString": "x"}]});
        assert_eq!(
            values("Patient.extension('http://a')", &p),
            vec![json!({"url": "http://a", "valueString": "Smith"})]
        );
        assert_eq!(
            values("Patient.extension.where(url='http://b')", &p).len(),
            1
        );
        assert_eq!(
            values(
                "Patient.where(hasExtension('http://b')).id",
                &json!({
                "resourceType": "Patient", "id": "1", "extension": [{"url": "http://b"}]})
            ),
            vec![json!("1")]
        );
    }

    #[test]
    fn reference_types() {
        assert_eq!(reference_type("Patient/1"), Some("Patient"));
        assert_eq!(
            reference_type("http://x/Patient/1/_history/2"),
            Some("Patient")
        );
        assert_eq!(reference_type("urn:uuid:1234"), None);
        assert_eq!(reference_type("Foo/1"), None);
        assert_eq!(reference_type("Patient/"), None);
    }
}
