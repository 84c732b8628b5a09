//! Writing a component as `component.yaml`.

use std::path::Path;

use super::error::SaveError;
use crate::component::{CmdArg, Component, Implementation};

impl Component {
    /// The component as KFP v1 `component.yaml` text: the spec (name, description,
    /// metadata, inputs, outputs, and the container with its placeholders and plain `env`).
    ///
    /// **Kubernetes settings are dropped.** `component.yaml` has no place for what
    /// [`TaskConfig`](crate::component::TaskConfig) holds (resources, volumes,
    /// tolerations, retries, timeouts, caching, secrets as environment, sidecars, pod
    /// labels and annotations), and KFP's tools would ignore a private encoding of them,
    /// so they are not written: `Component::from_yaml_str(&c.to_yaml()?, ..)` gives back
    /// `c.spec` exactly, with default settings. Set them again on the loaded component or
    /// on its tasks (both implement [`Configure`](crate::component::Configure)).
    ///
    /// Resource components (a Kubernetes manifest, not a container) cannot be written,
    /// nor can a command line holding a value that is not a placeholder or constant.
    /// Graph components are written with every `componentRef` resolved to an inline spec.
    pub fn to_yaml(&self) -> Result<String, SaveError> {
        let not_portable = |reason: String| SaveError::NotPortable {
            component: self.spec.name.clone(),
            reason,
        };
        match &self.spec.implementation {
            Implementation::Resource(_) => {
                return Err(not_portable(
                    "a resource component acts on a Kubernetes manifest, which KFP v1's \
                     component.yaml cannot describe"
                        .into(),
                ));
            }
            Implementation::Container(c) => {
                for arg in c.command.iter().chain(&c.args) {
                    if let Some(message) = invalid(arg) {
                        return Err(not_portable(message.to_owned()));
                    }
                }
            }
            Implementation::Graph(_) => {}
        }
        let mut options = serde_saphyr::SerializerOptions::default();
        options.folded_wrap_chars = usize::MAX / 2;
        serde_saphyr::to_string_with_options(&self.spec, options).map_err(|e| SaveError::Yaml {
            component: self.spec.name.clone(),
            message: e.to_string(),
        })
    }

    /// Write [`Component::to_yaml`] to `path`; nothing is written if it fails.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), SaveError> {
        let text = self.to_yaml()?;
        std::fs::write(path.as_ref(), text).map_err(|error| SaveError::Write {
            path: path.as_ref().to_owned(),
            error,
        })
    }
}

/// The message of the first invalid argument inside `arg`.
fn invalid(arg: &CmdArg) -> Option<&str> {
    match arg {
        CmdArg::Invalid(message) => Some(message),
        CmdArg::Concat { concat } => concat.iter().find_map(invalid),
        CmdArg::If { branch } => branch
            .then
            .iter()
            .chain(&branch.otherwise)
            .find_map(invalid),
        CmdArg::Literal(_)
        | CmdArg::InputValue { .. }
        | CmdArg::InputPath { .. }
        | CmdArg::OutputPath { .. } => None,
    }
}
