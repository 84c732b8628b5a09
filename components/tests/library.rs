//! Every library component loads, compiles alone into a valid workflow, is listed in the
//! README, and the components work together in one pipeline.

use std::path::Path;

use kfp::component::{WrapOptions, single_task_pipeline};
use kfp::dsl::Pipeline;

fn dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_component_compiles_alone() {
    for (name, _) in kfp_components::ALL {
        let component = kfp_components::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (pipeline, _) = single_task_pipeline(&component, &WrapOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        kfp::compile(&pipeline).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn every_directory_is_listed_and_documented() {
    let readme = std::fs::read_to_string(dir().join("README.md")).expect("README");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir())
        .expect("read components/")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("component.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = kfp_components::names()
        .into_iter()
        .map(String::from)
        .collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "components/ and kfp_components::ALL disagree"
    );
    for name in listed {
        assert!(
            readme.contains(&format!("`{name}`")),
            "README.md does not describe {name}"
        );
    }
}

#[test]
fn an_unknown_name_says_what_exists() {
    let message = kfp_components::load("nope")
        .expect_err("unknown")
        .to_string();
    assert!(message.contains("download-file"), "{message}");
}

#[test]
fn components_work_together() {
    let download = kfp_components::download_file().expect("loads");
    let copy = kfp_components::copy_artifact().expect("loads");
    let list = kfp_components::list_artifact().expect("loads");
    let python = kfp_components::run_python_script().expect("loads");
    let select = kfp_components::select_json_field().expect("loads");
    let shell = kfp_components::run_shell_script().expect("loads");

    let mut p = Pipeline::new("library-tour");
    let url = p.param_with_default::<String>("url", "https://example.com/data.csv".into());
    let fetched = p.task(download.task().arg("Url", &url));
    let copied = p.task(copy.task().arg("Data", fetched.output("Data")));
    let listed = p.task(list.task().arg("Data", copied.output("Copy")));
    let stats = p.task(
        python
            .task()
            .arg(
                "Script",
                "import json; open(output_path, 'w').write(json.dumps({'n': int(argument)}))",
            )
            .arg("Argument", listed.output("Count")),
    );
    let n = p.task(
        select
            .task()
            .arg("Json", stats.output("Output"))
            .arg("Field", "n"),
    );
    p.task(
        shell
            .task()
            .arg("Script", "cat \"$INPUT\" > \"$OUTPUT\"")
            .arg("Input", n.output("Value")),
    );

    let workflow = kfp::compile(&p).unwrap_or_else(|e| panic!("{e}"));
    let yaml = kfp::compile::to_yaml(&workflow).expect("yaml");
    // Files travel as artifacts, values as parameters, and optional inputs drop cleanly.
    assert!(
        yaml.contains("from: \"{{tasks.download-file.outputs.artifacts.data}}\""),
        "{yaml}"
    );
    assert!(
        yaml.contains("{{tasks.list-artifact.outputs.parameters.count}}"),
        "{yaml}"
    );
}
