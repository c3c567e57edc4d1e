//! The merged filesystem: layers applied one over the other as Docker applies them
//! (overlay2 semantics), remembering what the kept base layers held so the squashed
//! layer can say exactly what changed above them.
//!
//! Rules, each pinned by a unit test below:
//! - an entry replaces what was at its path; a directory over a directory only changes
//!   the directory's metadata, anything else replaces the whole subtree;
//! - `.wh.<name>` deletes `<name>` and its subtree; a whiteout of nothing does nothing;
//! - `.wh..wh..opq` hides everything in the directory that this layer did not write;
//! - a missing parent directory is made (as Docker's `MkdirAll` does), replacing a
//!   non-directory in the way;
//! - a hardlink refers to what its target is at that moment, so later changes to the
//!   target do not change the link's content.

use std::collections::{BTreeMap, HashMap};

use crate::error::{Error, ErrorCode, Result};
use crate::path;
use crate::read::entry::{Kind, LayerEntry, Op};

/// An entry of a layer: (layer index, entry index in that layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryRef {
    pub layer: u32,
    pub idx: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Absent,
    /// A directory made because an entry below needed it, in this layer.
    Implicit(u32),
    Entry(EntryRef, Kind),
}

#[derive(Debug)]
pub(super) struct Node {
    pub(super) name: Box<[u8]>,
    pub(super) parent: u32,
    pub(super) children: BTreeMap<Box<[u8]>, u32>,
    pub(super) state: State,
    /// 1 + the last layer that wrote this node or anything below it; 0 if none.
    pub(super) touched: u32,
    /// Existed (and was a directory) when the base layers were applied.
    pub(super) in_base: bool,
    pub(super) base_dir: bool,
    /// An upper layer removed what the base had here (deleted, replaced or made opaque).
    pub(super) hide_base: bool,
}

impl Node {
    pub(super) fn is_dir(&self) -> bool {
        matches!(self.state, State::Implicit(_) | State::Entry(_, Kind::Dir))
    }
    pub(super) fn exists(&self) -> bool {
        self.state != State::Absent
    }
}

/// Something that stops being visible: for the "wasted bytes" report.
pub struct Superseded<'a> {
    pub entry: EntryRef,
    pub path: &'a [u8],
    pub by_layer: u32,
    pub deleted: bool,
    /// The path of the entry whose applying removed it: `path` itself (a file deleted or
    /// overwritten), or a folder above it (deleted, made opaque, replaced by a file).
    pub cause: &'a [u8],
}

pub struct Tree {
    pub(super) nodes: Vec<Node>,
    /// Hardlink entry -> the entry whose content it shares.
    pub(super) resolved: HashMap<EntryRef, (EntryRef, Kind)>,
    /// Layers at or below this index are the kept base.
    pub(super) base_top: Option<u32>,
    upper: bool,
}

pub(super) const ROOT: u32 = 0;

impl Tree {
    pub fn new() -> Tree {
        let root = Node {
            name: Box::from(&b""[..]),
            parent: ROOT,
            children: BTreeMap::new(),
            state: State::Implicit(0),
            touched: 0,
            in_base: true,
            base_dir: true,
            hide_base: false,
        };
        Tree { nodes: vec![root], resolved: HashMap::new(), base_top: None, upper: false }
    }

    /// Marks the end of the kept base: what exists now is what the squashed layer
    /// is applied on.
    pub fn end_base(&mut self, base_top: Option<u32>) {
        self.base_top = base_top;
        self.upper = true;
        let mut stack = vec![ROOT];
        while let Some(id) = stack.pop() {
            let n = &mut self.nodes[id as usize];
            n.in_base = n.exists();
            n.base_dir = n.is_dir();
            stack.extend(n.children.values().copied());
        }
    }

    pub(super) fn path_of(&self, mut id: u32) -> Vec<u8> {
        let mut parts = Vec::new();
        while id != ROOT {
            let n = &self.nodes[id as usize];
            parts.push(&n.name[..]);
            id = n.parent;
        }
        parts.reverse();
        path::join(&parts)
    }

