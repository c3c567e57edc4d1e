//! Reading Zstandard (RFC 8878): every frame of a stream, skippable frames included, with
//! errors in plain words.
//!
//! ruzstd decodes one frame at a time and reports a skippable frame as an error, so the
//! loop over frames is ours: before each frame we look at its magic number, skip a
//! skippable frame (§3.1.2: magic 0x184D2A50..=0x184D2A5F, a 4-byte little-endian length,
//! then that many bytes) and hand a real frame to ruzstd.

use std::io::{self, Read};

use ruzstd::decoding::{FrameDecoder, StreamingDecoder};

/// The magic number that starts a Zstandard frame, as bytes.
pub const FRAME_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// True for the first four bytes of a skippable frame (0x184D2A5?, little-endian).
pub fn is_skippable_magic(b: &[u8]) -> bool {
    b.len() >= 4 && b[0] & 0xf0 == 0x50 && b[1..4] == [0x2a, 0x4d, 0x18]
}

/// Decodes every frame of a zstd stream from `inner`.
pub struct ZstdReader<R: Read> {
    state: State<R>,
}

enum State<R: Read> {
    /// Between frames: the next one has not been looked at yet.
    Between(Peek<R>),
    /// Inside a frame.
    Frame(Box<StreamingDecoder<Peek<R>, FrameDecoder>>),
    /// The stream has ended (or failed: a failed stream stays failed).
    Done,
}

impl<R: Read> ZstdReader<R> {
    /// A reader of the zstd stream `inner`; nothing is read until the first `read`.
    pub fn new(inner: R) -> Self {
        ZstdReader { state: State::Between(Peek { inner, buf: [0; 4], len: 0 }) }
    }

    /// At a frame boundary: skips skippable frames, then starts the next real frame.
    /// Returns false at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        let State::Between(mut peek) = std::mem::replace(&mut self.state, State::Done) else { return Ok(false) };
        loop {
            let magic = peek.peek4()?;
            if magic.is_empty() {
                return Ok(false);
            }
            if magic.len() < 4 {
                return Err(truncated());
            }
            if !is_skippable_magic(magic) {
                break;
            }
            peek.len = 0;
            let mut len = [0u8; 4];
            peek.read_exact(&mut len).map_err(eof_is_truncation)?;
            let skip = u64::from(u32::from_le_bytes(len));
            let skipped = io::copy(&mut (&mut peek).take(skip), &mut io::sink())?;
            if skipped < skip {
                return Err(truncated());
            }
        }
        let dec = StreamingDecoder::new(peek).map_err(|e| plain(&e))?;
        self.state = State::Frame(Box::new(dec));
        Ok(true)
    }
}

impl<R: Read> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match &mut self.state {
                State::Done => return Ok(0),
                State::Between(_) => {
                    if !self.next_frame()? {
                        self.state = State::Done;
                        return Ok(0);
                    }
                }
                State::Frame(dec) => {
                    let n = match dec.read(buf) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            self.state = State::Done;
                            return Err(plain(&e));
                        }
                    };
                    if n > 0 {
                        return Ok(n);
                    }
                    // This frame is done: check it, then another (or a skippable one) may follow.
                    let State::Frame(dec) = std::mem::replace(&mut self.state, State::Done) else { return Ok(0) };
                    let (peek, frame) = dec.into_parts();
                    // ruzstd computes the frame's XXH64 but leaves comparing it to us.
                    if let (Some(want), Some(got)) = (frame.get_checksum_from_data(), frame.get_calculated_checksum()) {
                        if want != got {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "corrupt zstd stream (its checksum does not match)",
                            ));
                        }
                    }
                    self.state = State::Between(peek);
                }
            }
        }
    }
}

/// A reader that can look at the next four bytes without consuming them.
struct Peek<R> {
    inner: R,
    buf: [u8; 4],
    len: usize,
}

impl<R: Read> Peek<R> {
    /// Up to four bytes (fewer only at the end of the input), left to be read again.
    fn peek4(&mut self) -> io::Result<&[u8]> {
        while self.len < 4 {
            match self.inner.read(&mut self.buf[self.len..]) {
                Ok(0) => break,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(&self.buf[..self.len])
    }
}

impl<R: Read> Read for Peek<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.len > 0 {
            let n = self.len.min(out.len());
            out[..n].copy_from_slice(&self.buf[..n]);
            self.buf.copy_within(n..self.len, 0);
            self.len -= n;
            return Ok(n);
        }
        self.inner.read(out)
    }
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "truncated zstd stream")
}

fn eof_is_truncation(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        truncated()
    } else {
        e
    }
}

/// A decoding failure in plain words, as flate2 words deflate's ("corrupt deflate
/// stream"). ruzstd's own messages are its error enums' debug dumps, and it nests the io
/// error that ended the input several enums deep, so an end of input is found by its
/// debug name. An io error that carries an engine error (a bomb bound below) stays as it is.
fn plain(e: &dyn std::fmt::Debug) -> io::Error {
    let dump = format!("{e:?}");
    if dump.contains("UnexpectedEof") {
        truncated()
    } else {
        io::Error::new(io::ErrorKind::InvalidData, "corrupt zstd stream")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skippable_magic_is_0x184d2a50_to_0x184d2a5f_little_endian() {
        for n in 0x50..=0x5fu8 {
            assert!(is_skippable_magic(&[n, 0x2a, 0x4d, 0x18]));
        }
        assert!(!is_skippable_magic(&[0x4f, 0x2a, 0x4d, 0x18]));
        assert!(!is_skippable_magic(&[0x60, 0x2a, 0x4d, 0x18]));
        assert!(!is_skippable_magic(&FRAME_MAGIC));
        assert!(!is_skippable_magic(&[0x50, 0x2a, 0x4d]), "needs all four bytes");
    }

    #[test]
    fn frames_are_read_one_after_another_across_skippable_frames() {
        let frame = |d: &[u8]| ruzstd::encoding::compress_to_vec(d, ruzstd::encoding::CompressionLevel::Fastest);
        let mut stream = vec![0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3];
        stream.extend(frame(b"first "));
        stream.extend([0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]);
        stream.extend(frame(b"second"));
        let mut out = Vec::new();
        // One byte at a time: frame and skip boundaries may fall anywhere in a read.
        let mut r = ZstdReader::new(stream.as_slice());
        let mut b = [0u8; 1];
        while r.read(&mut b).unwrap() == 1 {
            out.push(b[0]);
        }
        assert_eq!(out, b"first second");
    }

    #[test]
    fn an_empty_input_is_an_empty_stream_and_a_cut_magic_is_truncation() {
        let mut out = Vec::new();
        ZstdReader::new(&[][..]).read_to_end(&mut out).unwrap();
        assert!(out.is_empty());
        let e = ZstdReader::new(&[0x28, 0xb5][..]).read_to_end(&mut out).unwrap_err();
        assert_eq!(e.to_string(), "truncated zstd stream");
    }
}
