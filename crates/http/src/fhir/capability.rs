//! `GET /fhir/metadata`: the CapabilityStatement, built from what the server really does.

use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::response::Response;
use carefront_fhir::search;
use serde_json::{json, Value};

use super::response;

pub async fn metadata() -> Response {
    static STATEMENT: OnceLock<Value> = OnceLock::new();
    response::json(StatusCode::OK, STATEMENT.get_or_init(statement))
}

/// `_include` values: the reference parameters of `rt`.
fn includes(rt: &str) -> Vec<String> {
    reference_params(rt)
        .map(|p| format!("{rt}:{}", p.code))
        .collect()
}

/// `_revinclude` values: the reference parameters of any type that may point to `rt`.
fn revincludes(rt: &str) -> Vec<String> {
    carefront_fhir::resource_types::all()
        .flat_map(|source| {
            reference_params(source)
                .filter(|p| p.targets.iter().any(|t| t == rt))
                .map(move |p| format!("{source}:{}", p.code))
        })
        .collect()
}

fn reference_params(rt: &str) -> impl Iterator<Item = &'static search::SearchParam> {
    search::search_params(rt)
        .iter()
        .filter(|p| p.is_supported() && p.kind == search::ParamKind::Reference)
}

fn interactions(codes: &[&str]) -> Vec<Value> {
    codes.iter().map(|c| json!({ "code": c })).collect()
}

fn statement() -> Value {
    let resources: Vec<Value> = carefront_fhir::resource_types::all()
        .map(|rt| {
            let params: Vec<Value> = search::supported_params(rt)
                .map(|p| json!({ "name": p.code, "definition": p.url, "type": p.kind_code() }))
                .collect();
            json!({
                "type": rt,
                "interaction": interactions(&[
                    "read", "vread", "update", "patch", "delete", "history-instance",
                    "history-type", "create", "search-type",
                ]),
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": true,
                "conditionalRead": "not-supported",
                "conditionalUpdate": true,
                "conditionalDelete": "single",
                "searchInclude": includes(rt),
                "searchRevInclude": revincludes(rt),
                "searchParam": params,
            })
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "publisher": "Carefront",
        "kind": "instance",
        "software": { "name": "Carefront", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "Carefront FHIR R4 server" },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [{
            "mode": "server",
            "resource": resources,
            "interaction": interactions(&["transaction", "batch", "search-system", "history-system"]),
            "searchParam": [
                { "name": "_id", "type": "token" },
                { "name": "_lastUpdated", "type": "date" }
            ]
        }]
    })
}
