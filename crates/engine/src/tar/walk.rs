//! Walks the headers of a tar stream, keeping the byte offsets of each entry's whole
//! header sequence (PAX / GNU long-name members included).
//!
//! Written by hand on top of `tar::Header` (which parses the fields) because the tar
//! crate's iterator neither reports where an entry's extension headers start (needed to
//! copy entries byte for byte) nor bounds the size of extension members (a hostile layer
//! could make it allocate without limit).

use std::io::{self, Read};

use super::pax::{check_pax, parse_decimal, pax_value};
use crate::error::{Error, ErrorCode, Result};
use crate::source::ReadAt;

pub const BLOCK: u64 = 512;
/// Longest GNU long name / PAX extension member accepted. Linux paths stop at 4 KiB;
/// PAX records also carry xattrs, which ext4 caps at one block.
pub const MAX_EXTENSION: u64 = 1 << 20;

pub fn padded(size: u64) -> Option<u64> {
    size.checked_add(BLOCK - 1).map(|s| s & !(BLOCK - 1))
}

/// Where a tar stream's bytes come from.
pub trait TarStream {
    /// Reads until `buf` is full or the stream ends; returns the bytes read.
    fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Moves forward `n` bytes; returns how many there were.
    fn skip(&mut self, n: u64) -> io::Result<u64>;
}

/// A sequential stream: skipping reads (so a hashing reader below sees every byte).
pub struct SeqStream<'h, R: Read> {
    pub inner: R,
    scratch: Vec<u8>,
    /// Called between slices of skipped data, so progress (and cancelling) does not
    /// wait for the end of a large file.
    hook: Option<Box<dyn FnMut() -> io::Result<()> + 'h>>,
}

impl<'h, R: Read> SeqStream<'h, R> {
    pub fn with_hook(inner: R, hook: Box<dyn FnMut() -> io::Result<()> + 'h>) -> Self {
        SeqStream { inner, scratch: Vec::new(), hook: Some(hook) }
    }
    /// The reader, dropping the hook (and what it borrowed).
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> TarStream for SeqStream<'_, R> {
    fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_full(&mut self.inner, buf)
    }
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        if self.scratch.is_empty() {
            self.scratch = vec![0u8; 256 << 10];
        }
        let mut left = n;
        while left > 0 {
            let want = left.min(self.scratch.len() as u64) as usize;
            let got = read_full(&mut self.inner, &mut self.scratch[..want])?;
            left -= got as u64;
            if let Some(h) = self.hook.as_mut() {
                h()?;
            }
            if got < want {
                break;
            }
        }
        Ok(n - left)
    }
}

/// A random-access stream: skipping is free.
pub struct AtStream<'a> {
    pub src: &'a dyn ReadAt,
    pub pos: u64,
}

impl TarStream for AtStream<'_> {
    fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            let n = self.src.read_at(self.pos, &mut buf[got..])?;
            if n == 0 {
                break;
            }
            got += n;
            self.pos += n as u64;
        }
        Ok(got)
    }
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let left = self.src.size().saturating_sub(self.pos);
        let step = n.min(left);
        self.pos += step;
        Ok(step)
    }
}

pub fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// One member of a tar stream (extension members folded into it).
#[derive(Debug, Clone)]
pub struct TarEntry {
    /// Offset of the first header of the sequence (a PAX or GNU long-name member, or the
    /// entry's own header).
    pub seq_start: u64,
    /// Offset of the entry's data (right after its own header).
    pub data_start: u64,
    /// Data size (PAX `size` wins over the header field).
    pub size: u64,
    /// The typeflag byte.
    pub typeflag: u8,
    /// Full path as written (PAX path, GNU long name, or ustar prefix/name).
    pub path: Vec<u8>,
    /// Link target for hard and symbolic links.
    pub link: Option<Vec<u8>>,
    /// Every byte from `seq_start` to `data_start`: the header sequence as written.
    pub raw: Vec<u8>,
}

impl TarEntry {
    pub fn header_len(&self) -> u64 {
        self.data_start - self.seq_start
    }
}

pub struct Walker<S: TarStream> {
    pub stream: S,
    /// Offset of the next byte the stream will give.
    pos: u64,
    /// Where the next header sequence starts (after the current entry's padded data).
    next: u64,
    done: bool,
    raw: Vec<u8>,
}

