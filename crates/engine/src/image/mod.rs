//! The image, above its bytes: history, layer names and ChainIDs, the squash point, which
//! image of an archive, and references (tags).

pub mod history;
pub mod layer_ids;
pub mod platforms;
pub mod select;
pub mod squash_point;
pub mod tag;
