use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::argo::{
    Backoff, Container, EnvVar, EnvVarSource, KeySelector, RetryStrategy, Toleration, VolumeMount,
};

/// The Kubernetes side of a task: what `component.yaml` cannot say.
///
/// A component carries defaults; a task may override them. Both expose the same builder
/// methods through [`Configure`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskConfig {
    pub env: Vec<EnvVar>,
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub affinity: Option<serde_json::Value>,
    pub volumes: Vec<Volume>,
    pub volume_mounts: Vec<VolumeMount>,
    pub image_pull_policy: Option<PullPolicy>,
    pub retry: Option<Retry>,
    pub timeout: Option<Duration>,
    pub caching: Option<bool>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub sidecars: Vec<Container>,
    /// Builder calls that made no sense (reported by the compiler, never a panic).
    pub misuses: Vec<String>,
}

/// A volume of the pod, in Kubernetes' JSON shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume(pub serde_json::Value);

impl Volume {
    /// A PersistentVolumeClaim.
    pub fn pvc(name: &str, claim_name: &str) -> Self {
        Self(json!({"name": name, "persistentVolumeClaim": {"claimName": claim_name}}))
    }
    /// A ConfigMap's keys as files.
    pub fn config_map(name: &str, config_map: &str) -> Self {
        Self(json!({"name": name, "configMap": {"name": config_map}}))
    }
    /// A Secret's keys as files.
    pub fn secret(name: &str, secret: &str) -> Self {
        Self(json!({"name": name, "secret": {"secretName": secret}}))
    }
    /// Scratch space that lives as long as the pod.
    pub fn empty_dir(name: &str) -> Self {
        Self(json!({"name": name, "emptyDir": {}}))
    }
    /// Scratch space in memory, limited in size (e.g. `"1Gi"`).
    pub fn empty_dir_in_memory(name: &str, size_limit: &str) -> Self {
        Self(json!({"name": name, "emptyDir": {"medium": "Memory", "sizeLimit": size_limit}}))
    }
    pub fn name(&self) -> &str {
        self.0
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
    }
}

/// When the image is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }
}

/// Which failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryPolicy {
    /// The program failed (non-zero exit). Argo's default.
    OnFailure,
    /// The system failed to run it.
    OnError,
    /// Either.
    Always,
    /// System failures that look transient.
    OnTransientError,
}

impl RetryPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnFailure => "OnFailure",
            Self::OnError => "OnError",
            Self::Always => "Always",
            Self::OnTransientError => "OnTransientError",
        }
    }
}

/// How often and how patiently a task is retried.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub limit: u32,
    pub policy: Option<RetryPolicy>,
    pub backoff: Option<RetryBackoff>,
}

/// Wait before retry n: `duration * factor^(n-1)`, at most `max_duration` in all.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryBackoff {
    pub duration: Duration,
    pub factor: u32,
    pub max_duration: Option<Duration>,
}

impl Retry {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            policy: None,
            backoff: None,
        }
    }
    pub fn policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = Some(policy);
        self
    }
    pub fn backoff(
        mut self,
        duration: Duration,
        factor: u32,
        max_duration: Option<Duration>,
    ) -> Self {
        self.backoff = Some(RetryBackoff {
            duration,
            factor,
            max_duration,
        });
        self
    }

    pub(crate) fn to_argo(&self) -> RetryStrategy {
        RetryStrategy {
            limit: Some(self.limit.to_string()),
            retry_policy: self.policy.map(|p| p.as_str().to_owned()),
            backoff: self.backoff.as_ref().map(|b| Backoff {
                duration: Some(format_duration(b.duration)),
                factor: Some(b.factor.to_string()),
                max_duration: b.max_duration.map(format_duration),
                cap: None,
            }),
            expression: None,
        }
    }
}

