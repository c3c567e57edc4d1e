//! Compression as image archives use it (gzip, zstd) and undoing it by magic bytes, with
//! the crates the engine uses, but none of the engine's code.

use std::io::{Read, Write};

pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// One zstd frame.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Undoes gzip (every member) or zstd (every frame), by magic bytes; anything else is
/// returned as it is.
pub fn decompress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if data.starts_with(&GZIP_MAGIC) {
        flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out).unwrap();
    } else if data.starts_with(&ZSTD_MAGIC) {
        let mut rest = data;
        while !rest.is_empty() {
            ruzstd::decoding::StreamingDecoder::new(&mut rest).unwrap().read_to_end(&mut out).unwrap();
        }
    } else {
        out = data.to_vec();
    }
    out
}

/// The first gzip member only, as a decoder that stops after one reads it.
pub fn gunzip_one_member(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}