impl<S: TarStream> Walker<S> {
    pub fn new(stream: S, start: u64) -> Self {
        Walker { stream, pos: start, next: start, done: false, raw: Vec::new() }
    }

    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Reads up to `max` bytes of the current entry's data (call right after `next`).
    pub fn read_data(&mut self, entry: &TarEntry, max: u64) -> Result<Vec<u8>> {
        if entry.size > max {
            return Err(Error::new(
                ErrorCode::TooLarge,
                format!("{} bytes is more than the {max} expected", entry.size),
            ));
        }
        if self.pos != entry.data_start {
            return Err(Error::corrupt("internal: data read out of order"));
        }
        let mut buf = vec![0u8; entry.size as usize];
        let got = self.stream.read_full(&mut buf).map_err(|e| Error::io("reading", e))?;
        self.pos += got as u64;
        if got < buf.len() {
            return Err(Error::corrupt("the archive ends in the middle of a file (truncated?)"));
        }
        Ok(buf)
    }

    fn advance_to(&mut self, target: u64) -> Result<()> {
        if target > self.pos {
            let want = target - self.pos;
            let got = self.stream.skip(want).map_err(|e| Error::io("reading", e))?;
            self.pos += got;
            if got < want {
                return Err(Error::corrupt("the archive ends in the middle of a file (truncated?)"));
            }
        }
        Ok(())
    }

    /// Reads one 512-byte block; None at a clean end of stream.
    fn block(&mut self) -> Result<Option<Box<[u8; 512]>>> {
        let mut b = Box::new([0u8; 512]);
        let got = self.stream.read_full(&mut b[..]).map_err(|e| Error::io("reading", e))?;
        self.pos += got as u64;
        match got {
            0 => Ok(None),
            512 => {
                self.raw.extend_from_slice(&b[..]);
                Ok(Some(b))
            }
            _ => Err(Error::corrupt("the archive ends in the middle of a tar header (truncated?)")),
        }
    }

    fn ext_data(&mut self, size: u64, what: &str) -> Result<Vec<u8>> {
        if size > MAX_EXTENSION {
            return Err(Error::new(
                ErrorCode::TooLarge,
                format!("a {what} member of {size} bytes is larger than any real one"),
            ));
        }
        let full = padded(size).unwrap_or(size) as usize;
        let mut buf = vec![0u8; full];
        let got = self.stream.read_full(&mut buf).map_err(|e| Error::io("reading", e))?;
        self.pos += got as u64;
        if got < full {
            return Err(Error::corrupt("the archive ends inside a tar extension header (truncated?)"));
        }
        self.raw.extend_from_slice(&buf);
        buf.truncate(size as usize);
        Ok(buf)
    }

    /// The next entry, or None at the end of the archive (two zero blocks, one zero block,
    /// or a clean end of stream as Go's reader accepts).
    pub fn next_entry(&mut self) -> Result<Option<TarEntry>> {
        if self.done {
            return Ok(None);
        }
        self.advance_to(self.next)?;
        let seq_start = self.pos;
        self.raw.clear();
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Option<Vec<u8>> = None;
        loop {
            let Some(block) = self.block()? else {
                if long_name.is_some() || long_link.is_some() || pax.is_some() {
                    return Err(Error::corrupt("the archive ends after an extension header (truncated?)"));
                }
                self.done = true;
                return Ok(None);
            };
            if block.iter().all(|&b| b == 0) {
                if long_name.is_some() || long_link.is_some() || pax.is_some() {
                    return Err(Error::corrupt("an extension header describes no entry"));
                }
                self.done = true;
                return Ok(None);
            }
            let header = tar::Header::from_byte_slice(&block[..]);
            verify_checksum(&block)?;
            verify_numbers(&block, self.pos - BLOCK)?;
            let typeflag = block[156];
            let mut size = header.entry_size().map_err(|_| {
                Error::corrupt(format!("a tar header has an unreadable size field at offset {}", self.pos - BLOCK))
            })?;
            match typeflag {
                b'L' => {
                    let mut name = self.ext_data(size, "GNU long name")?;
                    trim_nuls(&mut name);
                    long_name = Some(name);
                    continue;
                }
                b'K' => {
                    let mut name = self.ext_data(size, "GNU long link")?;
                    trim_nuls(&mut name);
                    long_link = Some(name);
                    continue;
                }
                b'x' | b'X' => {
                    let data = self.ext_data(size, "PAX header")?;
                    check_pax(&data)?;
                    match pax.as_mut() {
                        Some(p) => p.extend_from_slice(&data),
                        None => pax = Some(data),
                    }
                    continue;
                }
                _ => {}
            }
            if let Some(p) = pax.as_deref() {
                if let Some(v) = pax_value(p, b"size") {
                    size = parse_decimal(v).ok_or_else(|| Error::corrupt("a PAX size record is not a number"))?;
                }
            }
            let data_start = self.pos;
            let path = match (pax.as_deref().and_then(|p| pax_value(p, b"path")), long_name) {
                (Some(p), _) => p.to_vec(),
                (None, Some(n)) => n,
                (None, None) => header.path_bytes().into_owned(),
            };
            let link = match (pax.as_deref().and_then(|p| pax_value(p, b"linkpath")), long_link) {
                (Some(l), _) => Some(l.to_vec()),
                (None, Some(l)) => Some(l),
                (None, None) => header.link_name_bytes().map(|l| l.into_owned()),
            };
            // Entries that carry no data in the stream even when the size field says so.
            let data_len = match typeflag {
                b'1' | b'2' | b'3' | b'4' | b'5' | b'6' => 0,
                _ => size,
            };
            self.next = data_start
                .checked_add(padded(data_len).ok_or_else(|| Error::corrupt("absurd entry size"))?)
                .ok_or_else(|| Error::corrupt("absurd entry size"))?;
            return Ok(Some(TarEntry {
                seq_start,
                data_start,
                size: data_len,
                typeflag,
                path,
                link: link.filter(|l| !l.is_empty() || matches!(typeflag, b'1' | b'2')),
                raw: std::mem::take(&mut self.raw),
            }));
        }
    }

