//! Integration tests of `kfp::validate` (temporary probe).
use kfp::validate::*;
use std::path::PathBuf;

fn data(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/workflows").join(dir)
}

#[test]
fn probe() {
    for dir in ["argo", "kfp-v1", "hera", "broken"] {
        let Ok(rd) = std::fs::read_dir(data(dir)) else { continue };
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "yaml")).collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("read");
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
            match validate_workflow_yaml(&text, Some(&name)) {
                Ok(_) => println!("OK   {dir}/{name}"),
                Err(e) => println!("FAIL {dir}/{name}\n{e}"),
            }
        }
    }
}
