//! v1beta1 pipelines and pipeline versions.
//!
//! Pipelines come in by multipart upload (`/pipelines/upload`, `/pipelines/upload_version`):
//! a `.yaml`/`.yml`/`.json` file as is, or a `.tar.gz` holding one workflow file. The
//! workflow is validated before anything is stored, and a new pipeline is stored together
//! with its first version (the default) in one transaction. Creating from a URL
//! (`POST /pipelines`, `POST /pipeline_versions`) would make the server fetch from the
//! network; it does not, and says to upload instead.
//!
//! Upload errors carry KFP's upload body keys (`error_message`, `error_details`) besides
//! the usual `error`/`code`/`message`/`details`, since KFP's upload handlers answer with
//! the former and every other handler with the latter.

use std::io::Read;

use axum::Json;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value as JsonValue;

use super::experiments::{ReferenceKey, empty, path_param, timestamp};
use super::{ApiResult, Shared};
use crate::api::error::{ApiError, GrpcCode};
use crate::api::list_params::{ListParams, next_page_token, parse_list_query};
use crate::api::v1::model::{
    ApiGetTemplateResponse, ApiListPipelineVersionsResponse, ApiListPipelinesResponse,
    ApiParameter, ApiPipeline, ApiPipelineVersion, ApiRelationship, ApiResourceReference,
    ApiResourceType, ApiStatus, Empty,
};
use crate::api::wire::ProtoEnum;
use crate::list::Resource;
use crate::store::{NewPipeline, NewVersion, PipelineRow, VersionRow};

/// Room for the multipart framing around the file itself.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

pub fn routes(max_upload: usize) -> Router<Shared> {
    let upload_limit = DefaultBodyLimit::max(max_upload.saturating_add(MULTIPART_OVERHEAD));
    Router::new()
        .route(
            "/apis/v1beta1/pipelines",
            get(list_pipelines).post(create_pipeline),
        )
        .route(
            "/apis/v1beta1/pipelines/upload",
            post(upload_pipeline).layer(upload_limit),
        )
        .route(
            "/apis/v1beta1/pipelines/upload_version",
            post(upload_version).layer(upload_limit),
        )
        .route(
            "/apis/v1beta1/pipelines/{id}",
            get(get_pipeline).delete(delete_pipeline),
        )
        .route("/apis/v1beta1/pipelines/{id}/templates", get(get_template))
        .route(
            "/apis/v1beta1/pipelines/{id}/default_version/{version_id}",
            post(set_default_version),
        )
        .route(
            "/apis/v1beta1/pipeline_versions",
            get(list_versions).post(create_version),
        )
        .route(
            "/apis/v1beta1/pipeline_versions/{version_id}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/apis/v1beta1/pipeline_versions/{version_id}/templates",
            get(get_version_template),
        )
}

// ---------------------------------------------------------------------------------------
// Conversions

