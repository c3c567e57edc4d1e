//! The archive of one image: its members, in the order they are written.
//!
//! OCI layout (Docker 25+): `blobs/`, `blobs/sha256/`, every layer blob (each once), the
//! config, the image manifest, then `index.json`, `manifest.json` and `oci-layout`.
//! Docker layout (before 25): `<chain id>/layer.tar` per kept layer, the new layer, the
//! config `<id>.json`, `manifest.json`, `repositories`.
//!
//! A blob is named by its digest, and every tar member's size comes before its bytes, so
//! the new layer is made before the archive is written (into the host's scratch space, or
//! once to be measured and again while writing), except a plain layer of the Docker
//! layout, which is streamed as it is made, as before. (An index's archive: `index.rs`.)

use std::collections::HashSet;
use std::io::Write;

use super::blobs::{prepare, write_image};
use super::oci;
use super::output::{Out, Sink};
use super::{config, Job, Written};
use crate::error::{Error, Result};
use crate::options::{ArchiveFormat, ProgressFn};
use crate::report::Progress;

pub(super) const COPY_BUF: usize = 1 << 20;

pub(super) fn write<'s>(job: &Job<'_, 's>, out: &mut dyn Write, progress: &mut ProgressFn) -> Result<Written> {
    let mut buf = vec![0u8; COPY_BUF];
    let oci = job.format == ArchiveFormat::Oci;
    let prepared = prepare(job, progress, &mut buf)?;
    let folders = if oci { 1024 } else { 0 };
    let total = folders + prepared.layers_size(job) + 4096;
    let mut o = Out { w: out, written: 0, base: 0, total, last: 0, hasher: None, progress };
    if oci {
        o.folder("blobs/")?;
        o.folder("blobs/sha256/")?;
    }
    let mut written_blobs = HashSet::new();
    let image = write_image(job, prepared, &mut o, &mut written_blobs, &mut buf)?;

    let mut documents = Vec::new();
    if let Some(m) = &image.manifest {
        documents.push(("index.json".to_string(), oci::index(m, &job.tags, &job.image.config)?));
        documents.push(("manifest.json".to_string(), config::manifest(&image.config_name, &job.tags, &image.names)?));
        documents.push(("oci-layout".to_string(), oci::OCI_LAYOUT.to_vec()));
    } else {
        documents.push(("manifest.json".to_string(), config::manifest(&image.config_name, &job.tags, &image.names)?));
        if !job.tags.is_empty() {
            documents.push(("repositories".to_string(), config::repositories(&job.tags, &image.names)?));
        }
    }
    for (name, bytes) in &documents {
        o.document(name, bytes)?;
    }
    let output_bytes = end(&mut o)?;
    let manifest_digest = image.manifest.map(|m| m.digest);
    Ok(Written { image_id: image.image_id, new_layer: image.new_layer, manifest_digest, output_bytes })
}

/// Ends the archive (two zero blocks), flushes, and says the write is done.
pub(super) fn end(o: &mut Out<'_, '_, '_>) -> Result<u64> {
    o.zeros(1024)?;
    o.w.flush().map_err(|e| Error::io("writing the output", e))?;
    let p = Progress { phase: "write", bytes_done: o.written, bytes_total: o.written, platform: None };
    (o.progress)(&p);
    Ok(o.written)
}
