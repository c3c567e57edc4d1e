//! `docker-squash inspect`: the facts as a `docker history`-like table, or as JSON.

use std::fmt::Write;

use squash_engine::Inspection;

use crate::format::{bytes, clip, short, tags};

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
        if !img.largest_wasted.is_empty() {
            writeln!(out, "  largest wasted files:")?;
            // Say where by history step (the # column), which is what users see.
            let step = |layer: usize| {
                img.history
                    .iter()
                    .find(|h| h.layer.as_ref().is_some_and(|l| l.index == layer))
                    .map_or(layer, |h| h.index)
            };
            for w in img.largest_wasted.iter().take(10) {
                writeln!(
                    out,
                    "    {:>9}  {}  (written by #{}, {} by #{})",
                    bytes(w.size),
                    w.path,
                    step(w.layer_index),
                    w.how,
                    step(w.removed_by)
                )?;
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