/// The parameters stored with a version (`[{"name", "value"}]`) as `ApiParameter`s.
fn api_parameters(stored: &JsonValue) -> Vec<ApiParameter> {
    let text = |p: &JsonValue, key: &str| {
        p.get(key)
            .and_then(JsonValue::as_str)
            .unwrap_or_default()
            .to_string()
    };
    stored
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| ApiParameter {
                    name: text(p, "name"),
                    value: text(p, "value"),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn api_version(row: VersionRow) -> ApiPipelineVersion {
    ApiPipelineVersion {
        parameters: api_parameters(&row.parameters),
        resource_references: vec![ApiResourceReference::new(
            ApiResourceType::Pipeline,
            row.pipeline_id,
            ApiRelationship::Owner,
        )],
        id: row.id,
        name: row.name,
        created_at: timestamp(row.created_at),
        code_source_url: row.code_source_url,
        package_url: None,
        description: row.description,
    }
}

/// The pipeline as `ApiPipeline`; its parameters are its default version's.
fn api_pipeline(row: PipelineRow, default_version: Option<VersionRow>) -> ApiPipeline {
    let default_version = default_version.map(api_version);
    let resource_references = if row.namespace.is_empty() {
        Vec::new()
    } else {
        vec![ApiResourceReference::new(
            ApiResourceType::Namespace,
            row.namespace,
            ApiRelationship::Owner,
        )]
    };
    ApiPipeline {
        id: row.id,
        created_at: timestamp(row.created_at),
        name: row.name,
        description: row.description,
        parameters: default_version
            .as_ref()
            .map(|v| v.parameters.clone())
            .unwrap_or_default(),
        url: None,
        error: String::new(),
        default_version,
        resource_references,
    }
}

/// The pipeline with its default version read from the store.
async fn load_pipeline(state: &Shared, row: PipelineRow) -> ApiResult<ApiPipeline> {
    let version = match &row.default_version_id {
        Some(id) => Some(state.store.get_version(id).await?),
        None => None,
    };
    Ok(api_pipeline(row, version))
}

fn total(total_size: i64) -> i32 {
    i32::try_from(total_size).unwrap_or(i32::MAX)
}

// ---------------------------------------------------------------------------------------
// Upload

/// An error of an upload handler: the usual body plus KFP's `error_message`/`error_details`.
#[derive(Debug)]
struct UploadError(ApiError);

impl From<ApiError> for UploadError {
    fn from(error: ApiError) -> Self {
        UploadError(error)
    }
}

impl From<crate::store::StoreError> for UploadError {
    fn from(error: crate::store::StoreError) -> Self {
        UploadError(error.into())
    }
}

impl IntoResponse for UploadError {
    fn into_response(self) -> Response {
        let mut body = self.0.body();
        if let Some(map) = body.as_object_mut() {
            map.insert("error_message".into(), self.0.message.clone().into());
            map.insert("error_details".into(), self.0.message.clone().into());
        }
        (self.0.status, axum::Json(body)).into_response()
    }
}

/// 413 naming the limit.
fn too_large(max_upload: usize, what: &str) -> ApiError {
    ApiError::too_large(format!(
        "{what} is larger than the upload limit of {} ({max_upload} bytes)",
        human_size(max_upload)
    ))
}

fn human_size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    const KIB: usize = 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn multipart_error(error: &MultipartError, max_upload: usize) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(max_upload, "the request")
    } else {
        ApiError::invalid_argument(format!("multipart body: {}", error.body_text()))
    }
}

/// The file of field `uploadfile`: its name (may be empty) and bytes.
struct UploadedFile {
    file_name: String,
    bytes: Vec<u8>,
}