    fn lookup(&self, path: &[u8]) -> Option<u32> {
        let mut id = ROOT;
        if path.is_empty() {
            return Some(ROOT);
        }
        for comp in path.split(|&b| b == b'/') {
            id = *self.nodes[id as usize].children.get(comp)?;
        }
        Some(id)
    }

    fn new_node(&mut self, parent: u32, name: &[u8]) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            name: Box::from(name),
            parent,
            children: BTreeMap::new(),
            state: State::Absent,
            touched: 0,
            in_base: false,
            base_dir: false,
            hide_base: false,
        });
        self.nodes[parent as usize].children.insert(Box::from(name), id);
        id
    }

    /// Removes everything below `id`, reporting each entry that had content.
    fn clear_children(&mut self, id: u32, layer: u32, deleted: bool, sink: &mut dyn FnMut(Superseded)) {
        let children: Vec<u32> = std::mem::take(&mut self.nodes[id as usize].children).into_values().collect();
        let mut stack = children;
        while let Some(c) = stack.pop() {
            self.report(c, layer, deleted, sink);
            stack.extend(std::mem::take(&mut self.nodes[c as usize].children).into_values());
            // Detached nodes stay in the arena, unreachable.
        }
    }

    fn report(&self, id: u32, layer: u32, deleted: bool, sink: &mut dyn FnMut(Superseded)) {
        if let State::Entry(e, Kind::Regular) = self.nodes[id as usize].state {
            let p = self.path_of(id);
            sink(Superseded { entry: e, path: &p, by_layer: layer, deleted, cause: &[] });
        }
    }

    /// Removes the node's content (entry and subtree).
    fn remove(&mut self, id: u32, layer: u32, deleted: bool, sink: &mut dyn FnMut(Superseded)) {
        self.report(id, layer, deleted, sink);
        self.clear_children(id, layer, deleted, sink);
        let upper = self.upper;
        let n = &mut self.nodes[id as usize];
        if upper && n.in_base {
            n.hide_base = true;
        }
        n.state = State::Absent;
    }

    /// The directory node for `parts`, made (as Docker's MkdirAll) where missing.
    fn make_dirs(&mut self, parts: &[&[u8]], layer: u32, sink: &mut dyn FnMut(Superseded)) -> u32 {
        let mut id = ROOT;
        for comp in parts {
            id = match self.nodes[id as usize].children.get(*comp) {
                Some(&c) => c,
                None => self.new_node(id, comp),
            };
            if !self.nodes[id as usize].is_dir() {
                self.remove(id, layer, false, sink);
                self.nodes[id as usize].state = State::Implicit(layer);
            }
        }
        id
    }

    /// Marks the node and its ancestors as written by `layer` (for opaque markers).
    fn touch(&mut self, mut id: u32, layer: u32) {
        let mark = layer + 1;
        self.nodes[id as usize].touched = mark;
        while id != ROOT {
            id = self.nodes[id as usize].parent;
            if self.nodes[id as usize].touched == mark {
                return; // its ancestors were marked with it
            }
            self.nodes[id as usize].touched = mark;
        }
    }

    /// Applies one entry of layer `layer`.
    pub fn apply(&mut self, at: EntryRef, entry: &LayerEntry, sink: &mut dyn FnMut(Superseded)) -> Result<()> {
        let sink = &mut |s: Superseded| sink(Superseded { cause: &entry.path, ..s });
        let layer = at.layer;
        let parts: Vec<&[u8]> =
            if entry.path.is_empty() { Vec::new() } else { entry.path.split(|&b| b == b'/').collect() };
        match &entry.op {
            Op::Whiteout => {
                if let Some(id) = self.lookup(&entry.path) {
                    if id != ROOT && self.nodes[id as usize].exists() {
                        self.remove(id, layer, true, sink);
                        self.touch(id, layer);
                    }
                }
            }
            Op::Opaque => {
                let id = self.make_dirs(&parts, layer, sink);
                self.prune_untouched(id, layer, sink);
                let upper = self.upper;
                let n = &mut self.nodes[id as usize];
                if upper && n.in_base {
                    n.hide_base = true;
                }
                self.touch(id, layer);
            }
            Op::Put(put) => {
                if parts.is_empty() {
                    // The layer's root directory: only its metadata can change.
                    if put.kind == Kind::Dir {
                        self.nodes[ROOT as usize].state = State::Entry(at, Kind::Dir);
                    }
                    return Ok(());
                }
                let mut link_to = None;
                if put.kind == Kind::Hardlink {
                    let target = put.link.as_deref().unwrap_or(b"");
                    let tid = self.lookup(target).filter(|&t| t != ROOT);
                    let state = tid.map(|t| self.nodes[t as usize].state);
                    link_to = match state {
                        Some(State::Entry(t, Kind::Hardlink)) => self.resolved.get(&t).copied(),
                        Some(State::Entry(t, k)) if k != Kind::Dir => Some((t, k)),
                        _ => None,
                    };
                    if link_to.is_none() {
                        return Err(Error::new(
                            ErrorCode::Unsupported,
                            format!(
                                "the hardlink `{}` points to `{}`, which does not exist (or is a directory) at that point; Docker cannot apply this layer",
                                path::show(&entry.path),
                                path::show(target)
                            ),
                        ));
                    }
                }
                let (name, parents) = parts.split_last().map(|(n, p)| (*n, p)).unwrap_or((b"", &[]));
                let parent = self.make_dirs(parents, layer, sink);
                let id = match self.nodes[parent as usize].children.get(name) {
                    Some(&c) => c,
                    None => self.new_node(parent, name),
                };
                let n = &self.nodes[id as usize];
                let dir_over_dir = put.kind == Kind::Dir && n.is_dir();
                if dir_over_dir {
                    // metadata change only: children stay
                } else if n.exists() {
                    self.remove(id, layer, false, sink);
                }
                self.nodes[id as usize].state = State::Entry(at, put.kind);
                if let Some(r) = link_to {
                    self.resolved.insert(at, r);
                }
                self.touch(id, layer);
            }
        }
        Ok(())
    }

    /// Overlay opaque semantics: below `id`, drop what this layer did not write.
    fn prune_untouched(&mut self, id: u32, layer: u32, sink: &mut dyn FnMut(Superseded)) {
        let mut stack = vec![id];
        while let Some(d) = stack.pop() {
            let children: Vec<(Box<[u8]>, u32)> =
                self.nodes[d as usize].children.iter().map(|(k, v)| (k.clone(), *v)).collect();
            for (name, c) in children {
                if self.nodes[c as usize].touched == layer + 1 {
                    // Kept, but the opaque marker written for an ancestor hides the base's
                    // copy: the squashed layer must write it again (it has base content).
                    let upper = self.upper;
                    let n = &mut self.nodes[c as usize];
                    if upper && n.in_base {
                        n.hide_base = true;
                    }
                    stack.push(c);
                } else {
                    self.report(c, layer, true, sink);
                    self.clear_children(c, layer, true, sink);
                    self.nodes[d as usize].children.remove(&name);
                }
            }
        }
    }
}

impl Tree {
    /// Entries whose content a visible hardlink still shows: replacing or deleting their
    /// own path frees no space.
    pub fn linked_contents(&self) -> std::collections::HashSet<EntryRef> {
        let mut out = std::collections::HashSet::new();
        let mut stack = vec![ROOT];
        while let Some(id) = stack.pop() {
            let n = &self.nodes[id as usize];
            if let State::Entry(e, Kind::Hardlink) = n.state {
                if let Some(&(r, _)) = self.resolved.get(&e) {
                    out.insert(r);
                }
            }
            stack.extend(n.children.values().copied());
        }
        out
    }
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}
