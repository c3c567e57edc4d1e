//! `verify_layers`, for hosts that verify in parallel: each call checks only its share of
//! the layers, and a damaged layer fails exactly as a verifying squash fails on it.

use squash_engine::{Archive, ErrorCode, SliceSource, SquashFrom, SquashOptions};
use squash_testkit::{digest, file, tar, Image, Layer};

fn damaged() -> Vec<u8> {
    let good = |n: &str| Layer::plain(tar(&[file(n, n.repeat(1000))]));
    // Layer 1's config promises the digest of other bytes than it holds.
    let other = tar(&[file("b", "something else")]);
    let bad = Layer::raw(tar(&[file("b", "b".repeat(1000))]), &digest(&other));
    Image::new(vec![good("a"), bad, good("c")]).docker_save()
}

#[test]
fn each_share_is_checked_alone_and_a_damaged_layer_fails_as_the_squash_does() {
    let bytes = damaged();
    let a = Archive::open(Box::new(SliceSource(&bytes))).unwrap();
    let mut read = 0u64;
    a.verify_layers(None, None, &[0, 2], &mut |p| {
        read = p.bytes_done;
        true
    })
    .expect("layers 0 and 2 are sound");
    assert!(read > 0 && read < bytes.len() as u64 / 2, "only the share is read: {read} bytes");
    let e = a.verify_layers(None, None, &[2, 1], &mut |_| true).unwrap_err();
    let squash = a
        .squash(&SquashOptions { from: SquashFrom::Root, ..Default::default() }, &mut Vec::new(), &mut |_| true)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DigestMismatch);
    assert_eq!((e.code, e.message.as_str()), (squash.code, squash.message.as_str()), "the same error as a squash");
    assert!(e.message.starts_with("layer 1 "), "{}", e.message);
}

#[test]
fn a_layer_the_image_does_not_have_is_a_bad_option() {
    let bytes = damaged();
    let a = Archive::open(Box::new(SliceSource(&bytes))).unwrap();
    let e = a.verify_layers(None, None, &[3], &mut |_| true).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadOption);
    assert_eq!(e.message, "there is no layer 3: the image has 3 layers (0 to 2)");
    a.verify_layers(None, None, &[], &mut |_| true).expect("nothing to verify");
}
