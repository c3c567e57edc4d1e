//! The tar format, below any notion of images: walking a stream's entries (GNU and PAX
//! extensions, checksums, limits), PAX records, and writing headers.

pub mod header;
pub mod pax;
pub mod walk;