async fn read_upload(
    multipart: Result<Multipart, MultipartRejection>,
    max_upload: usize,
) -> ApiResult<UploadedFile> {
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::invalid_argument(format!(
            "expected a multipart/form-data body with the pipeline file in field 'uploadfile' \
             ({})",
            rejection.body_text()
        ))
    })?;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e, max_upload))?
    {
        if field.name() != Some("uploadfile") {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| multipart_error(&e, max_upload))?
        {
            if bytes.len() + chunk.len() > max_upload {
                let what = if file_name.is_empty() {
                    "the uploaded file".to_string()
                } else {
                    format!("'{file_name}'")
                };
                return Err(too_large(max_upload, &what));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(UploadedFile { file_name, bytes });
    }
    Err(ApiError::invalid_argument(
        "the multipart body has no field 'uploadfile'; send the pipeline file in it \
         (e.g. curl -F uploadfile=@pipeline.yaml)",
    ))
}

fn has_extension(name: &str, extensions: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    extensions.iter().any(|ext| lower.ends_with(ext))
}

/// The file name without its package extension: the default pipeline/version name.
fn base_name(file_name: &str) -> &str {
    // Browsers and some clients send a path.
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let lower = name.to_ascii_lowercase();
    for ext in [".tar.gz", ".tgz", ".yaml", ".yml", ".json", ".zip"] {
        if lower.ends_with(ext) && name.len() > ext.len() {
            return &name[..name.len() - ext.len()];
        }
    }
    name
}

/// The workflow text of an uploaded file: YAML/JSON as is, or the one file in a `.tar.gz`.
fn workflow_text(file: &UploadedFile, max_upload: usize) -> ApiResult<String> {
    let shown = if file.file_name.is_empty() {
        "the uploaded file"
    } else {
        file.file_name.as_str()
    };
    let utf8 = |bytes: Vec<u8>, what: &str| {
        String::from_utf8(bytes)
            .map_err(|_| ApiError::invalid_argument(format!("{what} is not UTF-8 text")))
    };
    if has_extension(&file.file_name, &[".yaml", ".yml", ".json"]) {
        return utf8(file.bytes.clone(), shown);
    }
    if file.bytes.starts_with(b"PK\x03\x04") || has_extension(&file.file_name, &[".zip"]) {
        return Err(ApiError::invalid_argument(
            "zip packages are not supported; upload the YAML or a .tar.gz",
        ));
    }
    if file.bytes.starts_with(&[0x1f, 0x8b]) {
        return from_tarball(&file.bytes, shown, max_upload);
    }
    if has_extension(&file.file_name, &[".tar.gz", ".tgz"]) {
        return Err(ApiError::invalid_argument(format!(
            "{shown} is named like a .tar.gz but is not gzip data"
        )));
    }
    // No known extension: plain text is taken as YAML (the validator says if it is not).
    String::from_utf8(file.bytes.clone()).map_err(|_| {
        ApiError::invalid_argument(format!(
            "{shown} is neither a workflow YAML/JSON file nor a .tar.gz package holding one"
        ))
    })
}

/// The one file in a gzip-compressed tarball (directories and macOS `._*` files aside).
fn from_tarball(bytes: &[u8], shown: &str, max_upload: usize) -> ApiResult<String> {
    let bad = |e: std::io::Error| {
        ApiError::invalid_argument(format!("{shown}: not a valid .tar.gz package ({e})"))
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut found: Option<(String, String)> = None;
    let mut names = Vec::new();
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let file = path.rsplit('/').next().unwrap_or(&path);
        if file.starts_with("._") {
            continue;
        }
        names.push(path.clone());
        if found.is_some() {
            continue;
        }
        // Read at most one byte past the limit: a small archive may expand hugely.
        let limit = u64::try_from(max_upload)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let mut content = Vec::new();
        entry.take(limit).read_to_end(&mut content).map_err(bad)?;
        if content.len() > max_upload {
            return Err(too_large(
                max_upload,
                &format!("'{path}' in {shown} (uncompressed)"),
            ));
        }
        let text = String::from_utf8(content).map_err(|_| {
            ApiError::invalid_argument(format!("'{path}' in {shown} is not UTF-8 text"))
        })?;
        found = Some((path, text));
    }
    match (found, names.len()) {
        (Some((_, text)), 1) => Ok(text),
        (None, _) => Err(ApiError::invalid_argument(format!(
            "{shown}: the .tar.gz package holds no file; it must hold exactly one workflow YAML"
        ))),
        (Some(_), n) => Err(ApiError::invalid_argument(format!(
            "{shown}: the .tar.gz package holds {n} files ({}); it must hold exactly one \
             workflow YAML",
            names.join(", ")
        ))),
    }
}

/// Validates the workflow and reads its `spec.arguments.parameters`.
fn parse_workflow(text: &str, source_name: &str) -> ApiResult<JsonValue> {
    let workflow = kfp_engine::Engine::load_yaml(text, source_name).map_err(|e| {
        ApiError::invalid_argument(format!("the pipeline is not a valid workflow: {e}"))
    })?;
    let parameters: Vec<JsonValue> = workflow
        .spec
        .arguments
        .parameters
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name,
                "value": p.value.clone().or_else(|| p.default.clone()).unwrap_or_default(),
            })
        })
        .collect();
    Ok(JsonValue::Array(parameters))
}

