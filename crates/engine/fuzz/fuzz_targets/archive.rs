//! The archive reader: finding images in any bytes (Archive::open + list). It must never
//! panic or hang; every refusal is an error value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use squash_engine::{Archive, SliceSource};

fuzz_target!(|data: &[u8]| {
    if let Ok(archive) = Archive::open(Box::new(SliceSource(data))) {
        let _ = archive.list();
    }
});
