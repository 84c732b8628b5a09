//! The v1beta1 JSON models, field for field as kfp-server-api 1.8.5 sends and reads them.
//!
//! Conventions (see `wire`): proto field names; default values omitted (an empty list or
//! string, `false`, `0`, an enum's zero value); int64 as strings; timestamps RFC 3339;
//! enums as names, accepted as names or numbers. Message-typed fields (timestamps, nested
//! messages) and oneof members are `Option`s, because proto gives them presence.
//!
//! Types a client can send (create bodies and everything nested in them) reject unknown
//! fields, as KFP does (`DiscardUnknown: false` → 400), and also accept the lowerCamelCase
//! JSON names protojson accepts. Response-only types accept unknown fields.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::wire::{int64, is_default, opt_int64, proto_enum, timestamp};

proto_enum! {
    /// `ApiResourceType`: what a resource reference points at.
    pub enum ApiResourceType {
        UnknownResourceType = 0 => "UNKNOWN_RESOURCE_TYPE",
        Experiment = 1 => "EXPERIMENT",
        Job = 2 => "JOB",
        Pipeline = 3 => "PIPELINE",
        PipelineVersion = 4 => "PIPELINE_VERSION",
        Namespace = 5 => "NAMESPACE",
    }
}

proto_enum! {
    /// `ApiRelationship`: how the referring object relates to the referred one.
    pub enum ApiRelationship {
        UnknownRelationship = 0 => "UNKNOWN_RELATIONSHIP",
        Owner = 1 => "OWNER",
        Creator = 2 => "CREATOR",
    }
}

proto_enum! {
    /// `ApiRunStorageState`. AVAILABLE is the zero value, so it is omitted on output.
    pub enum ApiRunStorageState {
        Available = 0 => "STORAGESTATE_AVAILABLE",
        Archived = 1 => "STORAGESTATE_ARCHIVED",
    }
}

proto_enum! {
    /// `ApiExperimentStorageState`; unlike runs it has an UNSPECIFIED zero value.
    pub enum ApiExperimentStorageState {
        Unspecified = 0 => "STORAGESTATE_UNSPECIFIED",
        Available = 1 => "STORAGESTATE_AVAILABLE",
        Archived = 2 => "STORAGESTATE_ARCHIVED",
    }
}

proto_enum! {
    /// `JobMode`.
    pub enum JobMode {
        UnknownMode = 0 => "UNKNOWN_MODE",
        Enabled = 1 => "ENABLED",
        /// The job schedules no runs.
        Disabled = 2 => "DISABLED",
    }
}

proto_enum! {
    /// `RunMetricFormat`: how the UI shows a metric.
    pub enum RunMetricFormat {
        Unspecified = 0 => "UNSPECIFIED",
        Raw = 1 => "RAW",
        Percentage = 2 => "PERCENTAGE",
    }
}

proto_enum! {
    /// The outcome of reporting one metric.
    pub enum ReportRunMetricStatus {
        Unspecified = 0 => "UNSPECIFIED",
        Ok = 1 => "OK",
        InvalidArgument = 2 => "INVALID_ARGUMENT",
        /// (run, node, name) was reported before; the first report wins.
        DuplicateReporting = 3 => "DUPLICATE_REPORTING",
        InternalError = 4 => "INTERNAL_ERROR",
    }
}

/// `ApiPipeline`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiPipeline {
    #[serde(skip_serializing_if = "is_default")]
    pub id: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "createdAt"
    )]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "is_default")]
    pub name: String,
    #[serde(skip_serializing_if = "is_default")]
    pub description: String,
    #[serde(skip_serializing_if = "is_default")]
    pub parameters: Vec<ApiParameter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<ApiUrl>,
    #[serde(skip_serializing_if = "is_default")]
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none", alias = "defaultVersion")]
    pub default_version: Option<ApiPipelineVersion>,
    #[serde(skip_serializing_if = "is_default", alias = "resourceReferences")]
    pub resource_references: Vec<ApiResourceReference>,
}

/// `ApiPipelineVersion`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiPipelineVersion {
    #[serde(skip_serializing_if = "is_default")]
    pub id: String,
    #[serde(skip_serializing_if = "is_default")]
    pub name: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "createdAt"
    )]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "is_default")]
    pub parameters: Vec<ApiParameter>,
    #[serde(skip_serializing_if = "is_default", alias = "codeSourceUrl")]
    pub code_source_url: String,
    #[serde(skip_serializing_if = "Option::is_none", alias = "packageUrl")]
    pub package_url: Option<ApiUrl>,
    #[serde(skip_serializing_if = "is_default", alias = "resourceReferences")]
    pub resource_references: Vec<ApiResourceReference>,
    #[serde(skip_serializing_if = "is_default")]
    pub description: String,
}

