//! Compression of whole archives and of single layers, detected by magic bytes (never by
//! file name or media type: `docker save` with the containerd store, kaniko and skopeo
//! all label things differently, but the bytes do not lie).

use std::cell::RefCell;
use std::io::{self, BufReader, Read};
use std::rc::Rc;

use crate::source::{RangeReader, ReadAt};

/// Reads from the source in large slices: every read may be a call into JavaScript.
pub const READ_CHUNK: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn detect(magic: &[u8]) -> Compression {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// Reads the first bytes of `[offset, offset+len)` and detects.
    pub fn sniff(src: &dyn ReadAt, offset: u64, len: u64) -> io::Result<Compression> {
        let mut magic = [0u8; 4];
        let want = len.min(4) as usize;
        let mut got = 0;
        while got < want {
            let n = src.read_at(offset + got as u64, &mut magic[got..want])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        Ok(Compression::detect(&magic[..got]))
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// A decompressing reader over any reader.
pub fn decoder<'a, R: Read + 'a>(inner: R, compression: Compression) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(inner),
        // Multi-member: pigz and some registries write several gzip members.
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(inner)),
        Compression::Zstd => Box::new(ZstdReader::new(inner)?),
    })
}

/// Reads `[offset, offset+len)` of `src`, decompressed, in large slices.
pub fn open_range<'a, S: ReadAt + 'a>(
    src: S,
    offset: u64,
    len: u64,
    compression: Compression,
) -> io::Result<Box<dyn Read + 'a>> {
    let raw = BufReader::with_capacity(READ_CHUNK, RangeReader::new(src, offset, len));
    decoder(raw, compression)
}

/// ruzstd's streaming decoder, reading every concatenated frame (zstd streams may hold
/// several) and mapping its errors to `io::Error`.
struct ZstdReader<R: Read> {
    dec: Option<ruzstd::decoding::StreamingDecoder<PeekReader<R>, ruzstd::decoding::FrameDecoder>>,
}

impl<R: Read> ZstdReader<R> {
    fn new(inner: R) -> io::Result<Self> {
        let dec = ruzstd::decoding::StreamingDecoder::new(PeekReader { inner, peeked: None })
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
        Ok(ZstdReader { dec: Some(dec) })
    }
}

impl<R: Read> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(dec) = self.dec.as_mut() else { return Ok(0) };
            let n = dec.read(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // This frame is done: another may follow.
            let Some(dec) = self.dec.take() else { return Ok(0) };
            let mut inner = dec.into_inner();
            if !inner.has_more()? {
                return Ok(0);
            }
            self.dec = Some(
                ruzstd::decoding::StreamingDecoder::new(inner)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?,
            );
        }
    }
}

/// A reader that can tell whether more bytes follow without losing one.
struct PeekReader<R: Read> {
    inner: R,
    peeked: Option<u8>,
}

impl<R: Read> PeekReader<R> {
    fn has_more(&mut self) -> io::Result<bool> {
        if self.peeked.is_some() {
            return Ok(true);
        }
        let mut b = [0u8; 1];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(false),
                Ok(_) => {
                    self.peeked = Some(b[0]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Read for PeekReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(b) = self.peeked.take() {
            buf[0] = b;
            return Ok(1);
        }
        self.inner.read(buf)
    }
}

/// Random access to a compressed whole archive (`docker save | gzip`), for callers that
/// cannot spool it to disk (wasm). Reading forward decodes on; reading backward starts
/// the decoder again from the beginning, so callers read in ascending order where they can.
pub struct DecodedSource<'a> {
    src: Rc<dyn ReadAt + 'a>,
    compression: Compression,
    size: u64,
    state: RefCell<Option<(u64, Box<dyn Read + 'a>)>>,
}

impl<'a> DecodedSource<'a> {
    /// Decodes the whole input once to learn its length (and fail early if it is damaged).
    pub fn new(src: Rc<dyn ReadAt + 'a>, compression: Compression) -> io::Result<Self> {
        let total = src.size();
        let mut reader = open_range(src.clone(), 0, total, compression)?;
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            size += n as u64;
            // The same bound as for one layer: beyond it, a decompression bomb.
            let limit = total.saturating_mul(crate::layer::MAX_RATIO).max(crate::layer::MIN_EXPANSION_LIMIT);
            if size > limit {
                return Err(io::Error::other(crate::error::Error::new(
                    crate::error::ErrorCode::TooLarge,
                    format!("the archive decompresses to more than {limit} bytes, far more than its stored size: a decompression bomb?"),
                )));
            }
        }
        drop(reader);
        Ok(DecodedSource { src, compression, size, state: RefCell::new(None) })
    }
}

impl ReadAt for DecodedSource<'_> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let mut state = self.state.borrow_mut();
        let restart = match state.as_ref() {
            Some((pos, _)) => *pos > offset,
            None => true,
        };
        if restart {
            *state = Some((0, open_range(self.src.clone(), 0, self.src.size(), self.compression)?));
        }
        let Some((pos, reader)) = state.as_mut() else { return Ok(0) };
        if *pos < offset {
            let skipped = io::copy(&mut reader.by_ref().take(offset - *pos), &mut io::sink())?;
            *pos += skipped;
            if *pos < offset {
                return Ok(0);
            }
        }
        let n = reader.read(buf)?;
        *pos += n as u64;
        Ok(n)
    }
}
