//! Choosing one image of an archive that holds several: by tag, id prefix or index, and
//! platform (linux/amd64 when the tags alone leave several).

use crate::digest::hex_of;
use crate::error::{Error, ErrorCode, Result};
use crate::read::manifests::ImageDesc;

fn matches_tag(tag: &str, want: &str) -> bool {
    let strip = |t: &str| -> String {
        let t = t.strip_prefix("docker.io/").unwrap_or(t);
        let t = t.strip_prefix("library/").unwrap_or(t);
        let last_slash = t.rfind('/').map_or(0, |i| i + 1);
        if t[last_slash..].contains(':') {
            t.to_string()
        } else {
            format!("{t}:latest")
        }
    };
    strip(tag) == strip(want)
}

fn describe(i: usize, d: &ImageDesc) -> String {
    let tags = if d.tags.is_empty() { "<untagged>".to_string() } else { d.tags.join(", ") };
    let id = d.id.as_deref().map(|x| hex_of(x).chars().take(12).collect::<String>()).unwrap_or_default();
    format!("  {i}: {tags}  id {id}  {}", d.platform)
}

/// Picks one image by tag or id prefix and platform (default linux/amd64 when several).
pub fn select(images: &[ImageDesc], image: Option<&str>, platform: Option<&str>) -> Result<usize> {
    let list = || images.iter().enumerate().map(|(i, d)| describe(i, d)).collect::<Vec<_>>().join("\n");
    let mut cands: Vec<usize> = (0..images.len()).collect();
    if let Some(p) = platform {
        cands.retain(|&i| images[i].platform == p || images[i].platform.starts_with(&format!("{p}/")));
        if cands.is_empty() {
            return Err(Error::new(
                ErrorCode::ImageChoice,
                format!("no image in the archive is for platform `{p}`; it holds:\n{}", list()),
            ));
        }
    }
    if let Some(want) = image {
        let hex = hex_of(want).to_ascii_lowercase();
        cands.retain(|&i| {
            let d = &images[i];
            d.tags.iter().any(|t| matches_tag(t, want))
                || (!hex.is_empty()
                    && hex.bytes().all(|b| b.is_ascii_hexdigit())
                    && d.id.as_deref().is_some_and(|id| hex_of(id).starts_with(&hex)))
                || want.parse::<usize>().ok() == Some(i) && d.tags.is_empty()
        });
        if cands.is_empty() {
            return Err(Error::new(
                ErrorCode::ImageChoice,
                format!("no image in the archive matches `{want}`; it holds:\n{}", list()),
            ));
        }
    }
    if cands.len() > 1 && platform.is_none() {
        let amd64: Vec<usize> = cands.iter().copied().filter(|&i| images[i].platform == "linux/amd64").collect();
        let same_tags = cands.iter().all(|&i| images[i].tags == images[cands[0]].tags);
        if same_tags && amd64.len() == 1 {
            cands = amd64;
        }
    }
    match cands.as_slice() {
        [one] => Ok(*one),
        _ => Err(Error::new(
            ErrorCode::ImageChoice,
            format!(
                "the archive holds several images; choose one with -image TAG|ID (or -platform OS/ARCH):\n{}",
                list()
            ),
        )),
    }
}
