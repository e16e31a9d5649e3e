//! `load_dir`: which files it reads, and the full report for a broken folder.

use std::collections::BTreeMap;
use std::path::Path;

use apigsync::manifest::{LoadError, load_dir};

const CORS: &str = "kind: Plugin\nname: NAME\ntype: cors\ncontent: {allow_origin: x}\n";

#[test]
fn reads_yaml_and_yml_recursively_and_skips_hidden_entries() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, name: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, CORS.replace("NAME", name)).unwrap();
    };
    write("a.yaml", "from_yaml");
    write("deep/er/b.yml", "from_yml");
    write(".git/c.yaml", "from_git");
    write(".hidden.yaml", "from_hidden");
    std::fs::write(dir.path().join("notes.txt"), "not yaml").unwrap();
    let d = load_dir(dir.path(), &BTreeMap::new()).unwrap();
    let names: Vec<&str> = d.plugins.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["from_yaml", "from_yml"]);
    assert!(d.project.is_none());
    assert_eq!(d.plugins[1].location.file, dir.path().join("deep/er/b.yml"));
}

#[test]
fn a_missing_folder_is_an_io_error_naming_it() {
    let err = load_dir(Path::new("no/such/folder"), &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }));
    assert_eq!(err.to_string(), "cannot read no/such/folder");
}

#[test]
fn a_broken_folder_reports_every_problem_with_its_place() {
    let err = load_dir(
        Path::new("tests/fixtures/manifests/invalid"),
        &BTreeMap::new(),
    )
    .unwrap_err();
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn a_file_with_more_than_a_thousand_documents_loads() {
    let mut text = String::new();
    for i in 0..1500 {
        text.push_str(&format!(
            "---\nkind: Plugin\nname: cors_{i:04}\ntype: cors\ncontent:\n  allow_origin: \"*\"\n"
        ));
    }
    let sources = [apigsync::manifest::Source {
        path: "big/plugins.yaml".into(),
        text,
    }];
    let desired = apigsync::manifest::parse_sources(&sources, &std::collections::BTreeMap::new())
        .expect("a large generated file is valid");
    assert_eq!(desired.plugins.len(), 1500);
}
