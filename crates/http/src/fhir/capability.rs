//! `GET /fhir/metadata`: the CapabilityStatement, built from what the server really does.

use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::response;

pub async fn metadata() -> Response {
    static STATEMENT: OnceLock<Value> = OnceLock::new();
    response::json(StatusCode::OK, STATEMENT.get_or_init(statement))
}

fn interactions(codes: &[&str]) -> Vec<Value> {
    codes.iter().map(|c| json!({ "code": c })).collect()
}

fn statement() -> Value {
    let resources: Vec<Value> = carefront_fhir::resource_types::all()
        .map(|rt| {
            let params: Vec<Value> = carefront_fhir::search::supported_params(rt)
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
                "searchInclude": ["*"],
                "searchRevInclude": ["*"],
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
