//! The squash engine for JavaScript: Node.js, browsers and workers.
//!
//! Thin on purpose. The engine reads its input through a JavaScript object
//! `{ size, readAt(offset, length) }`, so JavaScript decides how bytes are fetched
//! (a `Uint8Array`, `FileReaderSync` on a `Blob` slice in a worker, `fs.readSync` on a
//! Node file descriptor), and it writes the squashed archive in chunks of 4 MB handed to
//! `onChunk(Uint8Array)`. Nothing big is ever held in wasm memory.
//!
//! Errors are thrown as JavaScript `Error`s whose `code` is the engine's stable code
//! (`NOT_AN_IMAGE`, `CORRUPT`, ...). An exception thrown by a callback (`readAt`,
//! `onChunk`, `onProgress`) stops the work and is rethrown as is.
//!
//! - `api`: the calls (`list`, `inspect`, `squash`, `spool`, ...);
//! - `options`: their options objects, read with serde;
//! - `source`, `sink`, `sha256`, `scratch`, `progress`: the adapters between JavaScript and the engine;
//! - `errors`: how failures reach JavaScript;
//! - `cli`: the command line shared with the native CLI, for the npm bin;
//! - `registry` (feature `registry`, Node only): pull and push through a JS host;
//! - `types.d.ts`: the TypeScript types of all of it, included below.

mod api;
mod cli;
mod errors;
mod options;
mod progress;
#[cfg(feature = "registry")]
mod registry;
mod scratch;
mod sha256;
mod sink;
mod source;

pub use sink::CHUNK_SIZE;

#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = include_str!("types.d.ts");