/// A version to store from an uploaded file.
fn version_from_upload(
    file: &UploadedFile,
    name: &str,
    description: &str,
    max_upload: usize,
) -> ApiResult<NewVersion> {
    let text = workflow_text(file, max_upload)?;
    let source_name = if file.file_name.is_empty() {
        name
    } else {
        file.file_name.as_str()
    };
    let parameters = parse_workflow(&text, source_name)?;
    Ok(NewVersion {
        name: name.to_string(),
        description: description.to_string(),
        parameters,
        code_source_url: String::new(),
        manifest: text,
    })
}

/// The name given in the query, else the file's name without its extension.
fn upload_name(query_name: &str, file: &UploadedFile, what: &str) -> ApiResult<String> {
    let name = query_name.trim();
    let name = if name.is_empty() {
        base_name(&file.file_name).trim()
    } else {
        name
    };
    if name.is_empty() {
        return Err(ApiError::invalid_argument(format!(
            "name: the {what} needs a name; pass ?name= or upload a file with a file name"
        )));
    }
    Ok(name.to_string())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// The pipeline's name (default: the file's name without its extension).
    name: String,
    description: String,
}

/// The multipart form of an upload, for the OpenAPI document (the handlers read it with
/// axum's `Multipart`).
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "only describes the form in the OpenAPI document")]
struct UploadForm {
    /// An Argo Workflow as `.yaml`/`.yml`/`.json`, or a `.tar.gz`/`.tgz` package holding
    /// one (as the KFP SDK writes them).
    #[schema(value_type = String, format = Binary)]
    uploadfile: Vec<u8>,
}

/// `POST /pipelines/upload?name=&description=`: a pipeline and its first version.
#[utoipa::path(post, path = "/apis/v1beta1/pipelines/upload", tag = "pipelines",
    params(UploadQuery),
    request_body(content_type = "multipart/form-data", content = UploadForm),
    responses((status = 200, body = ApiPipeline),
        (status = 400, description = "not a valid workflow: the validator's message", body = ApiStatus),
        (status = 409, description = "the name is taken", body = ApiStatus),
        (status = 413, description = "larger than the upload limit", body = ApiStatus)))]
