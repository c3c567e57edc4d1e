//! The whole squash on any bytes. When it succeeds, the output must itself be an archive
//! the engine opens and verifies (every layer matches its diff_id).
#![no_main]
use libfuzzer_sys::fuzz_target;
use squash_engine::{Archive, SliceSource, SquashOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(archive) = Archive::open(Box::new(SliceSource(data))) else { return };
    for from in [squash_engine::SquashFrom::Default, squash_engine::SquashFrom::Root] {
        let mut out = Vec::new();
        let opts = SquashOptions { from, ..Default::default() };
        if archive.squash(&opts, &mut out, &mut |_| true).is_ok() {
            let again = Archive::open(Box::new(SliceSource(&out[..]))).expect("the squashed output opens");
            again.inspect(None, None, true, &mut |_| true).expect("the squashed output verifies");
        }
    }
});
