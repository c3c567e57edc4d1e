//! A SHA-256 of the JavaScript host (`options.sha256`, e.g. Node's
//! `() => crypto.createHash('sha256')`) as the engine's [`Sha256Stream`].

use std::rc::Rc;

use js_sys::{Function, Uint8Array};
use squash_engine::{Sha256Factory, Sha256Stream};
use wasm_bindgen::prelude::*;

use crate::errors::{bad_argument, Failed};

/// Data for a host SHA-256 is passed on in pieces of at least this size (fewer calls).
const HASH_BATCH: usize = 1 << 20;

#[wasm_bindgen]
extern "C" {
    /// Any object with `update(data)` and `digest()` (duck-typed).
    #[wasm_bindgen(typescript_type = "HostSha256")]
    pub type JsHash;

    #[wasm_bindgen(method, getter = update, catch, structural)]
    fn update_member(this: &JsHash) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, getter = digest, catch, structural)]
    fn digest_member(this: &JsHash) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch, structural)]
    fn update(this: &JsHash, data: &Uint8Array) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch, structural)]
    fn digest(this: &JsHash) -> Result<JsValue, JsValue>;
}

/// The engine's factory over `make`, a function returning a fresh host hash.
pub fn factory<'s>(make: Function, failed: Failed) -> Sha256Factory<'s> {
    Rc::new(move || Box::new(HostSha256::new(&make, failed.clone())) as Box<dyn Sha256Stream + 's>)
}

/// One host hash. Small updates are batched; big ones go straight from the wasm memory (a
/// view, used during the call only). A callback's exception is kept for the end of the
/// call (the digest is then wrong, which stops the engine, and the exception is what the
/// caller sees).
struct HostSha256 {
    js: Option<JsHash>,
    pending: Vec<u8>,
    failed: Failed,
}

impl HostSha256 {
    fn new(make: &Function, failed: Failed) -> HostSha256 {
        let mut h = HostSha256 { js: None, pending: Vec::new(), failed };
        match make.call0(&JsValue::UNDEFINED).and_then(checked) {
            Ok(js) => h.js = Some(js),
            Err(e) => h.fail(e),
        }
        h
    }

    fn fail(&self, e: JsValue) {
        self.failed.borrow_mut().get_or_insert(e);
    }

    fn send(&self, data: &[u8]) {
        let Some(js) = &self.js else { return };
        if self.failed.borrow().is_some() {
            return;
        }
        // SAFETY: the view is used only during this synchronous call, which does not call
        // back into this module, so the memory cannot grow (and move) meanwhile.
        let view = unsafe { Uint8Array::view(data) };
        if let Err(e) = js.update(&view) {
            self.fail(e);
        }
    }
}

/// What `options.sha256()` returned, if it has `update` and `digest` functions.
fn checked(made: JsValue) -> Result<JsHash, JsValue> {
    let js: JsHash = made.unchecked_into();
    let has = |member: Result<JsValue, JsValue>| member.is_ok_and(|m| m.is_function());
    if (js.is_object() || js.is_function()) && has(js.update_member()) && has(js.digest_member()) {
        Ok(js)
    } else {
        Err(bad_argument("options.sha256 must return an object with update(data) and digest()"))
    }
}

impl Sha256Stream for HostSha256 {
    fn update(&mut self, data: &[u8]) {
        if self.pending.is_empty() && data.len() >= HASH_BATCH {
            self.send(data);
            return;
        }
        self.pending.extend_from_slice(data);
        if self.pending.len() >= HASH_BATCH {
            self.send(&self.pending);
            self.pending.clear();
        }
    }

    fn finish(self: Box<Self>) -> [u8; 32] {
        let mut out = [0u8; 32];
        if !self.pending.is_empty() {
            self.send(&self.pending);
        }
        let Some(js) = &self.js else { return out };
        if self.failed.borrow().is_some() {
            return out;
        }
        match js.digest() {
            Ok(v) => match v.dyn_into::<Uint8Array>() {
                Ok(a) if a.length() == 32 => a.copy_to(&mut out),
                _ => self.fail(bad_argument("options.sha256: digest() must return the 32 bytes as a Uint8Array")),
            },
            Err(e) => self.fail(e),
        }
        out
    }
}
