//! Choosing the images of an archive to squash: by tag, id prefix or index, and platform.
//! The platforms of one index are squashed together (all, or those `-platform` lists);
//! otherwise one image is chosen (linux/amd64 when the tags alone leave several).

use super::platforms::{picks, Platforms};
use crate::digest::hex_of;
use crate::error::{Error, ErrorCode, Result};
use crate::read::index::Group;
use crate::read::manifests::ImageDesc;

/// What is squashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// One image (by its position in the archive), written as an image.
    One(usize),
    /// Platforms of the index `group` (positions in the archive, in the index's order),
    /// written as an index.
    Index {
        /// The index, in the archive's groups.
        group: usize,
        /// Its images chosen.
        images: Vec<usize>,
    },
}

/// The group whose images include image `i`.
pub fn group_of(groups: &[Group], i: usize) -> Option<usize> {
    groups.iter().position(|g| g.entries.iter().any(|e| e.image == i))
}

/// Chooses what to squash. The images `image` names (all without it) that are the
/// platforms of one index are squashed together, those `platform` lists (all without
/// it); a platform asked for must be there, and one whose blobs are absent is an error
/// saying so. Anything else is one image, chosen by [`select`] as before.
pub fn choose(
    images: &[ImageDesc],
    groups: &[Group],
    image: Option<&str>,
    platform: Option<&str>,
) -> Result<Selection> {
    let platforms = Platforms::parse(platform)?;
    let by_image = matching(images, image);
    let in_group = by_image.first().and_then(|&i| group_of(groups, i));
    let one_group = in_group.filter(|&g| by_image.iter().all(|&i| group_of(groups, i) == Some(g)));
    let Some(g) = one_group else {
        return match &platforms {
            Platforms::List(l) if l.len() > 1 => Err(Error::new(
                ErrorCode::ImageChoice,
                format!(
                    "-platform {} picks platforms of one index; the archive holds several images: choose one with -image TAG|ID:\n{}",
                    l.join(","),
                    listing(images)
                ),
            )),
            Platforms::List(l) => select(images, image, l.first().map(String::as_str)).map(Selection::One),
            _ => select(images, image, None).map(Selection::One),
        };
    };
    let group = &groups[g];
    if let Platforms::List(list) = &platforms {
        for want in list {
            if by_image.iter().any(|&i| picks(want, &images[i].platform)) {
                continue;
            }
            if !group.absent.iter().any(|a| picks(want, a)) {
                return select(images, image, Some(want)).map(Selection::One); // its error, as before
            }
            let have = by_image.iter().map(|&i| images[i].platform.as_str()).collect::<Vec<_>>().join(", ");
            return Err(Error::new(
                ErrorCode::ImageChoice,
                format!(
                    "platform `{want}` is named by the index, but its blobs are not in the archive (it was saved \
                     or pulled without them); the archive holds: {have}"
                ),
            ));
        }
    }
    let chosen: Vec<usize> = by_image.into_iter().filter(|&i| platforms.wants(&images[i].platform)).collect();
    match chosen.as_slice() {
        [one] => Ok(Selection::One(*one)),
        _ => Ok(Selection::Index { group: g, images: chosen }),
    }
}

/// The images `image` names (by tag, id prefix, or position when untagged); all without it.
fn matching(images: &[ImageDesc], image: Option<&str>) -> Vec<usize> {
    let mut cands: Vec<usize> = (0..images.len()).collect();
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
    }
    cands
}

fn listing(images: &[ImageDesc]) -> String {
    images.iter().enumerate().map(|(i, d)| describe(i, d)).collect::<Vec<_>>().join("\n")
}

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
    let list = || listing(images);
    let mut cands: Vec<usize> = (0..images.len()).collect();
    if let Some(p) = platform {
        cands.retain(|&i| picks(p, &images[i].platform));
        if cands.is_empty() {
            return Err(Error::new(
                ErrorCode::ImageChoice,
                format!("no image in the archive is for platform `{p}`; it holds:\n{}", list()),
            ));
        }
    }
    if let Some(want) = image {
        let named = matching(images, image);
        cands.retain(|i| named.contains(i));
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
