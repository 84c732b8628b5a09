//! Local artifact store (ARGO-SEMANTICS §7).
//!
//! Output artifacts are kept in a directory tree that mirrors the default layout of an Argo
//! artifact repository, so that a run looks the same whichever backend executed it: the key
//! reported in a node's `outputs.artifacts[].s3.key` (and shown by the UI and the KFP API's
//! `read_artifact`) is `<workflow>/<pod>/<artifact>.tgz`, and the object under it is packed
//! the way Argo's executor packs what it uploads:
//!
//! ```text
//! <root>/
//!   my-wf-x7k2p/
//!     my-wf-x7k2p-train-1234567890/
//!       model.tgz        tar + gzip (default), or plain tar with `compressionLevel: 0`
//!       metrics          `archive: {none: {}}`: the file's bytes as is
//!       checkpoints/     `archive: {none: {}}` on a directory: the tree as is
//! ```
//!
//! As in Argo, a tarball holds one top-level entry named after the source's basename (`data`,
//! or `model/` followed by `model/a.bin`, ...), and loading detects the format from the
//! content (gzip magic, then the `ustar` magic of a tar header) rather than from the key, then
//! renames that single top-level entry to the consumer's path. Saving writes to a temporary
//! sibling and renames it into place, so a crash never leaves half an artifact under a key.
//! Unpacking refuses entries that would land outside the destination.
//!
//! Everything here is synchronous and streams file contents; the engine calls it on the
//! blocking pool. Permissions (`mode`) and symlinks are handled the Unix way.

use std::cell::Cell;
use std::fs::{self, File, Metadata};
use std::io::{self, BufRead, BufReader, BufWriter, Cursor, Read, Write};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Component, Path, PathBuf};
use std::process;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde_json::Value;

/// gzip level used when the template does not give one (Go's `gzip.DefaultCompression`).
pub const DEFAULT_GZIP_LEVEL: u32 = 6;

/// Buffer size for streaming archives to and from disk.
const BUF_SIZE: usize = 64 * 1024;

/// Size of a tar header block; the `ustar` magic sits at offset 257 in it.
const TAR_BLOCK: u64 = 512;

/// Errors of the artifact store. Each message names the key or path concerned, since it ends up
/// in a node's status message.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The output path was not written by the process: the caller honours `optional: true` or
    /// fails the node with phase `Error`.
    #[error("output artifact path {} does not exist", path.display())]
    Missing { path: PathBuf },
    /// The output path is a socket, device or FIFO.
    #[error("output artifact path {} is neither a file nor a directory", path.display())]
    NotFileOrDir { path: PathBuf },
    /// Nothing is stored under the key.
    #[error("artifact '{key}' not found in the store (no {})", path.display())]
    NotFound { key: String, path: PathBuf },
    /// The key is empty, absolute or has an empty, `.` or `..` component.
    #[error("invalid artifact key '{key}': {reason}")]
    InvalidKey { key: String, reason: &'static str },
    /// The template's `archive` field is malformed.
    #[error("invalid archive strategy {spec}: {reason}")]
    InvalidArchive { spec: String, reason: String },
    /// A valid Argo feature the local engine does not implement (`zip`).
    #[error("{what} is not supported by the local engine")]
    Unsupported { what: String },
    /// The stored object is truncated or not a readable archive.
    #[error("artifact '{key}' is not a valid archive: {}", render(.source))]
    Corrupt {
        key: String,
        #[source]
        source: io::Error,
    },
    /// An archive entry is absolute, has `..` or goes through a symlink.
    #[error("artifact '{key}' has an entry '{entry}' that would escape the destination")]
    UnsafeEntry { key: String, entry: String },
    /// Writing the unpacked artifact failed (disk full, permissions, ...).
    #[error("cannot unpack artifact '{key}' to {}: {}", dest.display(), render(.source))]
    Unpack {
        key: String,
        dest: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Any other filesystem failure.
    #[error("cannot {action} {}: {}", path.display(), render(.source))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// An io error and its causes, `: `-separated (the tar crate puts the useful part in the cause).
fn render(err: &io::Error) -> String {
    let mut out = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// Closure building [`ArtifactError::Io`] for `map_err`.
fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ArtifactError {
    let path = path.to_path_buf();
    move |source| ArtifactError::Io {
        action,
        path,
        source,
    }
}

/// Packing of an output artifact, from the template's `archive` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// tar + gzip at `level` (1-9): Argo's default.
    TarGz { level: u32 },
    /// Plain tar (`tar: {compressionLevel: 0}`), still keyed `.tgz` as Argo does.
    Tar,
    /// `none: {}`: a file's bytes, or a directory tree, stored as is.
    None,
}

impl Default for Archive {
    fn default() -> Self {
        Archive::TarGz {
            level: DEFAULT_GZIP_LEVEL,
        }
    }
}

impl Archive {
    /// Reads Argo's `ArchiveStrategy` (`{tar: {compressionLevel}}`, `{none: {}}`, `{zip: {}}`).
    /// Absent, `null` or `{}` means tar + gzip, as in Argo; `zip` is refused up front so the
    /// node fails with a clear message rather than producing an archive no consumer expects.
    pub fn from_spec(spec: Option<&Value>) -> Result<Archive, ArtifactError> {
        let invalid = |reason: String| ArtifactError::InvalidArchive {
            spec: spec.map(Value::to_string).unwrap_or_default(),
            reason,
        };
        let strategies = match spec {
            None | Some(Value::Null) => return Ok(Archive::default()),
            Some(Value::Object(map)) => map,
            Some(other) => return Err(invalid(format!("expected an object, got {other}"))),
        };
        let mut chosen = None;
        for (name, value) in strategies {
            // As with Go's nil pointers, `none: null` is the same as leaving `none` out.
            if value.is_null() {
                continue;
            }
            let archive = match name.as_str() {
                "none" if value.is_object() => Archive::None,
                "tar" => match value {
                    Value::Object(tar) => Self::tar_level(tar.get("compressionLevel"))
                        .map_err(|reason| invalid(reason.to_owned()))?,
                    _ => return Err(invalid("'tar' must be an object".to_owned())),
                },
                "zip" => {
                    return Err(ArtifactError::Unsupported {
                        what: "archive strategy 'zip'".to_owned(),
                    });
                }
                "none" => return Err(invalid("'none' must be an object".to_owned())),
                other => {
                    return Err(invalid(format!(
                        "unknown strategy '{other}' (expected tar, none or zip)"
                    )));
                }
            };
            if chosen.replace(archive).is_some() {
                return Err(invalid("more than one strategy is set".to_owned()));
            }
        }
        Ok(chosen.unwrap_or_default())
    }

    /// `compressionLevel`: absent or -1 = default gzip, 0 = no gzip, 1-9 = gzip level.
    fn tar_level(level: Option<&Value>) -> Result<Archive, &'static str> {
        let Some(level) = level.filter(|v| !v.is_null()) else {
            return Ok(Archive::default());
        };
        match level.as_i64() {
            Some(-1) => Ok(Archive::default()),
            Some(0) => Ok(Archive::Tar),
            Some(n @ 1..=9) => Ok(Archive::TarGz {
                level: u32::try_from(n).map_err(|_| "compressionLevel is out of range")?,
            }),
            _ => Err("compressionLevel must be an integer from -1 to 9"),
        }
    }
}

/// A directory holding artifacts under Argo's key layout.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: PathBuf,
}