/// `ApiUrl`: where a pipeline package can be fetched from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiUrl {
    #[serde(skip_serializing_if = "is_default", alias = "pipelineUrl")]
    pub pipeline_url: String,
}

/// `ApiParameter`: a pipeline parameter (value as a string, as Argo has it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiParameter {
    #[serde(skip_serializing_if = "is_default")]
    pub name: String,
    #[serde(skip_serializing_if = "is_default")]
    pub value: String,
}

/// `ApiExperiment`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiExperiment {
    #[serde(skip_serializing_if = "is_default")]
    pub id: String,
    #[serde(skip_serializing_if = "is_default")]
    pub name: String,
    #[serde(skip_serializing_if = "is_default")]
    pub description: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "createdAt"
    )]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "is_default", alias = "resourceReferences")]
    pub resource_references: Vec<ApiResourceReference>,
    #[serde(skip_serializing_if = "is_default", alias = "storageState")]
    pub storage_state: ApiExperimentStorageState,
}

/// `ApiRun`. `status` is the Argo workflow phase (`Pending`, `Running`, `Succeeded`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiRun {
    #[serde(skip_serializing_if = "is_default")]
    pub id: String,
    #[serde(skip_serializing_if = "is_default")]
    pub name: String,
    #[serde(skip_serializing_if = "is_default", alias = "storageState")]
    pub storage_state: ApiRunStorageState,
    #[serde(skip_serializing_if = "is_default")]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none", alias = "pipelineSpec")]
    pub pipeline_spec: Option<ApiPipelineSpec>,
    #[serde(skip_serializing_if = "is_default", alias = "resourceReferences")]
    pub resource_references: Vec<ApiResourceReference>,
    #[serde(skip_serializing_if = "is_default", alias = "serviceAccount")]
    pub service_account: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "createdAt"
    )]
    pub created_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "scheduledAt"
    )]
    pub scheduled_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "finishedAt"
    )]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "is_default")]
    pub status: String,
    #[serde(skip_serializing_if = "is_default")]
    pub error: String,
    #[serde(skip_serializing_if = "is_default")]
    pub metrics: Vec<ApiRunMetric>,
    /// In the proto (field 15) though not in the 1.8.5 client model.
    #[serde(skip_serializing_if = "is_default", alias = "metricErrors")]
    pub metric_errors: String,
}

/// `ApiRunDetail`: what get/create run return.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiRunDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<ApiRun>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_runtime: Option<ApiPipelineRuntime>,
}

/// `ApiPipelineRuntime`: the run's manifests as JSON strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiPipelineRuntime {
    #[serde(skip_serializing_if = "is_default")]
    pub pipeline_manifest: String,
    /// The Argo Workflow (with status) as a JSON string.
    #[serde(skip_serializing_if = "is_default")]
    pub workflow_manifest: String,
}

/// `ApiPipelineSpec`: what a run or job executes (a pipeline ID or an inline manifest).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiPipelineSpec {
    #[serde(skip_serializing_if = "is_default", alias = "pipelineId")]
    pub pipeline_id: String,
    #[serde(skip_serializing_if = "is_default", alias = "pipelineName")]
    pub pipeline_name: String,
    /// An Argo Workflow as a JSON (or YAML) string.
    #[serde(skip_serializing_if = "is_default", alias = "workflowManifest")]
    pub workflow_manifest: String,
    #[serde(skip_serializing_if = "is_default", alias = "pipelineManifest")]
    pub pipeline_manifest: String,
    #[serde(skip_serializing_if = "is_default")]
    pub parameters: Vec<ApiParameter>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "runtimeConfig")]
    pub runtime_config: Option<PipelineSpecRuntimeConfig>,
}

/// `PipelineSpecRuntimeConfig` (v2 pipelines run through the v1 API).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSpecRuntimeConfig {
    /// Sorted by name, so output is deterministic.
    #[serde(skip_serializing_if = "is_default")]
    pub parameters: BTreeMap<String, ApiValue>,
    #[serde(skip_serializing_if = "is_default", alias = "pipelineRoot")]
    pub pipeline_root: String,
}

