//! Any text given to the component.yaml loader gives a component or an error, never a
//! panic; a component that loads also saves, and wraps and compiles without panicking.
#![no_main]

use kfp::component::{Component, WrapOptions, single_task_pipeline};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(component) = Component::from_yaml_str(text, "fuzz.yaml") else { return };
    let _ = component.to_yaml();
    if let Ok((pipeline, _)) = single_task_pipeline(&component, &WrapOptions::default()) {
        let _ = kfp::compile(&pipeline);
    }
});
