//! `onProgress`: the engine's progress, forwarded to JavaScript at most every 100 ms (and
//! at every phase change and at the end).

use std::cell::Cell;

use js_sys::{Function, Object, Reflect};
use squash_engine::Progress;
use wasm_bindgen::JsValue;

use crate::errors::Failed;

/// `onProgress` is called at most this often (and at every phase change and at the end).
const PROGRESS_EVERY_MS: f64 = 100.0;

/// The engine's progress callback over `cb`; returning false (or a thrown exception, kept
/// in `failed`) cancels the work.
pub fn forwarder(cb: Option<Function>, failed: Failed) -> impl FnMut(&Progress) -> bool {
    let last_ms = Cell::new(f64::NEG_INFINITY);
    let last_phase = Cell::new("");
    move |p: &Progress| -> bool {
        let Some(cb) = &cb else { return true };
        if failed.borrow().is_some() {
            return false;
        }
        let now = js_sys::Date::now();
        let end = p.bytes_done >= p.bytes_total;
        if !(end || p.phase != last_phase.get() || now - last_ms.get() >= PROGRESS_EVERY_MS) {
            return true;
        }
        last_ms.set(now);
        last_phase.set(p.phase);
        let obj = Object::new();
        let _ = Reflect::set(&obj, &"phase".into(), &p.phase.into());
        let _ = Reflect::set(&obj, &"bytesDone".into(), &(p.bytes_done as f64).into());
        let _ = Reflect::set(&obj, &"bytesTotal".into(), &(p.bytes_total as f64).into());
        match cb.call1(&JsValue::UNDEFINED, &obj) {
            Ok(v) => v.as_bool() != Some(false),
            Err(e) => {
                failed.borrow_mut().get_or_insert(e);
                false
            }
        }
    }
}