async fn upload_pipeline(
    State(state): State<Shared>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<ApiPipeline>, UploadError> {
    let Query(query) = query.map_err(ApiError::from)?;
    let max_upload = state.max_upload_bytes;
    let file = read_upload(multipart, max_upload).await?;
    let name = upload_name(&query.name, &file, "pipeline")?;
    let version = version_from_upload(&file, &name, &query.description, max_upload)?;
    let new = NewPipeline {
        name: name.clone(),
        display_name: name,
        description: query.description,
        namespace: String::new(),
    };
    let (pipeline, version) = state.store.create_pipeline(&new, Some(&version)).await?;
    Ok(Json(api_pipeline(pipeline, version)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
struct UploadVersionQuery {
    /// The version's name (default: the file's name without its extension).
    name: String,
    /// The pipeline the version belongs to (required).
    pipelineid: String,
    description: String,
}

/// `POST /pipelines/upload_version?name=&pipelineid=&description=`: a new version, which
/// becomes the pipeline's default (as in KFP 1.8).
#[utoipa::path(post, path = "/apis/v1beta1/pipelines/upload_version", tag = "pipelines",
    params(UploadVersionQuery),
    request_body(content_type = "multipart/form-data", content = UploadForm),
    responses((status = 200, body = ApiPipelineVersion),
        (status = 400, description = "not a valid workflow: the validator's message", body = ApiStatus),
        (status = 404, description = "no such pipeline", body = ApiStatus),
        (status = 413, description = "larger than the upload limit", body = ApiStatus)))]
async fn upload_version(
    State(state): State<Shared>,
    query: Result<Query<UploadVersionQuery>, QueryRejection>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<ApiPipelineVersion>, UploadError> {
    let Query(query) = query.map_err(ApiError::from)?;
    let pipeline_id = query.pipelineid.trim();
    if pipeline_id.is_empty() {
        return Err(ApiError::invalid_argument(
            "pipelineid: required; the ID of the pipeline the version belongs to",
        )
        .into());
    }
    // 404 before reading and validating the file.
    state.store.get_pipeline(pipeline_id).await?;
    let max_upload = state.max_upload_bytes;
    let file = read_upload(multipart, max_upload).await?;
    let name = upload_name(&query.name, &file, "pipeline version")?;
    let version = version_from_upload(&file, &name, &query.description, max_upload)?;
    let row = state.store.add_version(pipeline_id, &version, true).await?;
    Ok(Json(api_version(row)))
}

// ---------------------------------------------------------------------------------------
// Pipelines

fn no_fetch(field: &str, url: &str, upload: &str) -> ApiError {
    ApiError::invalid_argument(format!(
        "{field}: this server does not download pipeline packages (got '{url}'); upload the \
         file instead with {upload}"
    ))
}

/// `POST /pipelines` with `url.pipeline_url`: refused, the server fetches nothing.
#[utoipa::path(post, path = "/apis/v1beta1/pipelines", tag = "pipelines", request_body = ApiPipeline,
    responses((status = 400, description = "always: upload the file instead", body = ApiStatus)))]
async fn create_pipeline(
    body: Result<Json<ApiPipeline>, JsonRejection>,
) -> ApiResult<Json<ApiPipeline>> {
    let Json(request) = body?;
    let url = request
        .url
        .as_ref()
        .map(|u| u.pipeline_url.trim())
        .unwrap_or_default();
    if url.is_empty() {
        return Err(ApiError::invalid_argument(
            "url.pipeline_url: required; or upload the pipeline file with \
             POST /apis/v1beta1/pipelines/upload",
        ));
    }
    Err(no_fetch(
        "url.pipeline_url",
        url,
        "POST /apis/v1beta1/pipelines/upload (kfp: client.upload_pipeline)",
    ))
}

/// One pipeline with its default version.
#[utoipa::path(get, path = "/apis/v1beta1/pipelines/{id}", tag = "pipelines", params(("id" = String, Path, description = "pipeline ID")),
    responses((status = 200, body = ApiPipeline), (status = 404, body = ApiStatus)))]
async fn get_pipeline(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<ApiPipeline>> {
    let id = path_param(id)?;
    let row = state.store.get_pipeline(&id).await?;
    Ok(Json(load_pipeline(&state, row).await?))
}

/// A page of pipelines.
#[utoipa::path(get, path = "/apis/v1beta1/pipelines", tag = "pipelines", params(ListParams, ReferenceKey),
    responses((status = 200, body = ApiListPipelinesResponse), (status = 400, body = ApiStatus)))]
async fn list_pipelines(
    State(state): State<Shared>,
    params: Result<Query<ListParams>, QueryRejection>,
    key: Result<Query<ReferenceKey>, QueryRejection>,
) -> ApiResult<Json<ApiListPipelinesResponse>> {
    let Query(params) = params?;
    let Query(key) = key?;
    let query = parse_list_query(&params, Resource::Pipelines)?;
    let page = state.store.list_pipelines(&query, key.namespace()?).await?;
    let next = next_page_token(&page, &query, Resource::Pipelines);
    let mut pipelines = Vec::with_capacity(page.items.len());
    for row in page.items {
        pipelines.push(load_pipeline(&state, row).await?);
    }
    Ok(Json(ApiListPipelinesResponse {
        pipelines,
        total_size: total(page.total_size),
        next_page_token: next,
    }))
}

