//! The new layer's compression, as its own unit: which one ([`choice`]), and the encoder
//! that writes it ([`Encoder`]): blocks cut from the layer, compressed on every core
//! ([`blocks`]), joined into one gzip member ([`gzip`]) or a run of zstd frames ([`zstd`]).
//! The bytes depend only on the layer, the codec and the level: never on the thread count
//! or the machine, so native, Node and the page write the same archive.

mod blocks;
pub(crate) mod choice;
mod gzip;
mod zstd;

use std::io::{self, Write};

use blocks::{Block, BlockFn, Blocks};

use crate::error::{Error, Result};
use crate::read::compression::Compression;

/// A compressing writer; [`Encoder::finish`] ends the stream and gives the writer back.
pub(crate) struct Encoder<W: Write> {
    codec: Compression,
    level: i32,
    blocks: Blocks<W>,
    block_size: usize,
    /// The block being filled.
    buf: Vec<u8>,
    /// The end of the previous block: gzip's dictionary for the next.
    tail: Vec<u8>,
    crc: crc32fast::Hasher,
    size: u64,
    started: bool,
}

/// The levels a codec takes: (least, most, default).
pub(crate) fn levels(codec: Compression) -> Option<(i32, i32, i32)> {
    match codec {
        Compression::None => None,
        Compression::Gzip => Some(gzip::LEVELS),
        Compression::Zstd => Some(zstd::LEVELS),
    }
}

/// How many threads compress natively: every core (one is enough in wasm).
pub(crate) fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}

impl<W: Write> Encoder<W> {
    /// An encoder for gzip or zstd at `level` (checked by the caller against [`levels`]).
    pub(crate) fn new(out: W, codec: Compression, level: i32, threads: usize) -> Result<Encoder<W>> {
        let (compress, block_size): (BlockFn, usize) = match codec {
            Compression::Gzip => (gzip::compress_block, gzip::BLOCK),
            Compression::Zstd => (zstd::compress_block, zstd::BLOCK),
            Compression::None => return Err(Error::corrupt("internal: an encoder for no compression")),
        };
        Ok(Encoder {
            codec,
            level,
            blocks: Blocks::new(out, compress, level, threads),
            block_size,
            buf: Vec::with_capacity(block_size),
            tail: Vec::new(),
            crc: crc32fast::Hasher::new(),
            size: 0,
            started: false,
        })
    }

    fn start(&mut self) -> Result<()> {
        if !self.started {
            self.started = true;
            if self.codec == Compression::Gzip {
                let h = gzip::header(self.level);
                self.blocks.out.write_all(&h).map_err(|e| Error::io("writing the compressed layer", e))?;
            }
        }
        Ok(())
    }

    /// Hands the block on: a full one when more input has come, the last from `finish`.
    fn push_block(&mut self, last: bool) -> Result<()> {
        self.start()?;
        let data =
            std::mem::replace(&mut self.buf, if last { Vec::new() } else { Vec::with_capacity(self.block_size) });
        let dict = std::mem::take(&mut self.tail);
        if self.codec == Compression::Gzip && !last {
            self.tail = data[data.len().saturating_sub(gzip::DICT)..].to_vec();
        }
        self.blocks.push(Block { dict, data, last })
    }

    fn put(&mut self, mut data: &[u8]) -> Result<()> {
        self.crc.update(data);
        self.size += data.len() as u64;
        while !data.is_empty() {
            if self.buf.len() == self.block_size {
                self.push_block(false)?;
            }
            let take = data.len().min(self.block_size - self.buf.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    /// Ends the stream (the block held back is the last) and gives the writer back.
    pub(crate) fn finish(mut self) -> Result<W> {
        self.push_block(true)?;
        let (crc, size) = (self.crc.clone().finalize(), self.size);
        let mut out = self.blocks.finish()?;
        if self.codec == Compression::Gzip {
            out.write_all(&gzip::trailer(crc, size)).map_err(|e| Error::io("writing the compressed layer", e))?;
        }
        Ok(out)
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.put(data).map_err(io::Error::other)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Bytes that compress somewhat, and differ block to block.
    fn sample(n: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if i % 3 == 0 {
                    b'a' + (x % 4) as u8
                } else {
                    (x >> 56) as u8
                }
            })
            .collect()
    }

    fn encode(codec: Compression, data: &[u8], threads: usize, piece: usize) -> Vec<u8> {
        let (_, _, level) = levels(codec).unwrap();
        let mut e = Encoder::new(Vec::new(), codec, level, threads).unwrap();
        for chunk in data.chunks(piece.max(1)) {
            e.write_all(chunk).unwrap();
        }
        e.finish().unwrap()
    }

    fn decode(codec: Compression, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match codec {
            // One member: a decoder that stops after the first must see everything.
            Compression::Gzip => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).map(|_| ()).unwrap(),
            _ => {
                let mut rest = bytes;
                while !rest.is_empty() {
                    ruzstd::decoding::StreamingDecoder::new(&mut rest).unwrap().read_to_end(&mut out).unwrap();
                }
            }
        }
        out
    }

    #[test]
    fn every_size_round_trips_and_the_bytes_do_not_depend_on_threads_or_write_sizes() {
        for codec in [Compression::Gzip, Compression::Zstd] {
            let block = if codec == Compression::Gzip { gzip::BLOCK } else { zstd::BLOCK };
            for n in [0, 1, 1000, block - 1, block, block + 1, 2 * block + 12345] {
                let data = sample(n);
                let one = encode(codec, &data, 1, 1 << 16);
                assert_eq!(decode(codec, &one), data, "{codec:?}, {n} bytes");
                assert_eq!(encode(codec, &data, 4, 1 << 16), one, "{codec:?}, {n} bytes: 4 threads differ from 1");
                assert_eq!(encode(codec, &data, 3, 7777), one, "{codec:?}, {n} bytes: other write sizes differ");
            }
        }
    }

    #[test]
    fn gzip_header_names_no_file_no_time_and_no_system() {
        let bytes = encode(Compression::Gzip, b"x", 1, 1);
        assert_eq!(&bytes[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let size = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap());
        assert_eq!(size, 1);
    }

    #[test]
    fn blocks_are_compressed_in_parallel_without_losing_much() {
        // pigz-style blocks with dictionaries cost little against one deflate stream.
        let data = sample(3 * gzip::BLOCK);
        let ours = encode(Compression::Gzip, &data, 2, 1 << 20).len();
        let mut one = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        one.write_all(&data).unwrap();
        let whole = one.finish().unwrap().len();
        assert!(ours as f64 <= whole as f64 * 1.01, "blocks: {ours} bytes, one stream: {whole}");
    }
}
