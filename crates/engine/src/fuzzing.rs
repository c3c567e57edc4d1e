//! What the fuzz targets (`crates/engine/fuzz`) reach below the public API, kept out of
//! the documented surface: reading one member of an archive as a layer.

use crate::error::Result;
use crate::read::layer::read_layer;
use crate::read::manifests::LayerDesc;
use crate::read::members::Members;
use crate::source::SliceSource;

/// One layer as the reader indexed it.
pub struct LayerRead {
    /// The entries, as their `Debug` text (for comparing two readings).
    pub entries: String,
    /// The diff_id: computed, or the promised one when trusted.
    pub diff_id: String,
}

/// Reads the member `name` of `archive` as a layer, promising `diff_id` (trusted when
/// `verify` is off, as [`crate::SquashOptions::verify`]).
pub fn read_member_as_layer(archive: &[u8], name: &str, diff_id: Option<&str>, verify: bool) -> Result<LayerRead> {
    let members = Members::open(Box::new(SliceSource(archive)))?;
    let file = members.lookup(name)?;
    let desc = LayerDesc { file, diff_id: diff_id.map(str::to_string), digest: None, legacy_id: None };
    let index = read_layer(&*members.src, &desc, None, verify, &mut |_| Ok(()))?;
    Ok(LayerRead { entries: format!("{:?}", index.entries), diff_id: index.diff_id })
}
