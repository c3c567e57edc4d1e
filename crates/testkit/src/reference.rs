//! The reference filesystem: applies layers with Docker's rules (whiteouts, opaque
//! directories as overlay2 has them, hardlinks, implicit parents) in a few plain lines, so
//! that what an image shows can be compared before and after squashing. It must stay
//! independent of the engine: it uses none of the engine's code.

use std::collections::{BTreeMap, BTreeSet};

use crate::output::{parse_layer, Parsed};
use crate::path::{clean_path, is_under, parent_of, show};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NKind {
    File(Vec<u8>),
    Dir,
    Symlink(Vec<u8>),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
}

/// What a path shows: content and metadata. `ino` tells hardlinked paths apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
    pub ino: u64,
}

#[derive(Debug, Clone)]
pub struct Fs {
    pub nodes: BTreeMap<Vec<u8>, Node>,
    next_ino: u64,
}

impl Default for Fs {
    fn default() -> Self {
        Fs::new()
    }
}

impl Fs {
    pub fn new() -> Fs {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            Vec::new(),
            Node { kind: NKind::Dir, mode: 0o755, uid: 0, gid: 0, mtime: 0, xattrs: BTreeMap::new(), ino: 0 },
        );
        Fs { nodes, next_ino: 1 }
    }

    fn ino(&mut self) -> u64 {
        self.next_ino += 1;
        self.next_ino
    }

    fn remove_tree(&mut self, p: &[u8]) {
        let doomed: Vec<Vec<u8>> = self.nodes.keys().filter(|k| k.as_slice() == p || is_under(k, p)).cloned().collect();
        for k in doomed {
            if !k.is_empty() {
                self.nodes.remove(&k);
            }
        }
    }

    fn is_dir(&self, p: &[u8]) -> bool {
        self.nodes.get(p).is_some_and(|n| n.kind == NKind::Dir)
    }

    /// Docker's MkdirAll for the parents of a path: missing ones (or non-directories in
    /// the way) become 0755 root directories.
    fn make_dirs(&mut self, d: &[u8], written: &mut BTreeSet<Vec<u8>>) {
        if d.is_empty() {
            return;
        }
        if let Some(p) = parent_of(d) {
            self.make_dirs(p, written);
        }
        if !self.is_dir(d) {
            self.remove_tree(d);
            let ino = self.ino();
            self.nodes.insert(
                d.to_vec(),
                Node { kind: NKind::Dir, mode: 0o755, uid: 0, gid: 0, mtime: 0, xattrs: BTreeMap::new(), ino },
            );
        }
        written.insert(d.to_vec());
    }

    /// Applies one layer (compressed or not) with Docker's rules, overlay semantics for
    /// opaque directories.
    pub fn apply(&mut self, stored: &[u8]) {
        let mut written: BTreeSet<Vec<u8>> = BTreeSet::new();
        for e in parse_layer(stored) {
            let p = e.clean();
            let (parent, base) = match p.iter().rposition(|&b| b == b'/') {
                Some(i) => (p[..i].to_vec(), p[i + 1..].to_vec()),
                None => (Vec::new(), p.clone()),
            };
            if let Some(rest) = base.strip_prefix(b".wh.") {
                if rest == b".wh..opq" {
                    self.make_dirs(&parent, &mut written);
                    let hidden: Vec<Vec<u8>> =
                        self.nodes.keys().filter(|k| is_under(k, &parent) && !written.contains(*k)).cloned().collect();
                    for k in hidden {
                        self.nodes.remove(&k);
                    }
                } else if !rest.starts_with(b".wh.") {
                    let mut target = parent.clone();
                    if !target.is_empty() {
                        target.push(b'/');
                    }
                    target.extend_from_slice(rest);
                    if !target.is_empty() && self.nodes.contains_key(&target) {
                        self.remove_tree(&target);
                        // The deleting layer holds the whiteout's directories (overlay2
                        // makes them in the layer's own directory): an opaque marker
                        // on an ancestor in this layer does not hide them.
                        let mut a = parent_of(&target);
                        while let Some(d) = a {
                            written.insert(d.to_vec());
                            a = parent_of(d);
                        }
                    }
                }
                continue;
            }
            if p.is_empty() {
                if e.typeflag == b'5' {
                    let root = self.nodes.get_mut(&Vec::new()).unwrap();
                    root.mode = e.mode;
                    root.uid = e.uid;
                    root.gid = e.gid;
                    root.mtime = e.mtime;
                    root.xattrs = e.xattrs.clone();
                }
                continue;
            }
            let node = match e.typeflag {
                b'1' => {
                    let t = clean_path(e.link.as_deref().unwrap());
                    let n = self
                        .nodes
                        .get(&t)
                        .unwrap_or_else(|| panic!("hardlink {:?} to missing {:?}", show(&p), show(&t)));
                    assert!(n.kind != NKind::Dir, "hardlink to a directory");
                    n.clone()
                }
                ty => {
                    let kind = match ty {
                        b'0' | b'\0' | b'7' => NKind::File(e.data.clone()),
                        b'5' => NKind::Dir,
                        b'2' => NKind::Symlink(e.link.clone().unwrap_or_default()),
                        b'3' => NKind::Char(e.dev.0, e.dev.1),
                        b'4' => NKind::Block(e.dev.0, e.dev.1),
                        b'6' => NKind::Fifo,
                        other => panic!("unexpected typeflag {other}"),
                    };
                    let ino = self.ino();
                    Node { kind, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, xattrs: e.xattrs.clone(), ino }
                }
            };
            self.make_dirs(&parent, &mut written);
            if !(node.kind == NKind::Dir && self.is_dir(&p)) {
                self.remove_tree(&p);
            }
            self.nodes.insert(p.clone(), node);
            written.insert(p);
        }
    }

    pub fn from_layers<T: AsRef<[u8]>>(layers: &[T]) -> Fs {
        let mut fs = Fs::new();
        for l in layers {
            fs.apply(l.as_ref());
        }
        fs
    }

    /// Paths that share an inode, as sorted groups of two or more.
    pub fn link_groups(&self) -> BTreeSet<Vec<Vec<u8>>> {
        let mut by: BTreeMap<u64, Vec<Vec<u8>>> = BTreeMap::new();
        for (p, n) in &self.nodes {
            by.entry(n.ino).or_default().push(p.clone());
        }
        by.into_values().filter(|g| g.len() > 1).collect()
    }

    /// Everything but inode numbers.
    pub fn view(&self) -> BTreeMap<Vec<u8>, Node> {
        self.nodes.iter().map(|(p, n)| (p.clone(), Node { ino: 0, ..n.clone() })).collect()
    }

    pub fn get(&self, p: &str) -> Option<&Node> {
        self.nodes.get(p.as_bytes())
    }

    pub fn paths(&self) -> Vec<String> {
        self.nodes.keys().map(|k| show(k)).collect()
    }
}

