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
mod targets;
mod typed;
mod walk;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use document::MAX_USER_REMARK;
pub use error::{Diagnostic, LoadError, Refusal};
pub use project::MAX_PARALLELISM;
pub use schema::json_schema;
pub use targets::TargetDesired;
pub use walk::{MAX_ENTRIES, MAX_FILE_BYTES, MAX_FOLDER_BYTES};

use crate::model::{Desired, Location, Options, ProjectFile, Warning};
use document::{Doc, Reader};
use error::Diags;
use targets::TargetFilter;

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

/// Reads and validates the manifest folder `dir` of a project with one target,
/// substituting `${VAR}` from `env`. Hostile entries (FIFOs, devices, symlink loops,
/// oversize files) are refused without being opened or read in full (see [`walk`]).
/// A project with several targets is an error here: read it with [`load_targets`].
pub fn load_dir(dir: &Path, env: &BTreeMap<String, String>) -> Result<Desired, LoadError> {
    let sources = walk::read_folder(dir)?;
    parse_sources(&sources, env)
}

/// Reads and validates the manifest folder `dir` once for each of its targets (the
/// project file's `targets:`, else its one `target:`), each with its `vars`.
pub fn load_targets(
    dir: &Path,
    env: &BTreeMap<String, String>,
) -> Result<Vec<TargetDesired>, LoadError> {
    let sources = walk::read_folder(dir)?;
    parse_targets(&sources, env)
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

/// Parses and validates already-read manifest files of a project with one target (pure).
/// The project file is the source named `apigsync.yaml` in the folder that holds all the others.
pub fn parse_sources(
    sources: &[Source],
    env: &BTreeMap<String, String>,
) -> Result<Desired, LoadError> {
    let mut targets = parse_targets(sources, env)?;
    if targets.len() == 1
        && let Some(one) = targets.pop()
    {
        return Ok(one.desired);
    }
    let names: Vec<&str> = targets.iter().map(|t| t.target.label()).collect();
    let at = Location::new(common_parent(sources).join(PROJECT_FILE), 1, 1);
    Err(LoadError::Invalid {
        diagnostics: vec![Diagnostic {
            location: at,
            message: format!(
                "the project file declares {} targets ({}); read them one by one",
                names.len(),
                names.join(", ")
            ),
        }],
    })
}

/// Parses and validates already-read manifest files once for each target of the
/// project file (pure): the documents of each target (those without `targets:` and
/// those naming it), with its `vars` over `env`. Every problem of every target is
/// reported together; one that only some targets have names them.
pub fn parse_targets(
    sources: &[Source],
    env: &BTreeMap<String, String>,
) -> Result<Vec<TargetDesired>, LoadError> {
    parse_some_targets(sources, env, |_| true)
}

/// Reads and validates the manifest folder `dir` for its target `name` alone (`None`:
/// the one `target:`): the documents of the other targets are not read, so a process
/// that reconciles each target on its own does not parse the folder once per target
/// for each. `Ok(None)` when the project file does not declare that target.
pub fn load_target(
    dir: &Path,
    env: &BTreeMap<String, String>,
    name: Option<&str>,
) -> Result<Option<TargetDesired>, LoadError> {
    let sources = walk::read_folder(dir)?;
    let mut one = parse_some_targets(&sources, env, |t| t.name.as_deref() == name)?;
    Ok(one.pop())
}

/// [`parse_targets`] for the targets `wanted` keeps.
fn parse_some_targets(
    sources: &[Source],
    env: &BTreeMap<String, String>,
    wanted: impl Fn(&crate::model::NamedTarget) -> bool,
) -> Result<Vec<TargetDesired>, LoadError> {
    parse_noting(sources, env, wanted, false).map(|offline| offline.targets)
}

/// What an offline load (`validate`) gives: every target, and the unset variables of
/// secret fields that plan and apply will need.
#[derive(Debug)]
pub struct OfflineLoad {
    /// The targets, as [`load_targets`] gives them (an unset secret holds its template).
    pub targets: Vec<TargetDesired>,
    /// One note per unset variable of a secret field, located, sorted.
    pub unset_secrets: Vec<Warning>,
}

/// [`load_targets`] without the secret values: an unset variable of a secret field is a
/// note instead of an error, since nothing but plan and apply reads the value.
pub fn load_targets_offline(
    dir: &Path,
    env: &BTreeMap<String, String>,
) -> Result<OfflineLoad, LoadError> {
    let sources = walk::read_folder(dir)?;
    parse_noting(&sources, env, |_| true, true)
}

/// [`parse_some_targets`], with the notes of an `offline` load.
fn parse_noting(
    sources: &[Source],
    env: &BTreeMap<String, String>,
    wanted: impl Fn(&crate::model::NamedTarget) -> bool,
    offline: bool,
) -> Result<OfflineLoad, LoadError> {
    let mut diags = Diags::default();
    let root = common_parent(sources);
    let is_project = |s: &Source| {
        s.path.parent() == Some(root.as_path()) && s.path.file_name() == Some(PROJECT_FILE.as_ref())
    };
    let project = sources
        .iter()
        .find(|s| is_project(s))
        .and_then(|s| read_project(s, env, &mut diags));
    let base = project.clone().unwrap_or_default();
    let declared: Vec<&str> = base.targets.keys().map(String::as_str).collect();
    let named: Vec<_> = base
        .named_targets()
        .into_iter()
        .filter(|t| wanted(t))
        .collect();
    let mut readers: Vec<TargetReader<'_>> = named
        .iter()
        .map(|target| TargetReader {
            filter: TargetFilter {
                declared: declared.clone(),
                current: target.name.as_deref(),
                vars: &target.config.vars,
            },
            env: targets::env_with_vars(env, target),
            offline,
            plugins: Vec::new(),
            bindings: Vec::new(),
            diags: Diags::default(),
        })
        .collect();
    // One file's YAML trees at a time: each target reads a copy, the last one the trees.
    for source in sources.iter().filter(|s| !is_project(s)) {
        let docs = documents(source, &mut diags);
        if let Some((last, others)) = readers.split_last_mut() {
            for reader in others {
                for doc in &docs {
                    reader.read(source, doc.clone(), &base.options);
                }
            }
            for doc in docs {
                last.read(source, doc, &base.options);
            }
        }
    }
    let mut per_target = Vec::new();
    let mut loaded = Vec::new();
    let mut notes = Vec::new();
    for (target, reader) in named.iter().zip(readers) {
        let target = target.clone();
        let (desired, errors, target_notes) = reader.finish(target.config.flavour);
        notes.extend(target_notes);
        per_target.push((target.name.clone(), errors));
        let desired = Desired {
            project: project.as_ref().map(|p| p.for_target(&target)),
            ..desired
        };
        loaded.push(TargetDesired { target, desired });
    }
    for d in targets::merge_diagnostics(per_target) {
        diags.push(d.location, d.message);
    }
    let project_warnings = diags.take_warnings();
    for t in &mut loaded {
        t.desired.warnings.extend(project_warnings.iter().cloned());
        t.desired.warnings.sort();
    }
    notes.sort();
    notes.dedup();
    diags.finish(OfflineLoad {
        targets: loaded,
        unset_secrets: notes,
    })
}

/// The documents of one target, as they are read file by file.
struct TargetReader<'a> {
    filter: TargetFilter<'a>,
    offline: bool,
    env: BTreeMap<String, String>,
    plugins: Vec<document::PluginDoc>,
    bindings: Vec<document::BindingDoc>,
    diags: Diags,
}

