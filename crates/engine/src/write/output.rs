//! The output stream: counts what is written, reports progress (and cancels), hashes the
//! part that is the new layer, and writes the outer archive's tar members. [`Sink`] is
//! what the new layer's bytes are put into: this stream, or the staging in `stage.rs`.

use std::io::{Read, Write};

use crate::digest::Hasher;
use crate::error::{Error, ErrorCode, Result};
use crate::options::ProgressFn;
use crate::report::Progress;
use crate::tar::walk::{padded, read_full};

const PROGRESS_STEP: u64 = 4 << 20;

/// Where bytes are put, with the two ways of putting many.
pub(super) trait Sink {
    fn put(&mut self, bytes: &[u8]) -> Result<()>;

    fn zeros(&mut self, n: u64) -> Result<()> {
        const Z: [u8; 1024] = [0; 1024];
        let mut left = n;
        while left > 0 {
            let k = left.min(1024) as usize;
            self.put(&Z[..k])?;
            left -= k as u64;
        }
        Ok(())
    }

    /// Copies exactly `n` bytes from `r`.
    fn copy(&mut self, r: &mut dyn Read, n: u64, buf: &mut [u8]) -> Result<()> {
        let mut left = n;
        while left > 0 {
            let k = left.min(buf.len() as u64) as usize;
            let got = read_full(r, &mut buf[..k]).map_err(|e| Error::io("reading the input", e))?;
            if got < k {
                return Err(Error::corrupt("the input ended early while copying (it changed, or is truncated)"));
            }
            self.put(&buf[..k])?;
            left -= k as u64;
        }
        Ok(())
    }
}

/// Counts bytes written, reports progress, and hashes the part that is the new layer.
pub(super) struct Out<'w, 'p, 's> {
    pub(super) w: &'w mut dyn Write,
    pub(super) written: u64,
    /// Where the part being reported on began (an index's platform); progress counts from here.
    pub(super) base: u64,
    pub(super) total: u64,
    pub(super) last: u64,
    pub(super) hasher: Option<Hasher<'s>>,
    pub(super) progress: &'p mut ProgressFn<'p>,
}

impl Sink for Out<'_, '_, '_> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.w.write_all(bytes).map_err(|e| Error::io("writing the output", e))?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(bytes);
        }
        self.written += bytes.len() as u64;
        if self.written - self.last >= PROGRESS_STEP {
            self.last = self.written;
            let p = Progress {
                phase: "write",
                bytes_done: self.written - self.base,
                bytes_total: self.total,
                platform: None,
            };
            if !(self.progress)(&p) {
                return Err(Error::new(ErrorCode::Cancelled, "cancelled"));
            }
        }
        Ok(())
    }
}

impl Out<'_, '_, '_> {
    /// A member of the outer archive: header; the caller writes the data, then `pad`.
    pub(super) fn member(&mut self, name: &str, size: u64) -> Result<()> {
        self.header(name, size, 0o644, tar::EntryType::Regular)
    }

    /// A folder of the outer archive (the OCI layout's `blobs/`), as `docker save` writes.
    pub(super) fn folder(&mut self, name: &str) -> Result<()> {
        self.header(name, 0, 0o755, tar::EntryType::Directory)
    }

    fn header(&mut self, name: &str, size: u64, mode: u32, kind: tar::EntryType) -> Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_path(name).map_err(|e| Error::corrupt(format!("internal: member name {name}: {e}")))?;
        h.set_size(size);
        h.set_mode(mode);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(kind);
        h.set_cksum();
        self.put(h.as_bytes())
    }

    /// A whole member: header, bytes, padding.
    pub(super) fn document(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.member(name, bytes.len() as u64)?;
        self.put(bytes)?;
        self.pad(bytes.len() as u64)
    }

    pub(super) fn pad(&mut self, size: u64) -> Result<()> {
        let p = padded(size).unwrap_or(size) - size;
        self.zeros(p)
    }
}
