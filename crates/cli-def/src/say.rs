//! What the CLI says on stderr besides its errors: the `-verbose` log, the progress line,
//! and the messages about how it was called. The hosts print these; both print the same.

use squash_engine::{Inspection, SquashReport};

use crate::format::{bytes, tags};

/// `inspect` was given no FILE.
pub fn needs_file(prog: &str) -> String {
    format!("inspect needs a FILE: {prog} inspect image.tar")
}

/// Nothing was given to read and stdin is a terminal.
pub fn no_input(prog: &str) -> String {
    format!("no input: pipe `docker save IMAGE` into {prog}, or give -i FILE")
}

/// Nothing was given to write to and stdout is a terminal.
pub const TERMINAL_OUTPUT: &str =
    "refusing to write an image archive to a terminal: pipe into `docker load` or give -o FILE";

/// The input file changed while it was read: `now` and `then` are its lengths now and when
/// it was opened (equal when it was rewritten in place).
pub fn input_changed(path: &str, now: u64, then: u64) -> String {
    if now == then {
        return format!("{path} was rewritten while it was read; nothing was written");
    }
    let how = if now < then { "truncated" } else { "appended to" };
    format!("{path} changed while it was read ({how}: {now} bytes, {then} when opened); nothing was written")
}

/// A pull starts (the `-verbose` log).
pub fn pulling(reference: &str) -> String {
    format!("pulling docker://{reference}")
}

/// A pull is done: the manifest's digest, its layers and the bytes fetched (`-verbose`).
pub fn pulled(digest: &str, layers: usize, fetched: u64) -> String {
    format!("pulled {digest} ({layers} layers, {} fetched)", bytes(fetched))
}

/// A push is done: what was pushed, and what its blobs cost, as (count, bytes) of those
/// uploaded, mounted from the source and already there. Said on stderr after the squash.
pub fn pushed(
    reference: &str,
    digest: &str,
    uploaded: (usize, u64),
    mounted: (usize, u64),
    existing: (usize, u64),
) -> [String; 2] {
    [
        format!("pushed docker://{reference}@{digest}"),
        format!(
            "blobs: {} uploaded ({}), {} mounted from the source ({}), {} already there ({})",
            uploaded.0,
            bytes(uploaded.1),
            mounted.0,
            bytes(mounted.1),
            existing.0,
            bytes(existing.1),
        ),
    ]
}

/// A `-verbose` line: `msg`, stamped with the seconds since the start.
pub fn stamped(seconds: f64, msg: &str) -> String {
    format!("[{seconds:>6.1}s] {msg}")
}

/// The size of the input, as read (decompressed).
pub fn input_size(size: u64) -> String {
    format!("input: {size} bytes")
}

/// Whether the layers are hashed.
pub fn verify_note(verify: bool) -> &'static str {
    if verify {
        "layers: each verified against its diff_id"
    } else {
        "layers: trusting the config's diff_ids (-no-verify)"
    }
}

/// The archive and its images, before squashing.
pub fn listing(list: &Inspection) -> Vec<String> {
    let mut lines = vec![format!("archive: {}, compression {}", list.format, list.compression)];
    for img in &list.images {
        let layers = img.history.iter().filter(|h| h.layer.is_some()).count();
        lines.push(format!("image {}: {} {} ({layers} layers)", img.index, tags(&img.tags), img.platform));
    }
    lines
}

/// What the squash did, layer by layer and in sum. (Its squash point's reason is said
/// without `-verbose` too, as the original did: hosts print `report.from.reason`; and so is
/// what an index named that the output leaves out: `report.left_out`'s reasons.)
pub fn summary(report: &SquashReport) -> Vec<String> {
    if !report.platforms.is_empty() {
        let mut lines = Vec::new();
        for p in &report.platforms {
            lines.extend(summary(&p.report).into_iter().map(|l| format!("{}: {l}", p.platform)));
        }
        lines.push(format!("index {} tagged {}", report.image_id, tags(&report.tags)));
        return lines;
    }
    let kept = report.from.layer_index.map_or(0, |k| k + 1);
    let mut lines: Vec<String> = (0..report.layers_before)
        .map(|i| format!("layer {i}: {}", if i < kept { "kept" } else { "squashed" }))
        .collect();
    lines.push(sizes(report));
    if report.new_layer_diff_id.is_some() {
        let how = match report.compression.as_str() {
            "none" => "a plain tar".to_string(),
            c => format!("{c} level {}", report.compression_level),
        };
        lines.push(format!(
            "new layer stored as {how}: {} ({})",
            bytes(report.new_layer_stored_size),
            report.compression_reason
        ));
    }
    lines.push(format!(
        "archive: {} layout",
        if report.format == "oci" { "OCI (Docker 25+)" } else { "Docker (before 25)" }
    ));
    lines.push(format!("image {} tagged {}", report.image_id, tags(&report.tags)));
    lines
}

/// The squash in one line: layers and size before and after, and the new layer. (Said
/// without `-verbose` too when the result goes into an engine or a registry, where the
/// user sees no file.)
pub fn sizes(report: &SquashReport) -> String {
    format!(
        "layers: {} -> {}; size: {} -> {}; new layer {} ({})",
        report.layers_before,
        report.layers_after,
        bytes(report.size_before),
        bytes(report.size_after),
        report.new_layer_diff_id.as_deref().unwrap_or("none"),
        bytes(report.new_layer_size)
    )
}

/// The progress line, drawn over itself with `\r` (and wiped once the phase is done);
/// `seconds` since the start give the rate.
pub fn progress(phase: &str, done: u64, total: u64, seconds: f64) -> String {
    let pct = if total > 0 { done as f64 * 100.0 / total as f64 } else { 0.0 };
    let rate = done as f64 / seconds.max(0.001) / 1e6;
    let mut line = format!("\r{phase:<5} {pct:>5.1}%  {} / {}  {rate:.0} MB/s   ", bytes(done), bytes(total));
    if done >= total {
        line.push_str(&format!("\r{:70}\r", ""));
    }
    line
}
