//! Zstandard as `zstd -d` reads it: a stream may hold several frames and skippable frames
//! (RFC 8878 §3.1.2) before, between and after them, in a whole `.tar.zst` archive and in a
//! zstd layer alike. Damage is reported in plain words, never as a decoder's debug dump.

use squash_engine::{ErrorCode, SquashFrom};
use squash_testkit::*;

/// A skippable frame: magic 0x184D2A5n, a little-endian length, that many bytes.
fn skippable(n: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = (0x184D2A50u32 + u32::from(n)).to_le_bytes().to_vec();
    v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

/// `data` as zstd frames of two halves with skippable frames at the start, between and at the end.
fn framed(data: &[u8]) -> Vec<u8> {
    let half = data.len() / 2;
    [
        skippable(0, b"written by a tool"),
        zstd(&data[..half]),
        skippable(15, b""),
        zstd(&data[half..]),
        skippable(7, &[7; 3000]),
    ]
    .concat()
}

fn image() -> Image {
    Image::from_entries(&[
        vec![dir("etc/"), file("etc/hosts", b"127.0.0.1 localhost\n"), file("etc/big", vec![b'x'; 200_000])],
        vec![
            whiteout("etc/big"),
            file("etc/motd", b"hello\n"),
            file("bin/tool", (0..150_000u32).map(|i| i as u8).collect::<Vec<_>>()),
        ],
    ])
}

#[test]
fn a_whole_archive_with_skippable_frames_squashes_like_the_plain_one() {
    let plain = image().docker_save();
    let (want, _) = squash(&plain, SquashFrom::Root).unwrap();
    let (got, _) = squash(&framed(&plain), SquashFrom::Root).unwrap();
    assert_eq!(got, want);
}

#[test]
fn zstd_layers_with_skippable_frames_squash_like_plain_ones() {
    let plain = image();
    let mut framed_layers = plain.clone();
    for l in &mut framed_layers.layers {
        l.stored = framed(&l.tar);
    }
    for from in [SquashFrom::Root, SquashFrom::Default] {
        let (want, _) = squash(&plain.docker_save(), from.clone()).unwrap();
        let (got, _) = squash(&framed_layers.docker_save(), from.clone()).unwrap();
        // The kept layers are copied as stored; the squashed layer's tar and the filesystem
        // are the same (auto stores it zstd-compressed, as its input was).
        let (want, got) = (read_output(&want), read_output(&got));
        assert_eq!(want.config.get("rootfs"), got.config.get("rootfs"), "{from:?}: the same diff_ids");
        let top = got.layers.last().unwrap();
        assert!(top.starts_with(&ZSTD_MAGIC), "{from:?}: auto keeps zstd");
        assert_eq!(want.layers.last().map(|l| decompress(l)), Some(decompress(top)), "{from:?}: the same new layer");
    }
}

#[test]
fn a_stream_of_only_skippable_frames_is_empty_not_an_error() {
    // As `zstd -d` gives an empty output for it: here the archive is then empty.
    let e = squash(&[skippable(2, b"abc"), skippable(3, b"")].concat(), SquashFrom::Root).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotAnImage, "{}", e.message);
}

#[test]
fn damaged_zstd_is_said_in_plain_words() {
    let z = framed(&image().docker_save());
    let mut cut_skippable = skippable(1, &[0; 64]);
    cut_skippable.truncate(40);
    let mut long_skippable = zstd(&image().docker_save());
    long_skippable.extend_from_slice(&skippable(3, b"")[..4]);
    long_skippable.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut bad_frame = z.clone();
    bad_frame[25..29].copy_from_slice(&[0xff; 4]); // the first real frame's header
    for (what, bytes) in [
        ("truncated", z[..z.len() / 2].to_vec()),
        ("a skippable frame cut short", cut_skippable),
        ("a skippable frame longer than the input", long_skippable),
        ("a broken frame header", bad_frame),
    ] {
        let e = squash(&bytes, SquashFrom::Root).unwrap_err();
        assert!(matches!(e.code, ErrorCode::Corrupt | ErrorCode::NotAnImage), "{what}: {:?} {}", e.code, e.message);
        assert!(
            e.message.contains("truncated zstd stream") || e.message.contains("corrupt zstd stream"),
            "{what}: {}",
            e.message
        );
        assert!(!e.message.contains('{') && !e.message.contains("Error"), "{what}: a debug dump: {}", e.message);
    }
}
