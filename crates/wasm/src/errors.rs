//! Errors as JavaScript sees them: an `Error` whose `code` is the engine's stable code, a
//! `TypeError` with code `BAD_ARGUMENT` for wrong arguments, and the exception a callback
//! threw, which is kept and rethrown unchanged at the end of the call.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Reflect;
use squash_engine::ErrorCode;
use wasm_bindgen::{JsCast, JsValue};

/// Code of errors about the arguments themselves (wrong types, missing callbacks).
pub const BAD_ARGUMENT: &str = "BAD_ARGUMENT";

/// An `Error` with `.code`.
pub fn coded_error(message: &str, code: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    let _ = Reflect::set(&err, &"code".into(), &code.into());
    err.into()
}

/// A `TypeError` with code `BAD_ARGUMENT`.
pub fn bad_argument(message: &str) -> JsValue {
    let err: js_sys::Error = js_sys::TypeError::new(message).into();
    let _ = Reflect::set(&err, &"code".into(), &BAD_ARGUMENT.into());
    err.into()
}

/// Text of a thrown JavaScript value, for the engine's error message.
pub fn describe(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    v.as_string().unwrap_or_else(|| format!("{v:?}"))
}

/// The first exception a JavaScript callback threw during a call, rethrown at its end.
pub type Failed = Rc<RefCell<Option<JsValue>>>;

/// One exported call: the exception slot its callbacks (source, sink, hash, progress) share.
pub struct Call {
    pub failed: Failed,
}

impl Call {
    pub fn new() -> Call {
        // A panic (a bug) then shows its message on the console before the trap.
        console_error_panic_hook::set_once();
        Call { failed: Rc::new(RefCell::new(None)) }
    }

    /// An engine error as a JS `Error` with `.code`, unless a callback threw: that
    /// exception is the real cause and is rethrown unchanged.
    pub fn error(&self, e: squash_engine::Error) -> JsValue {
        if let Some(thrown) = self.failed.borrow_mut().take() {
            return thrown;
        }
        coded_error(&e.message, e.code.as_str())
    }

    /// The call's result for JavaScript, unless a callback threw.
    pub fn finish<T: serde::Serialize>(self, value: &T) -> Result<JsValue, JsValue> {
        if let Some(thrown) = self.failed.borrow_mut().take() {
            return Err(thrown);
        }
        to_js(value)
    }
}

/// A result as a plain JavaScript value (objects, arrays, numbers; no Maps or BigInts).
pub fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| coded_error(&format!("internal: cannot convert the result: {e}"), ErrorCode::Io.as_str()))
}
