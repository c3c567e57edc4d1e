//! Scratch space the host lends the writer: where the new layer is staged once when its
//! stored size and digest must be known before its first byte is written (a compressed
//! layer, or any layer of the OCI layout, whose blob is named by its digest). Natively a
//! temporary file, in Node one too, in the page a file of the origin-private file system.
//! Without one, the writer makes the layer twice instead (the same bytes: the encoders are
//! deterministic), which costs time but no space.

use std::io::Write;

use crate::source::ReadAt;

/// Written front to back once, then read back by offset.
pub trait Scratch: Write + ReadAt {}

impl<T: Write + ReadAt + ?Sized> Scratch for T {}

/// Makes a fresh, empty scratch space; it is dropped (and should vanish) when done.
pub type ScratchFactory<'s> = std::rc::Rc<dyn Fn() -> std::io::Result<Box<dyn Scratch + 's>> + 's>;
