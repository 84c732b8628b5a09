//! The OpenAPI document: served at `/openapi.json`, identical to the checked-in copy in
//! `schemas/`, internally consistent, and describing only routes the server has.
//!
//! After changing a handler's annotation or a wire model, refresh the copy with
//! `KFP_UPDATE_OPENAPI=1 cargo test -p kfp-apiserver --test openapi`.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use axum::http::StatusCode;
use common::app::{call, server};
use serde_json::Value;

fn checked_in_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/kfp-apiserver.openapi.json")
}

fn document() -> Value {
    serde_json::from_str(&kfp_apiserver::server::openapi::document()).expect("the document is JSON")
}

#[test]
fn checked_in_copy_is_current() {
    let generated = kfp_apiserver::server::openapi::document();
    let path = checked_in_path();
    if std::env::var_os("KFP_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write the checked-in copy");
        eprintln!("updated {}", path.display());
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "{} is stale (or missing): the handlers' annotations or the wire models changed. \
         Refresh it with `KFP_UPDATE_OPENAPI=1 cargo test -p kfp-apiserver --test openapi` \
         and commit it.",
        path.display()
    );
}

#[tokio::test]
async fn served_document_is_the_generated_one() {
    let server = server().await;
    let (status, body) = call(&server, "GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, document());
}

/// Every `$ref` in the document names a schema it defines.
#[test]
fn every_reference_resolves() {
    fn refs(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("$ref", Value::String(target)) => {
                            out.insert(target.clone());
                        }
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = document();
    let mut found = BTreeSet::new();
    refs(&doc, &mut found);
    assert!(found.len() > 20, "few references: {found:?}");
    let schemas = doc["components"]["schemas"]
        .as_object()
        .expect("components.schemas");
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {target}"));
        assert!(schemas.contains_key(name), "{target} is not defined");
    }
}

/// The wire conventions show in the schemas: int64 and timestamps as strings, enums as
/// their names, the error body's fields.
#[test]
fn schemas_follow_the_wire_conventions() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let job = &schemas["ApiJob"]["properties"];
    assert_eq!(job["max_concurrency"]["type"], "string", "{job}");
    assert_eq!(job["max_concurrency"]["format"], "int64");
    let created = &job["created_at"];
    assert!(
        created.to_string().contains("date-time") && created.to_string().contains("string"),
        "{created}"
    );
    let state = &schemas["ApiRunStorageState"];
    assert_eq!(state["type"], "string");
    assert_eq!(
        state["enum"],
        serde_json::json!(["STORAGESTATE_AVAILABLE", "STORAGESTATE_ARCHIVED"])
    );
    let status = &schemas["ApiStatus"]["properties"];
    for field in ["error", "code", "message", "details"] {
        assert!(status.get(field).is_some(), "ApiStatus lacks {field}");
    }
    // Create bodies reject unknown fields, and the document says so.
    assert_eq!(schemas["ApiRun"]["additionalProperties"], false);
}

/// Each documented operation reaches a handler: the router answers it with the handler's
/// own JSON error for a made-up ID, never with its bare 404 (no such route) or 405.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let server = server().await;
    let doc = document();
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        let uri: String = path
            .split('/')
            .map(|segment| {
                // `{id}`, `{id}:archive`, `{artifact_name}:read`
                if let Some(rest) = segment.strip_prefix('{') {
                    let (_, after) = rest.split_once('}').expect("a closed parameter");
                    format!("made-up{after}")
                } else {
                    segment.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "delete", "put", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let body = (method == "post").then(|| serde_json::json!({}));
            let (status, answer) = call(&server, &method.to_uppercase(), &uri, body).await;
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: not routed"
            );
            if status == StatusCode::NOT_FOUND {
                assert!(
                    answer.get("code").is_some(),
                    "{method} {path}: the router has no such route (answer {answer})"
                );
            }
        }
    }
    assert!(operations >= 35, "only {operations} operations documented");
}
