//! One image's members, as the image layout or an index's platform has them: the kept
//! layers (copied byte for byte, each blob once), the new layer, the config and (OCI) the
//! image manifest. The documents naming the image (`index.json`, `manifest.json`,
//! `repositories`) are the caller's: `layout.rs` for one image, `index.rs`
//! for an index.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use super::oci::{self, Descriptor};
use super::output::{Out, Sink};
use super::squashed_layer::{self, Layout};
use super::stage::{self, stage_new_layer, Staged};
use super::{config, Job, NewLayer};
use crate::digest::{hex_of, sha256_digest, Hasher, HashingReader};
use crate::error::{Error, Result};
use crate::image::layer_ids::chain_ids;
use crate::options::{ArchiveFormat, ProgressFn};
use crate::read::compression::Compression;
use crate::source::RangeReader;
use crate::tar::walk::padded;

/// An image before any of it is written: its new layer laid out (and made, when it must be
/// measured first), its kept layers as blobs, and the member names of its layers.
pub(super) struct Prepared<'s> {
    lay: Layout,
    staged: Option<Staged<'s>>,
    kept: Vec<Descriptor>,
    names: Vec<String>,
}

/// One image as written: what the documents that name it need.
pub(super) struct ImageBlobs {
    /// The new image id (the digest of its config).
    pub(super) image_id: String,
    pub(super) new_layer: Option<NewLayer>,
    /// Its layers' member names, bottom first (manifest.json's `Layers`).
    pub(super) names: Vec<String>,
    /// The config's member name.
    pub(super) config_name: String,
    /// The image manifest (OCI layout only).
    pub(super) manifest: Option<Descriptor>,
}

fn squashing(job: &Job<'_, '_>) -> bool {
    job.keep < job.layers.len()
}

pub(super) fn blob_name(digest: &str) -> String {
    format!("blobs/sha256/{}", hex_of(digest))
}

/// Lays out (and stages) the new layer and names every layer's member.
pub(super) fn prepare<'s>(job: &Job<'_, 's>, progress: &mut ProgressFn, buf: &mut [u8]) -> Result<Prepared<'s>> {
    let lay = squashed_layer::layout(job, job.plan)?;
    let oci = job.format == ArchiveFormat::Oci;
    let streamed = !oci && job.compression.codec == Compression::None;
    let staged = match squashing(job) && !streamed {
        true => Some(stage_new_layer(job, &lay, progress, buf)?),
        false => None,
    };
    let kept: Vec<Descriptor> = (0..job.keep).map(|i| kept_blob(job, i, oci)).collect::<Result<_>>()?;
    // Member names. Docker's layout names layer folders by chain id, and the new one by a
    // digest of what it was made from (its own digest is known only once written).
    let mut names: Vec<String> = match oci {
        true => kept.iter().map(|d| blob_name(&d.digest)).collect(),
        false => chain_ids(&job.diff_ids[..job.keep]).iter().map(|c| format!("{}/layer.tar", hex_of(c))).collect(),
    };
    if squashing(job) {
        names.push(match &staged {
            Some(s) if oci => blob_name(&s.made.digest),
            _ => format!("{}/layer.tar", new_layer_folder(job)),
        });
    }
    Ok(Prepared { lay, staged, kept, names })
}

impl Prepared<'_> {
    /// The bytes its layers' members take in the archive (an estimate for progress).
    pub(super) fn layers_size(&self, job: &Job<'_, '_>) -> u64 {
        let new_stored = self.staged.as_ref().map_or(self.lay.size, |s| s.made.size);
        let kept_total: u64 = self.kept.iter().map(|d| 512 + padded(d.size).unwrap_or(0)).sum();
        kept_total + if squashing(job) { 512 + padded(new_stored).unwrap_or(0) } else { 0 }
    }
}

/// Writes the image's layers (a blob already in `written_blobs` is not written again),
/// its config and, in the OCI layout, its manifest.
pub(super) fn write_image<'s>(
    job: &Job<'_, 's>,
    prepared: Prepared<'s>,
    o: &mut Out<'_, '_, 's>,
    written_blobs: &mut HashSet<String>,
    buf: &mut [u8],
) -> Result<ImageBlobs> {
    let Prepared { lay, staged, kept, names } = prepared;
    let oci = job.format == ArchiveFormat::Oci;
    for (i, d) in kept.iter().enumerate() {
        if oci && !written_blobs.insert(d.digest.clone()) {
            continue; // the same blob twice: one member serves both
        }
        let file = &job.image.layers[i].file;
        o.member(&names[i], file.size)?;
        o.copy(&mut RangeReader::new(&*job.members.src, file.offset, file.size), file.size, buf)?;
        o.pad(file.size)?;
    }
    let new_layer = match squashing(job) {
        false => None,
        true => Some(write_new_layer(job, &lay, staged, &names[job.keep], o, buf, written_blobs)?),
    };
    let config_bytes = config::config(job, new_layer.as_ref().map(|n| n.diff_id.as_str()))?;
    let image_id = sha256_digest(&config_bytes);
    let mut documents = Vec::new();
    let mut manifest = None;
    let config_name = match oci {
        true => {
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
            let bytes = oci::manifest(&config, &layers)?;
            let m = Descriptor {
                media_type: oci::MANIFEST_MEDIA_TYPE,
                digest: sha256_digest(&bytes),
                size: bytes.len() as u64,
            };
            documents.push((blob_name(&image_id), image_id.clone(), config_bytes));
            documents.push((blob_name(&m.digest), m.digest.clone(), bytes));
            manifest = Some(m);
            blob_name(&image_id)
        }
        false => {
            let name = format!("{}.json", hex_of(&image_id));
            documents.push((name.clone(), image_id.clone(), config_bytes));
            name
        }
    };
    for (name, digest, bytes) in &documents {
        if oci && !written_blobs.insert(digest.clone()) {
            continue; // another platform's very same config or manifest
        }
        o.document(name, bytes)?;
    }
    Ok(ImageBlobs { image_id, new_layer, names, config_name, manifest })
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

/// Writes the new layer's member: streamed as made, copied from scratch, or made again
/// (and required to come out the same).
fn write_new_layer<'s>(
    job: &Job<'_, 's>,
    lay: &Layout,
    staged: Option<Staged<'s>>,
    name: &str,
    o: &mut Out<'_, '_, 's>,
    buf: &mut [u8],
    written_blobs: &mut HashSet<String>,
) -> Result<NewLayer> {
    let Some(Staged { made, scratch }) = staged else {
        o.member(name, lay.size)?;
        o.hasher = Some(Hasher::start(job.sha256));
        squashed_layer::write(job, job.plan, lay, o, buf)?;
        let diff_id = o.hasher.take().map(Hasher::finish).ok_or_else(|| Error::corrupt("internal: no hasher"))?;
        o.pad(lay.size)?;
        return Ok(NewLayer { digest: diff_id.clone(), diff_id, size: lay.size, stored_size: lay.size });
    };
    let layer =
        NewLayer { diff_id: made.diff_id.clone(), size: lay.size, digest: made.digest.clone(), stored_size: made.size };
    if job.format == ArchiveFormat::Oci && !written_blobs.insert(made.digest.clone()) {
        return Ok(layer); // a blob with the very same bytes is written already
    }
    o.member(name, made.size)?;
    match scratch {
        Some(s) => o.copy(&mut RangeReader::new(&*s, 0, made.size), made.size, buf)?,
        None => {
            let again = stage::make(job, job.plan, lay, &job.compression, o, None, buf)?;
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
