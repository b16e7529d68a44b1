//! Vital signs on a visit note: what the form asks, their LOINC codes and UCUM units, the
//! ranges a value must fall in (outside them it is a typing mistake, not a patient), and the
//! Observations (category vital-signs) they become.

use serde_json::{json, Value};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// The blood pressure panel; systolic and diastolic are its components.
const BP_PANEL: (&str, &str) = ("85354-9", "Blood pressure panel with all children optional");

/// One measurement the form asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vital {
    /// The form field, and the key of its label (`visit.vitals.<field>`).
    pub field: &'static str,
    /// LOINC codes, main first (SpO2 carries both pulse-oximetry codes, as US Core does).
    pub codes: &'static [(&'static str, &'static str)],
    /// UCUM code, shown as is.
    pub unit: &'static str,
    pub min: f64,
    pub max: f64,
}

pub const TEMPERATURE: Vital = Vital {
    field: "temperature",
    codes: &[("8310-5", "Body temperature")],
    unit: "Cel",
    min: 30.0,
    max: 45.0,
};
pub const HEART_RATE: Vital = Vital {
    field: "heart_rate",
    codes: &[("8867-4", "Heart rate")],
    unit: "/min",
    min: 20.0,
    max: 250.0,
};
pub const SYSTOLIC: Vital = Vital {
    field: "systolic",
    codes: &[("8480-6", "Systolic blood pressure")],
    unit: "mm[Hg]",
    min: 50.0,
    max: 260.0,
};
pub const DIASTOLIC: Vital = Vital {
    field: "diastolic",
    codes: &[("8462-4", "Diastolic blood pressure")],
    unit: "mm[Hg]",
    min: 20.0,
    max: 160.0,
};
pub const SPO2: Vital = Vital {
    field: "spo2",
    codes: &[
        (
            "59408-5",
            "Oxygen saturation in Arterial blood by Pulse oximetry",
        ),
        ("2708-6", "Oxygen saturation in Arterial blood"),
    ],
    unit: "%",
    min: 50.0,
    max: 100.0,
};
pub const RESPIRATORY_RATE: Vital = Vital {
    field: "respiratory_rate",
    codes: &[("9279-1", "Respiratory rate")],
    unit: "/min",
    min: 4.0,
    max: 60.0,
};
pub const WEIGHT: Vital = Vital {
    field: "weight",
    codes: &[("29463-7", "Body weight")],
    unit: "kg",
    min: 0.5,
    max: 400.0,
};

/// A UCUM unit as people write it (`Cel` is °C).
pub fn shown_unit(ucum: &str) -> &str {
    match ucum {
        "Cel" => "°C",
        "mm[Hg]" => "mmHg",
        other => other,
    }
}

/// Every field, in the order the form shows them.
pub const ALL: [Vital; 7] = [
    TEMPERATURE,
    HEART_RATE,
    SYSTOLIC,
    DIASTOLIC,
    SPO2,
    RESPIRATORY_RATE,
    WEIGHT,
];

/// A vital the form refused: the field and the translation key (with `min`, `max`, `unit`).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub field: &'static str,
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

/// The values given, validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vitals(pub Vec<(Vital, f64)>);

fn number(text: &str) -> Option<f64> {
    // People write decimals with a comma in French.
    let n: f64 = text.trim().replace(',', ".").parse().ok()?;
    n.is_finite().then_some(n)
}

