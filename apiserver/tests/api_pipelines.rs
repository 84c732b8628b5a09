//! Pipelines and pipeline versions through the v1beta1 REST API, in-process over a temp
//! SQLite store: uploads (YAML, KFP v1 SDK output, .tar.gz), rejections (invalid, too
//! large, duplicate, zip, URL), get/list/paging/filter, templates, versions, cascade delete.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::app::{Server, call, send};

async fn server() -> Server {
    common::app::server_with_upload_limit(MAX_UPLOAD).await
}
use serde_json::{Value, json};

const MAX_UPLOAD: usize = 64 * 1024;

/// `POST uri` with a multipart body holding `content` in field `uploadfile`.
async fn upload(
    server: &Server,
    uri: &str,
    file_name: &str,
    content: &[u8],
) -> (StatusCode, Value) {
    let boundary = "----kfp-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(
        format!(
            "Content-Disposition: form-data; name=\"uploadfile\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::builder()
        .method("POST")
        .uri(uri)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("a request");
    send(server, request).await
}

fn sample(path: &str) -> String {
    let full = format!(
        "{}/../compiler/tests/data/workflows/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {full}: {e}"))
}

fn diamond() -> String {
    sample("argo/dag-diamond.yaml")
}

fn str_of<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
}

/// A small workflow with one parameter, named by `tag` so contents differ.
fn tiny(tag: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: {tag}-\n\
         spec:\n  entrypoint: main\n  arguments:\n    parameters:\n    - name: who\n      value: {tag}\n\
         \x20 templates:\n  - name: main\n    container:\n      image: alpine\n      command: [echo, hi]\n"
    )
}

fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for (name, content) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, *content)
            .expect("tar entry");
    }
    builder
        .into_inner()
        .expect("tar finishes")
        .finish()
        .expect("gzip finishes")
}

async fn pipeline_count(server: &Server) -> usize {
    let (status, list) = call(server, "GET", "/apis/v1beta1/pipelines", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.get("pipelines")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn upload_yaml_creates_pipeline_with_default_version() {
    let server = server().await;
    let (status, p) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload?name=my%20diamond&description=four%20steps",
        "dag-diamond.yaml",
        diamond().as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["name"], "my diamond");
    assert_eq!(p["description"], "four steps");
    let id = str_of(&p, "/id").to_string();
    let created = str_of(&p, "/created_at");
    assert!(created.ends_with('Z') && created.contains('T'), "{created}");
    assert_eq!(p["default_version"]["name"], "my diamond");
    assert_eq!(
        p["default_version"]["resource_references"],
        json!([{"key": {"type": "PIPELINE", "id": id}, "relationship": "OWNER"}])
    );
    let version_id = str_of(&p, "/default_version/id").to_string();

    // GET has the same default version.
    let (status, got) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["default_version"]["id"], version_id.as_str());
    assert_eq!(got["name"], "my diamond");

    // The template is the uploaded YAML.
    let (status, t) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines/{id}/templates"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["template"], diamond().as_str());
    let (status, t) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipeline_versions/{version_id}/templates"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["template"], diamond().as_str());
}

#[tokio::test]
async fn upload_kfp_v1_sdk_file_reads_parameters_and_defaults_the_name() {
    let server = server().await;
    let text = sample("kfp-v1/data_passing.yaml");
    let (status, p) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload",
        "data_passing.yaml",
        text.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    // No ?name=: the file name without its extension.
    assert_eq!(p["name"], "data_passing");
    let parameters = p["parameters"].as_array().expect("parameters");
    let names: Vec<&str> = parameters
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"words") && names.contains(&"offset"), "{p}");
    assert_eq!(p["default_version"]["parameters"], p["parameters"]);
}

#[tokio::test]
async fn upload_tar_gz_with_one_yaml() {
    let server = server().await;
    let package = tar_gz(&[("pipeline.yaml", diamond().as_bytes())]);
    let (status, p) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload",
        "diamond.tar.gz",
        &package,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["name"], "diamond");
    let id = str_of(&p, "/id");
    let (_, t) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines/{id}/templates"),
        None,
    )
    .await;
    assert_eq!(t["template"], diamond().as_str());

    // Sniffed without the extension too.
    let (status, p) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload?name=sniffed",
        "package",
        &package,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{p}");

    // Two files: refused, naming them.
    let two = tar_gz(&[
        ("a.yaml", diamond().as_bytes()),
        ("b.yaml", diamond().as_bytes()),
    ]);
    let (status, err) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload?name=two",
        "two.tgz",
        &two,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let message = str_of(&err, "/error_message");
    assert!(
        message.contains("a.yaml") && message.contains("b.yaml"),
        "{message}"
    );
}