pub fn assert_same_fs(want: &Fs, got: &Fs, what: &str) {
    assert_same_content(want, got, what);
    let shown =
        |f: &Fs| f.link_groups().iter().map(|g| g.iter().map(|p| show(p)).collect::<Vec<_>>()).collect::<Vec<_>>();
    assert_eq!(shown(want), shown(got), "{what}: hardlink groups differ");
}

/// Same paths, kinds, contents and metadata; hardlink groups not compared.
pub fn assert_same_content(want: &Fs, got: &Fs, what: &str) {
    let (a, b) = (want.view(), got.view());
    if a != b {
        let mut diff = String::new();
        for (p, n) in &a {
            match b.get(p) {
                None => diff += &format!("  missing {:?}: {:?}\n", show(p), n),
                Some(m) if m != n => diff += &format!("  differs {:?}:\n    want {:?}\n    got  {:?}\n", show(p), n, m),
                _ => {}
            }
        }
        for (p, m) in &b {
            if !a.contains_key(p) {
                diff += &format!("  extra {:?}: {:?}\n", show(p), m);
            }
        }
        panic!("{what}: the squashed image shows another filesystem:\n{diff}");
    }
}

/// Parents before children (each entry's directory exists in the base or was written
/// earlier in the layer), hardlink targets before links.
pub fn check_order(entries: &[Parsed], base: &Fs) {
    let mut seen_dirs: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut seen_files: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut deleted: BTreeSet<Vec<u8>> = BTreeSet::new();
    for e in entries {
        let p = e.clean();
        let mut parent = parent_of(&p);
        while let Some(d) = parent {
            if !d.is_empty() {
                let in_base = base.is_dir(d)
                    && !deleted.iter().any(|x| x.as_slice() == d || is_under(d, x))
                    && !seen_files.contains(d);
                assert!(
                    seen_dirs.contains(d) || in_base,
                    "`{}` comes before its parent directory `{}`",
                    show(&e.path),
                    show(d)
                );
            }
            parent = parent_of(d);
        }
        let base_name = p.rsplit(|&b| b == b'/').next().unwrap_or(b"");
        if base_name == b".wh..wh..opq" {
            // An opaque marker: it neither deletes a path nor makes one.
        } else if let Some(rest) = base_name.strip_prefix(b".wh.") {
            let mut t = parent_of(&p).unwrap().to_vec();
            if !t.is_empty() {
                t.push(b'/');
            }
            t.extend_from_slice(rest);
            deleted.insert(t);
        } else if e.typeflag == b'5' {
            seen_dirs.insert(p.clone());
        } else {
            if e.typeflag == b'1' {
                let t = clean_path(e.link.as_deref().unwrap());
                assert!(seen_files.contains(&t), "hardlink `{}` comes before its target `{}`", show(&e.path), show(&t));
            }
            seen_files.insert(p.clone());
        }
    }
}
