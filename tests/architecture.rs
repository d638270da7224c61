//! The shape of `src/`, checked without a server: imports between files form
//! no circle, no file passes 500 lines and no function 80, so the floors
//! CONTRIBUTING.md describes stay floors as the tree grows.
//!
//! An import is any `crate::` or `super::` path in a file's code (not its
//! unit tests). A path ending at a `mod.rs` item that the `mod.rs` only
//! re-exports (`pub use child::Item`) counts as an import of the child file,
//! so a parent re-exporting its children's items is no circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors of `src/`, lowest first, by top-level module (CONTRIBUTING.md
/// draws them). A file may import from its own floor or any floor below.
const FLOORS: [&[&str]; 8] = [
    &[
        "ident",
        "error",
        "env",
        "graph",
        "mode",
        "progress",
        "atomic_file",
    ],
    &["artifact"],
    &["pg"],
    &["catalog", "selection", "keys", "load_order"],
    &["schema"],
    &["cli", "config"],
    &[
        "dump", "restore", "verify", "check", "plan", "export", "history", "sandbox",
    ],
    &["output", "docs"],
];

const MAX_FILE_LINES: usize = 500;
const MAX_FUNCTION_LINES: usize = 80;

/// A source file: its module path (`["artifact", "reader"]`) and code.
struct SourceFile {
    module: Vec<String>,
    is_dir_module: bool,
    code: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn source_files() -> BTreeMap<String, SourceFile> {
    let mut files = BTreeMap::new();
    let mut pending = vec![src_dir()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src_dir()).unwrap();
            let mut module: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let stem = module.last().cloned().unwrap_or_default();
            let is_dir_module = stem == "mod" || (stem == "lib" && module.len() == 1);
            if is_dir_module || stem == "main" {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("read a source file");
            files.insert(
                relative.display().to_string(),
                SourceFile {
                    module,
                    is_dir_module,
                    code: without_unit_tests(&text),
                },
            );
        }
    }
    files
}

/// The text before a file's `#[cfg(test)]` module, which rustfmt puts last.
fn without_unit_tests(text: &str) -> String {
    match text.find("\n#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_owned(),
        None => text.to_owned(),
    }
}

/// Every `crate::a::b`, `super::a` or `child::a` path (for a child module the
/// file declares) in a file's code, expanded through `{...}` groups, as
/// segment lists from the crate root. A directory module's `pub use` lines
/// are re-exports, not uses, and are left out.
fn paths(file: &SourceFile) -> Vec<Vec<String>> {
    let children: Vec<String> = file
        .code
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("pub mod ")
                .or(l.strip_prefix("mod "))
                .and_then(|m| m.strip_suffix(';'))
                .map(str::to_owned)
        })
        .collect();
    let code: String = file
        .code
        .lines()
        .filter(|l| !(file.is_dir_module && is_reexport(l)))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let before = code[..at].chars().last();
        let starts_path =
            !before.is_some_and(|c| c == ':' || c == '.') && rest[ident.len()..].starts_with("::");
        at += ident.len();
        if !starts_path {
            continue;
        }
        let base: Vec<String> = match ident.as_str() {
            "crate" => Vec::new(),
            "super" => file.module[..file.module.len().saturating_sub(1)].to_vec(),
            child if children.iter().any(|c| c == child) => {
                let mut base = file.module.clone();
                base.push(child.to_owned());
                base
            }
            _ => continue,
        };
        let mut tail = &code[at + 2..];
        let mut base = base;
        while let Some(r) = tail.strip_prefix("super::") {
            base.pop();
            tail = r;
        }
        expand(&base, tail, &mut found);
    }
    found
}

fn is_reexport(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("pub use ") || line.starts_with("pub(crate) use ")
}

/// Expand `a::b::{c, d::e}` after `base` into full paths.
fn expand(base: &[String], text: &str, out: &mut Vec<Vec<String>>) {
    let mut path = base.to_vec();
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                // A trailing comma leaves an empty part: it names nothing.
                for part in split_group(group).into_iter().map(str::trim) {
                    if !part.is_empty() {
                        expand(&path, part, out);
                    }
                }
                return;
            }
            break;
        }
        path.push(ident.clone());
        rest = &rest[ident.len()..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    if path.len() > base.len() || !path.is_empty() {
        out.push(path);
    }
}

