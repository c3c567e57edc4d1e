//! `verify_layers`, for hosts that verify in parallel: each call checks only its share of
//! the layers, and a damaged layer fails exactly as a verifying squash fails on it.

use squash_engine::{Archive, ErrorCode, SliceSource, SquashFrom, SquashOptions};
use squash_testkit::{digest, file, gzip, tar, Image, Layer};

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
    a.verify_layers(None, None, &[0, 2], &[], &mut |p| {
        read = p.bytes_done;
        true
    })
    .expect("layers 0 and 2 are sound");
    assert!(read > 0 && read < bytes.len() as u64 / 2, "only the share is read: {read} bytes");
    let e = a.verify_layers(None, None, &[2, 1], &[], &mut |_| true).unwrap_err();
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
    let e = a.verify_layers(None, None, &[3], &[], &mut |_| true).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadOption);
    assert_eq!(e.message, "there is no layer 3: the image has 3 layers (0 to 2)");
    a.verify_layers(None, None, &[], &[], &mut |_| true).expect("nothing to verify");
}

/// What a host's own SHA-256 computes over the plain layers' bytes, as the engine finds them.
fn host_digests(bytes: &[u8], a: &Archive) -> Vec<(usize, String)> {
    let ranges = a.layer_ranges(None, None).unwrap();
    ranges
        .iter()
        .filter(|r| r.plain)
        .map(|r| (r.index, digest(&bytes[r.offset as usize..(r.offset + r.size) as usize])))
        .collect()
}

#[test]
fn digests_the_host_computed_of_plain_layers_are_compared_without_reading_them() {
    let bytes = damaged();
    let a = Archive::open(Box::new(SliceSource(&bytes))).unwrap();
    let hashed = host_digests(&bytes, &a);
    assert_eq!(hashed.iter().map(|h| h.0).collect::<Vec<_>>(), [0, 1, 2], "a docker save stores every layer plain");
    let mut read = 0u64;
    let sound: Vec<_> = hashed.iter().filter(|h| h.0 != 1).cloned().collect();
    a.verify_layers(None, None, &[0, 2], &sound, &mut |p| {
        read = p.bytes_done;
        true
    })
    .expect("layers 0 and 2 are sound");
    assert_eq!(read, 0, "a layer the host hashed is not read again");
    // The damaged layer, hashed by the host, fails with the squash's own words.
    let e = a.verify_layers(None, None, &[1], &hashed, &mut |_| true).unwrap_err();
    let squash = a
        .squash(&SquashOptions { from: SquashFrom::Root, ..Default::default() }, &mut Vec::new(), &mut |_| true)
        .unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (squash.code, squash.message.as_str()), "the same error as a squash");
}

#[test]
fn only_plain_layers_take_a_host_digest_and_only_a_well_formed_one() {
    let tar_b = tar(&[file("b", "b".repeat(1000))]);
    let image = Image::new(vec![Layer::plain(tar(&[file("a", "a")])), Layer::gzip(tar_b.clone())]);
    let bytes = image.docker_save();
    let a = Archive::open(Box::new(SliceSource(&bytes))).unwrap();
    let ranges = a.layer_ranges(None, None).unwrap();
    assert_eq!(ranges.iter().map(|r| (r.index, r.plain)).collect::<Vec<_>>(), [(0, true), (1, false)]);
    let e = a.verify_layers(None, None, &[], &[(1, digest(&tar_b))], &mut |_| true).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadOption);
    assert_eq!(e.message, "layer 1 is not stored plain in the archive: its digest cannot be computed from its bytes");
    let e = a.verify_layers(None, None, &[], &[(0, "sha256:abc".into())], &mut |_| true).unwrap_err();
    assert_eq!(e.message, "the digest given for layer 0 is not `sha256:` and 64 lowercase hex digits: sha256:abc");
    let upper = digest(&tar(&[file("a", "a")])).to_uppercase().replace("SHA256:", "sha256:");
    let e = a.verify_layers(None, None, &[], &[(0, upper)], &mut |_| true).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadOption, "uppercase would not compare equal: refused, not a mismatch");
    let e = a.verify_layers(None, None, &[], &[(5, digest(&tar_b))], &mut |_| true).unwrap_err();
    assert_eq!(e.message, "there is no layer 5: the image has 2 layers (0 to 1)");
    // A compressed archive has no plain byte ranges at all: its offsets are not the file's.
    let whole = gzip(&Image::new(vec![Layer::plain(tar(&[file("a", "a")]))]).docker_save());
    let a = Archive::open(Box::new(SliceSource(&whole))).unwrap();
    assert!(a.layer_ranges(None, None).unwrap().is_empty());
}
