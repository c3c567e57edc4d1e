//! Writes the seed corpora: small valid archives in every format and compression for
//! `archive` and `squash`, and small layers for `layer` and `compress`.
//!   cargo run --bin gen-seeds            (from crates/engine/fuzz; writes corpus/<target>/)
use std::fs;
use std::path::Path;

use squash_testkit::{
    dir, file, gzip, hardlink, opaque, pax_record, sample_layers, symlink, tar, whiteout, zstd, Folders, Image, Layer,
};

fn put(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let sample = Image::new(sample_layers());
    let hello = Layer::plain(tar(&[file("hello", b"hi")]));
    let small = Image::new(vec![hello.clone()]);
    let repeated = Image::new(vec![hello.clone(), hello]);
    let archives: Vec<(&str, Vec<u8>)> = vec![
        ("docker", sample.docker_save_as(Folders::ByPosition)),
        ("docker-small", small.docker_save_as(Folders::ByPosition)),
        ("oci", sample.oci_layout()),
        ("oci-small", small.oci_layout()),
        ("docker-gz", gzip(&small.docker_save())),
        ("docker-zst", zstd(&small.docker_save())),
        ("repeated-layer", repeated.docker_save_as(Folders::ByPosition)),
        ("repeated-layer-symlinked", repeated.docker_save_as(Folders::SymlinkedRepeats)),
        ("docker25", sample.docker25_save()),
    ];
    for (name, bytes) in &archives {
        put("archive", name, bytes);
        put("squash", name, bytes);
    }
    let entries = [
        dir("d/"),
        file("d/f", b"data"),
        whiteout("d/gone"),
        opaque("e"),
        hardlink("d/h", "d/f"),
        symlink("d/s", "f"),
        file("p", b"pax").pax(pax_record(b"mtime", b"1.5")),
        file("long/".repeat(30), b"long name"),
    ];
    // The layer targets: `layer` (the reader and the merge) and `compress` (the new layer
    // stored every way) take the same layers.
    let layers = [
        ("plain", tar(&entries)),
        ("gzip", gzip(&tar(&entries))),
        ("zstd", zstd(&tar(&entries))),
        ("empty-tar", tar(&[])),
        ("whiteouts", tar(&[whiteout("etc"), opaque("x"), file("x/z", b"z")])),
    ];
    for (name, bytes) in &layers {
        put("layer", name, bytes);
        put("compress", name, bytes);
    }
    println!("seeds written under corpus/");
}
