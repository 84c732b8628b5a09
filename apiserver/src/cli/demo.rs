//! `kfp server --demo`: a server that shows itself working. Before serving, the samples
//! crate's `pipelines` binary is built and every sample compiled into `<data dir>/demo/`;
//! once the listener is bound, a thread uploads each sample through the server's own REST
//! API (the path every client takes, so the demo exercises it), creates the experiment
//! `Samples` and submits one run of each, then prints what to try next.
//!
//! A restart on the same data dir adds nothing: a sample whose pipeline name already exists
//! is not uploaded again, and one that already has a run in `Samples` is not run again.
//!
//! The built binary is the server's function binary, so Rust-function samples run. Samples
//! that read Secrets or ConfigMaps get placeholder values for the variables the environment
//! does not set (the local engine reads those values from its environment), so they run
//! here too; the `resource` sample still fails, as it must: a Kubernetes resource step
//! needs the Kubernetes backend.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, anyhow, bail};
use kfp::argo::{Template, Workflow};
use kfp::build::{BuildOptions, build_pipeline_binary, compile_pipeline};
use kfp_engine::Engine;
use serde_json::{Value, json};

use super::Failure;
use super::client::http::Client;

/// The experiment the sample runs go to.
pub const EXPERIMENT: &str = "Samples";

/// The cargo package and binary holding the samples.
const PACKAGE: &str = "samples";
const BINARY: &str = "pipelines";

/// What `--demo` prepared before serving.
#[derive(Debug)]
pub struct Demo {
    /// The samples' pipeline binary: the server's function binary.
    pub binary: PathBuf,
    samples: Vec<Sample>,
    placeholders: Vec<Placeholder>,
}

/// One compiled sample.
#[derive(Debug)]
struct Sample {
    /// Its name in `pipelines list`, used as the pipeline's name on the server.
    name: String,
    description: String,
    /// The compiled workflow.
    file: PathBuf,
    /// It has a Kubernetes resource step, so its run fails on the local engine.
    needs_cluster: bool,
}

/// A Secret or ConfigMap value a sample reads and the environment does not set.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placeholder {
    variable: String,
    /// `Secret training-secrets key api-token`.
    source: String,
}

impl Demo {
    /// `NAME=value` pairs for the engine's environment: placeholders for the Secret and
    /// ConfigMap values the samples read that this process's environment lacks.
    pub fn engine_env(&self) -> Vec<(String, String)> {
        self.placeholders
            .iter()
            .map(|p| {
                (
                    p.variable.clone(),
                    format!("kfp-demo-placeholder ({})", p.source),
                )
            })
            .collect()
    }
}

/// Build the samples' binary, list its pipelines and compile each into `<data_dir>/demo/`.
/// Fails, saying to run from the checkout, when the samples package cannot be built.
pub fn prepare(data_dir: &Path) -> Result<Demo, Failure> {
    eprintln!(
        "kfp server --demo: building the sample pipelines (cargo build -p {PACKAGE} --bin {BINARY})"
    );
    let options = BuildOptions {
        package: PACKAGE.to_owned(),
        bin: Some(BINARY.to_owned()),
        ..BuildOptions::default()
    };
    let binary = build_pipeline_binary(&options).map_err(|e| {
        Failure::failed(anyhow!(
            "{e}. `kfp server --demo` builds the sample pipelines from source, so it must be \
             run from the kfp-rs checkout (there: cargo run -p kfp-apiserver --bin kfp -- \
             server --demo); elsewhere start `kfp server` without --demo and upload your own \
             pipelines"
        ))
    })?;
    let names = list_pipelines(&binary).map_err(Failure::failed)?;
    let dir = data_dir.join("demo");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))
        .map_err(Failure::failed)?;
    let mut samples = Vec::new();
    let mut placeholders: Vec<Placeholder> = Vec::new();
    for (name, description) in names {
        let file = dir.join(format!("{name}.yaml"));
        compile_pipeline(&binary, Some(&name), &file)
            .with_context(|| format!("cannot compile the sample {name}"))
            .map_err(Failure::failed)?;
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))
            .map_err(Failure::failed)?;
        let workflow = Engine::load_yaml(&text, &file.display().to_string())
            .with_context(|| format!("the compiled sample {name} does not load"))
            .map_err(Failure::failed)?;
        for placeholder in unset_references(&workflow, |v| std::env::var_os(v).is_some()) {
            if !placeholders
                .iter()
                .any(|p| p.variable == placeholder.variable)
            {
                placeholders.push(placeholder);
            }
        }
        samples.push(Sample {
            name,
            description,
            file,
            needs_cluster: workflow.spec.templates.iter().any(|t| t.resource.is_some()),
        });
    }
    if samples.is_empty() {
        return Err(Failure::failed(anyhow!(
            "{} lists no pipelines; is it the samples' pipeline binary?",
            binary.display()
        )));
    }
    for p in &placeholders {
        eprintln!(
            "kfp server --demo: {} is not set; the samples get a placeholder for it ({}). \
             Set it before starting to use a real value.",
            p.variable, p.source
        );
    }
    Ok(Demo {
        binary,
        samples,
        placeholders,
    })
}

