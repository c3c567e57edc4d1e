//! Which compression the new layer gets: `auto` follows the layers it replaces.

use crate::error::{Error, ErrorCode, Result};
use crate::options::LayerCompression;
use crate::read::compression::Compression;

/// The compression decided on, its level, and why (for `-verbose` and the page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chosen {
    pub(crate) codec: Compression,
    /// The level used (0 when uncompressed).
    pub(crate) level: i32,
    pub(crate) reason: String,
}

/// Decides. `squashed` holds, for each layer being squashed, how it is stored and its
/// stored size. `auto`: the compression holding most of their stored bytes, so that a
/// registry-pulled or containerd-store image (gzip or zstd layers) stays compressed, and a
/// classic `docker save` (plain tars, which `docker load` and `docker push` compress by
/// themselves) stays plain, unless `pushed`: a registry keeps the layer as it is sent.
pub(crate) fn choose(
    asked: LayerCompression,
    level: Option<i32>,
    squashed: &[(Compression, u64)],
    pushed: bool,
) -> Result<Chosen> {
    let (codec, reason) = match asked {
        LayerCompression::None => (Compression::None, "as asked (-compress none)".to_string()),
        LayerCompression::Gzip => (Compression::Gzip, "as asked (-compress gzip)".to_string()),
        LayerCompression::Zstd => (Compression::Zstd, "as asked (-compress zstd)".to_string()),
        LayerCompression::Auto => auto(squashed, pushed),
    };
    let Some((least, most, default)) = super::levels(codec) else {
        if let (Some(l), LayerCompression::None) = (level, asked) {
            return Err(bad_level(format!("-level {l} needs -compress gzip or zstd: -compress none has no level")));
        }
        return Ok(Chosen { codec, level: 0, reason });
    };
    let level = match level {
        None => default,
        Some(l) if (least..=most).contains(&l) => l,
        Some(l) => {
            return Err(bad_level(format!(
                "-level {l} is out of range for {}: it takes {least} to {most} (default {default})",
                codec.name()
            )))
        }
    };
    Ok(Chosen { codec, level, reason })
}

/// Checks `level` before anything is read: against the compression asked for, or with
/// `auto`, against every compression auto could pick (it is refused only if none takes it).
pub(crate) fn check_level(asked: LayerCompression, level: Option<i32>) -> Result<()> {
    let Some(l) = level else { return Ok(()) };
    if asked != LayerCompression::Auto {
        return choose(asked, level, &[], false).map(|_| ());
    }
    let (gzip, zstd) = (super::gzip::LEVELS, super::zstd::LEVELS);
    if (gzip.0..=gzip.1).contains(&l) || (zstd.0..=zstd.1).contains(&l) {
        return Ok(());
    }
    Err(bad_level(format!(
        "-level {l} is out of range for every compression: gzip takes {} to {} (default {}), zstd {} to {} (default {})",
        gzip.0, gzip.1, gzip.2, zstd.0, zstd.1, zstd.2
    )))
}

fn bad_level(message: String) -> Error {
    Error::new(ErrorCode::BadOption, message)
}

