//! Random-access input. The engine never needs the whole archive in memory: it reads
//! what it needs by offset, from a file, a slice, or (in wasm) a JavaScript `Blob`.

use std::io;

/// Input that can be read at any offset, like `pread`.
pub trait ReadAt {
    /// Total length in bytes.
    fn size(&self) -> u64;
    /// Reads up to `buf.len()` bytes at `offset`; returns 0 only at the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
}

/// Input held in memory.
pub struct SliceSource<T: AsRef<[u8]>>(pub T);

impl<T: AsRef<[u8]>> ReadAt for SliceSource<T> {
    fn size(&self) -> u64 {
        self.0.as_ref().len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let data = self.0.as_ref();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }
}

impl<R: ReadAt + ?Sized> ReadAt for Box<R> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
}

impl<R: ReadAt + ?Sized> ReadAt for &R {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
}

/// Fills `buf` completely or fails with `UnexpectedEof`.
pub fn read_exact_at(src: &dyn ReadAt, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = src.read_at(offset, buf)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected end of input"));
        }
        offset += n as u64;
        buf = &mut buf[n..];
    }
    Ok(())
}

impl<R: ReadAt + ?Sized> ReadAt for std::rc::Rc<R> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
}

/// `[start, start + len)` of a source, as a source of its own (offsets from its start).
pub struct Window<'a> {
    src: &'a dyn ReadAt,
    start: u64,
    len: u64,
}

impl<'a> Window<'a> {
    pub fn new(src: &'a dyn ReadAt, start: u64, len: u64) -> Self {
        Window { src, start, len: len.min(src.size().saturating_sub(start)) }
    }
}

impl ReadAt for Window<'_> {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(offset);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        self.src.read_at(self.start + offset, &mut buf[..want])
    }
}

/// A sequential reader over `[start, end)` of a source.
pub struct RangeReader<S: ReadAt> {
    src: S,
    pos: u64,
    end: u64,
}

impl<S: ReadAt> RangeReader<S> {
    /// Reads `len` bytes of `src` from `start`.
    pub fn new(src: S, start: u64, len: u64) -> Self {
        RangeReader { src, pos: start, end: start.saturating_add(len) }
    }
}

impl<S: ReadAt> io::Read for RangeReader<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.src.read_at(self.pos, &mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "input ends early"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<S: ReadAt> io::Seek for RangeReader<S> {
    /// Only relative seeks forward or back within the range are needed (BufReader::seek_relative).
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let new = match pos {
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::End(d) => self.end.checked_add_signed(d),
        };
        let new = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        self.pos = new;
        Ok(new)
    }
}