/// What [`ArtifactStore::save`] stored: the key to report in the node's outputs, and the
/// stored size in bytes (the archive's, or the sum of the files of an unarchived tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key: String,
    pub size: u64,
}

impl ArtifactStore {
    /// A store rooted at `root` (created on first save).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ArtifactStore { root: root.into() }
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<workflow>/<pod>/<name>.tgz` (or without extension for `Archive::None`): Argo's default
    /// key, `.tgz` even for an uncompressed tar as Argo names it.
    pub fn key_for(workflow: &str, pod: &str, name: &str, archive: Archive) -> String {
        match archive {
            Archive::None => format!("{workflow}/{pod}/{name}"),
            Archive::Tar | Archive::TarGz { .. } => format!("{workflow}/{pod}/{name}.tgz"),
        }
    }

    /// Absolute path of a key, refusing keys that would leave the root (keys may come from a
    /// user's `s3.key`, so they are never trusted).
    pub fn path_of(&self, key: &str) -> Result<PathBuf, ArtifactError> {
        check_key(key).map_err(|reason| ArtifactError::InvalidKey {
            key: key.to_owned(),
            reason,
        })?;
        Ok(self.root.join(key))
    }

    /// Pack `source` (file or directory) under `key`; writes to a temp file then renames so a
    /// crash leaves no half artifact. A missing `source` gives [`ArtifactError::Missing`], so
    /// the caller can honour `optional: true`.
    pub fn save(
        &self,
        key: &str,
        source: &Path,
        archive: Archive,
    ) -> Result<Stored, ArtifactError> {
        let target = self.path_of(key)?;
        // Follows a symlink at the top: the artifact is what the path points to.
        let meta = match fs::metadata(source) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(ArtifactError::Missing {
                    path: source.to_path_buf(),
                });
            }
            Err(err) => return Err(io_err("read output artifact", source)(err)),
        };
        if !meta.is_file() && !meta.is_dir() {
            return Err(ArtifactError::NotFileOrDir {
                path: source.to_path_buf(),
            });
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
        }
        let temp = TempPath::next_to(&target);
        let size = match archive {
            Archive::None if meta.is_dir() => copy_tree(source, temp.path())?,
            Archive::None => {
                let size = fs::copy(source, temp.path())
                    .map_err(io_err("copy output artifact", source))?;
                sync(temp.path())?;
                size
            }
            Archive::Tar | Archive::TarGz { .. } => {
                pack(source, &meta, temp.path(), archive)?;
                fs::metadata(temp.path())
                    .map_err(io_err("read", temp.path()))?
                    .len()
            }
        };
        temp.persist(&target)?;
        Ok(Stored {
            key: key.to_owned(),
            size,
        })
    }

    /// Unpack the object at `key` to `dest`: a tarball's single top-level entry becomes `dest`
    /// whatever its name (several entries: `dest` is a directory holding them), anything else is
    /// copied as is. `mode` is applied to the file, or to each file of a directory. Whatever was
    /// at `dest` is replaced.
    pub fn load(&self, key: &str, dest: &Path, mode: Option<u32>) -> Result<(), ArtifactError> {
        let path = self.path_of(key)?;
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(ArtifactError::NotFound {
                    key: key.to_owned(),
                    path,
                });
            }
            Err(err) => return Err(io_err("read artifact", &path)(err)),
        };
        create_parent(dest)?;
        if meta.is_dir() {
            let temp = TempPath::next_to(dest);
            copy_tree(&path, temp.path())?;
            temp.persist(dest)?;
        } else {
            load_file(key, &path, dest)?;
        }
        if let Some(mode) = mode {
            apply_mode(dest, mode)?;
        }
        Ok(())
    }

    /// Remove everything stored for a workflow (the `<workflow>/` prefix), as when a run is
    /// deleted. Deleting a workflow that stored nothing is not an error.
    pub fn delete_workflow(&self, workflow: &str) -> Result<(), ArtifactError> {
        if workflow.contains('/') {
            return Err(ArtifactError::InvalidKey {
                key: workflow.to_owned(),
                reason: "a workflow name has no '/'",
            });
        }
        let dir = self.path_of(workflow)?;
        match fs::remove_dir_all(&dir) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                Err(io_err("delete artifacts in", &dir)(err))
            }
            _ => Ok(()),
        }
    }
}

/// Write an inline (`raw: {data}`) artifact to `dest` as is, with `mode` if given.
pub fn write_raw(dest: &Path, data: &str, mode: Option<u32>) -> Result<(), ArtifactError> {
    create_parent(dest)?;
    let temp = TempPath::next_to(dest);
    fs::write(temp.path(), data).map_err(io_err("write", temp.path()))?;
    if let Some(mode) = mode {
        set_mode(temp.path(), mode)?;
    }
    temp.persist(dest)
}

/// Why `key` is not a safe relative path under the root, if it is not.
fn check_key(key: &str) -> Result<(), &'static str> {
    if key.is_empty() {
        return Err("the key is empty");
    }
    if key.starts_with('/') {
        return Err("the key is an absolute path");
    }
    if key.contains('\0') {
        return Err("the key contains a NUL byte");
    }
    for part in key.split('/') {
        match part {
            "" => return Err("the key has an empty path component"),
            "." | ".." => return Err("the key has a '.' or '..' component"),
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Saving

/// Write the tarball of `source` (a file or directory) to `out`.
fn pack(source: &Path, meta: &Metadata, out: &Path, archive: Archive) -> Result<(), ArtifactError> {
    let name = entry_name(source);
    let file = File::create(out).map_err(io_err("create", out))?;
    let buffered = BufWriter::with_capacity(BUF_SIZE, file);
    let buffered = match archive {
        Archive::TarGz { level } => {
            let gz = GzEncoder::new(buffered, Compression::new(level.min(9)));
            let gz = write_tar(gz, source, meta, &name)?;
            gz.finish().map_err(io_err("write", out))?
        }
        Archive::Tar | Archive::None => write_tar(buffered, source, meta, &name)?,
    };
    let file = buffered
        .into_inner()
        .map_err(|err| io_err("write", out)(err.into_error()))?;
    file.sync_all().map_err(io_err("write", out))
}

/// The top-level entry's name: the source's basename, as Argo's `filepath.Base`.
fn entry_name(source: &Path) -> PathBuf {
    source
        .file_name()
        .map(PathBuf::from)
        .or_else(|| {
            source
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(PathBuf::from))
        })
        .unwrap_or_else(|| PathBuf::from("artifact"))
}

/// Tar `source` into `out` under `name`. Symlinks inside a directory are stored as symlinks
/// (as Argo's `tarDir` does), never followed, so a link cannot pull in files from elsewhere.
fn write_tar<W: Write>(
    out: W,
    source: &Path,
    meta: &Metadata,
    name: &Path,
) -> Result<W, ArtifactError> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let written = if meta.is_dir() {
        builder
            .append_dir(dir_name(name), source)
            .map_err(io_err("pack", source))
            .and_then(|()| append_children(&mut builder, source, name))
    } else {
        File::open(source)
            .and_then(|mut file| builder.append_file(name, &mut file))
            .map_err(io_err("pack", source))
    };
    written?;
    builder.into_inner().map_err(io_err("pack", source))
}

/// Append the contents of directory `dir` under `name`, in name order so that equal trees give
/// equal archives (Go's `filepath.Walk` is lexical too).
fn append_children<W: Write>(
    builder: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
) -> Result<(), ArtifactError> {
    for entry in sorted_entries(dir)? {
        let path = entry.path();
        let entry_name = name.join(entry.file_name());
        let file_type = entry.file_type().map_err(io_err("read", &path))?;
        if file_type.is_dir() {
            builder
                .append_dir(dir_name(&entry_name), &path)
                .map_err(io_err("pack", &path))?;
            append_children(builder, &path, &entry_name)?;
        } else {
            // Files, symlinks (kept as links: follow_symlinks is off) and special files.
            builder
                .append_path_with_name(&path, &entry_name)
                .map_err(io_err("pack", &path))?;
        }
    }
    Ok(())
}

/// A directory's entry name, with the trailing `/` tar tools write (`model/`).
fn dir_name(name: &Path) -> PathBuf {
    let mut name = name.as_os_str().to_owned();
    name.push("/");
    PathBuf::from(name)
}

/// The entries of `dir`, sorted by name.
fn sorted_entries(dir: &Path) -> Result<Vec<fs::DirEntry>, ArtifactError> {
    let mut entries = fs::read_dir(dir)
        .and_then(|it| it.collect::<io::Result<Vec<_>>>())
        .map_err(io_err("read directory", dir))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    Ok(entries)
}

/// Copy the tree at `src` to the new directory `dst`: files with their permissions, symlinks as
/// symlinks (never followed), sockets and FIFOs skipped. Returns the bytes of files copied.
fn copy_tree(src: &Path, dst: &Path) -> Result<u64, ArtifactError> {
    fs::create_dir(dst).map_err(io_err("create directory", dst))?;
    let mut size = 0;
    for entry in sorted_entries(src)? {
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let file_type = entry.file_type().map_err(io_err("read", &from))?;
        if file_type.is_dir() {
            size += copy_tree(&from, &to)?;
        } else if file_type.is_symlink() {
            let target = fs::read_link(&from).map_err(io_err("read link", &from))?;
            symlink(&target, &to).map_err(io_err("create link", &to))?;
        } else if file_type.is_file() {
            size += fs::copy(&from, &to).map_err(io_err("copy", &from))?;
        }
    }
    // Permissions last, so a read-only source directory can still be filled.
    let perms = fs::metadata(src)
        .map_err(io_err("read", src))?
        .permissions();
    fs::set_permissions(dst, perms).map_err(io_err("set permissions of", dst))?;
    Ok(size)
}

/// Flush a written file to disk before it is renamed into place.
fn sync(path: &Path) -> Result<(), ArtifactError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io_err("write", path))
}

// ---------------------------------------------------------------------------------------------
// Loading

/// Load a stored file to `dest`: unpack it if its first bytes are a (gzipped) tar header, as
/// Argo's `isTarball` decides, else copy it as is.
fn load_file(key: &str, path: &Path, dest: &Path) -> Result<(), ArtifactError> {
    let corrupt = |source| ArtifactError::Corrupt {
        key: key.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_err("open artifact", path))?;
    let mut reader = BufReader::with_capacity(BUF_SIZE, file);
    let is_gzip = reader
        .fill_buf()
        .map_err(io_err("read artifact", path))?
        .starts_with(&[0x1f, 0x8b]);
    if is_gzip {
        let mut gz = MultiGzDecoder::new(reader);
        let head = read_head(&mut gz).map_err(corrupt)?;
        if is_tar_header(&head) {
            return unpack(key, Cursor::new(head).chain(gz), dest);
        }
    } else {
        let head = read_head(&mut reader).map_err(io_err("read artifact", path))?;
        if is_tar_header(&head) {
            return unpack(key, Cursor::new(head).chain(reader), dest);
        }
    }
    // Not a tarball (a `none` artifact, possibly itself a .gz file): copied byte for byte.
    let temp = TempPath::next_to(dest);
    fs::copy(path, temp.path()).map_err(io_err("copy artifact", path))?;
    temp.persist(dest)
}

/// Up to one tar block from the start of `reader`.
fn read_head(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(TAR_BLOCK as usize);
    reader.take(TAR_BLOCK).read_to_end(&mut head)?;
    Ok(head)
}

/// Whether `block` is a POSIX or GNU tar header (`ustar` magic at offset 257).
fn is_tar_header(block: &[u8]) -> bool {
    block.len() == TAR_BLOCK as usize && block.get(257..262) == Some(b"ustar".as_slice())
}

/// Unpack a tar stream to `dest` as Argo's executor does: extract into a temporary directory
/// beside `dest`, then rename its single top-level entry to `dest` (or the directory itself if
/// there are several).
fn unpack(key: &str, reader: impl Read, dest: &Path) -> Result<(), ArtifactError> {
    let temp = TempPath::next_to(dest);
    fs::create_dir(temp.path()).map_err(io_err("create directory", temp.path()))?;
    let ended = Rc::new(Cell::new(false));
    let mut archive = tar::Archive::new(Tracked {
        inner: reader,
        ended: Rc::clone(&ended),
    });
    let corrupt = |source| ArtifactError::Corrupt {
        key: key.to_owned(),
        source,
    };
    let root = temp.path();
    // Directories last (deepest first), so a read-only directory does not block its contents;
    // they are created on demand meanwhile. This is what `tar::Archive::unpack` does.
    let mut directories = Vec::new();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let unsafe_entry = |entry: &tar::Entry<'_, _>| ArtifactError::UnsafeEntry {
            key: key.to_owned(),
            entry: String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
        };
        let Some(relative) = entry.path().ok().as_deref().and_then(safe_relative) else {
            return Err(unsafe_entry(&entry));
        };
        if relative.as_os_str().is_empty() {
            continue; // `./`
        }
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                directories.push((entry, relative));
                continue;
            }
            tar::EntryType::Link => {
                let target = entry.link_name().ok().flatten();
                if target.as_deref().and_then(safe_relative).is_none() {
                    return Err(unsafe_entry(&entry));
                }
            }
            tar::EntryType::Regular
            | tar::EntryType::Continuous
            | tar::EntryType::GNUSparse
            | tar::EntryType::Symlink => {}
            // Devices, FIFOs, global headers: nothing a consumer needs, as in Argo's untar.
            _ => continue,
        }
        if through_symlink(root, &relative) {
            return Err(unsafe_entry(&entry));
        }
        let unpacked = entry
            .unpack_in(root)
            .map_err(|err| unpack_failed(key, dest, &relative, ended.get(), err))?;
        if !unpacked {
            return Err(unsafe_entry(&entry));
        }
    }
    directories.sort_by(|(a, _), (b, _)| b.path_bytes().cmp(&a.path_bytes()));
    for (mut entry, relative) in directories {
        let unpacked = !through_symlink(root, &relative)
            && entry
                .unpack_in(root)
                .map_err(|err| unpack_failed(key, dest, &relative, ended.get(), err))?;
        if !unpacked {
            return Err(ArtifactError::UnsafeEntry {
                key: key.to_owned(),
                entry: relative.display().to_string(),
            });
        }
    }
    let mut top = fs::read_dir(root)
        .and_then(|it| it.collect::<io::Result<Vec<_>>>())
        .map_err(io_err("read directory", root))?;
    match top.pop() {
        Some(single) if top.is_empty() => replace(&single.path(), dest),
        _ => temp.persist(dest),
    }
}

/// The error for an entry that could not be written: the archive's fault if its stream broke
/// or ran out early (truncated), else the destination's (disk full, permissions, ...).
fn unpack_failed(
    key: &str,
    dest: &Path,
    entry: &Path,
    stream_ended: bool,
    err: io::Error,
) -> ArtifactError {
    use io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
    let kind = err.kind();
    if matches!(kind, UnexpectedEof | InvalidData | InvalidInput) || stream_ended {
        // The tar crate's message names our temporary directory: only the cause matters.
        let reason = if matches!(kind, InvalidData | InvalidInput) || !stream_ended {
            root_cause(&err)
        } else {
            "the archive ends early".to_owned()
        };
        ArtifactError::Corrupt {
            key: key.to_owned(),
            source: io::Error::new(kind, format!("entry '{}': {reason}", entry.display())),
        }
    } else {
        ArtifactError::Unpack {
            key: key.to_owned(),
            dest: dest.to_path_buf(),
            source: err,
        }
    }
}

/// The innermost cause of an io error.
fn root_cause(err: &io::Error) -> String {
    let mut last: &dyn std::error::Error = err;
    while let Some(cause) = last.source() {
        last = cause;
    }
    last.to_string()
}

/// `path` without `.` components, or `None` if it is absolute or has `..`.
fn safe_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Whether writing `relative` under `root` would go through a symlink already unpacked: a tree
/// tarred from disk never has entries below a link, and following one could leave `root`.
fn through_symlink(root: &Path, relative: &Path) -> bool {
    let mut path = root.to_path_buf();
    let Some(parent) = relative.parent() else {
        return false;
    };
    for part in parent.components() {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// A reader that notes when its stream failed or ended, to tell a truncated archive from a
/// failing destination.
struct Tracked<R> {
    inner: R,
    ended: Rc<Cell<bool>>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        if matches!(result, Ok(0) | Err(_)) && !buf.is_empty() {
            self.ended.set(true);
        }
        result
    }
}

/// Make sure `dest`'s parent directory exists.
fn create_parent(dest: &Path) -> Result<(), ArtifactError> {
    match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            fs::create_dir_all(parent).map_err(io_err("create directory", parent))
        }
        _ => Ok(()),
    }
}

/// Apply `mode` to `path`, or to every regular file below it if it is a directory (symlinks
/// are left alone so a link cannot redirect the change outside).
fn apply_mode(path: &Path, mode: u32) -> Result<(), ArtifactError> {
    let meta = fs::symlink_metadata(path).map_err(io_err("read", path))?;
    if meta.is_dir() {
        for entry in sorted_entries(path)? {
            let file_type = entry.file_type().map_err(io_err("read", &entry.path()))?;
            if file_type.is_dir() || file_type.is_file() {
                apply_mode(&entry.path(), mode)?;
            }
        }
        Ok(())
    } else if meta.is_file() {
        set_mode(path, mode)
    } else {
        Ok(())
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), ArtifactError> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
        .map_err(io_err("set permissions of", path))
}

/// Move `src` to `dest`, replacing whatever is there (a directory or, for a directory, a file
/// cannot be renamed over, so it is removed first).
fn replace(src: &Path, dest: &Path) -> Result<(), ArtifactError> {
    let src_is_dir = fs::symlink_metadata(src)
        .map(|m| m.is_dir())
        .unwrap_or(false);
    match fs::symlink_metadata(dest) {
        Ok(meta) if meta.is_dir() => {
            fs::remove_dir_all(dest).map_err(io_err("replace", dest))?;
        }
        Ok(_) if src_is_dir => fs::remove_file(dest).map_err(io_err("replace", dest))?,
        _ => {}
    }
    fs::rename(src, dest).map_err(io_err("move into place", dest))
}

// ---------------------------------------------------------------------------------------------
// Temporary siblings

/// Distinguishes the temporary paths of concurrent saves and loads in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file or directory beside its final path (same filesystem, so renaming it into
/// place is atomic), removed on drop unless persisted: an error or panic leaves nothing behind.
#[derive(Debug)]
struct TempPath {
    path: PathBuf,
    keep: bool,
}

impl TempPath {
    fn next_to(target: &Path) -> TempPath {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let file = format!(".{name}.tmp-{}-{n}", process::id());
        let path = match target.parent() {
            Some(parent) => parent.join(file),
            None => PathBuf::from(file),
        };
        TempPath { path, keep: false }
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Rename into place at `dest`.
    fn persist(mut self, dest: &Path) -> Result<(), ArtifactError> {
        replace(&self.path, dest)?;
        self.keep = true;
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        // Best effort: the path may not have been created.
        match fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.is_dir() => {
                let _ = fs::remove_dir_all(&self.path);
            }
            Ok(_) => {
                let _ = fs::remove_file(&self.path);
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn mode_of(path: &Path) -> io::Result<u32> {
        Ok(fs::metadata(path)?.permissions().mode() & 0o7777)
    }

    /// Entry names of a stored tarball (gzipped or not), in archive order.
    fn entry_names(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
        let bytes = fs::read(path)?;
        let reader: Box<dyn Read> = if bytes.starts_with(&[0x1f, 0x8b]) {
            Box::new(MultiGzDecoder::new(Cursor::new(bytes)))
        } else {
            Box::new(Cursor::new(bytes))
        };
        let mut archive = tar::Archive::new(reader);
        let mut names = Vec::new();
        for entry in archive.entries()? {
            names.push(String::from_utf8_lossy(&entry?.path_bytes()).into_owned());
        }
        Ok(names)
    }

    /// A tarball with one entry whose name is written as is (bypassing the tar crate's checks).
    fn tar_with_raw_name(
        name: &[u8],
        kind: tar::EntryType,
        link: Option<&str>,
    ) -> io::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_entry_type(kind);
        header.set_mode(0o644);
        if let Some(link) = link {
            header.set_link_name(link)?;
        }
        let data: &[u8] = if kind == tar::EntryType::Regular {
            b"evil"
        } else {
            b""
        };
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder.append(&header, data)?;
        builder.into_inner()
    }

    #[test]
    fn file_round_trip_keeps_content_and_mode() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        let source = tmp.path().join("out/data");
        fs::create_dir_all(tmp.path().join("out"))?;
        fs::write(&source, b"hello, artifact\n")?;
        fs::set_permissions(&source, fs::Permissions::from_mode(0o750))?;

        let key = ArtifactStore::key_for("wf", "wf-step-1", "data", Archive::default());
        let stored = store.save(&key, &source, Archive::default())?;
        assert_eq!(stored.key, "wf/wf-step-1/data.tgz");
        let object = store.path_of(&stored.key)?;
        assert_eq!(stored.size, fs::metadata(&object)?.len());
        assert!(fs::read(&object)?.starts_with(&[0x1f, 0x8b]));
        assert_eq!(entry_names(&object)?, ["data"]);

        let dest = tmp.path().join("in/deep/data");
        store.load(&key, &dest, None)?;
        assert_eq!(fs::read(&dest)?, b"hello, artifact\n");
        assert_eq!(mode_of(&dest)?, 0o750);

        store.load(&key, &dest, Some(0o755))?;
        assert_eq!(mode_of(&dest)?, 0o755);
        // No temporary sibling left behind.
        assert_eq!(fs::read_dir(tmp.path().join("in/deep"))?.count(), 1);
        assert_eq!(
            fs::read_dir(object.parent().ok_or("no parent")?)?.count(),
            1
        );
        Ok(())
    }

    #[test]
    fn directory_round_trip_with_nested_files() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        let model = tmp.path().join("model");
        fs::create_dir_all(model.join("sub/empty"))?;
        fs::write(model.join("a.bin"), [0u8, 1, 2, 255])?;
        fs::write(model.join("sub/b.txt"), "b")?;
        symlink("a.bin", model.join("link"))?;

        let stored = store.save("wf/pod/model.tgz", &model, Archive::default())?;
        assert_eq!(
            entry_names(&store.path_of(&stored.key)?)?,
            [
                "model/",
                "model/a.bin",
                "model/link",
                "model/sub/",
                "model/sub/b.txt",
                "model/sub/empty/"
            ]
        );

        let dest = tmp.path().join("consumer/input");
        store.load(&stored.key, &dest, Some(0o700))?;
        assert_eq!(fs::read(dest.join("a.bin"))?, [0u8, 1, 2, 255]);
        assert_eq!(fs::read_to_string(dest.join("sub/b.txt"))?, "b");
        assert!(dest.join("sub/empty").is_dir());
        assert_eq!(fs::read_link(dest.join("link"))?, Path::new("a.bin"));
        assert_eq!(mode_of(&dest.join("a.bin"))?, 0o700);
        assert_eq!(mode_of(&dest.join("sub/b.txt"))?, 0o700);
        assert!(!tmp.path().join("consumer/model").exists());
        Ok(())
    }

    #[test]
    fn single_file_tarball_becomes_the_destination() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        let source = tmp.path().join("table");
        fs::write(&source, "a,b\n1,2\n")?;
        store.save("wf/pod/table.tgz", &source, Archive::default())?;

        let dest = tmp.path().join("in/table.csv");
        // Whatever was there is replaced, even a directory.
        fs::create_dir_all(dest.join("old"))?;
        store.load("wf/pod/table.tgz", &dest, None)?;
        assert!(dest.is_file());
        assert_eq!(fs::read_to_string(&dest)?, "a,b\n1,2\n");
        assert_eq!(fs::read_dir(tmp.path().join("in"))?.count(), 1);
        Ok(())
    }

    #[test]
    fn tarball_with_several_top_level_entries_becomes_a_directory() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path());
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        for name in ["x", "y"] {
            let mut header = tar::Header::new_gnu();
            header.set_size(1);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, name.as_bytes())?;
        }
        fs::create_dir_all(tmp.path().join("wf/pod"))?;
        fs::write(
            tmp.path().join("wf/pod/two.tgz"),
            builder.into_inner()?.finish()?,
        )?;

        let dest = tmp.path().join("dest");
        store.load("wf/pod/two.tgz", &dest, None)?;
        assert_eq!(fs::read_to_string(dest.join("x"))?, "x");
        assert_eq!(fs::read_to_string(dest.join("y"))?, "y");
        Ok(())
    }

    #[test]
    fn none_stores_a_file_as_is() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        // A gzip file that is not a tarball must come back unchanged, not unpacked.
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(b"{\"loss\": 0.1}")?;
        let bytes = gz.finish()?;
        let source = tmp.path().join("metrics.json.gz");
        fs::write(&source, &bytes)?;

        let key = ArtifactStore::key_for("wf", "pod", "metrics", Archive::None);
        assert_eq!(key, "wf/pod/metrics");
        let stored = store.save(&key, &source, Archive::None)?;
        assert_eq!(stored.size, bytes.len() as u64);
        assert_eq!(fs::read(store.path_of(&key)?)?, bytes);

        let dest = tmp.path().join("in/m.gz");
        store.load(&key, &dest, Some(0o600))?;
        assert_eq!(fs::read(&dest)?, bytes);
        assert_eq!(mode_of(&dest)?, 0o600);
        Ok(())
    }

    #[test]
    fn none_stores_a_directory_as_a_tree() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        let source = tmp.path().join("ckpt");
        fs::create_dir_all(source.join("epoch1"))?;
        fs::write(source.join("epoch1/w.bin"), "weights")?;
        fs::write(source.join("index"), "1")?;

        let stored = store.save("wf/pod/ckpt", &source, Archive::None)?;
        assert_eq!(stored.size, 8);
        let object = store.path_of("wf/pod/ckpt")?;
        assert_eq!(fs::read_to_string(object.join("epoch1/w.bin"))?, "weights");

        // Saving again replaces the tree.
        fs::remove_file(source.join("index"))?;
        store.save("wf/pod/ckpt", &source, Archive::None)?;
        assert!(!object.join("index").exists());

        let dest = tmp.path().join("in/ckpt");
        store.load("wf/pod/ckpt", &dest, Some(0o640))?;
        assert_eq!(fs::read_to_string(dest.join("epoch1/w.bin"))?, "weights");
        assert_eq!(mode_of(&dest.join("epoch1/w.bin"))?, 0o640);
        Ok(())
    }

    #[test]
    fn uncompressed_tar_round_trip() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        let source = tmp.path().join("data");
        fs::write(&source, "plain")?;
        let archive = Archive::from_spec(Some(&json!({"tar": {"compressionLevel": 0}})))?;
        assert_eq!(archive, Archive::Tar);
        let key = ArtifactStore::key_for("wf", "pod", "data", archive);
        assert_eq!(key, "wf/pod/data.tgz");
        store.save(&key, &source, archive)?;
        let bytes = fs::read(store.path_of(&key)?)?;
        assert_eq!(&bytes[257..262], b"ustar");

        let dest = tmp.path().join("copy");
        store.load(&key, &dest, None)?;
        assert_eq!(fs::read_to_string(&dest)?, "plain");
        Ok(())
    }

    #[test]
    fn archive_spec() -> TestResult {
        let gz = |level| Archive::TarGz { level };
        assert_eq!(Archive::from_spec(None)?, gz(6));
        assert_eq!(Archive::from_spec(Some(&Value::Null))?, gz(6));
        assert_eq!(Archive::from_spec(Some(&json!({})))?, gz(6));
        assert_eq!(Archive::from_spec(Some(&json!({"tar": {}})))?, gz(6));
        assert_eq!(
            Archive::from_spec(Some(&json!({"tar": {"compressionLevel": -1}})))?,
            gz(6)
        );
        assert_eq!(
            Archive::from_spec(Some(&json!({"tar": {"compressionLevel": 9}})))?,
            gz(9)
        );
        assert_eq!(
            Archive::from_spec(Some(&json!({"none": {}})))?,
            Archive::None
        );
        assert_eq!(
            Archive::from_spec(Some(&json!({"none": null, "tar": {}})))?,
            gz(6)
        );
        let err = Archive::from_spec(Some(&json!({"zip": {}})))
            .err()
            .ok_or("zip accepted")?;
        assert!(matches!(err, ArtifactError::Unsupported { .. }));
        assert_eq!(
            err.to_string(),
            "archive strategy 'zip' is not supported by the local engine"
        );
        for bad in [
            json!({"tar": {"compressionLevel": 10}}),
            json!({"tar": {"compressionLevel": "5"}}),
            json!({"tar": {}, "none": {}}),
            json!({"gzip": {}}),
            json!("tar"),
        ] {
            let err = Archive::from_spec(Some(&bad)).err().ok_or("accepted")?;
            assert!(
                matches!(err, ArtifactError::InvalidArchive { .. }),
                "{bad}: {err}"
            );
        }
        Ok(())
    }

    #[test]
    fn gzip_level_changes_only_the_size() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        let source = tmp.path().join("text");
        fs::write(&source, "abcdefgh".repeat(10_000))?;
        let fast = store.save("wf/p/fast.tgz", &source, Archive::TarGz { level: 1 })?;
        let best = store.save("wf/p/best.tgz", &source, Archive::TarGz { level: 9 })?;
        assert!(best.size <= fast.size);
        store.load("wf/p/fast.tgz", &tmp.path().join("out"), None)?;
        assert_eq!(fs::read(tmp.path().join("out"))?, fs::read(&source)?);
        Ok(())
    }

    #[test]
    fn key_layout_and_paths() -> TestResult {
        let store = ArtifactStore::new("/var/store");
        assert_eq!(store.root(), Path::new("/var/store"));
        let gz = Archive::default();
        assert_eq!(
            ArtifactStore::key_for("wf-1", "wf-1-train-42", "model", gz),
            "wf-1/wf-1-train-42/model.tgz"
        );
        assert_eq!(
            ArtifactStore::key_for("wf-1", "wf-1", "m", Archive::None),
            "wf-1/wf-1/m"
        );
        assert_eq!(
            store.path_of("wf-1/pod/model.tgz")?,
            Path::new("/var/store/wf-1/pod/model.tgz")
        );
        Ok(())
    }

    #[test]
    fn escaping_keys_are_rejected() {
        let store = ArtifactStore::new("/var/store");
        for key in [
            "",
            "/etc/passwd",
            "../x",
            "wf/../../x",
            "wf/..",
            "wf//a",
            "wf/./a",
            "wf/a/",
            "a\0b",
        ] {
            let err = store.path_of(key).err();
            assert!(
                matches!(err, Some(ArtifactError::InvalidKey { .. })),
                "{key:?}: {err:?}"
            );
        }
        let err = store
            .save("../x.tgz", Path::new("/nonexistent"), Archive::None)
            .err();
        assert!(matches!(err, Some(ArtifactError::InvalidKey { .. })));
        let err = store.load("/abs", Path::new("/tmp/x"), None).err();
        assert!(matches!(err, Some(ArtifactError::InvalidKey { .. })));
    }

    #[test]
    fn missing_source_is_distinct() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        let source = tmp.path().join("x/y");
        let err = store
            .save("wf/pod/y.tgz", &source, Archive::default())
            .err()
            .ok_or("saved")?;
        assert!(matches!(&err, ArtifactError::Missing { path } if *path == source));
        assert_eq!(
            err.to_string(),
            format!("output artifact path {} does not exist", source.display())
        );
        assert!(!store.path_of("wf/pod/y.tgz")?.exists());

        let err = store
            .load("wf/pod/none.tgz", &tmp.path().join("d"), None)
            .err();
        assert!(matches!(err, Some(ArtifactError::NotFound { .. })));
        Ok(())
    }

    #[test]
    fn corrupt_archives_give_an_error_naming_the_key() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        fs::create_dir_all(tmp.path().join("store/wf/pod"))?;
        // gzip magic followed by garbage.
        fs::write(
            store.path_of("wf/pod/bad.tgz")?,
            [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xfe, 0xfd],
        )?;
        let err = store
            .load("wf/pod/bad.tgz", &tmp.path().join("d"), None)
            .err()
            .ok_or("loaded")?;
        assert!(matches!(err, ArtifactError::Corrupt { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("artifact 'wf/pod/bad.tgz' is not a valid archive: "),
            "{err}"
        );

        // A truncated tarball.
        let source = tmp.path().join("big");
        let content: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        fs::write(&source, &content)?;
        for archive in [Archive::default(), Archive::Tar] {
            store.save("wf/pod/big.tgz", &source, archive)?;
            let object = store.path_of("wf/pod/big.tgz")?;
            let bytes = fs::read(&object)?;
            fs::write(&object, &bytes[..bytes.len() / 2])?;
            let dest = tmp.path().join("in/big");
            let err = store
                .load("wf/pod/big.tgz", &dest, None)
                .err()
                .ok_or("loaded")?;
            assert!(matches!(err, ArtifactError::Corrupt { .. }), "{err}");
            assert!(err.to_string().contains("'wf/pod/big.tgz'"), "{err}");
            assert!(!dest.exists());
            assert_eq!(
                fs::read_dir(tmp.path().join("in"))?.count(),
                0,
                "temp dir left"
            );
        }
        Ok(())
    }

    #[test]
    fn escaping_entries_are_rejected() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        fs::create_dir_all(tmp.path().join("store/wf/pod"))?;
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&outside)?;
        let cases = [
            (
                "parent.tgz",
                tar_with_raw_name(b"../evil", tar::EntryType::Regular, None)?,
            ),
            (
                "absolute.tgz",
                tar_with_raw_name(
                    format!("{}/evil", outside.display()).as_bytes(),
                    tar::EntryType::Regular,
                    None,
                )?,
            ),
            (
                "hardlink.tgz",
                tar_with_raw_name(b"link", tar::EntryType::Link, Some("../../outside/evil"))?,
            ),
        ];
        for (name, bytes) in cases {
            let key = format!("wf/pod/{name}");
            fs::write(store.path_of(&key)?, bytes)?;
            let dest = tmp.path().join("in/dest");
            let err = store.load(&key, &dest, None).err().ok_or("loaded")?;
            assert!(
                matches!(err, ArtifactError::UnsafeEntry { .. }),
                "{name}: {err}"
            );
            assert!(err.to_string().contains(&key), "{err}");
            assert!(!dest.exists());
        }

        // A symlink out of the tree, then a file written through it.
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        builder.append_link(&mut header, "d/out", &outside)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(4);
        header.set_mode(0o644);
        builder.append_data(&mut header, "d/out/evil", b"evil".as_slice())?;
        fs::write(store.path_of("wf/pod/symlink.tgz")?, builder.into_inner()?)?;
        let err = store
            .load("wf/pod/symlink.tgz", &tmp.path().join("in/dest"), None)
            .err();
        assert!(
            matches!(err, Some(ArtifactError::UnsafeEntry { .. })),
            "{err:?}"
        );
        assert_eq!(fs::read_dir(&outside)?.count(), 0);
        assert!(!tmp.path().join("evil").exists());
        Ok(())
    }

    #[test]
    fn write_raw_writes_data_with_mode() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let dest = tmp.path().join("a/b/script.sh");
        write_raw(&dest, "#!/bin/sh\necho hi\n", Some(0o755))?;
        assert_eq!(fs::read_to_string(&dest)?, "#!/bin/sh\necho hi\n");
        assert_eq!(mode_of(&dest)?, 0o755);
        write_raw(&dest, "again", None)?;
        assert_eq!(fs::read_to_string(&dest)?, "again");
        Ok(())
    }

    #[test]
    fn delete_workflow_removes_its_prefix_only() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let store = ArtifactStore::new(tmp.path().join("store"));
        let source = tmp.path().join("f");
        fs::write(&source, "x")?;
        store.save("wf1/p1/a.tgz", &source, Archive::default())?;
        store.save("wf1/p2/b", &source, Archive::None)?;
        store.save("wf10/p1/a.tgz", &source, Archive::default())?;

        store.delete_workflow("wf1")?;
        assert!(!store.path_of("wf1")?.exists());
        assert!(store.path_of("wf10/p1/a.tgz")?.exists());
        store.delete_workflow("wf1")?;
        store.delete_workflow("never-ran")?;
        for bad in ["", "..", "wf10/p1", "/"] {
            let err = store.delete_workflow(bad).err();
            assert!(
                matches!(err, Some(ArtifactError::InvalidKey { .. })),
                "{bad:?}"
            );
        }
        assert!(store.path_of("wf10/p1/a.tgz")?.exists());
        Ok(())
    }
}
