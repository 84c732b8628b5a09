//! The Rust functions this process knows, by name: what `<binary> component NAME` looks
//! up.
//!
//! A function is registered when its component is built ([`FunctionComponent::component`]).
//! The `component` command builds every pipeline the binary serves first, so a binary can
//! run exactly the functions its pipelines use without listing them again, and without
//! link-time registration (which drops items of library crates the linker deems unused).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::FunctionComponent;

struct Entry {
    function: FunctionComponent,
    /// Another, different function was registered under the same name.
    conflict: Option<String>,
}

static REGISTRY: Mutex<BTreeMap<String, Entry>> = Mutex::new(BTreeMap::new());

fn lock() -> MutexGuard<'static, BTreeMap<String, Entry>> {
    // A panic while holding the lock cannot leave the map half-updated (inserts are
    // single operations), so a poisoned lock is still usable.
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Two registrations are the same function when their declarations agree (and their
/// Rust paths, when both are known). Compared in place: a builder may register once per
/// task it makes.
fn same(a: &FunctionComponent, b: &FunctionComponent) -> bool {
    let paths_differ = matches!((&a.rust_path, &b.rust_path), (Some(x), Some(y)) if x != y);
    !paths_differ
        && a.outputs == b.outputs
        && a.inputs
            .iter()
            .map(|i| &i.spec)
            .eq(b.inputs.iter().map(|i| &i.spec))
}

pub(super) fn register(function: &FunctionComponent) {
    let mut map = lock();
    match map.get_mut(&function.name) {
        None => {
            map.insert(
                function.name.clone(),
                Entry {
                    function: function.clone(),
                    conflict: None,
                },
            );
        }
        Some(entry) if entry.conflict.is_none() && !same(&entry.function, function) => {
            let describe = |f: &FunctionComponent| {
                f.rust_path
                    .clone()
                    .unwrap_or_else(|| "a function built by hand".to_owned())
            };
            entry.conflict = Some(format!(
                "two different Rust functions are registered as `{}` ({} and {}): give one \
                 another name (`#[component(name = \"...\")]`)",
                function.name,
                describe(&entry.function),
                describe(function)
            ));
        }
        Some(_) => {}
    }
}

/// The function registered as `name`, or why it cannot be run (two different functions
/// were registered under that name).
pub fn lookup_function(name: &str) -> Option<Result<FunctionComponent, String>> {
    lock().get(name).map(|e| match &e.conflict {
        Some(why) => Err(why.clone()),
        None => Ok(e.function.clone()),
    })
}

/// Every function registered so far in this process, by name.
pub fn registered_functions() -> Vec<FunctionComponent> {
    lock().values().map(|e| e.function.clone()).collect()
}