/// v1 delete: the pipeline and all its versions (KFP 1.8's cascade).
#[utoipa::path(delete, path = "/apis/v1beta1/pipelines/{id}", tag = "pipelines", params(("id" = String, Path, description = "pipeline ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn delete_pipeline(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Empty>> {
    let id = path_param(id)?;
    state.store.delete_pipeline(&id, true).await?;
    Ok(empty())
}

/// The default version's workflow.
#[utoipa::path(get, path = "/apis/v1beta1/pipelines/{id}/templates", tag = "pipelines", params(("id" = String, Path, description = "pipeline ID")),
    responses((status = 200, body = ApiGetTemplateResponse), (status = 404, body = ApiStatus)))]
async fn get_template(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<ApiGetTemplateResponse>> {
    let id = path_param(id)?;
    let pipeline = state.store.get_pipeline(&id).await?;
    let Some(version_id) = pipeline.default_version_id else {
        return Err(ApiError::new(
            GrpcCode::NotFound,
            format!("pipeline '{id}' has no versions, so no template; upload a version"),
        ));
    };
    let version = state.store.get_version(&version_id).await?;
    Ok(Json(ApiGetTemplateResponse {
        template: version.manifest,
    }))
}

/// Make a version the pipeline's default.
#[utoipa::path(post, path = "/apis/v1beta1/pipelines/{id}/default_version/{version_id}", tag = "pipelines",
    params(("id" = String, Path, description = "pipeline ID"), ("version_id" = String, Path, description = "a version of that pipeline")),
    responses((status = 200, body = Empty), (status = 400, body = ApiStatus), (status = 404, body = ApiStatus)))]
async fn set_default_version(
    State(state): State<Shared>,
    ids: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<Json<Empty>> {
    let (pipeline_id, version_id) = path_param(ids)?;
    state
        .store
        .set_default_version(&pipeline_id, &version_id)
        .await?;
    Ok(empty())
}

// ---------------------------------------------------------------------------------------
// Versions

/// The pipeline a version request names: its PIPELINE reference.
fn owning_pipeline(references: &[ApiResourceReference]) -> ApiResult<&str> {
    references
        .iter()
        .filter_map(|r| r.key.as_ref())
        .find(|key| key.r#type == ApiResourceType::Pipeline && !key.id.trim().is_empty())
        .map(|key| key.id.trim())
        .ok_or_else(|| {
            ApiError::invalid_argument(
                "resource_references: name the pipeline, \
                 [{\"key\": {\"type\": \"PIPELINE\", \"id\": \"<pipeline id>\"}, \
                 \"relationship\": \"OWNER\"}]",
            )
        })
}

/// `POST /pipeline_versions` with `package_url`: refused after checking the pipeline.
#[utoipa::path(post, path = "/apis/v1beta1/pipeline_versions", tag = "pipelines", request_body = ApiPipelineVersion,
    responses((status = 400, description = "always: upload the file instead", body = ApiStatus),
        (status = 404, description = "no such pipeline", body = ApiStatus)))]
async fn create_version(
    State(state): State<Shared>,
    body: Result<Json<ApiPipelineVersion>, JsonRejection>,
) -> ApiResult<Json<ApiPipelineVersion>> {
    let Json(request) = body?;
    let pipeline_id = owning_pipeline(&request.resource_references)?;
    state.store.get_pipeline(pipeline_id).await?;
    let url = request
        .package_url
        .as_ref()
        .map(|u| u.pipeline_url.trim())
        .unwrap_or_default();
    if url.is_empty() {
        return Err(ApiError::invalid_argument(
            "package_url.pipeline_url: required; or upload the file with \
             POST /apis/v1beta1/pipelines/upload_version",
        ));
    }
    Err(no_fetch(
        "package_url.pipeline_url",
        url,
        "POST /apis/v1beta1/pipelines/upload_version?pipelineid=<id>&name=<name> \
         (kfp: client.upload_pipeline_version)",
    ))
}