fn auto(squashed: &[(Compression, u64)], pushed: bool) -> (Compression, String) {
    let bytes = |c: Compression| squashed.iter().filter(|(k, _)| *k == c).map(|(_, n)| *n).sum::<u64>();
    let (gzip, zstd) = (bytes(Compression::Gzip), bytes(Compression::Zstd));
    let why = if squashed.is_empty() { "nothing is squashed" } else { "the squashed layers were plain tars" };
    if gzip == 0 && zstd == 0 && pushed {
        return (
            Compression::Gzip,
            format!("auto: {why}, but a registry stores a layer as it is pushed: gzip, as docker push would"),
        );
    }
    if gzip == 0 && zstd == 0 {
        return (
            Compression::None,
            format!("auto: {why} (a classic docker save; docker load and docker push compress by themselves)"),
        );
    }
    let codec = if zstd > gzip { Compression::Zstd } else { Compression::Gzip };
    let all = squashed.iter().all(|(k, _)| *k == codec);
    let which = if all { "the squashed layers were" } else { "most of the squashed layers' bytes were" };
    (
        codec,
        format!("auto: {which} {}-compressed (as a registry or the containerd image store gives them)", codec.name()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use Compression::{Gzip, None as Plain, Zstd};

    fn auto(layers: &[(Compression, u64)]) -> Chosen {
        choose(LayerCompression::Auto, None, layers, false).unwrap()
    }

    #[test]
    fn auto_keeps_plain_layers_plain_and_compressed_ones_compressed() {
        assert_eq!(auto(&[(Plain, 100), (Plain, 5)]).codec, Plain);
        assert_eq!(auto(&[]).codec, Plain, "nothing squashed");
        let gz = auto(&[(Gzip, 100), (Gzip, 5)]);
        assert_eq!((gz.codec, gz.level), (Gzip, 6));
        assert!(gz.reason.starts_with("auto: the squashed layers were gzip-compressed"), "{}", gz.reason);
        let zs = auto(&[(Zstd, 100)]);
        assert_eq!((zs.codec, zs.level), (Zstd, 3));
    }

    #[test]
    fn auto_gzips_plain_layers_that_are_pushed_to_a_registry_as_stored() {
        let c = choose(LayerCompression::Auto, None, &[(Plain, 100)], true).unwrap();
        assert_eq!((c.codec, c.level), (Gzip, 6));
        assert!(c.reason.contains("a registry stores a layer as it is pushed"), "{}", c.reason);
        let z = choose(LayerCompression::Auto, None, &[(Zstd, 100)], true).unwrap();
        assert_eq!(z.codec, Zstd, "compressed layers stay as they were");
        let asked = choose(LayerCompression::None, None, &[(Plain, 100)], true).unwrap();
        assert_eq!(asked.codec, Plain, "-compress none is obeyed");
    }

    #[test]
    fn auto_follows_the_compression_holding_most_bytes_and_ties_go_to_gzip() {
        let c = auto(&[(Gzip, 10), (Zstd, 90), (Plain, 1000)]);
        assert_eq!(c.codec, Zstd);
        assert!(c.reason.contains("most of the squashed layers' bytes were zstd"), "{}", c.reason);
        assert_eq!(auto(&[(Gzip, 50), (Zstd, 50)]).codec, Gzip);
        assert_eq!(auto(&[(Plain, 1000), (Gzip, 1)]).codec, Gzip, "any compressed layer asks for compression");
    }

    #[test]
    fn levels_are_checked_against_the_codec_chosen() {
        assert_eq!(choose(LayerCompression::Gzip, Some(9), &[], false).unwrap().level, 9);
        assert_eq!(choose(LayerCompression::Zstd, Some(19), &[], false).unwrap().level, 19);
        let e = choose(LayerCompression::Gzip, Some(10), &[], false).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadOption);
        assert_eq!(e.message, "-level 10 is out of range for gzip: it takes 1 to 9 (default 6)");
        assert!(choose(LayerCompression::Zstd, Some(0), &[], false).is_err());
        let e = choose(LayerCompression::None, Some(3), &[], false).unwrap_err();
        assert!(e.message.contains("needs -compress gzip or zstd"), "{}", e.message);
        // With auto, a level applies to whatever auto picks, and nothing when it picks none.
        assert_eq!(choose(LayerCompression::Auto, Some(12), &[(Zstd, 1)], false).unwrap().level, 12);
        assert!(choose(LayerCompression::Auto, Some(12), &[(Gzip, 1)], false).is_err());
        assert_eq!(choose(LayerCompression::Auto, Some(12), &[(Plain, 1)], false).unwrap().level, 0);
    }

    #[test]
    fn before_reading_a_level_is_refused_only_if_no_compression_it_could_get_takes_it() {
        assert!(check_level(LayerCompression::Auto, Some(12)).is_ok(), "zstd takes 12");
        assert!(check_level(LayerCompression::Auto, None).is_ok());
        let e = check_level(LayerCompression::Auto, Some(25)).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadOption);
        assert_eq!(
            e.message,
            "-level 25 is out of range for every compression: gzip takes 1 to 9 (default 6), zstd 1 to 19 (default 3)"
        );
        assert!(check_level(LayerCompression::Gzip, Some(12)).is_err());
        assert!(check_level(LayerCompression::None, Some(1)).is_err());
    }
}
