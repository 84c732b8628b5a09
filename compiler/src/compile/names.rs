//! Kubernetes-safe names, unique within their namespace.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Longest base name we generate, leaving room for `-<n>` suffixes under Argo's 128.
const MAX_BASE: usize = 100;

/// A DNS-label-like name: lowercase letters, digits and `-`, starting with a letter.
///
/// Task names may not start with a digit when `depends` is used, so a leading digit gets a
/// prefix; runs of other characters collapse to one `-`.
pub fn k8s_name(raw: &str, fallback: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    let mut name = if trimmed.is_empty() {
        fallback.to_owned()
    } else {
        trimmed.to_owned()
    };
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "t-");
    }
    name.truncate(MAX_BASE);
    name.trim_end_matches('-').to_owned()
}

/// A parameter/artifact name: `[-a-zA-Z0-9_]+`, lowercase like KFP v1 emits them.
pub fn param_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "value".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Hands out names unique within one namespace, suffixing `-2`, `-3`, ... on clashes.
#[derive(Debug, Default)]
pub struct NameSet {
    used: HashSet<String>,
    /// Next suffix to try per base, so naming n tasks after one component stays linear.
    next_suffix: HashMap<String, usize>,
}

impl NameSet {
    /// Reserve `name` exactly; false if it is taken.
    pub fn reserve(&mut self, name: &str) -> bool {
        self.used.insert(name.to_owned())
    }

    /// `base` if free, otherwise the first free `base-<n>`.
    pub fn unique(&mut self, base: &str) -> String {
        if self.used.insert(base.to_owned()) {
            return base.to_owned();
        }
        let next = self.next_suffix.entry(base.to_owned()).or_insert(2);
        loop {
            let candidate = format!("{base}-{next}");
            *next += 1;
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(k8s_name("Train Model!", "task"), "train-model");
        assert_eq!(k8s_name("__", "task"), "task");
        assert_eq!(k8s_name("3d-render", "task"), "t-3d-render");
        assert_eq!(param_name("Input data"), "input-data");
        assert_eq!(param_name("learning_rate"), "learning_rate");
    }

    #[test]
    fn clashes_get_suffixes() {
        let mut set = NameSet::default();
        assert_eq!(set.unique("echo"), "echo");
        assert_eq!(set.unique("echo"), "echo-2");
        assert!(set.reserve("echo-3"));
        assert_eq!(set.unique("echo"), "echo-4");
        assert!(!set.reserve("echo"));
    }

    proptest::proptest! {
        /// Whatever a component or task is called, the emitted names are valid for Argo.
        #[test]
        fn any_text_becomes_a_valid_name(raw in ".{0,300}") {
            let name = k8s_name(&raw, "task");
            proptest::prop_assert!(!name.is_empty() && name.len() <= 128);
            proptest::prop_assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            proptest::prop_assert!(name.starts_with(|c: char| c.is_ascii_lowercase()));
            proptest::prop_assert!(!name.ends_with('-'));
            let param = param_name(&raw);
            proptest::prop_assert!(!param.is_empty());
            proptest::prop_assert!(param.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        }
    }
}
