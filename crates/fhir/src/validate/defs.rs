//! The compacted R4 StructureDefinitions (`data/structure-definitions.json`, made by
//! `tools/gen_structure_defs.py`), parsed once into lookup tables.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::primitive::Primitive;

const DATA: &str = include_str!("../../data/structure-definitions.json");

/// Index of a complex type (datatype, resource or backbone element) in [`Defs::types`].
pub(super) type TypeId = usize;

/// What an element may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeRef {
    Primitive(Primitive),
    Complex(TypeId),
    /// Any resource, told apart by its own `resourceType` (contained, Bundle.entry.resource).
    Resource,
}

#[derive(Debug)]
pub(super) struct ElementDef {
    /// Name without the `[x]` of choice elements.
    pub name: Box<str>,
    pub choice: bool,
    pub min: u32,
    /// `None` for `*`.
    pub max: Option<u32>,
    pub types: Vec<TypeRef>,
    /// Allowed codes of a required binding; empty when unknown (not checked).
    pub codes: Vec<Box<str>>,
}

impl ElementDef {
    /// FHIR JSON represents every element whose max is not 1 as an array.
    pub fn repeats(&self) -> bool {
        self.max != Some(1)
    }
}

#[derive(Debug)]
pub(super) struct TypeDef {
    pub name: Box<str>,
    pub elements: Vec<ElementDef>,
    /// JSON property name -> (element index, index into its `types`). Choice elements have one
    /// key per allowed type (`valueQuantity`, `valueString`, ...).
    keys: HashMap<Box<str>, (usize, usize)>,
}

impl TypeDef {
    /// The (element index, type index) a JSON property name stands for.
    pub fn lookup(&self, key: &str) -> Option<(usize, usize)> {
        self.keys.get(key).copied()
    }
}

#[derive(Debug)]
pub(super) struct Defs {
    pub types: Vec<TypeDef>,
    resources: HashMap<Box<str>, TypeId>,
    /// The definition primitive extensions (`_birthDate`) are checked against.
    pub element: TypeId,
}

impl Defs {
    /// The parsed definitions; the embedded data is parsed on first use.
    pub fn get() -> &'static Defs {
        static DEFS: OnceLock<Defs> = OnceLock::new();
        DEFS.get_or_init(|| {
            let data: Value = serde_json::from_str(DATA).expect("structure-definitions.json");
            Defs::from_json(&data).expect("structure-definitions.json is well-formed")
        })
    }

    /// The definition of a concrete resource type such as `Patient`.
    pub fn resource(&self, name: &str) -> Option<TypeId> {
        self.resources.get(name).copied()
    }

    pub fn type_name(&self, t: TypeRef) -> &str {
        match t {
            TypeRef::Primitive(p) => p.name(),
            TypeRef::Complex(id) => &self.types[id].name,
            TypeRef::Resource => "Resource",
        }
    }

    fn from_json(data: &Value) -> Result<Defs, String> {
        let types = data["types"].as_object().ok_or("no types")?;
        // First pass: number every complex type so elements can refer to later ones.
        let names: Vec<&str> = types.keys().map(String::as_str).collect();
        let ids: HashMap<&str, TypeId> = names.iter().enumerate().map(|(i, &k)| (k, i)).collect();
        let mut defs = Vec::with_capacity(types.len());
        for (name, elements) in types {
            let elements = elements
                .as_object()
                .ok_or_else(|| format!("{name}: not an object"))?;
            defs.push(type_def(name, elements, &names, &ids)?);
        }
        let mut resources = HashMap::new();
        for name in data["resources"].as_array().ok_or("no resources")? {
            let name = name.as_str().ok_or("resource name")?;
            let id = *ids
                .get(name)
                .ok_or_else(|| format!("no definition for {name}"))?;
            resources.insert(name.into(), id);
        }
        let element = *ids.get("Element").ok_or("no Element")?;
        Ok(Defs {
            types: defs,
            resources,
            element,
        })
    }
}

fn type_def(
    name: &str,
    elements: &Map<String, Value>,
    names: &[&str],
    ids: &HashMap<&str, TypeId>,
) -> Result<TypeDef, String> {
    let mut def = TypeDef {
        name: name.into(),
        elements: Vec::new(),
        keys: HashMap::new(),
    };
    for (key, raw) in elements {
        let element = element_def(key, raw, ids).map_err(|e| format!("{name}.{key}: {e}"))?;
        let index = def.elements.len();
        if element.choice {
            for (ty_index, &ty) in element.types.iter().enumerate() {
                let ty_name = match ty {
                    TypeRef::Primitive(p) => p.name(),
                    TypeRef::Complex(id) => names[id],
                    TypeRef::Resource => "Resource",
                };
                def.keys
                    .insert(choice_key(&element.name, ty_name).into(), (index, ty_index));
            }
        } else {
            def.keys.insert(element.name.clone(), (index, 0));
        }
        def.elements.push(element);
    }
    Ok(def)
}

fn element_def(key: &str, raw: &Value, ids: &HashMap<&str, TypeId>) -> Result<ElementDef, String> {
    let (name, choice) = match key.strip_suffix("[x]") {
        Some(base) => (base, true),
        None => (key, false),
    };
    let min = raw.get("min").and_then(Value::as_u64).unwrap_or(0) as u32;
    let max = match raw.get("max").and_then(Value::as_str).unwrap_or("1") {
        "*" => None,
        n => Some(n.parse().map_err(|_| format!("bad max {n}"))?),
    };
    let mut types = Vec::new();
    for t in raw["type"].as_array().ok_or("no type")? {
        let t = t.as_str().ok_or("type is not a string")?;
        types.push(if t == "Resource" {
            TypeRef::Resource
        } else if let Some(p) = Primitive::from_name(t) {
            TypeRef::Primitive(p)
        } else {
            TypeRef::Complex(*ids.get(t).ok_or_else(|| format!("unknown type {t}"))?)
        });
    }
    let codes = match raw.get("codes") {
        Some(Value::Array(codes)) => codes
            .iter()
            .filter_map(Value::as_str)
            .map(Into::into)
            .collect(),
        _ => Vec::new(),
    };
    Ok(ElementDef {
        name: name.into(),
        choice,
        min,
        max,
        types,
        codes,
    })
}

/// `value` + `Quantity` -> `valueQuantity`: the JSON name of one choice variant.
pub(super) fn choice_key(base: &str, type_name: &str) -> String {
    let mut key = String::with_capacity(base.len() + type_name.len());
    key.push_str(base);
    let mut chars = type_name.chars();
    if let Some(first) = chars.next() {
        key.extend(first.to_uppercase());
        key.push_str(chars.as_str());
    }
    key
}
