//! Writes the seed corpora: small valid archives in every format and compression for
//! `archive` and `squash`, and small layers for `layer`.
//!   cargo run --bin gen-seeds            (from crates/engine/fuzz; writes corpus/<target>/)
use std::fs;
use std::path::Path;

use fuzz_support::*;

fn put(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let layers = sample_layers();
    let small = vec![Layer::plain(&[file("hello", b"hi")])];
    let archives: Vec<(&str, Vec<u8>)> = vec![
        ("docker", docker_archive(&layers)),
        ("docker-small", docker_archive(&small)),
        ("oci", oci_archive(&layers)),
        ("oci-small", oci_archive(&small)),
        ("docker-gz", gzip(&docker_archive(&small))),
        ("docker-zst", zstd(&docker_archive(&small))),
        ("repeated-layer", docker_archive(&[small[0].clone(), small[0].clone()])),
    ];
    for (name, bytes) in &archives {
        put("archive", name, bytes);
        put("squash", name, bytes);
    }
    let entries = [
        dir("d/"),
        file("d/f", b"data"),
        file("d/.wh.gone", b""),
        file("e/.wh..wh..opq", b""),
        hardlink("d/h", "d/f"),
        symlink("d/s", "f"),
        Entry { pax: Some(pax_record("mtime", b"1.5")), ..file("p", b"pax") },
        file(&"long/".repeat(30), b"long name"),
    ];
    put("layer", "plain", &tar(&entries));
    put("layer", "gzip", &gzip(&tar(&entries)));
    put("layer", "zstd", &zstd(&tar(&entries)));
    put("layer", "empty-tar", &tar(&[]));
    put("layer", "whiteouts", &tar(&[file(".wh.etc", b""), file("x/.wh..wh..opq", b""), file("x/z", b"z")]));
    println!("seeds written under corpus/");
}
