//! The input: a JavaScript `{ size, readAt(offset, length) }` as the engine's [`ReadAt`].

use std::cell::RefCell;
use std::io;

use js_sys::Uint8Array;
use squash_engine::ReadAt;
use wasm_bindgen::prelude::*;

use crate::errors::{bad_argument, describe, Failed};

/// Reads shorter than this are served from a read-ahead window, so that parsing tar
/// headers does not call into JavaScript for every 512 bytes.
const SMALL_READ: usize = 64 << 10;
const WINDOW: usize = 1 << 20;

#[wasm_bindgen]
extern "C" {
    /// Any object with `size` and `readAt` (duck-typed: nothing is checked by the type).
    #[wasm_bindgen(typescript_type = "Source")]
    pub type JsSource;

    #[wasm_bindgen(method, getter, catch, structural)]
    fn size(this: &JsSource) -> Result<JsValue, JsValue>;

    /// The member itself, to check that it is a function before the work starts.
    #[wasm_bindgen(method, getter = readAt, catch, structural)]
    fn read_at_member(this: &JsSource) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch, structural, js_name = readAt)]
    fn read_at(this: &JsSource, offset: f64, length: f64) -> Result<JsValue, JsValue>;
}

/// A [`JsSource`], checked, with a read-ahead window for small reads.
pub struct Source {
    js: JsSource,
    size: u64,
    failed: Failed,
    /// Read-ahead window for small reads: (offset, bytes).
    window: RefCell<(u64, Vec<u8>)>,
}

impl Source {
    pub fn new(js: JsSource, failed: Failed) -> Result<Source, JsValue> {
        if !js.is_object() {
            return Err(bad_argument("the source must be an object { size, readAt(offset, length) }"));
        }
        let size = js.size()?;
        let size = match size.as_f64() {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9007199254740991.0 => n as u64,
            _ => match u64::try_from(size) {
                Ok(n) => n,
                Err(_) => return Err(bad_argument("source.size must be a non-negative integer")),
            },
        };
        if !js.read_at_member()?.is_function() {
            return Err(bad_argument("source.readAt must be a function (offset, length) => Uint8Array"));
        }
        Ok(Source { js, size, failed, window: RefCell::new((0, Vec::new())) })
    }

    /// Calls `readAt` and copies what it returned into `buf`; fails if it returned nothing
    /// before the end.
    fn fetch(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed.borrow().is_some() {
            return Err(io::Error::other("reading the input failed earlier"));
        }
        let value = match self.js.read_at(offset as f64, buf.len() as f64) {
            Ok(v) => v,
            Err(e) => {
                let msg = describe(&e);
                self.failed.borrow_mut().get_or_insert(e);
                return Err(io::Error::other(format!("reading the input failed: {msg}")));
            }
        };
        let bytes: Uint8Array = if let Some(a) = value.dyn_ref::<Uint8Array>() {
            a.clone()
        } else if let Some(b) = value.dyn_ref::<js_sys::ArrayBuffer>() {
            Uint8Array::new(b)
        } else {
            return Err(io::Error::other("source.readAt must return a Uint8Array"));
        };
        let n = (bytes.length() as usize).min(buf.len());
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the input ended at byte {offset} of the {} it was said to have (did it change while being read?)",
                    self.size
                ),
            ));
        }
        if n == bytes.length() as usize {
            bytes.copy_to(&mut buf[..n]);
        } else {
            bytes.subarray(0, n as u32).copy_to(&mut buf[..n]);
        }
        Ok(n)
    }
}

impl ReadAt for Source {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let left = self.size - offset;
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want >= SMALL_READ {
            return self.fetch(offset, &mut buf[..want]);
        }
        let mut w = self.window.borrow_mut();
        let (start, data) = &mut *w;
        if !(offset >= *start && offset + want as u64 <= *start + data.len() as u64) {
            let len = WINDOW.min(usize::try_from(left).unwrap_or(usize::MAX));
            data.resize(len, 0);
            let mut got = 0;
            while got < want {
                got += self.fetch(offset + got as u64, &mut data[got..])?;
            }
            data.truncate(got);
            *start = offset;
        }
        let from = (offset - *start) as usize;
        let n = want.min(data.len() - from);
        buf[..n].copy_from_slice(&data[from..from + n]);
        Ok(n)
    }
}
