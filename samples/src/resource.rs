//! Kubernetes resources as pipeline steps: create a Job, wait for it, use it, delete it.
//!
//! - `create-pi-job` creates a `batch/v1` Job computing π to `digits` digits. The manifest
//!   reads the task's input as `{{inputs.parameters.digits}}` (the input is declared on
//!   the component), the task waits until `status.succeeded > 0` and fails if
//!   `status.failed > 1`, and the generated name is read back with the JSONPath
//!   `{.metadata.name}` as the `job-name` output.
//! - `print-job-logs` receives that name as a plain value and prints the Job's logs.
//! - `delete-pi-job` deletes the Job once the logs are printed.
//!
//! Resource steps talk to the Kubernetes API: on Argo the workflow's service account
//! needs the RBAC rights for Jobs; the local engine needs a kubeconfig.

use kfp::prelude::*;

/// The Job manifest; `{{inputs.parameters.digits}}` is filled in per task.
pub const PI_JOB_MANIFEST: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  generateName: pi-
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: pi
          image: perl:5.40
          command: ["perl", "-Mbignum=bpi", "-wle", "print bpi({{inputs.parameters.digits}})"]
"#;

/// Creates the π Job and waits for it; outputs its generated name as `job-name`.
pub fn create_pi_job() -> Component {
    Component::resource("create-pi-job", ResourceAction::Create, PI_JOB_MANIFEST)
        .description("Create a Job computing pi and wait for it to finish")
        .input(InputSpec::integer("digits"))
        .success_condition("status.succeeded > 0")
        .failure_condition("status.failed > 1")
        .output_json_path("job-name", "{.metadata.name}")
        // Owned by the workflow: deleted with it even if the delete step never runs.
        .set_owner_reference(true)
}

/// Prints the logs of the Job `job-name` (needs `get`/`list` on Pods and Jobs).
pub fn print_job_logs() -> Component {
    Component::container("print-job-logs", "registry.k8s.io/kubectl:v1.31.0")
        .description("Print a Job's logs")
        .input(InputSpec::string("job-name"))
        .command(["kubectl", "logs"])
        .args([concat(["job/".into(), input_value("job-name")])])
}

/// Deletes the Job `job-name`.
pub fn delete_job() -> Component {
    Component::resource(
        "delete-pi-job",
        ResourceAction::Delete,
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: "{{inputs.parameters.job-name}}"
"#,
    )
    .description("Delete a Job")
    .input(InputSpec::string("job-name"))
}

/// `resource(digits = 100)`: create the Job → print its logs → delete it.
pub fn pipeline() -> Pipeline {
    let mut p = Pipeline::new("resource").description("Create a Kubernetes Job, use it, delete it");
    let digits = p.param_with_default::<i64>("digits", 100);
    let job = p.task(create_pi_job().task().arg("digits", &digits));
    let job_name = job.output_param::<String>("job-name");
    let logs = p.task(print_job_logs().task().arg("job-name", &job_name));
    p.task(delete_job().task().arg("job-name", &job_name).after(&logs));
    p
}