/// `ApiValue`: a oneof of int64 (as a string), double or string. Each member has
/// presence, so `0`/`""` are sent when set; at most one should be set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiValue {
    #[schema(value_type = Option<String>, format = Int64)]
    #[serde(
        with = "opt_int64",
        skip_serializing_if = "Option::is_none",
        alias = "intValue"
    )]
    pub int_value: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "doubleValue")]
    pub double_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "stringValue")]
    pub string_value: Option<String>,
}

/// `ApiResourceReference`: e.g. a run's owning experiment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiResourceReference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<ApiResourceKey>,
    #[serde(skip_serializing_if = "is_default")]
    pub name: String,
    #[serde(skip_serializing_if = "is_default")]
    pub relationship: ApiRelationship,
}

impl ApiResourceReference {
    /// A reference to `id` of type `kind`.
    pub fn new(
        kind: ApiResourceType,
        id: impl Into<String>,
        relationship: ApiRelationship,
    ) -> Self {
        ApiResourceReference {
            key: Some(ApiResourceKey {
                r#type: kind,
                id: id.into(),
            }),
            name: String::new(),
            relationship,
        }
    }
}

/// `ApiResourceKey`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiResourceKey {
    #[serde(skip_serializing_if = "is_default")]
    pub r#type: ApiResourceType,
    #[serde(skip_serializing_if = "is_default")]
    pub id: String,
}

/// `ApiRunMetric`: one number a step reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiRunMetric {
    #[serde(skip_serializing_if = "is_default")]
    pub name: String,
    #[serde(skip_serializing_if = "is_default", alias = "nodeId")]
    pub node_id: String,
    /// A oneof member in the proto, so `0` is sent when set.
    #[serde(skip_serializing_if = "Option::is_none", alias = "numberValue")]
    pub number_value: Option<f64>,
    #[serde(skip_serializing_if = "is_default")]
    pub format: RunMetricFormat,
}

/// `ApiReportRunMetricsRequest` (the body of `POST /runs/{run_id}:reportMetrics`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiReportRunMetricsRequest {
    #[serde(skip_serializing_if = "is_default", alias = "runId")]
    pub run_id: String,
    #[serde(skip_serializing_if = "is_default")]
    pub metrics: Vec<ApiRunMetric>,
}

/// `ApiReportRunMetricsResponse`: one result per reported metric.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiReportRunMetricsResponse {
    #[serde(skip_serializing_if = "is_default")]
    pub results: Vec<ReportRunMetricResult>,
}

/// `ReportRunMetricsResponseReportRunMetricResult`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ReportRunMetricResult {
    #[serde(skip_serializing_if = "is_default")]
    pub metric_name: String,
    #[serde(skip_serializing_if = "is_default")]
    pub metric_node_id: String,
    #[serde(skip_serializing_if = "is_default")]
    pub status: ReportRunMetricStatus,
    #[serde(skip_serializing_if = "is_default")]
    pub message: String,
}

/// `ApiJob`: a recurring run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiJob {
    #[serde(skip_serializing_if = "is_default")]
    pub id: String,
    #[serde(skip_serializing_if = "is_default")]
    pub name: String,
    #[serde(skip_serializing_if = "is_default")]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none", alias = "pipelineSpec")]
    pub pipeline_spec: Option<ApiPipelineSpec>,
    #[serde(skip_serializing_if = "is_default", alias = "resourceReferences")]
    pub resource_references: Vec<ApiResourceReference>,
    #[serde(skip_serializing_if = "is_default", alias = "serviceAccount")]
    pub service_account: String,
    /// int64, so a JSON string; KFP allows 1..=10.
    #[schema(value_type = String, format = Int64, default = "0")]
    #[serde(
        with = "int64",
        skip_serializing_if = "is_default",
        alias = "maxConcurrency"
    )]
    pub max_concurrency: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<ApiTrigger>,
    #[serde(skip_serializing_if = "is_default")]
    pub mode: JobMode,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "createdAt"
    )]
    pub created_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "updatedAt"
    )]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "is_default")]
    pub status: String,
    #[serde(skip_serializing_if = "is_default")]
    pub error: String,
    #[serde(skip_serializing_if = "is_default")]
    pub enabled: bool,
    #[serde(skip_serializing_if = "is_default", alias = "noCatchup")]
    pub no_catchup: bool,
}

