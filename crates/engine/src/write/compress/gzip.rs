//! gzip in the manner of pigz: the layer is cut into blocks, each deflated on its own with
//! the 32 KiB before it as dictionary and ended with a sync flush (the last with the final
//! block), so the blocks can be compressed in parallel and still join into one standard
//! gzip member that every decoder reads.

use flate2::{Compress, FlushCompress, Status};

use super::blocks::Block;

/// Input per block: large enough that the flush markers cost nothing (5 bytes a block).
pub(super) const BLOCK: usize = 1 << 20;
/// deflate's window: the dictionary each block is given.
pub(super) const DICT: usize = 32 << 10;
pub(super) const LEVELS: (i32, i32, i32) = (1, 9, 6);

/// The member's header: no name, mtime 0 (the output must not depend on the clock), OS
/// "unknown" (nor on the machine).
pub(super) fn header(level: i32) -> [u8; 10] {
    // XFL: 2 for the slowest level, 4 for the fastest (RFC 1952 §2.3.1).
    let xfl = match level {
        9 => 2,
        1 => 4,
        _ => 0,
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 0xff]
}

/// The member's trailer: CRC-32 and size (mod 2^32) of the uncompressed bytes.
pub(super) fn trailer(crc: u32, size: u64) -> [u8; 8] {
    let mut t = [0u8; 8];
    t[..4].copy_from_slice(&crc.to_le_bytes());
    t[4..].copy_from_slice(&(size as u32).to_le_bytes());
    t
}

/// One block as raw deflate.
pub(super) fn compress_block(b: &Block, level: i32) -> Result<Vec<u8>, String> {
    let mut c = Compress::new(flate2::Compression::new(level as u32), false);
    if !b.dict.is_empty() {
        c.set_dictionary(&b.dict).map_err(|e| e.to_string())?;
    }
    let flush = if b.last { FlushCompress::Finish } else { FlushCompress::Sync };
    let mut out = Vec::with_capacity(b.data.len() / 2 + 1024);
    loop {
        let read = c.total_in() as usize;
        let before = out.len();
        let status = c.compress_vec(&b.data[read..], &mut out, flush).map_err(|e| e.to_string())?;
        let all_in = c.total_in() as usize == b.data.len();
        match status {
            Status::StreamEnd => return Ok(out),
            // A sync flush is complete once all input is in and there was room to spare.
            _ if !b.last && all_in && out.len() < out.capacity() => return Ok(out),
            Status::BufError if out.len() == before && out.len() < out.capacity() => {
                return Err("deflate made no progress".into())
            }
            _ => out.reserve(out.capacity().max(64 << 10)),
        }
    }
}