/// `(name, description)` of every pipeline the binary defines, from `<binary> list` (one
/// line each: the name, then the first line of the description after spaces).
fn list_pipelines(binary: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let out = Command::new(binary)
        .arg("list")
        .output()
        .with_context(|| format!("cannot run {} list", binary.display()))?;
    if !out.status.success() {
        bail!(
            "{} list failed: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let (name, description) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            (!name.is_empty()).then(|| (name.to_owned(), description.trim().to_owned()))
        })
        .collect())
}

/// The non-optional Secret/ConfigMap references of the workflow's steps whose variable
/// `is_set` says the environment lacks.
fn unset_references(workflow: &Workflow, is_set: impl Fn(&str) -> bool) -> Vec<Placeholder> {
    let containers = workflow.spec.templates.iter().flat_map(|t: &Template| {
        t.container
            .iter()
            .chain(t.script.as_ref().map(|s| &s.container))
    });
    let mut out: Vec<Placeholder> = Vec::new();
    for var in containers.flat_map(|c| &c.env) {
        let Some(from) = &var.value_from else {
            continue;
        };
        let (kind, selector) = match (&from.secret_key_ref, &from.config_map_key_ref) {
            (Some(s), _) => ("Secret", s),
            (None, Some(c)) => ("ConfigMap", c),
            (None, None) => continue,
        };
        if selector.optional == Some(true)
            || is_set(&var.name)
            || out.iter().any(|p| p.variable == var.name)
        {
            continue;
        }
        out.push(Placeholder {
            variable: var.name.clone(),
            source: format!("{kind} {} key {}", selector.name, selector.key),
        });
    }
    out
}

/// Upload and run the samples on the server listening at `address`, in a thread of its
/// own (it waits on the server, so it must not hold the server's runtime).
pub fn start(demo: Demo, address: SocketAddr) {
    let endpoint = endpoint(address);
    let spawned = std::thread::Builder::new()
        .name("kfp-demo".to_owned())
        .spawn(move || {
            if let Err(e) = seed(&demo, &endpoint) {
                eprintln!(
                    "kfp server --demo: cannot set up the samples: {e:#}. The server keeps \
                     serving; restart it with --demo to try again"
                );
            }
        });
    if let Err(e) = spawned {
        eprintln!("kfp server --demo: cannot start uploading the samples: {e}");
    }
}

/// The URL clients reach the server at (a wildcard address is reached on loopback).
fn endpoint(address: SocketAddr) -> String {
    let mut address = address;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{address}")
}

/// What happened to one sample.
struct Outcome {
    pipeline: String,
    uploaded: bool,
    run: String,
    submitted: bool,
}

