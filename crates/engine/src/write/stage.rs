//! Making the new layer as it is stored: the tar of [`super::squashed_layer`], hashed for
//! its diff_id, compressed (or not), and the stored bytes hashed and counted for the blob
//! digest and size the archive names it by. Staged into the host's scratch space before
//! the archive is written, or made once to be measured and again while writing.

use std::io::{self, Write};

use super::compress::choice::Chosen;
use super::compress::{threads, Encoder};
use super::output::Sink;
use super::squashed_layer::{self, Layout};
use super::Job;
use crate::digest::Hasher;
use crate::error::{Error, ErrorCode, Result};
use crate::merge::plan::Plan;
use crate::options::ProgressFn;
use crate::read::compression::Compression;
use crate::report::Progress;
use crate::scratch::Scratch;

const PROGRESS_STEP: u64 = 4 << 20;

/// The new layer's digests and stored size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Made {
    /// `sha256:` of the uncompressed tar: the config's diff_id.
    pub(super) diff_id: String,
    /// `sha256:` of the stored bytes: the blob's digest.
    pub(super) digest: String,
    /// Stored bytes.
    pub(super) size: u64,
}

/// Makes the layer into `to`, with `progress` told (phase "compress") when given.
pub(super) fn make<'s>(
    job: &Job<'_, 's>,
    plan: &Plan,
    lay: &Layout,
    chosen: &Chosen,
    to: &mut dyn Sink,
    progress: Option<&mut ProgressFn>,
    buf: &mut [u8],
) -> Result<Made> {
    let plain = chosen.codec == Compression::None;
    // A plain layer's blob is its tar: one digest serves both.
    let stored = Stored { hasher: (!plain).then(|| Hasher::start(job.sha256)), size: 0, to };
    let store = if plain {
        Store::Plain(stored)
    } else {
        Store::Encoded(Box::new(Encoder::new(stored, chosen.codec, chosen.level, threads())?))
    };
    let mut staging = Staging { diff: Hasher::start(job.sha256), store, done: 0, total: lay.size, last: 0, progress };
    squashed_layer::write(job, plan, lay, &mut staging, buf)?;
    let stored = match staging.store {
        Store::Plain(s) => s,
        Store::Encoded(e) => e.finish()?,
    };
    let diff_id = staging.diff.finish();
    let digest = stored.hasher.map_or_else(|| diff_id.clone(), Hasher::finish);
    Ok(Made { diff_id, digest, size: stored.size })
}

/// A sink that keeps nothing: for measuring.
pub(super) struct Discard;

impl Sink for Discard {
    fn put(&mut self, _: &[u8]) -> Result<()> {
        Ok(())
    }
}

/// The uncompressed bytes: hashed, reported, and handed to the store.
struct Staging<'a, 'p, 'w, 's> {
    diff: Hasher<'s>,
    store: Store<'w, 's>,
    done: u64,
    total: u64,
    last: u64,
    progress: Option<&'a mut ProgressFn<'p>>,
}

enum Store<'w, 's> {
    Plain(Stored<'w, 's>),
    Encoded(Box<Encoder<Stored<'w, 's>>>),
}

impl Sink for Staging<'_, '_, '_, '_> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.diff.update(bytes);
        match &mut self.store {
            Store::Plain(s) => s.put(bytes)?,
            Store::Encoded(e) => e.write_all(bytes).map_err(|e| Error::io("compressing the new layer", e))?,
        }
        self.done += bytes.len() as u64;
        if let Some(progress) = self.progress.as_mut() {
            if self.done - self.last >= PROGRESS_STEP || self.done == self.total {
                self.last = self.done;
                let p = Progress { phase: "squash", bytes_done: self.done, bytes_total: self.total, platform: None };
                if !progress(&p) {
                    return Err(Error::new(ErrorCode::Cancelled, "cancelled"));
                }
            }
        }
        Ok(())
    }
}

/// The stored bytes: hashed (when they differ from the tar), counted, and written on.
struct Stored<'w, 's> {
    hasher: Option<Hasher<'s>>,
    size: u64,
    to: &'w mut dyn Sink,
}

impl Stored<'_, '_> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some(h) = self.hasher.as_mut() {
            h.update(bytes);
        }
        self.size += bytes.len() as u64;
        self.to.put(bytes)
    }
}

impl Write for Stored<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.put(bytes).map_err(io::Error::other)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The new layer once made: its digests and size, and its bytes when a scratch space
/// holds them.
pub(super) struct Staged<'s> {
    pub(super) made: Made,
    pub(super) scratch: Option<Box<dyn Scratch + 's>>,
}

/// Makes the new layer before anything is written: into the host's scratch space when it
/// lent one, else only measured (it is made again while writing).
pub(super) fn stage_new_layer<'s>(
    job: &Job<'_, 's>,
    lay: &Layout,
    progress: &mut ProgressFn,
    buf: &mut [u8],
) -> Result<Staged<'s>> {
    let plan = job.plan;
    let Some(factory) = job.scratch else {
        let made = make(job, plan, lay, &job.compression, &mut Discard, Some(progress), buf)?;
        return Ok(Staged { made, scratch: None });
    };
    let mut scratch = factory().map_err(|e| Error::io("cannot make a temporary file for the new layer", e))?;
    let made = make(job, plan, lay, &job.compression, &mut ToScratch(&mut *scratch), Some(progress), buf)?;
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
