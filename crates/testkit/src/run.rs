//! Running the engine on an archive, and one squash checked against the reference: the
//! same filesystem before and after, diff_ids and ids that match what was written, kept
//! layers byte-identical, the new layer in an order Docker can apply.

use squash_engine::{Archive, Error, SliceSource, SquashFrom, SquashOptions, SquashReport};

use crate::archive::Image;
use crate::compress::decompress;
use crate::digest::{digest, sha256_hex};
use crate::entry::Entry;
use crate::output::{parse_layer, read_output, Output, Parsed};
use crate::path::{clean_path, show};
use crate::reference::{assert_same_content, assert_same_fs, check_order, Fs};

pub fn squash_with(archive: &[u8], opts: &SquashOptions) -> Result<(Vec<u8>, SquashReport), Error> {
    let a = Archive::open(Box::new(SliceSource(archive)))?;
    let mut out = Vec::new();
    let report = a.squash(opts, &mut out, &mut |_| true)?;
    Ok((out, report))
}

pub fn squash(archive: &[u8], from: SquashFrom) -> Result<(Vec<u8>, SquashReport), Error> {
    squash_with(archive, &SquashOptions { from, ..Default::default() })
}

/// One squash, run and checked, with what a test may look at.
pub struct Squashed {
    pub input: Vec<u8>,
    pub bytes: Vec<u8>,
    pub report: SquashReport,
    pub out: Output,
    /// Entries of the new (top) layer, when one was written.
    pub new_layer: Vec<Parsed>,
    pub before: Fs,
    pub after: Fs,
}

impl Squashed {
    pub fn new_paths(&self) -> Vec<String> {
        self.new_layer.iter().map(|e| show(&e.path)).collect()
    }
    pub fn new_entry(&self, p: &str) -> Option<&Parsed> {
        let want = clean_path(p.as_bytes());
        self.new_layer.iter().find(|e| e.clean() == want)
    }
    pub fn has(&self, p: &str) -> bool {
        self.new_entry(p).is_some()
    }
}

/// Squashes `archive` (whose layers, uncompressed, are `spec.layers`) and checks that the
/// output shows the same filesystem as the input, the config's diff_ids are the digests
/// of the written layers, and the new layer is well ordered.
pub fn run_archive(spec: &Image, archive: Vec<u8>, from: SquashFrom) -> Squashed {
    run_checked(spec, archive, from, true)
}

/// As `run_archive`; `groups`: also compare which paths are hardlinked together (not
/// when a squashed layer links to a file of a kept layer: the link then becomes a copy,
/// as overlay2 could not apply a link into a lower layer anyway).
pub fn run_checked(spec: &Image, archive: Vec<u8>, from: SquashFrom, groups: bool) -> Squashed {
    let (bytes, report) =
        squash(&archive, from.clone()).unwrap_or_else(|e| panic!("squash {from:?} failed: {e} ({:?})", e.code));
    // Trusting the diff_ids (headers-only reading of uncompressed layers) must not change
    // a byte of the result.
    let (trusted, _) =
        squash_with(&archive, &SquashOptions { from: from.clone(), verify: false, ..Default::default() })
            .unwrap_or_else(|e| panic!("squash {from:?} without verifying failed: {e} ({:?})", e.code));
    assert!(trusted == bytes, "squash {from:?}: not verifying changed the output");
    let out = read_output(&bytes);
    let before = Fs::from_layers(&spec.layers.iter().map(|l| l.tar.clone()).collect::<Vec<_>>());
    let after = Fs::from_layers(&out.layers);
    if groups {
        assert_same_fs(&before, &after, &format!("squash {from:?}"));
    } else {
        assert_same_content(&before, &after, &format!("squash {from:?}"));
    }

    // rootfs.diff_ids: the digests of what was written, uncompressed.
    let ids: Vec<String> =
        out.config["rootfs"]["diff_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let written: Vec<String> = out.layers.iter().map(|l| digest(&decompress(l))).collect();
    assert_eq!(ids, written, "rootfs.diff_ids are not the digests of the written layers");
    assert_eq!(report.image_id, digest(&out.config_bytes), "the image id is the config's digest");
    assert_eq!(out.config_name, format!("{}.json", sha256_hex(&out.config_bytes)));

    let keep = report.layers_after - usize::from(report.new_layer_diff_id.is_some());
    for i in 0..keep {
        assert_eq!(out.layers[i], spec.layers[i].stored, "kept layer {i} is not byte-identical");
    }
    let new_layer = match &report.new_layer_diff_id {
        Some(d) => {
            let top = out.layers.last().unwrap();
            assert_eq!(&digest(top), d, "the report's diff_id is the new layer's digest");
            assert_eq!(report.new_layer_size, top.len() as u64);
            let parsed = parse_layer(top);
            let base = Fs::from_layers(&out.layers[..keep]);
            check_order(&parsed, &base);
            parsed
        }
        None => Vec::new(),
    };
    Squashed { input: archive, bytes, report, out, new_layer, before, after }
}

pub fn run(spec: &Image, from: SquashFrom) -> Squashed {
    let archive = spec.docker_save();
    run_archive(spec, archive, from)
}

pub fn run_layers(layers: &[Vec<Entry>], from: SquashFrom) -> Squashed {
    run(&Image::from_entries(layers), from)
}

/// From root and from every layer but the top one: the same filesystem each time.
pub fn run_all_points(layers: &[Vec<Entry>]) -> Vec<Squashed> {
    let spec = Image::from_entries(layers);
    let mut out = vec![run(&spec, SquashFrom::Root)];
    for k in 0..layers.len().saturating_sub(1) {
        let id = spec.layers[k].diff_id.clone();
        if spec.layers.iter().filter(|l| l.diff_id == id).count() > 1 {
            continue; // identical layers: their diff_id cannot say which one
        }
        out.push(run(&spec, SquashFrom::Layer(id)));
    }
    out
}