/// Upload every sample, make sure `Samples` exists, submit the runs missing from it, and
/// print one line per sample and what to try next.
fn seed(demo: &Demo, endpoint: &str) -> anyhow::Result<()> {
    // The client commands' own HTTP client, so the demo goes through the same path.
    let api = Client::new(endpoint)
        .map_err(|_| anyhow!("{endpoint} is not an http:// address of this server"))?;
    let experiment = experiment(&api)?;
    let existing = runs_by_pipeline(&api, &experiment)?;
    println!(
        "kfp server --demo: {} sample pipelines, one run each in experiment \"{EXPERIMENT}\":",
        demo.samples.len()
    );
    let width = demo.samples.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut example_run = None;
    let mut failures = 0;
    for sample in &demo.samples {
        match seed_one(&api, sample, &experiment, &existing) {
            Ok(outcome) => {
                let note = if sample.needs_cluster {
                    "  (fails here as it should: its Kubernetes resource step needs the Kubernetes backend)"
                } else {
                    if example_run.is_none() {
                        example_run = Some(outcome.run.clone());
                    }
                    ""
                };
                println!(
                    "  {:<width$}  pipeline {}{}  run {}{}{note}",
                    sample.name,
                    outcome.pipeline,
                    if outcome.uploaded {
                        ""
                    } else {
                        " (already uploaded)"
                    },
                    outcome.run,
                    if outcome.submitted {
                        ""
                    } else {
                        " (already run)"
                    },
                );
            }
            Err(e) => {
                failures += 1;
                println!("  {:<width$}  FAILED: {e:#}", sample.name);
            }
        }
    }
    print_next_steps(endpoint, example_run.as_deref());
    if failures > 0 {
        bail!("{failures} sample(s) could not be uploaded or run (see above)");
    }
    Ok(())
}

/// Upload the sample unless a pipeline of its name exists; run it unless it has a run in
/// the experiment.
fn seed_one(
    api: &Client,
    sample: &Sample,
    experiment: &str,
    existing: &HashMap<String, String>,
) -> anyhow::Result<Outcome> {
    let found = api.get(
        "/apis/v1beta1/pipelines",
        &[("filter", name_filter(&sample.name))],
    )?;
    let (pipeline, uploaded) = match found["pipelines"][0]["id"].as_str() {
        Some(id) => (id.to_owned(), false),
        None => {
            let bytes = std::fs::read(&sample.file)
                .with_context(|| format!("cannot read {}", sample.file.display()))?;
            let mut query = vec![("name", sample.name.clone())];
            if !sample.description.is_empty() {
                query.push(("description", sample.description.clone()));
            }
            let created = api.upload(
                "/apis/v1beta1/pipelines/upload",
                &query,
                &format!("{}.yaml", sample.name),
                &bytes,
            )?;
            (id_of(&created, "/id", "the uploaded pipeline")?, true)
        }
    };
    if let Some(run) = existing.get(&pipeline) {
        return Ok(Outcome {
            pipeline,
            uploaded,
            run: run.clone(),
            submitted: false,
        });
    }
    let body = json!({
        "name": sample.name,
        "description": format!("A run of the sample {} started by kfp server --demo", sample.name),
        "pipeline_spec": {"pipeline_id": pipeline},
        "resource_references": [{
            "key": {"type": "EXPERIMENT", "id": experiment},
            "relationship": "OWNER",
        }],
    });
    let created = api.post("/apis/v1beta1/runs", Some(&body))?;
    let run = id_of(&created, "/run/id", "the new run")?;
    Ok(Outcome {
        pipeline,
        uploaded,
        run,
        submitted: true,
    })
}

/// The ID of the experiment `Samples`, created if missing.
fn experiment(api: &Client) -> anyhow::Result<String> {
    let found = api.get(
        "/apis/v1beta1/experiments",
        &[("filter", name_filter(EXPERIMENT))],
    )?;
    if let Some(id) = found["experiments"][0]["id"].as_str() {
        return Ok(id.to_owned());
    }
    let created = api.post(
        "/apis/v1beta1/experiments",
        Some(&json!({
            "name": EXPERIMENT,
            "description": "One run of each sample pipeline, started by kfp server --demo",
        })),
    )?;
    id_of(&created, "/id", "the new experiment")
}

/// Pipeline ID → ID of a run of it in the experiment, over every page.
fn runs_by_pipeline(api: &Client, experiment: &str) -> anyhow::Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut token = String::new();
    loop {
        let mut query = vec![
            ("resource_reference_key.type", "EXPERIMENT".to_owned()),
            ("resource_reference_key.id", experiment.to_owned()),
            ("page_size", "200".to_owned()),
        ];
        if !token.is_empty() {
            query.push(("page_token", token.clone()));
        }
        let page = api.get("/apis/v1beta1/runs", &query)?;
        for run in page["runs"].as_array().into_iter().flatten() {
            if let (Some(pipeline), Some(id)) = (
                run["pipeline_spec"]["pipeline_id"].as_str(),
                run["id"].as_str(),
            ) {
                out.entry(pipeline.to_owned())
                    .or_insert_with(|| id.to_owned());
            }
        }
        token = page["next_page_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if token.is_empty() {
            return Ok(out);
        }
    }
}

