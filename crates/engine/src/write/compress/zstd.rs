//! zstd as a sequence of independent frames, one per block of the layer (as pzstd
//! writes them): the blocks compress in parallel, and RFC 8878 decoders (containerd's and
//! Docker's among them) read the frames one after another as one stream.

use super::blocks::Block;

/// Input per frame: twice level 3's 2 MiB window, so that cutting costs little, and small
/// enough that the blocks in flight keep memory low.
pub(super) const BLOCK: usize = 4 << 20;
/// 1 to 19, as the zstd command allows without `--ultra`.
pub(super) const LEVELS: (i32, i32, i32) = (1, 19, 3);

/// One block as one frame (with its content size, without a checksum: the layer's digests
/// already cover it).
pub(super) fn compress_block(b: &Block, level: i32) -> Result<Vec<u8>, String> {
    zstd::bulk::compress(&b.data, level).map_err(|e| e.to_string())
}
