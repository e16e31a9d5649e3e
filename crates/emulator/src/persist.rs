//! The `--state` file: loaded at start, written atomically after every change
//! (temporary file in the same folder, fsync, rename), so a kill at any moment
//! leaves the old or the new state, never a torn file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::EmulatorError;
use super::store::State;

/// Reads the state file; `None` when it does not exist.
pub fn load(path: &Path) -> Result<Option<State>, EmulatorError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(EmulatorError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| EmulatorError::StateCorrupt {
            path: path.to_path_buf(),
            source,
        })
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_string());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `state` to `path` atomically.
pub fn save(path: &Path, state: &State) -> Result<(), EmulatorError> {
    let write_err = |source| EmulatorError::Write {
        path: path.to_path_buf(),
        source,
    };
    let json = serde_json::to_vec_pretty(state).map_err(|e| write_err(std::io::Error::other(e)))?;
    let temp = temp_path(path);
    let mut file = fs::File::create(&temp).map_err(write_err)?;
    file.write_all(&json).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    drop(file);
    fs::rename(&temp, path).map_err(write_err)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = fs::File::open(dir)
    {
        // Best effort: makes the rename itself durable where the platform allows it.
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    #[test]
    fn save_then_load_round_trips_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("emu.json");
        assert!(load(&path).expect("load").is_none());
        let state = State::from_seed(&Seed::demo(), "demo", "2026-01-01T00:00:00Z").expect("seed");
        save(&path, &state).expect("save");
        assert_eq!(load(&path).expect("load"), Some(state));
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("emu.json")]);
    }

    #[test]
    fn a_torn_file_is_reported_not_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("emu.json");
        fs::write(&path, "{\"project_id\": ").expect("write");
        assert!(matches!(
            load(&path),
            Err(EmulatorError::StateCorrupt { .. })
        ));
    }
}