    /// Reads what follows the end-of-archive marker (so a hash covers the whole stream).
    pub fn drain(&mut self) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = self.stream.skip(1 << 30).map_err(|e| Error::io("reading", e))?;
            self.pos += n;
            total += n;
            if n < (1 << 30) {
                return Ok(total);
            }
        }
    }
}

fn trim_nuls(v: &mut Vec<u8>) {
    while v.last() == Some(&0) {
        v.pop();
    }
}

fn verify_checksum(block: &[u8; 512]) -> Result<()> {
    let header = tar::Header::from_byte_slice(&block[..]);
    let want = header
        .cksum()
        .map_err(|_| Error::corrupt("a tar header has an unreadable checksum (not a tar file, or damaged)"))?;
    let unsigned: u32 = block[..148].iter().chain(&block[156..]).map(|&b| b as u32).sum::<u32>() + 8 * 32;
    // Some old writers summed signed chars.
    let signed: i64 = block[..148].iter().chain(&block[156..]).map(|&b| b as i8 as i64).sum::<i64>() + 8 * 32;
    if want == unsigned || want as i64 == signed {
        Ok(())
    } else {
        Err(Error::corrupt("a tar header's checksum is wrong (not a tar file, or damaged)"))
    }
}

/// The numeric fields every header has, read as Go's archive/tar (Docker's) reads them:
/// base-256 when the first byte's high bit is set, else octal once spaces and NULs are
/// trimmed from both ends and the rest cut at a NUL. Go refuses a layer with any other
/// field; so does the squash, rather than copy a header that nothing will load.
fn verify_numbers(block: &[u8; 512], offset: u64) -> Result<()> {
    const FIELDS: [(&str, std::ops::Range<usize>); 4] =
        [("mode", 100..108), ("uid", 108..116), ("gid", 116..124), ("mtime", 136..148)];
    for (name, range) in FIELDS {
        let field = &block[range];
        if field[0] & 0x80 != 0 {
            continue;
        }
        let start = field.iter().position(|&b| b != b' ' && b != 0).unwrap_or(field.len());
        let end = field.iter().rposition(|&b| b != b' ' && b != 0).map_or(start, |i| i + 1);
        let digits = &field[start..end.max(start)];
        let digits = digits.iter().position(|&b| b == 0).map_or(digits, |i| &digits[..i]);
        if !digits.iter().all(|b| (b'0'..=b'7').contains(b)) {
            return Err(Error::corrupt(format!(
                "the tar header at offset {offset} has a {name} field that is not a number ({:?}); Docker's tar \
                 reader refuses it too (the layer is damaged)",
                String::from_utf8_lossy(field).trim_matches(['\0', ' '])
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod numbers {
    use super::*;

    fn header_with(range: std::ops::Range<usize>, value: &[u8]) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[range.start..range.start + value.len()].copy_from_slice(value);
        h
    }

    #[test]
    fn numeric_fields_are_taken_as_go_takes_them() {
        for ok in [&b"0000644\0"[..], b"\x00000644\0", b" 644 ", b"", b"0644\0ju", b"\x80\x01"] {
            assert!(verify_numbers(&header_with(100..108, ok), 0).is_ok(), "{ok:?}");
        }
        for bad in [&b"13.27410"[..], b"0644 x", b"9"] {
            let e = verify_numbers(&header_with(136..148, bad), 512).unwrap_err();
            assert!(e.message.contains("mtime field") && e.message.contains("offset 512"), "{}", e.message);
        }
    }
}
