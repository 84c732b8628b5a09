//! Paths a container expects, moved into its node's directory.
//!
//! A pod has a filesystem of its own; a process shares the host's. So every path a
//! template declares (input and output artifacts, output parameter files, volume mounts)
//! is given a place under the node's directory, and the same replacement is applied to
//! the command, arguments, environment and script source. Workflows written for pods,
//! KFP v1 SDK output included (`/tmp/outputs/<name>/data`), then run unchanged, and two
//! nodes writing the "same" path never collide.

use std::path::{Path, PathBuf};

/// Declared container paths and where they live on this machine.
#[derive(Debug, Clone, Default)]
pub struct Remap {
    /// (container path, local path), longest container path first.
    pairs: Vec<(String, PathBuf)>,
    /// Local directory absolute container paths are moved under.
    fs_root: PathBuf,
}

impl Remap {
    /// A remapping that puts absolute paths under `fs_root`.
    pub fn new(fs_root: impl Into<PathBuf>) -> Self {
        Remap {
            pairs: Vec::new(),
            fs_root: fs_root.into(),
        }
    }

    /// Declare a container path (absolute paths only; relative ones are relative to the
    /// working directory and need no remapping). Returns where it lives locally.
    pub fn declare(&mut self, container_path: &str) -> PathBuf {
        let local = self.natural(container_path);
        if container_path.starts_with('/') && container_path.len() > 1 {
            self.insert(
                container_path.trim_end_matches('/').to_owned(),
                local.clone(),
            );
        }
        local
    }

    /// Declare a mount point backed by an arbitrary local directory (a volume).
    pub fn mount(&mut self, container_path: &str, local: PathBuf) {
        if container_path.starts_with('/') && container_path.len() > 1 {
            self.insert(container_path.trim_end_matches('/').to_owned(), local);
        }
    }

    fn insert(&mut self, path: String, local: PathBuf) {
        self.pairs.retain(|(p, _)| *p != path);
        self.pairs.push((path, local));
        self.pairs
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    }

    /// Where a container path lives locally: under a declared mount or path if one covers
    /// it, else under the node's root (absolute) or unchanged (relative).
    pub fn local(&self, container_path: &str) -> PathBuf {
        for (path, local) in &self.pairs {
            if let Some(rest) = container_path.strip_prefix(path.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                let rest = rest.trim_start_matches('/');
                // `join("")` would add a trailing slash, which makes a file look like a
                // directory.
                return if rest.is_empty() {
                    local.clone()
                } else {
                    local.join(rest)
                };
            }
        }
        self.natural(container_path)
    }

    fn natural(&self, container_path: &str) -> PathBuf {
        match container_path.strip_prefix('/') {
            Some(rest) => self.fs_root.join(rest),
            None => PathBuf::from(container_path),
        }
    }

    /// The node's root for absolute paths.
    pub fn fs_root(&self) -> &Path {
        &self.fs_root
    }

    /// Replace each declared path (or a path below it) in `text` by its local place. A
    /// match must stand alone: `/tmp/out` is not replaced inside `/tmp/output` or
    /// `/x/tmp/out`.
    pub fn apply(&self, text: &str) -> String {
        if self.pairs.is_empty() || !text.contains('/') {
            return text.to_owned();
        }
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len() + 64);
        let mut copied = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'/' && (i == 0 || !is_path_byte(bytes[i - 1]) && bytes[i - 1] != b'/') {
                let hit = self.pairs.iter().find(|(path, _)| {
                    text[i..].starts_with(path.as_str())
                        && bytes
                            .get(i + path.len())
                            .is_none_or(|&next| !is_path_byte(next))
                });
                if let Some((path, local)) = hit {
                    out.push_str(&text[copied..i]);
                    out.push_str(&local.to_string_lossy());
                    i += path.len();
                    copied = i;
                    continue;
                }
            }
            i += 1;
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// Bytes that continue a path component (so a match ending before one is not a whole
/// path). `/` is not among them: a path below a declared directory is remapped too.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remap() -> Remap {
        let mut r = Remap::new("/node/fs");
        r.declare("/tmp/outputs/Output/data");
        r.declare("/tmp/out");
        r.mount("/mnt/data", PathBuf::from("/run/volumes/data"));
        r
    }

    #[test]
    fn declared_paths_and_paths_below_them_move() {
        let r = remap();
        assert_eq!(
            r.apply("mkdir -p \"$(dirname /tmp/outputs/Output/data)\" && echo 1 > /tmp/outputs/Output/data"),
            "mkdir -p \"$(dirname /node/fs/tmp/outputs/Output/data)\" && echo 1 > /node/fs/tmp/outputs/Output/data"
        );
        assert_eq!(r.apply("/tmp/out/model.bin"), "/node/fs/tmp/out/model.bin");
        assert_eq!(r.apply("cp x /mnt/data/y"), "cp x /run/volumes/data/y");
        assert_eq!(r.apply("--path=/tmp/out"), "--path=/node/fs/tmp/out");
    }

    #[test]
    fn partial_matches_are_left_alone() {
        let r = remap();
        assert_eq!(
            r.apply("/tmp/output /x/tmp/out /tmp/out.txt"),
            "/tmp/output /x/tmp/out /tmp/out.txt"
        );
        assert_eq!(r.apply("no paths here"), "no paths here");
    }

    #[test]
    fn local_places() {
        let r = remap();
        assert_eq!(r.local("/tmp/out/a"), PathBuf::from("/node/fs/tmp/out/a"));
        assert_eq!(
            r.local("/mnt/data/a/b"),
            PathBuf::from("/run/volumes/data/a/b")
        );
        assert_eq!(r.local("/etc/other"), PathBuf::from("/node/fs/etc/other"));
        assert_eq!(r.local("rel/file"), PathBuf::from("rel/file"));
    }
}
