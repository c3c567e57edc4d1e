//! The two files a registry transfer touches, as traits: the archive a push reads by offset,
//! and the tar a pull writes (and cuts back when a download fails midway). Natively both are
//! a `std::fs::File`; in Node they are file descriptors reached through `fs`.

use std::io::{Read, Seek, SeekFrom};

/// Bytes read by offset, without a cursor (a push reads blobs while it indexes none).
pub trait ReadAt {
    /// Up to `buf.len()` bytes from `offset`; 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize>;
    /// The size in bytes.
    fn size(&self) -> std::io::Result<u64>;
}

/// Where a pull's tar goes: appended to, and cut back to a position.
pub trait TarOut {
    /// Appends `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// Where the next byte goes.
    fn position(&mut self) -> std::io::Result<u64>;
    /// Cuts the file to `len` bytes and writes on from there.
    fn truncate(&mut self, len: u64) -> std::io::Result<()>;
    /// Everything written reaches the file.
    fn flush(&mut self) -> std::io::Result<()>;
}

#[cfg(unix)]
impl ReadAt for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
    fn size(&self) -> std::io::Result<u64> {
        Ok(self.metadata()?.len())
    }
}

impl TarOut for std::fs::File {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        std::io::Write::write_all(self, bytes)
    }
    fn position(&mut self) -> std::io::Result<u64> {
        self.stream_position()
    }
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.set_len(len)?;
        self.seek(SeekFrom::Start(len)).map(|_| ())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::Write::flush(self)
    }
}

/// `source` as a Read + Seek, for the tar crate's index of an archive.
pub(crate) struct Cursor<'a> {
    pub(crate) source: &'a dyn ReadAt,
    pub(crate) pos: u64,
}

impl Read for Cursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.source.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Cursor<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start");
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).ok_or_else(bad)?,
            SeekFrom::End(d) => self.source.size()?.checked_add_signed(d).ok_or_else(bad)?,
        };
        Ok(self.pos)
    }
}

/// Fills `buf` from `offset`: an archive that ends early is an UnexpectedEof error.
pub(crate) fn read_exact_at(source: &dyn ReadAt, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = source.read_at(&mut buf[done..], offset + done as u64)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the archive ended inside a member"));
        }
        done += n;
    }
    Ok(())
}
