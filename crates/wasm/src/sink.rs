//! The output: the engine's bytes, collected into chunks handed to `onChunk(Uint8Array)`.

use std::io;

use js_sys::{Function, Uint8Array};
use wasm_bindgen::JsValue;

use crate::errors::{describe, Failed};

/// Output is handed to JavaScript in chunks of this size (the last one is shorter).
pub const CHUNK_SIZE: usize = 4 << 20;

/// Collects the engine's output into chunks of [`CHUNK_SIZE`], each handed to `onChunk`
/// as a new `Uint8Array` (JavaScript owns it), or as a view when `transient`.
pub struct ChunkSink {
    on_chunk: Function,
    /// Hand out views of wasm memory, valid only during the call, instead of copies.
    transient: bool,
    buf: Vec<u8>,
    failed: Failed,
}

impl ChunkSink {
    pub fn new(on_chunk: Function, transient: bool, failed: Failed) -> ChunkSink {
        ChunkSink { on_chunk, transient, buf: Vec::new(), failed }
    }

    fn emit(&self, bytes: &[u8]) -> io::Result<()> {
        if self.failed.borrow().is_some() {
            return Err(io::Error::other("the output failed earlier"));
        }
        let chunk = if self.transient {
            // SAFETY: the view is used only during the call below, and nothing in this
            // module allocates (which could grow and move the memory) until it returns,
            // unless the callback calls into this module again; the option's documentation
            // forbids keeping the view or calling back in.
            unsafe { Uint8Array::view(bytes) }
        } else {
            let c = Uint8Array::new_with_length(bytes.len() as u32);
            c.copy_from(bytes);
            c
        };
        self.on_chunk.call1(&JsValue::UNDEFINED, &chunk).map(|_| ()).map_err(|e| {
            let msg = describe(&e);
            self.failed.borrow_mut().get_or_insert(e);
            io::Error::other(format!("onChunk failed: {msg}"))
        })
    }

    /// Hands over what is left.
    pub fn finish(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.emit(&rest)?;
        }
        Ok(())
    }
}

impl io::Write for ChunkSink {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let n = data.len();
        while !data.is_empty() {
            if self.buf.is_empty() && data.len() >= CHUNK_SIZE {
                // A whole chunk straight from the engine's buffer.
                self.emit(&data[..CHUNK_SIZE])?;
                data = &data[CHUNK_SIZE..];
                continue;
            }
            if self.buf.capacity() < CHUNK_SIZE {
                self.buf.reserve_exact(CHUNK_SIZE - self.buf.len());
            }
            let take = data.len().min(CHUNK_SIZE - self.buf.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == CHUNK_SIZE {
                self.emit(&self.buf)?;
                self.buf.clear();
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