/// `ApiTrigger`: a oneof of cron or periodic schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiTrigger {
    #[serde(skip_serializing_if = "Option::is_none", alias = "cronSchedule")]
    pub cron_schedule: Option<ApiCronSchedule>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "periodicSchedule")]
    pub periodic_schedule: Option<ApiPeriodicSchedule>,
}

/// `ApiCronSchedule`: a cron within an optional window. `cron` has 6 fields (seconds
/// first, as KFP) or 5 (standard), optionally after a timezone prefix
/// (`CRON_TZ=Europe/Paris 0 3 * * *`); without one it runs in UTC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiCronSchedule {
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "startTime"
    )]
    pub start_time: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "endTime"
    )]
    pub end_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "is_default")]
    pub cron: String,
}

/// `ApiPeriodicSchedule`: every `interval_second` seconds within an optional window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApiPeriodicSchedule {
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "startTime"
    )]
    pub start_time: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(
        with = "timestamp",
        skip_serializing_if = "Option::is_none",
        alias = "endTime"
    )]
    pub end_time: Option<DateTime<Utc>>,
    /// int64, so a JSON string.
    #[schema(value_type = String, format = Int64, default = "0")]
    #[serde(
        with = "int64",
        skip_serializing_if = "is_default",
        alias = "intervalSecond"
    )]
    pub interval_second: i64,
}

/// `ApiListRunsResponse`. An empty page serializes as `{}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiListRunsResponse {
    #[serde(skip_serializing_if = "is_default")]
    pub runs: Vec<ApiRun>,
    #[serde(skip_serializing_if = "is_default")]
    pub total_size: i32,
    #[serde(skip_serializing_if = "is_default")]
    pub next_page_token: String,
}

/// `ApiListPipelinesResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiListPipelinesResponse {
    #[serde(skip_serializing_if = "is_default")]
    pub pipelines: Vec<ApiPipeline>,
    #[serde(skip_serializing_if = "is_default")]
    pub total_size: i32,
    #[serde(skip_serializing_if = "is_default")]
    pub next_page_token: String,
}

/// `ApiListPipelineVersionsResponse` (the list is called `versions`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiListPipelineVersionsResponse {
    #[serde(skip_serializing_if = "is_default")]
    pub versions: Vec<ApiPipelineVersion>,
    #[serde(skip_serializing_if = "is_default")]
    pub next_page_token: String,
    #[serde(skip_serializing_if = "is_default")]
    pub total_size: i32,
}

/// `ApiListExperimentsResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiListExperimentsResponse {
    #[serde(skip_serializing_if = "is_default")]
    pub experiments: Vec<ApiExperiment>,
    #[serde(skip_serializing_if = "is_default")]
    pub total_size: i32,
    #[serde(skip_serializing_if = "is_default")]
    pub next_page_token: String,
}

/// `ApiListJobsResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiListJobsResponse {
    #[serde(skip_serializing_if = "is_default")]
    pub jobs: Vec<ApiJob>,
    #[serde(skip_serializing_if = "is_default")]
    pub total_size: i32,
    #[serde(skip_serializing_if = "is_default")]
    pub next_page_token: String,
}

/// `ApiGetTemplateResponse`: the pipeline's workflow YAML.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiGetTemplateResponse {
    #[serde(skip_serializing_if = "is_default")]
    pub template: String,
}

/// `ApiGetHealthzResponse`. Single-user mode answers `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiGetHealthzResponse {
    #[serde(skip_serializing_if = "is_default")]
    pub multi_user: bool,
}

/// The empty message (`google.protobuf.Empty`) that deletes and actions answer: `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Empty {}

/// `ApiStatus` / `GoogleRpcStatus`: every error body. `error` is what kfp 1.8's client
/// reads, `message` what newer gateways send; both carry the same text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiStatus {
    pub error: String,
    /// The gRPC code (3 invalid argument, 5 not found, 6 already exists, 9 failed
    /// precondition, 13 internal, ...).
    pub code: i32,
    pub message: String,
    /// Always empty here.
    #[schema(value_type = Vec<Object>)]
    pub details: Vec<serde_json::Value>,
}

/// `ApiReadArtifactResponse`: proto `bytes`, so base64 text on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApiReadArtifactResponse {
    #[serde(skip_serializing_if = "is_default")]
    pub data: String,
}

impl ApiReadArtifactResponse {
    /// Wraps raw artifact bytes (standard base64, as protojson encodes `bytes`).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        ApiReadArtifactResponse {
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }
}

#[cfg(test)]
mod tests;
