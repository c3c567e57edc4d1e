//! `docker-squash inspect`: the facts as a `docker history`-like table, or as JSON.

use std::fmt::Write;

use squash_engine::Inspection;

use crate::format::{bytes, clip, short, tags};
use crate::gate::percent;

/// How many of the wasted-space groups the table shows.
const GROUPS_SHOWN: usize = 10;

/// The facts as JSON, as `inspect --json` prints them (pretty, with a final newline).
pub fn json(facts: &Inspection) -> Result<String, String> {
    serde_json::to_string_pretty(facts).map(|s| s + "\n").map_err(|e| format!("cannot show the facts as JSON: {e}"))
}

/// The facts as the table `inspect` prints.
pub fn table(facts: &Inspection) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_table(&mut out, facts);
    out
}

fn write_table(out: &mut String, f: &Inspection) -> std::fmt::Result {
    writeln!(out, "archive: {} (compression: {})", f.format, f.compression)?;
    for img in &f.images {
        writeln!(out)?;
        writeln!(out, "image {}: {}  id {}  {}", img.index, tags(&img.tags), short(&img.id), img.platform)?;
        writeln!(out, "  {:>3}  {:<12}  {:<60}  {:>9}  {:>9}", "#", "LAYER ID", "CREATED BY", "SIZE", "WASTED")?;
        for h in &img.history {
            let (id, size, wasted) = match &h.layer {
                Some(l) => (
                    short(&l.id),
                    bytes(l.size),
                    if l.wasted_bytes > 0 { bytes(l.wasted_bytes) } else { String::new() },
                ),
                None => ("-".into(), "(empty)".into(), String::new()),
            };
            writeln!(out, "  {:>3}  {:<12}  {:<60}  {:>9}  {:>9}", h.index, id, clip(&h.created_by, 60), size, wasted)?;
        }
        writeln!(out, "  total: {}", bytes(img.total_size))?;
        writeln!(out, "  default squash point: {} — {}", point(&img.default_from.from), img.default_from.reason)?;
        if !img.squash_points.is_empty() {
            writeln!(out, "  wasted: {} in files that later layers delete or overwrite", bytes(img.wasted_bytes))?;
            if let Some(e) = img.efficiency {
                writeln!(out, "  efficiency: {} (as dive scores it: 100% is no waste)", percent(e))?;
            }
            writeln!(out, "  squashing from:")?;
            for p in &img.squash_points {
                writeln!(
                    out,
                    "    {:<12}  {} layers, {}, reclaims {}",
                    point(&p.from),
                    p.layers_after,
                    bytes(p.size_after),
                    bytes(p.reclaimed_bytes)
                )?;
            }
        }
        if !img.wasted_groups.is_empty() {
            writeln!(out, "  wasted, by folder (--json lists their largest files):")?;
            // Say where by history step (the # column), which is what users see.
            let step = |layer: usize| {
                img.history
                    .iter()
                    .find(|h| h.layer.as_ref().is_some_and(|l| l.index == layer))
                    .map_or(layer, |h| h.index)
            };
            for g in img.wasted_groups.iter().take(GROUPS_SHOWN) {
                // A group of one file is shown as that file.
                let (what, count) = match g.largest.as_slice() {
                    [only] if g.files == 1 => (only.path.clone(), String::new()),
                    _ => (g.folder.clone(), format!("{} files, ", g.files)),
                };
                writeln!(
                    out,
                    "    {:>9}  {what}  ({count}written by #{}, {} by #{})",
                    bytes(g.size),
                    step(g.layer_index),
                    g.how,
                    step(g.removed_by)
                )?;
            }
            let more = img.wasted_groups.len().saturating_sub(GROUPS_SHOWN);
            if more > 0 {
                writeln!(out, "    … and {more} more folders")?;
            }
        }
    }
    Ok(())
}

/// A squash point as `-from` takes it, short.
fn point(from: &str) -> String {
    if from == "root" {
        "root".into()
    } else {
        short(from)
    }
}