/// Argo duration text: whole seconds as `"90s"`.
pub(crate) fn format_duration(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

/// The builder methods shared by components (defaults) and tasks (overrides).
pub trait Configure: Sized {
    fn config_mut(&mut self) -> &mut TaskConfig;

    /// A plain environment variable.
    fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let var = EnvVar {
            name: name.into(),
            value: Some(value.into()),
            value_from: None,
        };
        self.config_mut().set_env(var);
        self
    }
    /// An environment variable read from a Secret's key.
    fn env_from_secret(mut self, name: impl Into<String>, secret: &str, key: &str) -> Self {
        let var = EnvVar {
            name: name.into(),
            value: None,
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(KeySelector {
                    name: secret.into(),
                    key: key.into(),
                    optional: None,
                }),
                ..EnvVarSource::default()
            }),
        };
        self.config_mut().set_env(var);
        self
    }
    /// An environment variable read from a ConfigMap's key.
    fn env_from_config_map(mut self, name: impl Into<String>, config_map: &str, key: &str) -> Self {
        let var = EnvVar {
            name: name.into(),
            value: None,
            value_from: Some(EnvVarSource {
                config_map_key_ref: Some(KeySelector {
                    name: config_map.into(),
                    key: key.into(),
                    optional: None,
                }),
                ..EnvVarSource::default()
            }),
        };
        self.config_mut().set_env(var);
        self
    }
    /// CPU request, e.g. `"500m"`.
    fn cpu_request(mut self, quantity: impl Into<String>) -> Self {
        self.config_mut()
            .requests
            .insert("cpu".into(), quantity.into());
        self
    }
    /// CPU limit, e.g. `"2"`.
    fn cpu_limit(mut self, quantity: impl Into<String>) -> Self {
        self.config_mut()
            .limits
            .insert("cpu".into(), quantity.into());
        self
    }
    /// Memory request, e.g. `"1Gi"`.
    fn memory_request(mut self, quantity: impl Into<String>) -> Self {
        self.config_mut()
            .requests
            .insert("memory".into(), quantity.into());
        self
    }
    /// Memory limit, e.g. `"4Gi"`.
    fn memory_limit(mut self, quantity: impl Into<String>) -> Self {
        self.config_mut()
            .limits
            .insert("memory".into(), quantity.into());
        self
    }
    /// GPUs of NVIDIA's device plugin (`nvidia.com/gpu`).
    fn gpu_limit(self, count: u32) -> Self {
        self.gpu_limit_of("nvidia.com/gpu", count)
    }
    /// GPUs of another vendor's device plugin, e.g. `amd.com/gpu`.
    fn gpu_limit_of(mut self, vendor_key: impl Into<String>, count: u32) -> Self {
        self.config_mut()
            .limits
            .insert(vendor_key.into(), count.to_string());
        self
    }
    /// Run only on nodes carrying this label.
    fn node_selector(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config_mut()
            .node_selector
            .insert(key.into(), value.into());
        self
    }
    /// Allow nodes with a matching taint.
    fn toleration(mut self, toleration: Toleration) -> Self {
        self.config_mut().tolerations.push(toleration);
        self
    }
    /// Kubernetes `affinity`, as its JSON shape.
    fn affinity(mut self, affinity: serde_json::Value) -> Self {
        self.config_mut().affinity = Some(affinity);
        self
    }
    /// Add a volume and mount it in the main container.
    fn volume(mut self, volume: Volume, mount_path: impl Into<String>) -> Self {
        let mount = VolumeMount {
            name: volume.name().to_owned(),
            mount_path: mount_path.into(),
            read_only: None,
            sub_path: None,
        };
        let config = self.config_mut();
        config.volumes.retain(|v| v.name() != volume.name());
        config.volumes.push(volume);
        config.volume_mounts.push(mount);
        self
    }
    fn image_pull_policy(mut self, policy: PullPolicy) -> Self {
        self.config_mut().image_pull_policy = Some(policy);
        self
    }
    /// Retry up to `limit` times on failure.
    fn retries(self, limit: u32) -> Self {
        self.retry(Retry::new(limit))
    }
    fn retry(mut self, retry: Retry) -> Self {
        self.config_mut().retry = Some(retry);
        self
    }
    /// Fail an attempt that runs longer than this.
    fn timeout(mut self, timeout: Duration) -> Self {
        self.config_mut().timeout = Some(timeout);
        self
    }
    /// Reuse a previous identical execution's outputs (on by default in KFP).
    fn caching(mut self, enabled: bool) -> Self {
        self.config_mut().caching = Some(enabled);
        self
    }
    fn pod_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config_mut().labels.insert(key.into(), value.into());
        self
    }
    fn pod_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config_mut()
            .annotations
            .insert(key.into(), value.into());
        self
    }
    /// A container that runs beside the main one for the task's lifetime.
    fn sidecar(mut self, sidecar: Container) -> Self {
        self.config_mut().sidecars.push(sidecar);
        self
    }
}

impl Configure for super::Component {
    fn config_mut(&mut self) -> &mut TaskConfig {
        &mut self.config
    }
}

impl TaskConfig {
    fn set_env(&mut self, var: EnvVar) {
        self.env.retain(|e| e.name != var.name);
        self.env.push(var);
    }

    pub(crate) fn misuse(&mut self, call: &str, why: &str) {
        self.misuses.push(format!("`{call}`: {why}"));
    }

    /// `self` with `overrides` applied on top (task over component).
    pub fn merged_with(&self, overrides: &TaskConfig) -> TaskConfig {
        let mut out = self.clone();
        for var in &overrides.env {
            out.set_env(var.clone());
        }
        out.requests.extend(overrides.requests.clone());
        out.limits.extend(overrides.limits.clone());
        out.node_selector.extend(overrides.node_selector.clone());
        out.tolerations
            .extend(overrides.tolerations.iter().cloned());
        if overrides.affinity.is_some() {
            out.affinity.clone_from(&overrides.affinity);
        }
        for v in &overrides.volumes {
            out.volumes.retain(|o| o.name() != v.name());
            out.volumes.push(v.clone());
        }
        out.volume_mounts
            .extend(overrides.volume_mounts.iter().cloned());
        out.image_pull_policy = overrides.image_pull_policy.or(out.image_pull_policy);
        if overrides.retry.is_some() {
            out.retry.clone_from(&overrides.retry);
        }
        out.timeout = overrides.timeout.or(out.timeout);
        out.caching = overrides.caching.or(out.caching);
        out.labels.extend(overrides.labels.clone());
        out.annotations.extend(overrides.annotations.clone());
        out.sidecars.extend(overrides.sidecars.iter().cloned());
        out.misuses.extend(overrides.misuses.iter().cloned());
        out
    }
}
