//! The squashed layer decided: from the merged tree, everything the upper layers changed
//! relative to the kept base, in the order it is written. Which markers it writes is
//! decided in [`super::whiteout`].

use std::collections::{BTreeMap, HashMap};

use super::tree::{EntryRef, State, Tree, ROOT};
use super::whiteout::{needs_opaque, needs_whiteout, PathState};
use crate::read::entry::Kind;

/// What the squashed layer must hold, in writing order.
#[derive(Debug, Default)]
pub struct Plan {
    /// Directories, whiteouts and opaque markers, parents first, sorted by name.
    pub meta: Vec<MetaItem>,
    /// Entries copied from the input (regular files, symlinks, devices, fifos), in
    /// (layer, offset) order so each layer is read once, front to back.
    pub copies: Vec<CopyItem>,
    /// Hardlinks, after their targets.
    pub links: Vec<LinkItem>,
}

#[derive(Debug)]
pub enum MetaItem {
    /// A directory: its own entry's header, or a made one (implicit directory).
    Dir {
        path: Vec<u8>,
        entry: Option<EntryRef>,
    },
    Whiteout {
        path: Vec<u8>,
    },
    Opaque {
        dir: Vec<u8>,
    },
}

#[derive(Debug)]
pub struct CopyItem {
    pub entry: EntryRef,
    /// Written under another name: a hardlink's content whose original path changed.
    pub rename: Option<Vec<u8>>,
}

#[derive(Debug)]
pub struct LinkItem {
    pub entry: EntryRef,
    pub path: Vec<u8>,
    pub target: Vec<u8>,
}

fn path_state(n: &super::tree::Node) -> PathState {
    PathState {
        in_base: n.in_base,
        base_dir: n.base_dir,
        hide_base: n.hide_base,
        exists: n.exists(),
        is_dir: n.is_dir(),
    }
}

impl Tree {
    /// Everything an upper layer changed relative to the base, as the squashed layer.
    pub fn plan(&self) -> Plan {
        let base_top = self.base_top.map(|b| b as i64).unwrap_or(-1);
        let upper = |e: EntryRef| e.layer as i64 > base_top;
        // Which nodes are needed: bottom-up over a pre-order list.
        let mut order = Vec::new();
        let mut stack = vec![ROOT];
        while let Some(id) = stack.pop() {
            order.push(id);
            // reverse so that pre-order visits children in name order
            stack.extend(self.nodes[id as usize].children.values().rev().copied());
        }
        let mut needed = vec![false; self.nodes.len()];
        let mut own = vec![false; self.nodes.len()];
        for &id in order.iter().rev() {
            let n = &self.nodes[id as usize];
            let s = path_state(n);
            let emit = match n.state {
                State::Entry(e, _) => upper(e),
                State::Implicit(l) => l as i64 > base_top && !(n.in_base && n.base_dir && !n.hide_base),
                State::Absent => needs_whiteout(&s),
            } || needs_opaque(&s);
            own[id as usize] = emit;
            if emit || needed[id as usize] {
                needed[id as usize] = true;
                if id != ROOT {
                    needed[n.parent as usize] = true;
                }
            }
        }
        let mut plan = Plan::default();
        let mut groups: BTreeMap<EntryRef, Vec<(Vec<u8>, EntryRef)>> = BTreeMap::new();
        let mut own_path: HashMap<EntryRef, Vec<u8>> = HashMap::new();
        for &id in &order {
            if !needed[id as usize] {
                continue;
            }
            let n = &self.nodes[id as usize];
            let p = self.path_of(id);
            match n.state {
                State::Absent => {
                    if own[id as usize] {
                        plan.meta.push(MetaItem::Whiteout { path: p });
                    }
                    continue;
                }
                State::Implicit(_) => {
                    if id != ROOT {
                        plan.meta.push(MetaItem::Dir { path: p.clone(), entry: None });
                    }
                }
                State::Entry(e, Kind::Dir) => {
                    if id != ROOT || upper(e) {
                        plan.meta.push(MetaItem::Dir { path: p.clone(), entry: Some(e) });
                    }
                }
                State::Entry(e, Kind::Hardlink) => {
                    if upper(e) {
                        if let Some(&(r, _)) = self.resolved.get(&e) {
                            groups.entry(r).or_default().push((p.clone(), e));
                        }
                    }
                }
                State::Entry(e, _) => {
                    if upper(e) {
                        plan.copies.push(CopyItem { entry: e, rename: None });
                        own_path.insert(e, p.clone());
                    }
                }
            }
            if needs_opaque(&path_state(n)) {
                plan.meta.push(MetaItem::Opaque { dir: p });
            }
        }
        for (r, members) in groups {
            let mut members = members.into_iter();
            let primary = match own_path.get(&r) {
                Some(p) => p.clone(),
                None => {
                    // The target's path no longer holds this content (changed, deleted,
                    // or only in the base): the first link becomes the file itself.
                    let Some((p, _)) = members.next() else { continue };
                    plan.copies.push(CopyItem { entry: r, rename: Some(p.clone()) });
                    p
                }
            };
            for (p, e) in members {
                plan.links.push(LinkItem { entry: e, path: p, target: primary.clone() });
            }
        }
        plan.copies.sort_by_key(|c| c.entry);
        plan
    }
}
