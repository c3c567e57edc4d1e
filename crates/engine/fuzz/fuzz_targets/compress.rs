//! Any bytes as the top layer of a valid archive, squashed with every `-compress` value and
//! both layouts: when the plain squash works, every other works too, reopens, verifies
//! (the diff_ids against the uncompressed tars, which the compressed blobs must decode
//! to), shows the same filesystem, and squashing the output again from root gives that
//! filesystem once more.
#![no_main]
use libfuzzer_sys::fuzz_target;
use squash_engine::{read_member_as_layer, ArchiveFormat, LayerCompression};
use squash_engine::{Archive, SliceSource, SquashFrom, SquashOptions};

use squash_testkit::{
    assert_same_fs, decompress, digest, dir, file, read_output, tar, v1_id, Folders, Fs, Image, Layer,
};

fn squash(archive: &[u8], opts: &SquashOptions) -> Option<Vec<u8>> {
    let a = Archive::open(Box::new(SliceSource(archive))).ok()?;
    let mut out = Vec::new();
    a.squash(opts, &mut out, &mut |_| true).ok()?;
    Some(out)
}

fn filesystem(archive: &[u8]) -> Fs {
    let out = read_output(archive);
    Fs::from_layers(&out.layers.iter().map(|l| decompress(l)).collect::<Vec<_>>())
}

fuzz_target!(|data: &[u8]| {
    let probe = Image::new(vec![Layer::raw(data.to_vec(), &digest(b"unknown"))]).docker_save_as(Folders::ByPosition);
    let Ok(index) = read_member_as_layer(&probe, &format!("{}/layer.tar", v1_id(0)), None, true) else { return };
    let base = Layer::plain(tar(&[dir("etc/"), file("etc/a", b"a")])).by("ADD file:00 in /");
    let image = Image::new(vec![base, Layer::raw(data.to_vec(), &index.diff_id)]).docker_save_as(Folders::ByPosition);
    for from in [SquashFrom::Default, SquashFrom::Root] {
        let plain = SquashOptions { from: from.clone(), compress: LayerCompression::None, ..Default::default() };
        let Some(reference) = squash(&image, &plain) else { continue };
        let want = filesystem(&reference);
        for compress in [LayerCompression::Auto, LayerCompression::Gzip, LayerCompression::Zstd] {
            for format in [ArchiveFormat::Oci, ArchiveFormat::Docker] {
                let opts = SquashOptions { compress, format, ..plain.clone() };
                let out = squash(&image, &opts).expect("squashes as the plain squash did");
                let again = Archive::open(Box::new(SliceSource(&out[..]))).expect("the output opens");
                again.inspect(None, None, true, &mut |_| true).expect("the output verifies");
                assert_same_fs(&want, &filesystem(&out), &format!("{compress:?} {format:?}"));
                let root = SquashOptions { from: SquashFrom::Root, ..opts.clone() };
                let twice = squash(&out, &root).expect("the output squashes again");
                assert_same_fs(&want, &filesystem(&twice), &format!("{compress:?} {format:?}, squashed again"));
            }
        }
    }
});
