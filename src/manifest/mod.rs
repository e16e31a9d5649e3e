//! The loader: a folder of YAML manifests into a validated [`crate::model::Desired`].
//!
//! [`load_dir`] and [`load_project`] are the only functions that touch the file
//! system, through `walk`: every `*.yaml` / `*.yml` file under the folder
//! (recursively, sorted, hidden entries such as `.git` skipped; FIFOs, devices,
//! symlink loops and oversize files refused before they are read) goes to the
//! pure [`parse_sources`], which does the rest:
//!
//! 1. `yaml`: each file into located trees (one per `---` document); anchors,
//!    aliases and merge keys bounded.
//! 2. `subst`: `${VAR}` / `${VAR:-default}` in every string (`$${` escapes);
//!    `typed`: a value that is exactly one reference becomes a number or a
//!    boolean where the model wants one.
//! 3. `project`: the project file `apigsync.yaml` at the root (target, options),
//!    bounds checked.
//! 4. `document`: each `kind: Plugin` / `kind: Binding` document, its content
//!    checked by [`crate::content::validate`] with issues mapped back to lines.
//! 5. `checks`: cross-document rules.
//!
//! Every problem of a load is reported together, each with file:line:col.

mod checks;
mod document;
mod error;
mod project;
mod schema;
pub mod subst;
mod typed;
mod walk;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use document::MAX_USER_REMARK;
pub use error::{Diagnostic, LoadError, Refusal};
pub use project::MAX_PARALLELISM;
pub use schema::json_schema;
pub use walk::{MAX_ENTRIES, MAX_FILE_BYTES, MAX_FOLDER_BYTES};

use crate::model::{Desired, Location, Options, ProjectFile};
use document::{Doc, Reader};
use error::Diags;

/// The name of the project file at the root of a manifest folder.
pub const PROJECT_FILE: &str = "apigsync.yaml";

/// One manifest file: its path (as shown in messages) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file, as it should appear in messages (e.g. `examples/manifests/cors.yaml`).
    pub path: PathBuf,
    /// Its content.
    pub text: String,
}

/// Reads and validates the manifest folder `dir`, substituting `${VAR}` from `env`.
/// Hostile entries (FIFOs, devices, symlink loops, oversize files) are refused
/// without being opened or read in full (see [`walk`]).
pub fn load_dir(dir: &Path, env: &BTreeMap<String, String>) -> Result<Desired, LoadError> {
    let sources = walk::read_folder(dir)?;
    parse_sources(&sources, env)
}

/// Reads the project file of `dir` alone (for commands that need only the target);
/// `None` when the folder has none.
pub fn load_project(
    dir: &Path,
    env: &BTreeMap<String, String>,
) -> Result<Option<ProjectFile>, LoadError> {
    walk::read_project_file(dir)?
        .map(|source| parse_project(&source, env))
        .transpose()
}

/// Parses and validates already-read manifest files (pure). The project file is
/// the source named `apigsync.yaml` in the folder that holds all the others.
pub fn parse_sources(
    sources: &[Source],
    env: &BTreeMap<String, String>,
) -> Result<Desired, LoadError> {
    let mut diags = Diags::default();
    let root = common_parent(sources);
    let is_project = |s: &Source| {
        s.path.parent() == Some(root.as_path()) && s.path.file_name() == Some(PROJECT_FILE.as_ref())
    };
    let project = sources
        .iter()
        .find(|s| is_project(s))
        .and_then(|s| read_project(s, env, &mut diags));
    let options = project
        .as_ref()
        .map(|p| p.options.clone())
        .unwrap_or_default();
    let flavour = project.as_ref().and_then(|p| p.target.flavour);
    let mut plugins = Vec::new();
    let mut bindings = Vec::new();
    for source in sources.iter().filter(|s| !is_project(s)) {
        for doc in documents(source, &mut diags) {
            let mut reader = Reader {
                file: &source.path,
                env,
                options: &options,
                diags: &mut diags,
            };
            match reader.document(doc) {
                Some(Doc::Plugin(p)) => plugins.push(p),
                Some(Doc::Binding(b)) => bindings.push(b),
                None => {}
            }
        }
    }
    checks::run(&plugins, &bindings, flavour, &mut diags);
    let mut plugins: Vec<_> = plugins.into_iter().map(|p| p.plugin).collect();
    plugins.sort_by(|a, b| a.name.cmp(&b.name));
    let warnings = diags.take_warnings();
    diags.finish(Desired {
        project,
        plugins,
        bindings: bindings.into_iter().map(|b| b.binding).collect(),
        warnings,
    })
}

/// Parses the project file alone (for commands that need only the target).
pub fn parse_project(
    source: &Source,
    env: &BTreeMap<String, String>,
) -> Result<ProjectFile, LoadError> {
    let mut diags = Diags::default();
    let project = read_project(source, env, &mut diags);
    let project = diags.finish(project)?;
    Ok(project.unwrap_or_default())
}

fn read_project(
    source: &Source,
    env: &BTreeMap<String, String>,
    diags: &mut Diags,
) -> Option<ProjectFile> {
    let docs = documents(source, diags);
    let options = Options::default();
    let mut reader = Reader {
        file: &source.path,
        env,
        options: &options,
        diags,
    };
    project::read(&mut reader, docs)
}

/// The YAML documents of a source; a syntax error becomes a diagnostic.
fn documents(source: &Source, diags: &mut Diags) -> Vec<yaml::Node> {
    yaml::parse_documents(&source.text).unwrap_or_else(|e| {
        diags.push(
            Location::new(&source.path, e.pos.line, e.pos.column),
            e.message,
        );
        Vec::new()
    })
}

/// The deepest folder that holds every source.
fn common_parent(sources: &[Source]) -> PathBuf {
    let mut parents = sources
        .iter()
        .map(|s| s.path.parent().unwrap_or(Path::new("")));
    let Some(first) = parents.next() else {
        return PathBuf::new();
    };
    let mut root = first.to_path_buf();
    for p in parents {
        while !p.starts_with(&root) {
            if !root.pop() {
                return PathBuf::new();
            }
        }
    }
    root
}
