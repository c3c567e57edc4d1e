//! The archive of a squashed index (OCI layout): `blobs/`, `blobs/sha256/`, then each
//! platform's members in turn (layers, config, manifest: a blob another platform wrote
//! already is not written again), the new index, `index.json` naming it once per tag,
//! `manifest.json` naming one platform's image (linux/amd64 if there is one, else the
//! first: as containerd's and Docker's saves name the host's, for loaders that read only
//! manifest.json) and `oci-layout`.
//!
//! Platforms are added one at a time, each written before the next is read, so that only
//! one platform's layers are held at once; only their descriptors are kept to the end.

use std::collections::HashSet;
use std::io::Write;

use serde_json::Value;

use super::blobs::{blob_name, prepare, write_image};
use super::layout::{end, COPY_BUF};
use super::oci::{self, Descriptor};
use super::output::Out;
use super::{config, Job, Written};
use crate::digest::sha256_digest;
use crate::error::{Error, Result};
use crate::options::{ArchiveFormat, ProgressFn};

/// The platform that manifest.json names when there is one.
const DOCKER_DEFAULT: &str = "linux/amd64";

/// Writes an index's archive, platform by platform.
pub struct IndexWriter<'w, 'p, 's> {
    o: Out<'w, 'p, 's>,
    blobs: HashSet<String>,
    buf: Vec<u8>,
    entries: Vec<Value>,
    /// manifest.json's image: its platform, config member and layer members.
    docker: Option<(String, String, Vec<String>)>,
}

/// The index as written.
pub struct IndexWritten {
    /// `sha256:` of the new index (the digest containerd and a registry show for it).
    pub digest: String,
    /// Bytes written in all.
    pub output_bytes: u64,
}

impl<'w, 'p, 's> IndexWriter<'w, 'p, 's> {
    /// Starts the archive (its `blobs/` folders).
    pub fn start(out: &'w mut dyn Write, progress: &'p mut ProgressFn<'p>) -> Result<Self> {
        let mut o = Out { w: out, written: 0, base: 0, total: 0, last: 0, hasher: None, progress };
        o.folder("blobs/")?;
        o.folder("blobs/sha256/")?;
        Ok(IndexWriter { o, blobs: HashSet::new(), buf: vec![0u8; COPY_BUF], entries: Vec::new(), docker: None })
    }

    /// The progress callback the archive was started with, for reading the next platform.
    pub fn progress(&mut self) -> &mut ProgressFn<'p> {
        &mut *self.o.progress
    }

    /// Writes one platform's image (`job.format` must be the OCI layout). `platform` and
    /// `annotations` are its descriptor's in the input index (the config's platform is
    /// named when the descriptor had none).
    pub fn add(&mut self, job: &Job<'_, 's>, platform: Option<&Value>, annotations: Option<&Value>) -> Result<Written> {
        if job.format != ArchiveFormat::Oci {
            return Err(Error::corrupt("internal: an index is written in the OCI layout only"));
        }
        let base = self.o.written;
        let prepared = prepare(job, self.o.progress, &mut self.buf)?;
        (self.o.base, self.o.total, self.o.last) = (base, prepared.layers_size(job) + 2048, base);
        let image = write_image(job, prepared, &mut self.o, &mut self.blobs, &mut self.buf)?;
        let m: Descriptor = image.manifest.clone().ok_or_else(|| Error::corrupt("internal: no manifest"))?;
        let platform = platform.cloned().or_else(|| oci::config_platform(&job.image.config));
        self.entries.push(oci::platform_entry(&m, platform, annotations));
        let first = self.docker.is_none();
        if first
            || (job.image.platform == DOCKER_DEFAULT && self.docker.as_ref().is_some_and(|d| d.0 != DOCKER_DEFAULT))
        {
            self.docker = Some((job.image.platform.clone(), image.config_name.clone(), image.names.clone()));
        }
        Ok(Written {
            image_id: image.image_id,
            new_layer: image.new_layer,
            manifest_digest: Some(m.digest),
            output_bytes: self.o.written - base,
        })
    }

    /// Writes the new index (with the input index's `annotations`), `index.json` naming it
    /// under `tags`, `manifest.json` and `oci-layout`, and ends the archive.
    pub fn finish(mut self, tags: &[String], annotations: Option<&Value>) -> Result<IndexWritten> {
        let Some((_, config_name, names)) = self.docker.take() else {
            return Err(Error::corrupt("internal: an index of no platform"));
        };
        let bytes = oci::platform_index(std::mem::take(&mut self.entries), annotations)?;
        let index =
            Descriptor { media_type: oci::INDEX_MEDIA_TYPE, digest: sha256_digest(&bytes), size: bytes.len() as u64 };
        let o = &mut self.o;
        (o.base, o.total, o.last) = (o.written, 4096, o.written);
        o.document(&blob_name(&index.digest), &bytes)?;
        o.document("index.json", &oci::top_index(&index, tags, None)?)?;
        o.document("manifest.json", &config::manifest(&config_name, tags, &names)?)?;
        o.document("oci-layout", oci::OCI_LAYOUT)?;
        o.base = 0;
        let output_bytes = end(o)?;
        Ok(IndexWritten { digest: index.digest, output_bytes })
    }
}
