//! Paths a container expects, moved into its node's directory.
//!
//! A pod has a filesystem of its own; a process shares the host's. So every path a
//! template declares (input and output artifacts, output parameter files) gets a place in
//! the node's directory, and the same replacement is applied to the command, arguments,
//! environment and script source. Workflows written for pods, KFP v1 SDK output included
//! (`/tmp/outputs/<name>/data`), then run unchanged, and two nodes writing the "same" path
//! never collide. Volume mounts map to directories shared by the whole run.
//!
//! The layout is flat: `/tmp/outputs/model/data` becomes `<node>/tmp_outputs_model_data`
//! (its parent, the node's directory, always exists, so `mkdir -p "$(dirname ..)"` and
//! plain writes both work). A tree mirroring each path would cost a directory per path
//! component, and creating inodes is most of what starting a tiny task costs on ext4:
//! the flat layout keeps a task to one directory, its log and the files it writes.

use std::path::{Path, PathBuf};

/// Names the engine itself keeps in a node's directory.
pub const RESERVED: [&str; 2] = ["main.log", ".script"];

/// Declared container paths and where they live on this machine.
#[derive(Debug, Clone, Default)]
pub struct Remap {
    /// (container path, local path), longest container path first.
    pairs: Vec<(String, PathBuf)>,
    /// The node's directory.
    node_dir: PathBuf,
}

impl Remap {
    /// A remapping that places declared paths in `node_dir`.
    pub fn new(node_dir: impl Into<PathBuf>) -> Self {
        Remap {
            pairs: Vec::new(),
            node_dir: node_dir.into(),
        }
    }

    /// Declare a container path and return where it lives locally. A path below one
    /// already declared stays below it (declare shorter paths first); relative paths are
    /// relative to the working directory (the node's directory) and stay as they are.
    pub fn declare(&mut self, container_path: &str) -> PathBuf {
        let path = container_path.trim_end_matches('/');
        if !path.starts_with('/') || path.is_empty() {
            return self.node_dir.join(container_path);
        }
        if let Some(local) = self.covered(path) {
            return local;
        }
        let flat = path.trim_start_matches('/').replace('/', "_");
        let mut local = self.node_dir.join(&flat);
        let mut n = 1;
        while self.pairs.iter().any(|(_, l)| *l == local)
            || RESERVED.iter().any(|r| local.ends_with(r))
        {
            local = self.node_dir.join(format!("{flat}_{n}"));
            n += 1;
        }
        self.insert(path.to_owned(), local.clone());
        local
    }

    /// Declare a mount point backed by a local directory (a volume, the working dir).
    pub fn mount(&mut self, container_path: &str, local: PathBuf) {
        let path = container_path.trim_end_matches('/');
        if path.starts_with('/') && !path.is_empty() {
            self.insert(path.to_owned(), local);
        }
    }

    fn insert(&mut self, path: String, local: PathBuf) {
        self.pairs.retain(|(p, _)| *p != path);
        self.pairs.push((path, local));
        self.pairs
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    }

    /// The local place of a path equal to or below a declared one.
    fn covered(&self, path: &str) -> Option<PathBuf> {
        self.pairs.iter().find_map(|(declared, local)| {
            let rest = path.strip_prefix(declared.as_str())?;
            if rest.is_empty() {
                Some(local.clone())
            } else {
                rest.strip_prefix('/').map(|rest| local.join(rest))
            }
        })
    }

    /// Where a container path lives locally: under a declared path or mount if one covers
    /// it; otherwise (undeclared) the host path itself, as the text is left unchanged too.
    pub fn local(&self, container_path: &str) -> PathBuf {
        let path = container_path.trim_end_matches('/');
        if !container_path.starts_with('/') {
            return self.node_dir.join(container_path);
        }
        self.covered(path)
            .unwrap_or_else(|| PathBuf::from(container_path))
    }

    /// The node's directory.
    pub fn node_dir(&self) -> &Path {
        &self.node_dir
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
        let mut r = Remap::new("/node");
        r.declare("/tmp/out");
        r.declare("/tmp/outputs/Output/data");
        r.declare("/tmp/out/model.bin");
        r.mount("/mnt/data", PathBuf::from("/run/volumes/data"));
        r
    }

    #[test]
    fn declared_paths_and_paths_below_them_move() {
        let r = remap();
        assert_eq!(
            r.apply("mkdir -p \"$(dirname /tmp/outputs/Output/data)\" && echo 1 > /tmp/outputs/Output/data"),
            "mkdir -p \"$(dirname /node/tmp_outputs_Output_data)\" && echo 1 > /node/tmp_outputs_Output_data"
        );
        assert_eq!(r.apply("/tmp/out/model.bin"), "/node/tmp_out/model.bin");
        assert_eq!(r.apply("cp x /mnt/data/y"), "cp x /run/volumes/data/y");
        assert_eq!(r.apply("--path=/tmp/out"), "--path=/node/tmp_out");
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
        assert_eq!(r.local("/tmp/out/a"), PathBuf::from("/node/tmp_out/a"));
        assert_eq!(r.local("/tmp/out/"), PathBuf::from("/node/tmp_out"));
        assert_eq!(
            r.local("/mnt/data/a/b"),
            PathBuf::from("/run/volumes/data/a/b")
        );
        assert_eq!(r.local("/etc/other"), PathBuf::from("/etc/other"));
        assert_eq!(r.local("rel/file"), PathBuf::from("/node/rel/file"));
    }

    #[test]
    fn flat_names_never_collide() {
        let mut r = Remap::new("/node");
        let a = r.declare("/a/b");
        let b = r.declare("/a_b");
        assert_ne!(a, b);
        assert_eq!(r.declare("/a/b"), a);
        assert_eq!(r.declare("/main.log"), PathBuf::from("/node/main.log_1"));
    }
}
