//! The archive's members, in the order they are written.
//!
//! OCI layout (Docker 25+): `blobs/`, `blobs/sha256/`, every layer blob (each once), the
//! config, the image manifest, then `index.json`, `manifest.json` and `oci-layout`.
//! Docker layout (before 25): `<chain id>/layer.tar` per kept layer, the new layer, the
//! config `<id>.json`, `manifest.json`, `repositories`.
//!
//! A blob is named by its digest, and every tar member's size comes before its bytes, so
//! the new layer is made before the archive is written (into the host's scratch space, or
//! once to be measured and again while writing), except a plain layer of the Docker
//! layout, which is streamed as it is made, as before.

use std::collections::HashSet;
use std::io::Write;

use sha2::{Digest, Sha256};

use super::oci::{self, Descriptor};
use super::output::{Out, Sink};
use super::stage::{self, Discard, Made};
use super::{config, squashed_layer, Job, NewLayer, Written};
use crate::digest::{hex_of, sha256_digest, Hasher, HashingReader};
use crate::error::{Error, Result};
use crate::image::layer_ids::chain_ids;
use crate::merge::apply_layers;
use crate::merge::plan::Plan;
use crate::options::{ArchiveFormat, ProgressFn};
use crate::read::compression::Compression;
use crate::report::Progress;
use crate::scratch::Scratch;
use crate::source::RangeReader;
use crate::tar::walk::padded;

const COPY_BUF: usize = 1 << 20;

/// The new layer once made: its digests and size, and its bytes when a scratch space
/// holds them.
struct Staged<'s> {
    made: Made,
    scratch: Option<Box<dyn Scratch + 's>>,
}

pub(super) fn write<'s>(job: &Job<'_, 's>, out: &mut dyn Write, progress: &mut ProgressFn) -> Result<Written> {
    let squashing = job.keep < job.layers.len();
    let tree = apply_layers(job.layers, job.keep, &mut |_| {})?;
    let plan = if squashing { tree.plan() } else { Plan::default() };
    drop(tree);
    let lay = squashed_layer::layout(job, &plan)?;
    let mut buf = vec![0u8; COPY_BUF];
    let oci = job.format == ArchiveFormat::Oci;

    let streamed = !oci && job.compression.codec == Compression::None;
    let staged = match squashing && !streamed {
        true => Some(stage_new_layer(job, &plan, &lay, progress, &mut buf)?),
        false => None,
    };
    let kept: Vec<Descriptor> = (0..job.keep).map(|i| kept_blob(job, i, oci)).collect::<Result<_>>()?;

    // Member names. Docker's layout names layer folders by chain id, and the new one by a
    // digest of what it was made from (its own digest is known only once written).
    let mut names: Vec<String> = match oci {
        true => kept.iter().map(|d| blob_name(&d.digest)).collect(),
        false => chain_ids(&job.diff_ids[..job.keep]).iter().map(|c| format!("{}/layer.tar", hex_of(c))).collect(),
    };
    if squashing {
        names.push(match &staged {
            Some(s) if oci => blob_name(&s.made.digest),
            _ => format!("{}/layer.tar", new_layer_folder(job)),
        });
    }

    let new_stored = staged.as_ref().map_or(lay.size, |s| s.made.size);
    let folders = if oci { 1024 } else { 0 };
    let kept_total: u64 = kept.iter().map(|d| 512 + padded(d.size).unwrap_or(0)).sum();
    let total = folders + kept_total + if squashing { 512 + padded(new_stored).unwrap_or(0) } else { 0 } + 4096;
    let mut o = Out { w: out, written: 0, total, last: 0, hasher: None, progress };
    if oci {
        o.folder("blobs/")?;
        o.folder("blobs/sha256/")?;
    }

    let mut written_blobs = HashSet::new();
    for (i, d) in kept.iter().enumerate() {
        if oci && !written_blobs.insert(d.digest.clone()) {
            continue; // the same blob twice in one image: one member serves both
        }
        let file = &job.image.layers[i].file;
        o.member(&names[i], file.size)?;
        o.copy(&mut RangeReader::new(&*job.members.src, file.offset, file.size), file.size, &mut buf)?;
        o.pad(file.size)?;
    }

    let new_layer = match squashing {
        false => None,
        true => {
            Some(write_new_layer(job, &plan, &lay, staged, &names[job.keep], &mut o, &mut buf, &mut written_blobs)?)
        }
    };

    let config_bytes = config::config(job, new_layer.as_ref().map(|n| n.diff_id.as_str()))?;
    let image_id = sha256_digest(&config_bytes);
    let mut manifest_digest = None;
    let mut documents = Vec::new();
    if oci {
        let config = Descriptor {
            media_type: oci::CONFIG_MEDIA_TYPE,
            digest: image_id.clone(),
            size: config_bytes.len() as u64,
        };
        let mut layers = kept;
        if let Some(n) = &new_layer {
            let media_type = oci::layer_media_type(job.compression.codec);
            layers.push(Descriptor { media_type, digest: n.digest.clone(), size: n.stored_size });
        }
        let manifest = oci::manifest(&config, &layers)?;
        let m = Descriptor {
            media_type: oci::MANIFEST_MEDIA_TYPE,
            digest: sha256_digest(&manifest),
            size: manifest.len() as u64,
        };
        let index = oci::index(&m, &job.tags, &job.image.config)?;
        documents.push((blob_name(&image_id), config_bytes));
        let docker_manifest = config::manifest(&blob_name(&image_id), &job.tags, &names)?;
        documents.push((blob_name(&m.digest), manifest));
        documents.push(("index.json".to_string(), index));
        documents.push(("manifest.json".to_string(), docker_manifest));
        documents.push(("oci-layout".to_string(), oci::OCI_LAYOUT.to_vec()));
        manifest_digest = Some(m.digest);
    } else {
        let config_name = format!("{}.json", hex_of(&image_id));
        documents.push((config_name.clone(), config_bytes));
        documents.push(("manifest.json".to_string(), config::manifest(&config_name, &job.tags, &names)?));
        if !job.tags.is_empty() {
            documents.push(("repositories".to_string(), config::repositories(&job.tags, &names)?));
        }
    }
    for (name, bytes) in &documents {
        o.member(name, bytes.len() as u64)?;
        o.put(bytes)?;
        o.pad(bytes.len() as u64)?;
    }
    o.zeros(1024)?;
    o.w.flush().map_err(|e| Error::io("writing the output", e))?;
    let p = Progress { phase: "write", bytes_done: o.written, bytes_total: o.written };
    (o.progress)(&p);
    Ok(Written { image_id, new_layer, manifest_digest, output_bytes: o.written })
}