/// The comma-separated parts of a `{...}` group, up to its closing brace.
fn split_group(group: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut from) = (0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                parts.push(&group[from..i]);
                return parts;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&group[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts
}

/// The file a path leads to: the deepest module it names, or, for an item a
/// `mod.rs` re-exports, the child that defines it.
fn resolve(path: &[String], files: &BTreeMap<String, SourceFile>) -> Option<String> {
    let by_module: BTreeMap<&[String], &String> = files
        .iter()
        .map(|(name, f)| (f.module.as_slice(), name))
        .collect();
    let mut depth = path.len();
    while depth > 0 && !by_module.contains_key(&path[..depth]) {
        depth -= 1;
    }
    let file = by_module.get(&path[..depth]).copied()?;
    let source = &files[file];
    if let (true, Some(item)) = (source.is_dir_module, path.get(depth)) {
        for line in source.code.lines() {
            let line = line.trim();
            if !is_reexport(line) {
                continue;
            }
            if let Some(export) = line.split_once(" use ").map(|(_, e)| e) {
                let export = export.trim_end_matches(';');
                let mut exported = Vec::new();
                match export.strip_prefix("crate::") {
                    Some(absolute) => expand(&[], absolute, &mut exported),
                    None => expand(&source.module, export, &mut exported),
                }
                if let Some(full) = exported.iter().find(|p| p.last() == Some(item)) {
                    if full.len() > source.module.len() + 1 {
                        return resolve(full, files);
                    }
                }
            }
        }
    }
    Some(file.clone())
}

fn import_graph(files: &BTreeMap<String, SourceFile>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (name, file) in files {
        let targets: BTreeSet<String> = paths(file)
            .iter()
            .filter_map(|path| resolve(path, files))
            .filter(|target| target != name)
            .collect();
        graph.insert(name.clone(), targets);
    }
    graph
}

/// One circle of imports, if there is any, as the files along it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let at = stack.iter().position(|s| s == next).unwrap();
                    let mut circle = stack[at..].to_vec();
                    circle.push(next.clone());
                    return Some(circle);
                }
                Mark::New => {
                    if let Some(circle) = visit(next, graph, marks, stack) {
                        return Some(circle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(circle) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(circle);
            }
        }
    }
    None
}

#[test]
fn imports_between_files_form_no_circle() {
    let files = source_files();
    let graph = import_graph(&files);
    if let Some(circle) = find_circle(&graph) {
        panic!(
            "files import each other in a circle: {}",
            circle.join(" -> ")
        );
    }
}

/// The floor of a file, by its top-level module; the crate root is above all.
fn floor(file: &SourceFile) -> usize {
    match file.module.first() {
        None => FLOORS.len(),
        Some(top) => FLOORS
            .iter()
            .position(|floor| floor.contains(&top.as_str()))
            .unwrap_or_else(|| {
                panic!("module {top} is on no floor: add it to FLOORS and CONTRIBUTING.md")
            }),
    }
}

#[test]
fn imports_point_down_the_floors() {
    let files = source_files();
    let mut upward = Vec::new();
    for (name, targets) in import_graph(&files) {
        for target in targets {
            if floor(&files[&target]) > floor(&files[&name]) {
                upward.push(format!("{name} -> {target}"));
            }
        }
    }
    assert!(upward.is_empty(), "imports pointing up a floor: {upward:?}");
}

#[test]
fn the_circle_check_finds_circles() {
    // The checker itself, on a made-up graph: a check that can never fail proves nothing.
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a.rs", vec!["b.rs"]),
        ("b.rs", vec!["c.rs"]),
        ("c.rs", vec!["a.rs"]),
        ("d.rs", vec!["a.rs"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    let circle = find_circle(&graph).expect("a circle");
    assert_eq!(circle.first(), circle.last());
    assert_eq!(circle.len(), 4);
    let mut acyclic = graph.clone();
    acyclic.get_mut("c.rs").unwrap().clear();
    assert_eq!(find_circle(&acyclic), None);
}

#[test]
fn paths_resolve_through_groups_and_super() {
    let file = SourceFile {
        module: vec!["restore".into(), "load".into()],
        is_dir_module: false,
        code: "use crate::artifact::{ArtifactReader, reader::X};\nuse super::target::Target;\n"
            .into(),
    };
    let found = paths(&file);
    let strings: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert!(
        strings.contains(&"artifact::ArtifactReader".to_owned()),
        "{strings:?}"
    );
    assert!(
        strings.contains(&"artifact::reader::X".to_owned()),
        "{strings:?}"
    );
    assert!(
        strings.contains(&"restore::target::Target".to_owned()),
        "{strings:?}"
    );
}

#[test]
fn no_file_is_over_500_lines() {
    let mut long = Vec::new();
    for (name, _) in source_files() {
        let lines = std::fs::read_to_string(src_dir().join(&name))
            .unwrap()
            .lines()
            .count();
        if lines > MAX_FILE_LINES {
            long.push(format!("{name}: {lines} lines"));
        }
    }
    assert!(long.is_empty(), "split these files by concept: {long:?}");
}

#[test]
fn no_function_is_over_80_lines() {
    let mut long = Vec::new();
    for (name, file) in source_files() {
        let lines: Vec<&str> = file.code.lines().collect();
        for (start, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let signature = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "pub(super) fn ",
                "async fn ",
                "pub async fn ",
                "pub(crate) async fn ",
                "pub(super) async fn ",
            ]
            .iter()
            .any(|p| trimmed.starts_with(p));
            if !signature || trimmed.ends_with(';') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            let closing = format!("{}}}", " ".repeat(indent));
            if let Some(length) = lines[start..].iter().position(|l| *l == closing) {
                if length + 1 > MAX_FUNCTION_LINES {
                    long.push(format!("{name}:{} {} lines", start + 1, length + 1));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these functions into named steps: {long:?}"
    );
}
