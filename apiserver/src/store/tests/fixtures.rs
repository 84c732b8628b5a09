//! Small builders for test inputs.

use serde_json::json;

use crate::list::{ListQuery, Resource};
use crate::store::{NewJob, NewPipeline, NewRun, NewVersion, Trigger};

pub(crate) fn pipeline(name: &str) -> NewPipeline {
    NewPipeline {
        name: name.to_string(),
        display_name: name.to_uppercase(),
        description: format!("{name} description"),
        namespace: String::new(),
    }
}

pub(crate) fn version(name: &str) -> NewVersion {
    NewVersion {
        name: name.to_string(),
        description: String::new(),
        parameters: json!([{"name": "x", "value": "1"}]),
        code_source_url: String::new(),
        manifest: format!("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n# {name}\n"),
    }
}

pub(crate) fn run(experiment_id: &str, name: &str) -> NewRun {
    NewRun {
        name: name.to_string(),
        description: String::new(),
        experiment_id: experiment_id.to_string(),
        pipeline_id: None,
        pipeline_version_id: None,
        job_id: None,
        service_account: "pipeline-runner".to_string(),
        parameters: json!([{"name": "x", "value": "2"}]),
        workflow_manifest: format!("{{\"metadata\":{{\"name\":\"{name}\"}}}}"),
        backend: "argo".to_string(),
        scheduled_at: None,
    }
}

pub(crate) fn job(experiment_id: &str, name: &str, trigger: Trigger) -> NewJob {
    NewJob {
        name: name.to_string(),
        description: String::new(),
        experiment_id: experiment_id.to_string(),
        pipeline_id: None,
        pipeline_version_id: None,
        service_account: String::new(),
        enabled: true,
        max_concurrency: 1,
        no_catchup: false,
        trigger,
        start_time: None,
        end_time: None,
        timezone: String::new(),
        parameters: json!([]),
        workflow_manifest: "{}".to_string(),
    }
}

/// The default list request: created_at ascending.
pub(crate) fn query(resource: Resource, page_size: u32) -> ListQuery {
    ListQuery {
        predicates: Vec::new(),
        sort: resource.default_sort(),
        page_size,
        after: None,
        known_total: None,
    }
}
