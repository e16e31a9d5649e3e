//! The file-system side of the loader: which entries of a manifest folder are
//! read, and how, so that a hostile entry (a pull request can add any) is
//! refused quickly instead of hanging or exhausting memory.
//!
//! - Only regular files and folders are read. A symlink is followed when it
//!   resolves to one of those (git-sync publishes the tree through one; linked
//!   shared folders are common). A folder that leads back to one of its own
//!   ancestors (a symlink loop) is refused.
//! - A FIFO, socket or device named `*.yaml` / `*.yml` is refused by name from
//!   its metadata, without opening it (opening a FIFO blocks). Such entries with
//!   other names are not manifests and are skipped like any other file.
//! - Each file is at most [`MAX_FILE_BYTES`], all of them together at most
//!   [`MAX_FOLDER_BYTES`], and a walk visits at most [`MAX_ENTRIES`] entries;
//!   reads stop at the limit, so a file that grows (or `/dev/zero` swapped in
//!   after the check) cannot exceed it either.
//! - A file that is not UTF-8 is a diagnostic at the line of its first bad byte.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::error::{Diags, LoadError, Refusal};
use super::{PROJECT_FILE, Source};
use crate::model::Location;

/// Largest manifest file read, in bytes (2 MiB: tens of thousands of bindings).
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;
/// Largest total of all manifest files of a folder, in bytes.
pub const MAX_FOLDER_BYTES: u64 = 16 * 1024 * 1024;
/// Most entries (files and folders, manifests or not) a walk visits.
pub const MAX_ENTRIES: usize = 20_000;
/// Deepest folder nesting followed.
const MAX_DEPTH: usize = 32;

/// Every manifest file under `dir`, read and sorted by path.
pub(crate) fn read_folder(dir: &Path) -> Result<Vec<Source>, LoadError> {
    let mut walk = Walk::default();
    walk.folder(dir, 0)?;
    walk.files.sort();
    let mut diags = Diags::default();
    let mut sources = Vec::with_capacity(walk.files.len());
    let mut total = 0u64;
    for path in walk.files {
        let bytes = read_bounded(&path)?;
        total += bytes.len() as u64;
        if total > MAX_FOLDER_BYTES {
            return Err(refused(&path, Refusal::FolderTooLarge));
        }
        if let Some(source) = utf8(path, bytes, &mut diags) {
            sources.push(source);
        }
    }
    diags.finish(sources)
}

/// The project file `dir/apigsync.yaml`, when it exists, read with the same limits.
pub(crate) fn read_project_file(dir: &Path) -> Result<Option<Source>, LoadError> {
    let path = dir.join(PROJECT_FILE);
    let Some(meta) = metadata(&path)? else {
        return Ok(None);
    };
    check_file(&path, &meta)?;
    let bytes = read_bounded(&path)?;
    let mut diags = Diags::default();
    let source = utf8(path, bytes, &mut diags);
    diags.finish(source)
}

#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    entries: usize,
    bytes: u64,
    /// `(device, inode)` of each folder on the way down: a repeat is a loop.
    ancestors: Vec<(u64, u64)>,
}

impl Walk {
    fn folder(&mut self, dir: &Path, depth: usize) -> Result<(), LoadError> {
        let meta = std::fs::metadata(dir).map_err(|source| io(dir, source))?;
        let id = (meta.dev(), meta.ino());
        if self.ancestors.contains(&id) {
            return Err(refused(dir, Refusal::Loop));
        }
        if depth > MAX_DEPTH {
            return Err(refused(dir, Refusal::TooDeep { max: MAX_DEPTH }));
        }
        self.ancestors.push(id);
        let mut entries = std::fs::read_dir(dir)
            .map_err(|source| io(dir, source))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| io(dir, source))?;
        entries.sort();
        for path in entries {
            self.entries += 1;
            if self.entries > MAX_ENTRIES {
                return Err(refused(dir, Refusal::TooManyEntries { max: MAX_ENTRIES }));
            }
            self.entry(&path, depth)?;
        }
        self.ancestors.pop();
        Ok(())
    }

    fn entry(&mut self, path: &Path, depth: usize) -> Result<(), LoadError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') {
            return Ok(());
        }
        // stat, not open: follows symlinks, never blocks on a FIFO.
        let Some(meta) = metadata(path)? else {
            // A dangling symlink: nothing to read.
            return Ok(());
        };
        if meta.is_dir() {
            return self.folder(path, depth + 1);
        }
        if is_manifest_name(name) {
            check_file(path, &meta)?;
            self.bytes += meta.len();
            if self.bytes > MAX_FOLDER_BYTES {
                return Err(refused(path, Refusal::FolderTooLarge));
            }
            self.files.push(path.to_owned());
        }
        Ok(())
    }
}

fn is_manifest_name(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// The metadata of `path`, symlinks followed; `None` when nothing is there.
fn metadata(path: &Path) -> Result<Option<std::fs::Metadata>, LoadError> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.raw_os_error() == Some(ELOOP) => Err(refused(path, Refusal::Loop)),
        Err(source) => Err(io(path, source)),
    }
}

/// `ELOOP`: too many levels of symbolic links (a chain of links that loops).
#[cfg(target_os = "linux")]
const ELOOP: i32 = 40;
/// `ELOOP`: too many levels of symbolic links (a chain of links that loops).
#[cfg(not(target_os = "linux"))]
const ELOOP: i32 = 62;

/// A regular file within the size limit, or why not.
fn check_file(path: &Path, meta: &std::fs::Metadata) -> Result<(), LoadError> {
    let kind = meta.file_type();
    let special = if kind.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if !kind.is_file() {
        Some("not a regular file")
    } else {
        None
    };
    if let Some(kind) = special {
        return Err(refused(path, Refusal::NotAFile { kind }));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(refused(path, Refusal::FileTooLarge { size: meta.len() }));
    }
    Ok(())
}

/// The bytes of `path`, at most [`MAX_FILE_BYTES`] (more is refused, not truncated).
fn read_bounded(path: &Path) -> Result<Vec<u8>, LoadError> {
    let file = std::fs::File::open(path).map_err(|source| io(path, source))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| io(path, source))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(refused(
            path,
            Refusal::FileTooLarge {
                size: bytes.len() as u64,
            },
        ));
    }
    Ok(bytes)
}

/// The file as text; a diagnostic at the first byte that is not UTF-8 otherwise.
fn utf8(path: PathBuf, bytes: Vec<u8>, diags: &mut Diags) -> Option<Source> {
    match String::from_utf8(bytes) {
        Ok(text) => Some(Source { path, text }),
        Err(e) => {
            let bytes = e.as_bytes();
            let offset = e.utf8_error().valid_up_to();
            let before = &bytes[..offset];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            diags.push(
                Location::new(&path, line, column),
                format!(
                    "the file is not UTF-8 text: byte {offset} (0x{:02x}) is not valid UTF-8; \
                     save the file as UTF-8",
                    bytes[offset]
                ),
            );
            None
        }
    }
}

fn io(path: &Path, source: std::io::Error) -> LoadError {
    LoadError::Io {
        path: path.to_owned(),
        source,
    }
}

fn refused(path: &Path, why: Refusal) -> LoadError {
    LoadError::Refused {
        path: path.to_owned(),
        why,
    }
}
