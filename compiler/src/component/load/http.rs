//! Fetching component files over HTTP(S) (the `http` feature).
//!
//! ureq is a small blocking client; it is built with rustls on the ring provider only,
//! the one provider the project uses (`cargo tree -i aws-lc-rs` must stay empty).

use std::time::Duration;

/// Largest component file accepted (the KFP catalogue's largest is well under 1 MiB).
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// The body of `url` as text; errors are messages for [`super::LoadError::Fetch`].
pub(crate) fn fetch(url: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_BYTES)
        .read_to_string()
        .map_err(|e| e.to_string())
}