fn print_next_steps(endpoint: &str, example_run: Option<&str>) {
    let kfp = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "kfp".to_owned());
    print!(
        "{}",
        next_steps(endpoint, example_run.unwrap_or("<RUN_ID>"), &kfp)
    );
}

/// The "what to try next" block: commands against this server, with `run` as the example
/// run and `kfp` where the binary is.
fn next_steps(endpoint: &str, run: &str, kfp: &str) -> String {
    let mut lines = Vec::new();
    if endpoint != super::client::DEFAULT_ENDPOINT {
        lines.push((
            format!("export KFP_ENDPOINT={endpoint}"),
            "so the commands below reach this server",
        ));
    }
    lines.extend([
        (
            format!("kfp run list --experiment {EXPERIMENT}"),
            "the sample runs and their status",
        ),
        (
            format!("kfp run get {run}"),
            "one run: its steps, parameters and outputs",
        ),
        (format!("kfp run logs {run}"), "its steps' logs"),
        ("kfp pipeline list".to_owned(), "the uploaded pipelines"),
        (
            format!("curl {endpoint}/apis/v1beta1/runs"),
            "KFP's v1beta1 REST API (kfp.Client works too)",
        ),
    ]);
    let width = lines.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    let mut text = format!("\nThe server is at {endpoint}. What to try next:\n");
    for (command, what) in lines {
        text.push_str(&format!("  {command:<width$}   {what}\n"));
    }
    text.push_str(&format!(
        "kfp is {kfp} (in the checkout: cargo run -q -p kfp-apiserver --bin kfp -- ...).\n\
         Ctrl-C stops the server; starting it again with --demo keeps the samples and adds none.\n"
    ));
    text
}

/// A KFP v1 filter: `name` equals `value`.
fn name_filter(value: &str) -> String {
    json!({"predicates": [{"key": "name", "op": "EQUALS", "string_value": value}]}).to_string()
}

/// The string at `pointer` of an answer, or an error naming `what`.
fn id_of(value: &Value, pointer: &str, what: &str) -> anyhow::Result<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the server's answer has no ID for {what}: {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_are_reached_on_loopback() {
        assert_eq!(
            endpoint("0.0.0.0:8888".parse().expect("address")),
            "http://127.0.0.1:8888"
        );
        assert_eq!(
            endpoint("[::]:9000".parse().expect("address")),
            "http://[::1]:9000"
        );
        assert_eq!(
            endpoint("10.1.2.3:80".parse().expect("address")),
            "http://10.1.2.3:80"
        );
    }

    #[test]
    fn next_steps_point_the_commands_at_a_server_off_the_default_port() {
        let default = next_steps("http://127.0.0.1:8888", "r1", "/bin/kfp");
        assert!(!default.contains("KFP_ENDPOINT"), "{default}");
        assert!(default.contains("kfp run logs r1"), "{default}");
        assert!(default.contains("kfp is /bin/kfp"), "{default}");
        let other = next_steps("http://127.0.0.1:9000", "r1", "/bin/kfp");
        assert!(
            other.contains("export KFP_ENDPOINT=http://127.0.0.1:9000"),
            "{other}"
        );
        assert!(
            other.contains("kfp run list --experiment Samples "),
            "{other}"
        );
    }

    #[test]
    fn secret_and_config_map_values_missing_from_the_environment_get_placeholders() {
        let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: s-}
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c, "echo $TOKEN $MODE $SET $OPTIONAL"]
      env:
      - {name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}
      - {name: MODE, valueFrom: {configMapKeyRef: {name: cfg, key: mode}}}
      - {name: SET, valueFrom: {secretKeyRef: {name: creds, key: set}}}
      - {name: OPTIONAL, valueFrom: {secretKeyRef: {name: creds, key: o, optional: true}}}
      - {name: PLAIN, value: x}
"#;
        let workflow = Engine::load_yaml(yaml, "s.yaml").expect("valid workflow");
        let found = unset_references(&workflow, |v| v == "SET");
        assert_eq!(
            found,
            vec![
                Placeholder {
                    variable: "TOKEN".to_owned(),
                    source: "Secret creds key token".to_owned(),
                },
                Placeholder {
                    variable: "MODE".to_owned(),
                    source: "ConfigMap cfg key mode".to_owned(),
                },
            ]
        );
    }
}