/// One pipeline version.
#[utoipa::path(get, path = "/apis/v1beta1/pipeline_versions/{version_id}", tag = "pipelines", params(("version_id" = String, Path, description = "pipeline version ID")),
    responses((status = 200, body = ApiPipelineVersion), (status = 404, body = ApiStatus)))]
async fn get_version(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<ApiPipelineVersion>> {
    let id = path_param(id)?;
    Ok(Json(api_version(state.store.get_version(&id).await?)))
}

/// Delete a version (another becomes the default if it was).
#[utoipa::path(delete, path = "/apis/v1beta1/pipeline_versions/{version_id}", tag = "pipelines", params(("version_id" = String, Path, description = "pipeline version ID")),
    responses((status = 200, body = Empty), (status = 404, body = ApiStatus)))]
async fn delete_version(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Empty>> {
    let id = path_param(id)?;
    state.store.delete_version(&id).await?;
    Ok(empty())
}

/// The version's workflow YAML.
#[utoipa::path(get, path = "/apis/v1beta1/pipeline_versions/{version_id}/templates", tag = "pipelines", params(("version_id" = String, Path, description = "pipeline version ID")),
    responses((status = 200, body = ApiGetTemplateResponse), (status = 404, body = ApiStatus)))]
async fn get_version_template(
    State(state): State<Shared>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<ApiGetTemplateResponse>> {
    let id = path_param(id)?;
    let version = state.store.get_version(&id).await?;
    Ok(Json(ApiGetTemplateResponse {
        template: version.manifest,
    }))
}

/// `resource_key.type` / `.id`: the pipeline whose versions are listed (required).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
struct VersionsKey {
    /// `PIPELINE` (or 3).
    #[serde(rename = "resource_key.type")]
    kind: String,
    /// The pipeline ID.
    #[serde(rename = "resource_key.id")]
    id: String,
}

/// A page of the versions of one pipeline.
#[utoipa::path(get, path = "/apis/v1beta1/pipeline_versions", tag = "pipelines", params(ListParams, VersionsKey),
    responses((status = 200, body = ApiListPipelineVersionsResponse), (status = 400, body = ApiStatus)))]
async fn list_versions(
    State(state): State<Shared>,
    params: Result<Query<ListParams>, QueryRejection>,
    key: Result<Query<VersionsKey>, QueryRejection>,
) -> ApiResult<Json<ApiListPipelineVersionsResponse>> {
    let Query(params) = params?;
    let Query(key) = key?;
    let kind = key.kind.trim();
    let is_pipeline = ApiResourceType::from_name(kind)
        .or_else(|| kind.parse().ok().and_then(ApiResourceType::from_number))
        == Some(ApiResourceType::Pipeline);
    let pipeline_id = key.id.trim();
    if !is_pipeline || pipeline_id.is_empty() {
        return Err(ApiError::invalid_argument(
            "resource_key: listing versions needs resource_key.type=PIPELINE and \
             resource_key.id=<pipeline id>",
        ));
    }
    let query = parse_list_query(&params, Resource::PipelineVersions)?;
    state.store.get_pipeline(pipeline_id).await?;
    let page = state.store.list_versions(&query, pipeline_id).await?;
    let next = next_page_token(&page, &query, Resource::PipelineVersions);
    Ok(Json(ApiListPipelineVersionsResponse {
        versions: page.items.into_iter().map(api_version).collect(),
        next_page_token: next,
        total_size: total(page.total_size),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_name_drops_package_extensions() {
        assert_eq!(base_name("dag-diamond.yaml"), "dag-diamond");
        assert_eq!(base_name("p.tar.gz"), "p");
        assert_eq!(base_name("dir/p.TGZ"), "p");
        assert_eq!(base_name("C:\\x\\p.yml"), "p");
        assert_eq!(base_name("noext"), "noext");
        assert_eq!(base_name(".yaml"), ".yaml");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(32 * 1024 * 1024), "32 MiB");
        assert_eq!(human_size(4096), "4 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }
}
