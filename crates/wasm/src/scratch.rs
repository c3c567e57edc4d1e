//! Scratch space of the JavaScript host (`options.scratch`, a function returning a fresh
//! `{ write(chunk), readAt(offset, length), close?() }`: a temporary file in Node, a file
//! of the origin-private file system in a worker) as the engine's [`Scratch`].

use std::io;
use std::rc::Rc;

use js_sys::{Function, Reflect, Uint8Array};
use squash_engine::{ReadAt, Scratch, ScratchFactory};
use wasm_bindgen::prelude::*;

use crate::errors::{describe, Failed};

/// Writes are handed to JavaScript in pieces of this size (fewer calls).
const WRITE_BATCH: usize = 4 << 20;

/// The engine's factory over `make`.
pub fn factory<'s>(make: Function, failed: Failed) -> ScratchFactory<'s> {
    Rc::new(move || {
        let obj = make.call0(&JsValue::UNDEFINED).map_err(|e| fail(&failed, e, "options.scratch() failed"))?;
        let member = |name: &str| -> io::Result<Function> {
            Reflect::get(&obj, &name.into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .ok_or_else(|| io::Error::other(format!("options.scratch() must return an object with {name}()")))
        };
        let (write, read_at) = (member("write")?, member("readAt")?);
        let close = member("close").ok();
        Ok(Box::new(HostScratch { obj, write, read_at, close, pending: Vec::new(), size: 0, failed: failed.clone() })
            as Box<dyn Scratch + 's>)
    })
}

fn fail(failed: &Failed, e: JsValue, what: &str) -> io::Error {
    let msg = describe(&e);
    failed.borrow_mut().get_or_insert(e);
    io::Error::other(format!("{what}: {msg}"))
}

struct HostScratch {
    obj: JsValue,
    write: Function,
    read_at: Function,
    close: Option<Function>,
    pending: Vec<u8>,
    size: u64,
    failed: Failed,
}

impl HostScratch {
    fn hand_over(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // SAFETY: the view is used only during the call (the documented contract of
        // `write`: copy or write it away before returning), and nothing here allocates
        // in wasm memory until the call returns.
        let view = unsafe { Uint8Array::view(&self.pending) };
        let r = self.write.call1(&self.obj, &view);
        self.pending.clear();
        r.map(|_| ()).map_err(|e| fail(&self.failed, e, "writing the scratch space failed"))
    }
}

impl io::Write for HostScratch {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.pending.capacity() < WRITE_BATCH {
            self.pending.reserve_exact(WRITE_BATCH);
        }
        let n = data.len().min(WRITE_BATCH - self.pending.len());
        self.pending.extend_from_slice(&data[..n]);
        self.size += n as u64;
        if self.pending.len() == WRITE_BATCH {
            self.hand_over()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.hand_over()
    }
}

impl ReadAt for HostScratch {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.size - offset).unwrap_or(usize::MAX));
        let value = self
            .read_at
            .call2(&self.obj, &(offset as f64).into(), &(want as f64).into())
            .map_err(|e| fail(&self.failed, e, "reading the scratch space failed"))?;
        let bytes = value
            .dyn_into::<Uint8Array>()
            .map_err(|_| io::Error::other("the scratch space's readAt must return a Uint8Array"))?;
        let n = (bytes.length() as usize).min(want);
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the scratch space ended early"));
        }
        bytes.subarray(0, n as u32).copy_to(&mut buf[..n]);
        Ok(n)
    }
}

impl Drop for HostScratch {
    fn drop(&mut self) {
        if let Some(close) = &self.close {
            let _ = close.call0(&self.obj);
        }
    }
}