#[tokio::test]
async fn zip_and_urls_are_refused_with_advice() {
    let server = server().await;
    let (status, err) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload",
        "p.zip",
        b"PK\x03\x04rest",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(
        err["error_message"],
        "zip packages are not supported; upload the YAML or a .tar.gz"
    );
    assert_eq!(err["message"], err["error_message"]);

    let (status, err) = call(
        &server,
        "POST",
        "/apis/v1beta1/pipelines",
        Some(json!({"name": "x", "url": {"pipeline_url": "https://example.com/p.yaml"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(str_of(&err, "/message").contains("upload"), "{err}");
    assert_eq!(pipeline_count(&server).await, 0);
}

#[tokio::test]
async fn invalid_workflow_is_400_naming_the_problem_and_stores_nothing() {
    let server = server().await;
    // The entrypoint names a template that does not exist.
    let bad = diamond().replace("entrypoint: diamond", "entrypoint: nosuch");
    assert_ne!(bad, diamond(), "the sample changed; adjust the test");
    let (status, err) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload",
        "bad.yaml",
        bad.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let message = str_of(&err, "/error_message");
    assert!(
        message.contains("nosuch") && message.contains("bad.yaml"),
        "{message}"
    );
    assert_eq!(pipeline_count(&server).await, 0);

    // Not YAML at all.
    let (status, err) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload",
        "junk.yaml",
        b"{ not: [yaml",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(str_of(&err, "/message").contains("junk.yaml"), "{err}");
    assert_eq!(pipeline_count(&server).await, 0);
}

#[tokio::test]
async fn oversize_upload_is_413_naming_the_limit() {
    let server = server().await;
    let mut big = diamond();
    big.push_str(&format!("# {}\n", "x".repeat(MAX_UPLOAD)));
    let (status, err) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload",
        "big.yaml",
        big.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{err}");
    assert!(str_of(&err, "/error_message").contains("64 KiB"), "{err}");

    // Far past the body limit as well.
    let huge = vec![b'#'; MAX_UPLOAD * 4];
    let (status, err) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload",
        "huge.yaml",
        &huge,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{err}");
    assert_eq!(pipeline_count(&server).await, 0);
}

#[tokio::test]
async fn duplicate_name_is_409() {
    let server = server().await;
    let (status, _) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload?name=dup",
        "a.yaml",
        diamond().as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload?name=dup",
        "a.yaml",
        diamond().as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(str_of(&err, "/error_message").contains("dup"), "{err}");
    assert_eq!(pipeline_count(&server).await, 1);
}

#[tokio::test]
async fn list_pages_and_filters() {
    let server = server().await;
    for name in ["alpha", "beta", "gamma"] {
        let (status, p) = upload(
            &server,
            &format!("/apis/v1beta1/pipelines/upload?name={name}"),
            "p.yaml",
            tiny(name).as_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{p}");
    }

    // page_size=1, following next_page_token to the end.
    let mut names = Vec::new();
    let mut token = String::new();
    for _ in 0..10 {
        let uri = if token.is_empty() {
            "/apis/v1beta1/pipelines?page_size=1&sort_by=name".to_string()
        } else {
            format!("/apis/v1beta1/pipelines?page_size=1&page_token={token}")
        };
        let (status, page) = call(&server, "GET", &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total_size"], 3);
        let pipelines = page["pipelines"].as_array().expect("pipelines");
        assert_eq!(pipelines.len(), 1);
        names.push(str_of(&pipelines[0], "/name").to_string());
        assert!(pipelines[0]["default_version"]["id"].is_string(), "{page}");
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(next) => token = next.to_string(),
            None => break,
        }
    }
    assert_eq!(names, ["alpha", "beta", "gamma"]);

    // kfp 1.8's get_pipeline_id filter: camelCase, numeric op, URL-encoded JSON.
    let filter = r#"{"predicates": [{"key": "name", "op": 1, "stringValue": "beta"}]}"#;
    let encoded: String = percent_encode(filter);
    let (status, page) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines?filter={encoded}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let pipelines = page["pipelines"].as_array().expect("pipelines");
    assert_eq!(pipelines.len(), 1);
    assert_eq!(pipelines[0]["name"], "beta");
    assert_eq!(
        pipelines[0]["parameters"],
        json!([{"name": "who", "value": "beta"}])
    );
    assert_eq!(page["total_size"], 1);
    assert!(page.get("next_page_token").is_none(), "{page}");

    // Nothing matches: `{}`.
    let none =
        percent_encode(r#"{"predicates":[{"key":"name","op":"EQUALS","string_value":"zeta"}]}"#);
    let (status, page) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines?filter={none}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page, json!({}));

    // Bad list input is a 400 naming it.
    let (status, err) = call(&server, "GET", "/apis/v1beta1/pipelines?sort_by=nme", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(str_of(&err, "/message").contains("nme"), "{err}");
    let (status, _) = call(&server, "GET", "/apis/v1beta1/pipelines?page_size=-1", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let server = server().await;
    for uri in [
        "/apis/v1beta1/pipelines/nosuch",
        "/apis/v1beta1/pipelines/nosuch/templates",
        "/apis/v1beta1/pipeline_versions/nosuch",
        "/apis/v1beta1/pipeline_versions/nosuch/templates",
    ] {
        let (status, err) = call(&server, "GET", uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {err}");
        assert!(str_of(&err, "/message").contains("nosuch"), "{err}");
    }
    let (status, _) = call(&server, "DELETE", "/apis/v1beta1/pipelines/nosuch", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload_version?name=v&pipelineid=nosuch",
        "v.yaml",
        diamond().as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn versions_upload_list_default_delete_and_cascade() {
    let server = server().await;
    let (status, p) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload?name=pipe",
        "p.yaml",
        tiny("one").as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let pid = str_of(&p, "/id").to_string();
    let v1 = str_of(&p, "/default_version/id").to_string();

    // upload_version makes the new version the default.
    let (status, v) = upload(
        &server,
        &format!(
            "/apis/v1beta1/pipelines/upload_version?name=v2&pipelineid={pid}&description=second"
        ),
        "p2.yaml",
        tiny("two").as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "v2");
    assert_eq!(v["description"], "second");
    assert_eq!(v["parameters"], json!([{"name": "who", "value": "two"}]));
    let v2 = str_of(&v, "/id").to_string();
    let (_, got) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines/{pid}"),
        None,
    )
    .await;
    assert_eq!(got["default_version"]["id"], v2.as_str());
    let (_, t) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines/{pid}/templates"),
        None,
    )
    .await;
    assert_eq!(t["template"], tiny("two").as_str());

    // The version's name is taken in this pipeline.
    let (status, _) = upload(
        &server,
        &format!("/apis/v1beta1/pipelines/upload_version?name=v2&pipelineid={pid}"),
        "p2.yaml",
        tiny("two").as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // pipelineid is required.
    let (status, err) = upload(
        &server,
        "/apis/v1beta1/pipelines/upload_version?name=v3",
        "p.yaml",
        tiny("x").as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        str_of(&err, "/error_message").contains("pipelineid"),
        "{err}"
    );

    // List the versions, one per page.
    let base =
        format!("/apis/v1beta1/pipeline_versions?resource_key.type=PIPELINE&resource_key.id={pid}");
    let (status, page) = call(&server, "GET", &format!("{base}&page_size=1"), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total_size"], 2);
    assert_eq!(page["versions"].as_array().map(Vec::len), Some(1));
    let token = str_of(&page, "/next_page_token").to_string();
    let (status, page2) = call(
        &server,
        "GET",
        &format!("{base}&page_size=1&page_token={token}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page2}");
    let mut ids = vec![
        str_of(&page, "/versions/0/id").to_string(),
        str_of(&page2, "/versions/0/id").to_string(),
    ];
    ids.sort();
    let mut expected = vec![v1.clone(), v2.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    // The pipeline key is required.
    let (status, err) = call(&server, "GET", "/apis/v1beta1/pipeline_versions", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");

    // Back to the first version as default.
    let (status, body) = call(
        &server,
        "POST",
        &format!("/apis/v1beta1/pipelines/{pid}/default_version/{v1}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    let (_, got) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines/{pid}"),
        None,
    )
    .await;
    assert_eq!(got["default_version"]["id"], v1.as_str());

    // GET and DELETE a version; the default moves to the remaining one.
    let (status, got) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipeline_versions/{v2}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["name"], "v2");
    let (status, body) = call(
        &server,
        "DELETE",
        &format!("/apis/v1beta1/pipeline_versions/{v1}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, got) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines/{pid}"),
        None,
    )
    .await;
    assert_eq!(got["default_version"]["id"], v2.as_str());
    let (status, _) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipeline_versions/{v1}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // POST /pipeline_versions with a URL: refused, pointing at upload_version.
    let (status, err) = call(
        &server,
        "POST",
        "/apis/v1beta1/pipeline_versions",
        Some(json!({
            "name": "from-url",
            "package_url": {"pipeline_url": "https://example.com/p.yaml"},
            "resource_references": [{"key": {"type": "PIPELINE", "id": pid}, "relationship": "OWNER"}]
        })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(str_of(&err, "/message").contains("upload_version"), "{err}");

    // v1 delete of the pipeline takes its versions along.
    let (status, body) = call(
        &server,
        "DELETE",
        &format!("/apis/v1beta1/pipelines/{pid}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    let (status, _) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipelines/{pid}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &server,
        "GET",
        &format!("/apis/v1beta1/pipeline_versions/{v2}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(pipeline_count(&server).await, 0);
}

#[tokio::test]
async fn unknown_request_field_is_400() {
    let server = server().await;
    let (status, err) = call(
        &server,
        "POST",
        "/apis/v1beta1/pipelines",
        Some(json!({"name": "x", "colour": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(str_of(&err, "/message").contains("colour"), "{err}");
}
