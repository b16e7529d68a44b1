use super::*;
use std::collections::BTreeMap;

#[test]
#[ignore]
fn sweep_examples() {
    let dir = "/work/shared/data/fhir-r4/examples";
    let mut gaps: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut total = 0;
    let mut files = 0;
    let mut time = std::time::Duration::ZERO;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().map_or(true, |x| x != "json") { continue; }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
        let Some(rt) = v.get("resourceType").and_then(Value::as_str) else { continue };
        files += 1;
        let t = std::time::Instant::now();
        total += extract(&v).len();
        time += t.elapsed();
        for p in search_params(rt) {
            let Some(expr) = p.expression() else { continue };
            if p.is_resource_column() { continue; }
            let mut items = Vec::new();
            fhirpath::evaluate(expr, &v, &mut items);
            for item in items {
                let mut n = 0;
                index_values(p.kind, unwrap_extension(item), &mut |_| n += 1);
                if n == 0 {
                    let key = format!("{rt}.{} {:?}", p.code, p.kind);
                    let sample = format!("{:?}", item);
                    let e = gaps.entry(key).or_insert((0, sample.chars().take(150).collect()));
                    e.0 += 1;
                }
            }
        }
    }
    for (k, (n, s)) in &gaps { println!("{k} x{n}: {s}"); }
    println!("{files} files, {total} entries, {:?} total extract time", time);
}