fn blob_name(digest: &str) -> String {
    format!("blobs/sha256/{}", hex_of(digest))
}

/// The Docker layout's folder for the new layer: a digest of what it is made from.
fn new_layer_folder(job: &Job<'_, '_>) -> String {
    let mut h = Sha256::new();
    h.update(b"squash");
    for d in job.diff_ids {
        h.update(d.as_bytes());
    }
    h.update((job.keep as u64).to_le_bytes()); // u64: the same name in wasm32 and natively
    hex::encode(h.finalize())
}

/// Makes the new layer before anything is written: into the host's scratch space when it
/// lent one, else only measured (it is made again while writing).
fn stage_new_layer<'s>(
    job: &Job<'_, 's>,
    plan: &Plan,
    lay: &squashed_layer::Layout,
    progress: &mut ProgressFn,
    buf: &mut [u8],
) -> Result<Staged<'s>> {
    let Some(factory) = job.scratch else {
        let made = stage::make(job, plan, lay, &job.compression, &mut Discard, Some(progress), buf)?;
        return Ok(Staged { made, scratch: None });
    };
    let mut scratch = factory().map_err(|e| Error::io("cannot make a temporary file for the new layer", e))?;
    let made = stage::make(job, plan, lay, &job.compression, &mut ToScratch(&mut *scratch), Some(progress), buf)?;
    scratch.flush().map_err(|e| Error::io("cannot write the temporary file of the new layer", e))?;
    if scratch.size() != made.size {
        return Err(Error::corrupt(format!(
            "the temporary file of the new layer holds {} bytes, {} were written to it",
            scratch.size(),
            made.size
        )));
    }
    Ok(Staged { made, scratch: Some(scratch) })
}

struct ToScratch<'a, 's>(&'a mut (dyn Scratch + 's));

impl Sink for ToScratch<'_, '_> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.0.write_all(bytes).map_err(|e| Error::io("cannot write the temporary file of the new layer", e))
    }
}

/// Writes the new layer's member: streamed as made, copied from scratch, or made again
/// (and required to come out the same).
#[allow(clippy::too_many_arguments)]
fn write_new_layer<'s>(
    job: &Job<'_, 's>,
    plan: &Plan,
    lay: &squashed_layer::Layout,
    staged: Option<Staged<'s>>,
    name: &str,
    o: &mut Out<'_, '_, 's>,
    buf: &mut [u8],
    written_blobs: &mut HashSet<String>,
) -> Result<NewLayer> {
    let Some(Staged { made, scratch }) = staged else {
        o.member(name, lay.size)?;
        o.hasher = Some(Hasher::start(job.sha256));
        squashed_layer::write(job, plan, lay, o, buf)?;
        let diff_id = o.hasher.take().map(Hasher::finish).ok_or_else(|| Error::corrupt("internal: no hasher"))?;
        o.pad(lay.size)?;
        return Ok(NewLayer { digest: diff_id.clone(), diff_id, size: lay.size, stored_size: lay.size });
    };
    let layer =
        NewLayer { diff_id: made.diff_id.clone(), size: lay.size, digest: made.digest.clone(), stored_size: made.size };
    if job.format == ArchiveFormat::Oci && !written_blobs.insert(made.digest.clone()) {
        return Ok(layer); // a kept layer with the very same bytes (squashing one layer)
    }
    o.member(name, made.size)?;
    match scratch {
        Some(s) => o.copy(&mut RangeReader::new(&*s, 0, made.size), made.size, buf)?,
        None => {
            let again = stage::make(job, plan, lay, &job.compression, o, None, buf)?;
            if again != made {
                return Err(Error::corrupt(
                    "the input changed while it was being squashed: the new layer came out different the second time",
                ));
            }
        }
    }
    o.pad(made.size)?;
    Ok(layer)
}

/// A kept layer as a blob: its stored size, media type and digest. The digest is the
/// diff_id for a plain layer, the archive's own for a compressed one when it says it, and
/// hashed from the stored bytes otherwise (compressed layers of a `manifest.json` archive,
/// in the OCI layout only).
fn kept_blob(job: &Job<'_, '_>, i: usize, oci: bool) -> Result<Descriptor> {
    let (index, desc) = (&job.layers[i], &job.image.layers[i]);
    let media_type = oci::layer_media_type(index.compression);
    let digest = match (index.compression, &desc.digest) {
        (Compression::None, _) => index.diff_id.clone(),
        (_, Some(d)) => d.clone(),
        _ if !oci => String::new(),
        _ => {
            let raw = RangeReader::new(&*job.members.src, desc.file.offset, desc.file.size);
            let mut r = HashingReader::new(raw, job.sha256);
            std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| Error::io("reading a layer", e))?;
            r.finish().ok_or_else(|| Error::corrupt("internal: no hasher"))?
        }
    };
    Ok(Descriptor { media_type, digest, size: desc.file.size })
}
