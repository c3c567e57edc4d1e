//! Writing the squashed image: kept layers copied byte for byte, the new layer made from
//! the merge's plan (compressed or not), the config, and the documents of the chosen
//! layout. Nothing here reads a layer's entries or decides what the new layer holds: the
//! [`Job`] says it all; this stage lays out and serializes.
//!
//! - [`output`]: the counted, hashed, cancellable output stream and its tar members;
//! - [`squashed_layer`]: the new layer's tar;
//! - [`compress`]: how it is compressed, and which compression `auto` picks;
//! - [`stage`]: the new layer as stored, with its two digests;
//! - [`blobs`]: one image's members (layers, config, manifest);
//! - [`layout`]: one image's archive; [`index`]: an index's, platform by platform;
//! - [`config`], [`oci`]: the JSON documents.

mod blobs;
pub(crate) mod compress;
mod config;
mod index;
mod layout;
mod oci;
mod output;
mod squashed_layer;
mod stage;

pub use index::IndexWriter;

use crate::digest::Sha256Factory;
use crate::error::Result;
use crate::image::history::Step;
use crate::merge::plan::Plan;
use crate::options::{ArchiveFormat, ProgressFn};
use crate::read::layer::LayerIndex;
use crate::read::manifests::ImageDesc;
use crate::read::members::Members;
use crate::scratch::ScratchFactory;
use compress::choice::Chosen;

/// What is being squashed, and how it is to be written.
pub struct Job<'a, 's> {
    /// The input archive.
    pub members: &'a Members<'a>,
    /// The image chosen in it.
    pub image: &'a ImageDesc,
    /// Its layers, read (and verified).
    pub layers: &'a [LayerIndex],
    /// Their diff_ids.
    pub diff_ids: &'a [String],
    /// Its history, aligned with the layers.
    pub steps: &'a [Step],
    /// Layers 0..keep are kept as they are.
    pub keep: usize,
    /// What the new layer holds (empty when nothing is squashed), from the merge.
    pub plan: &'a Plan,
    /// How the `#(squash)` history step names the squash point.
    pub from_label: String,
    /// The output's tags.
    pub tags: Vec<String>,
    /// The host's SHA-256, if it gave one.
    pub sha256: Option<&'a Sha256Factory<'s>>,
    /// The host's scratch space, if it gave one.
    pub scratch: Option<&'a ScratchFactory<'s>>,
    /// The new layer's compression.
    pub compression: Chosen,
    /// The archive's layout.
    pub format: ArchiveFormat,
}

/// The new layer, as written.
#[derive(Debug, Clone)]
pub struct NewLayer {
    /// `sha256:` of its tar.
    pub diff_id: String,
    /// Its tar's size.
    pub size: u64,
    /// `sha256:` of its stored (maybe compressed) bytes.
    pub digest: String,
    /// Its stored size.
    pub stored_size: u64,
}

/// What was written.
pub struct Written {
    /// The new image id (the digest of its config).
    pub image_id: String,
    /// The new layer, when one was written.
    pub new_layer: Option<NewLayer>,
    /// `sha256:` of the OCI image manifest (the digest a registry and containerd show).
    pub manifest_digest: Option<String>,
    /// Bytes written in all.
    pub output_bytes: u64,
}

/// Writes the squashed image to `out`, as an archive of one image.
pub fn write(job: &Job<'_, '_>, out: &mut dyn std::io::Write, progress: &mut ProgressFn) -> Result<Written> {
    layout::write(job, out, progress)
}
