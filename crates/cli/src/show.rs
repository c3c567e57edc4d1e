//! Human-readable output: sizes, tags, and `inspect` as a `docker history`-like table.

use std::io::{self, Write};

use squash_engine::Inspection;

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn tags(t: &[String]) -> String {
    if t.is_empty() {
        "<untagged>".into()
    } else {
        t.join(", ")
    }
}

fn short(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

fn clip(s: &str, n: usize) -> String {
    let one_line = s.replace(['\n', '\t'], " ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        format!("{}…", one_line.chars().take(n - 1).collect::<String>())
    }
}

pub fn inspection(out: &mut dyn Write, f: &Inspection) -> io::Result<()> {
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
        writeln!(
            out,
            "  default squash point: {} — {}",
            if img.default_from.from == "root" { "root".into() } else { short(&img.default_from.from) },
            img.default_from.reason
        )?;
        if !img.squash_points.is_empty() {
            writeln!(out, "  wasted: {} in files that later layers delete or overwrite", bytes(img.wasted_bytes))?;
            writeln!(out, "  squashing from:")?;
            for p in &img.squash_points {
                let from = if p.from == "root" { "root".into() } else { short(&p.from) };
                writeln!(
                    out,
                    "    {:<12}  {} layers, {}, reclaims {}",
                    from,
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
