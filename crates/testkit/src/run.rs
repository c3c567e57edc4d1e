//! Running the engine on an archive, and one squash checked against the reference: the
//! same filesystem before and after, diff_ids and ids that match what was written, kept
//! layers byte-identical, the new layer in an order Docker can apply.

use std::io::Write;
use std::rc::Rc;

use squash_engine::{
    Archive, ArchiveFormat, Error, LayerCompression, ReadAt, Scratch, SliceSource, SquashFrom, SquashOptions,
    SquashReport,
};

use crate::archive::Image;
use crate::compress::{decompress, gunzip_one_member, GZIP_MAGIC, ZSTD_MAGIC};
use crate::digest::{digest, sha256_hex};
use crate::entry::Entry;
use crate::output::{check_oci_layout, parse_layer, read_output, Output, Parsed};
use crate::path::{clean_path, show};
use crate::reference::{assert_same_content, assert_same_fs, check_order, Fs};

pub fn squash_with(archive: &[u8], opts: &SquashOptions) -> Result<(Vec<u8>, SquashReport), Error> {
    let a = Archive::open(Box::new(SliceSource(archive)))?;
    let mut out = Vec::new();
    let report = a.squash(opts, &mut out, &mut |_| true)?;
    Ok((out, report))
}

/// Scratch space in memory, as a host would lend a temporary file.
struct MemoryScratch(Vec<u8>);

impl Write for MemoryScratch {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ReadAt for MemoryScratch {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        SliceSource(&self.0).read_at(offset, buf)
    }
}

/// As [`squash_with`], with scratch space lent (the new layer is staged there once,
/// instead of being made twice).
pub fn squash_to_scratch(archive: &[u8], opts: &SquashOptions) -> Result<(Vec<u8>, SquashReport), Error> {
    let mut a = Archive::open(Box::new(SliceSource(archive)))?;
    a.set_scratch(Rc::new(|| Ok(Box::new(MemoryScratch(Vec::new())) as Box<dyn Scratch>)));
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
///
/// The default output (OCI layout, `auto` compression) is checked in full; then the same
/// squash in the Docker layout uncompressed and in the OCI layout with gzip and zstd: each
/// the same filesystem, from the very same layer tar.
pub fn run_checked(spec: &Image, archive: Vec<u8>, from: SquashFrom, groups: bool) -> Squashed {
    let opts = SquashOptions { from: from.clone(), ..Default::default() };
    let (bytes, report) =
        squash_with(&archive, &opts).unwrap_or_else(|e| panic!("squash {from:?} failed: {e} ({:?})", e.code));
    // Trusting the diff_ids (headers-only reading of uncompressed layers) must not change
    // a byte of the result, nor must staging the new layer in scratch space.
    let (trusted, _) = squash_with(&archive, &SquashOptions { verify: false, ..opts.clone() })
        .unwrap_or_else(|e| panic!("squash {from:?} without verifying failed: {e} ({:?})", e.code));
    assert!(trusted == bytes, "squash {from:?}: not verifying changed the output");
    let (staged, _) = squash_to_scratch(&archive, &opts)
        .unwrap_or_else(|e| panic!("squash {from:?} with scratch space failed: {e} ({:?})", e.code));
    assert!(staged == bytes, "squash {from:?}: staging the new layer in scratch space changed the output");
    let out = read_output(&bytes);
    check_oci_layout(&out, &report.tags);
    let label = format!("squash {from:?}");
    let (before, after, new_layer) = check_written(spec, &out, &report, groups, &label);

    let variants = [
        (ArchiveFormat::Docker, LayerCompression::None),
        (ArchiveFormat::Oci, LayerCompression::Gzip),
        (ArchiveFormat::Oci, LayerCompression::Zstd),
    ];
    for (format, compress) in variants {
        let o = SquashOptions { format, compress, ..opts.clone() };
        let label = format!("squash {from:?} {format:?} {compress:?}");
        let (b, r) = squash_with(&archive, &o).unwrap_or_else(|e| panic!("{label} failed: {e} ({:?})", e.code));
        let written = read_output(&b);
        match format {
            ArchiveFormat::Oci => {
                check_oci_layout(&written, &r.tags);
            }
            ArchiveFormat::Docker => {
                assert_eq!(written.config_name, format!("{}.json", sha256_hex(&written.config_bytes)), "{label}");
                assert_eq!(written.members.contains_key("repositories"), !r.tags.is_empty(), "{label}");
            }
        }
        check_written(spec, &written, &r, groups, &label);
        assert_eq!(r.new_layer_diff_id, report.new_layer_diff_id, "{label}: the new layer's tar differs");
        if let Some(top) = written.layers.last().filter(|_| r.new_layer_diff_id.is_some()) {
            let magic: &[u8] = match compress {
                LayerCompression::Gzip => &GZIP_MAGIC,
                LayerCompression::Zstd => &ZSTD_MAGIC,
                _ => &[],
            };
            assert!(top.starts_with(magic), "{label}: the new layer is not stored as asked");
            if compress == LayerCompression::Gzip {
                assert_eq!(gunzip_one_member(top), decompress(top), "{label}: the gzip layer is not one member");
            }
        }
    }
    Squashed { input: archive, bytes, report, out, new_layer, before, after }
}

/// What every written archive must show, whatever its layout and compression.
fn check_written(
    spec: &Image,
    out: &Output,
    report: &SquashReport,
    groups: bool,
    label: &str,
) -> (Fs, Fs, Vec<Parsed>) {
    let before = Fs::from_layers(&spec.layers.iter().map(|l| l.tar.clone()).collect::<Vec<_>>());
    let after = Fs::from_layers(&out.layers.iter().map(|l| decompress(l)).collect::<Vec<_>>());
    if groups {
        assert_same_fs(&before, &after, label);
    } else {
        assert_same_content(&before, &after, label);
    }

    // rootfs.diff_ids: the digests of what was written, uncompressed.
    let ids: Vec<String> =
        out.config["rootfs"]["diff_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let written: Vec<String> = out.layers.iter().map(|l| digest(&decompress(l))).collect();
    assert_eq!(ids, written, "{label}: rootfs.diff_ids are not the digests of the written layers");
    assert_eq!(report.image_id, digest(&out.config_bytes), "{label}: the image id is the config's digest");
    let hex = sha256_hex(&out.config_bytes);
    assert!(out.config_name.contains(&hex), "{label}: config named {}", out.config_name);

    let keep = report.layers_after - usize::from(report.new_layer_diff_id.is_some());
    for i in 0..keep {
        assert_eq!(out.layers[i], spec.layers[i].stored, "{label}: kept layer {i} is not byte-identical");
    }
    let new_layer = match &report.new_layer_diff_id {
        Some(d) => {
            let top = out.layers.last().unwrap();
            let tar = decompress(top);
            assert_eq!(&digest(&tar), d, "{label}: the report's diff_id is the new layer's digest");
            assert_eq!(report.new_layer_size, tar.len() as u64, "{label}");
            assert_eq!(report.new_layer_digest.as_deref(), Some(digest(top).as_str()), "{label}: blob digest");
            assert_eq!(report.new_layer_stored_size, top.len() as u64, "{label}");
            let parsed = parse_layer(top);
            let base = Fs::from_layers(&out.layers[..keep].iter().map(|l| decompress(l)).collect::<Vec<_>>());
            check_order(&parsed, &base);
            parsed
        }
        None => Vec::new(),
    };
    (before, after, new_layer)
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