fn show(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// Read the vitals from the form (`field` → text); blanks are left out.
pub fn parse(get: impl Fn(&str) -> String) -> Result<Vitals, Vec<Refused>> {
    let mut given = Vec::new();
    let mut refused = Vec::new();
    for v in ALL {
        let text = get(v.field);
        if text.trim().is_empty() {
            continue;
        }
        match number(&text) {
            Some(n) if (v.min..=v.max).contains(&n) => given.push((v, n)),
            _ => refused.push(Refused {
                field: v.field,
                key: "visit.error.range",
                args: vec![
                    ("min", show(v.min)),
                    ("max", show(v.max)),
                    ("unit", shown_unit(v.unit).to_owned()),
                ],
            }),
        }
    }
    let has = |f: &str| given.iter().any(|(v, _)| v.field == f) || !get(f).trim().is_empty();
    if has(SYSTOLIC.field) != has(DIASTOLIC.field) {
        let missing = if has(SYSTOLIC.field) {
            DIASTOLIC
        } else {
            SYSTOLIC
        };
        refused.push(Refused {
            field: missing.field,
            key: "visit.error.bp_pair",
            args: vec![],
        });
    }
    let value = |f: &str| given.iter().find(|(v, _)| v.field == f).map(|(_, n)| *n);
    if let (Some(s), Some(d)) = (value(SYSTOLIC.field), value(DIASTOLIC.field)) {
        if s <= d {
            refused.push(Refused {
                field: SYSTOLIC.field,
                key: "visit.error.bp_order",
                args: vec![],
            });
        }
    }
    if refused.is_empty() {
        Ok(Vitals(given))
    } else {
        Err(refused)
    }
}

fn codeable(codes: &[(&str, &str)]) -> Value {
    let coding: Vec<Value> = codes
        .iter()
        .map(|(code, display)| json!({ "system": LOINC, "code": code, "display": display }))
        .collect();
    json!({ "coding": coding, "text": codes[0].1 })
}

fn quantity(v: &Vital, n: f64) -> Value {
    json!({ "value": n, "unit": v.unit, "system": UCUM, "code": v.unit })
}

/// The Observations of `vitals`, without subject and the like (see `base`): one each, and
/// blood pressure as one panel with two components.
pub fn observations(vitals: &Vitals, base: &Value) -> Vec<Value> {
    let observation = |code: Value| {
        let mut o = base.clone();
        o["resourceType"] = json!("Observation");
        o["status"] = json!("final");
        o["category"] = json!([{ "coding": [{ "system": CATEGORY, "code": "vital-signs", "display": "Vital Signs" }] }]);
        o["code"] = code;
        o
    };
    let mut out = Vec::new();
    let mut bp = Vec::new();
    for (v, n) in &vitals.0 {
        if *v == SYSTOLIC || *v == DIASTOLIC {
            bp.push(json!({ "code": codeable(v.codes), "valueQuantity": quantity(v, *n) }));
            continue;
        }
        let mut o = observation(codeable(v.codes));
        o["valueQuantity"] = quantity(v, *n);
        out.push(o);
    }
    if !bp.is_empty() {
        let mut o = observation(codeable(&[BP_PANEL]));
        o["component"] = json!(bp);
        out.push(o);
    }
    out
}

/// A vital read back from an Observation: (field, value, unit), blood pressure as
/// (`blood_pressure`, "120/80", "mm[Hg]").
pub fn read(o: &Value) -> Option<(&'static str, String, String)> {
    let code = o["code"]["coding"][0]["code"].as_str()?;
    let value = |q: &Value| q["value"].as_f64().map(show);
    if code == BP_PANEL.0 {
        let part = |c: &str| {
            o["component"].as_array()?.iter().find_map(|comp| {
                (comp["code"]["coding"][0]["code"] == c).then(|| value(&comp["valueQuantity"]))?
            })
        };
        let s = part(SYSTOLIC.codes[0].0)?;
        let d = part(DIASTOLIC.codes[0].0)?;
        return Some(("blood_pressure", format!("{s}/{d}"), "mm[Hg]".into()));
    }
    let v = ALL.iter().find(|v| v.codes[0].0 == code)?;
    Some((v.field, value(&o["valueQuantity"])?, v.unit.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> String + 'a {
        move |f| {
            pairs
                .iter()
                .find(|(k, _)| *k == f)
                .map(|(_, v)| (*v).to_owned())
                .unwrap_or_default()
        }
    }

    #[test]
    fn values_in_range_become_observations() {
        let v = parse(form(&[
            ("temperature", "37,8"),
            ("systolic", "130"),
            ("diastolic", "85"),
            ("spo2", "97"),
        ]))
        .unwrap();
        let obs = observations(&v, &json!({"subject": {"reference": "Patient/p"}}));
        assert_eq!(obs.len(), 3, "blood pressure is one panel");
        assert_eq!(obs[0]["valueQuantity"]["value"], 37.8);
        assert_eq!(obs[0]["valueQuantity"]["code"], "Cel");
        assert_eq!(obs[1]["code"]["coding"][1]["code"], "2708-6");
        let bp = &obs[2];
        assert_eq!(bp["code"]["coding"][0]["code"], "85354-9");
        assert_eq!(bp["component"][1]["code"]["coding"][0]["code"], "8462-4");
        assert_eq!(
            read(bp),
            Some(("blood_pressure", "130/85".into(), "mm[Hg]".into()))
        );
        assert_eq!(read(&obs[0]).unwrap().1, "37.8");
    }

    #[test]
    fn mistakes_are_refused_with_what_to_fix() {
        let e = parse(form(&[
            ("temperature", "375"),
            ("heart_rate", "fast"),
            ("systolic", "120"),
        ]))
        .unwrap_err();
        let fields: Vec<_> = e.iter().map(|r| (r.field, r.key)).collect();
        assert!(fields.contains(&("temperature", "visit.error.range")));
        assert!(fields.contains(&("heart_rate", "visit.error.range")));
        assert!(fields.contains(&("diastolic", "visit.error.bp_pair")));
        assert_eq!(e[0].args[0], ("min", "30".to_owned()));
        let e = parse(form(&[("systolic", "80"), ("diastolic", "90")])).unwrap_err();
        assert_eq!(e[0].key, "visit.error.bp_order");
        assert_eq!(parse(form(&[])).unwrap(), Vitals::default());
    }
}
