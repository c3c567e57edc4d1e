//! The engine's module graph has no cycle: a file may use what is below it (tar → read →
//! merge → write), never what uses it. Read from the sources, so a new `use` that closes a
//! cycle fails here with the cycle named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every source file under `src`, by module path (`read::layer`; `lib` for the root).
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let p: PathBuf = entry.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).expect("under src").with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|l| l == "mod") {
                parts.pop();
            }
            let name = if parts == ["lib"] { "lib".to_string() } else { parts.join("::") };
            out.insert(name, std::fs::read_to_string(&p).expect("a source file is readable"));
        }
    }
    out
}

/// The module a path like `read::layer::LayerIndex` lands in: its longest known prefix.
fn owner(path: &[&str], known: &BTreeMap<String, String>) -> Option<String> {
    (1..=path.len()).rev().map(|n| path[..n].join("::")).find(|m| known.contains_key(m))
}

/// The modules a file refers to with `crate::…` or `super::…` paths (tests excluded).
/// A child using its parent (`super::Job` in `write::output`) is not counted: a folder's
/// `mod.rs` is the stage's front, which its files may use.
fn imports(module: &str, text: &str, known: &BTreeMap<String, String>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
        let rest = &code[i..];
        let path: Vec<&str> = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("")
            .split("::")
            .filter(|s| !s.is_empty())
            .collect();
        let absolute: Vec<&str> = if path.first() == Some(&"crate") {
            path[1..].to_vec()
        } else {
            // `super` is the parent module (of `read::layer`, `read`; of `read`, the root).
            let mut base: Vec<&str> = module.split("::").collect();
            base.pop();
            let mut p = path.as_slice();
            p = &p[1..];
            while p.first() == Some(&"super") {
                p = &p[1..];
                base.pop();
            }
            base.into_iter().chain(p.iter().copied()).collect()
        };
        if let Some(m) = owner(&absolute, known) {
            if m != module && m != "lib" && !module.starts_with(&format!("{m}::")) {
                out.insert(m);
            }
        }
    }
    out
}

#[test]
fn engine_modules_import_each_other_without_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let known = modules(&src);
    assert!(known.len() > 20, "found {} modules under {}", known.len(), src.display());
    let graph: BTreeMap<&str, BTreeSet<String>> =
        known.iter().map(|(m, text)| (m.as_str(), imports(m, text, &known))).collect();
    assert!(
        graph["write::squashed_layer"].contains("merge::plan"),
        "the parser sees `use crate::merge::plan::…` in write/squashed_layer.rs"
    );
    assert!(graph["read::layer"].contains("read::entry"), "the parser sees `use super::entry::…`");

    // Depth-first search; a module seen again on the current path closes a cycle.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<&str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| *p == m) {
            let mut cycle: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if !done.insert(m) {
            return None;
        }
        path.push(m);
        for next in graph.get(m).into_iter().flatten() {
            if let Some((k, _)) = graph.get_key_value(next.as_str()) {
                if let Some(c) = visit(k, graph, path, done) {
                    return Some(c);
                }
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}