impl TargetReader<'_> {
    /// Reads one document of `source`, if it belongs to this target.
    fn read(&mut self, source: &Source, doc: yaml::Node, options: &Options) {
        let mut reader = Reader {
            file: &source.path,
            env: &self.env,
            options,
            target: &self.filter,
            diags: &mut self.diags,
            offline: self.offline,
        };
        match reader.document(doc) {
            Some(Doc::Plugin(p)) => self.plugins.push(p),
            Some(Doc::Binding(b)) => self.bindings.push(b),
            None => {}
        }
    }

    /// The cross-document checks, then this target's desired state, its problems and
    /// its notes.
    fn finish(
        mut self,
        flavour: Option<crate::model::Flavour>,
    ) -> (Desired, Vec<Diagnostic>, Vec<Warning>) {
        checks::run(&self.plugins, &self.bindings, flavour, &mut self.diags);
        let mut plugins: Vec<_> = self.plugins.into_iter().map(|p| p.plugin).collect();
        plugins.sort_by(|a, b| a.name.cmp(&b.name));
        let desired = Desired {
            project: None,
            plugins,
            bindings: self.bindings.into_iter().map(|b| b.binding).collect(),
            warnings: self.diags.take_warnings(),
        };
        let notes = self.diags.take_notes();
        (desired, self.diags.into_errors(), notes)
    }
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
    let vars = BTreeMap::new();
    let filter = TargetFilter::none(&vars);
    let mut reader = Reader {
        file: &source.path,
        env,
        options: &options,
        target: &filter,
        diags,
        offline: false,
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
