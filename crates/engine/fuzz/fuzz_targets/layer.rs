//! The layer reader on any bytes stored as a layer of a valid archive (compressed or not:
//! the engine sniffs). When the layer reads, it is put over a base layer with its real
//! diff_id and squashed: the merge rules, the planner and the header rewriter then see
//! arbitrary layers, and the output must open and verify. Trusting a promised diff_id
//! (headers-only reading of uncompressed layers) must give the same index and the same
//! output.
#![no_main]
use libfuzzer_sys::fuzz_target;
use squash_engine::read_member_as_layer;
use squash_engine::{Archive, SliceSource, SquashOptions};

use squash_testkit::{digest, dir, file, symlink, tar, v1_id, Folders, Image, Layer};

fn docker_archive(layers: Vec<Layer>) -> Vec<u8> {
    Image::new(layers).docker_save_as(Folders::ByPosition)
}

fuzz_target!(|data: &[u8]| {
    let wrapped = docker_archive(vec![Layer::raw(data.to_vec(), &digest(b"unknown"))]);
    let name = format!("{}/layer.tar", v1_id(0));
    let verified = read_member_as_layer(&wrapped, &name, None, true);
    let trusted = read_member_as_layer(&wrapped, &name, Some(&digest(b"promised")), false);
    match (&verified, &trusted) {
        (Ok(v), Ok(t)) => {
            assert_eq!(v.entries, t.entries, "trusted reading indexes differently")
        }
        (Err(_), Err(_)) => {}
        (v, t) => panic!("verified reading: {:?}, trusted reading: {:?}", v.as_ref().err(), t.as_ref().err()),
    }
    let Ok(index) = verified else { return };

    let base = Layer::plain(tar(&[dir("etc/"), file("etc/a", b"a"), file("x/y", b"y"), symlink("s", "etc")]))
        .by("ADD file:00 in /");
    let top = Layer::raw(data.to_vec(), &index.diff_id);
    let image = docker_archive(vec![base, top]);
    let archive = Archive::open(Box::new(SliceSource(&image[..]))).expect("the image opens");
    for from in [squash_engine::SquashFrom::Default, squash_engine::SquashFrom::Root] {
        let mut out = Vec::new();
        let opts = SquashOptions { from, ..Default::default() };
        let ok = archive.squash(&opts, &mut out, &mut |_| true).is_ok();
        let mut trusted_out = Vec::new();
        let trusting = SquashOptions { verify: false, ..opts.clone() };
        let trusted_ok = archive.squash(&trusting, &mut trusted_out, &mut |_| true).is_ok();
        assert_eq!(ok, trusted_ok, "not verifying changes whether the squash works");
        assert!(!ok || out == trusted_out, "not verifying changes the output");
        if ok {
            let again = Archive::open(Box::new(SliceSource(&out[..]))).expect("the squashed output opens");
            again.inspect(None, None, true, &mut |_| true).expect("the squashed output verifies");
        }
    }
});
