//! A push never silently narrows a multi-platform tag: replacing an index of several
//! platforms with an image (or index) that holds fewer would leave everyone on the missing
//! platforms without their image. Such a push is refused before anything is sent, unless
//! the user named the platforms the tag should hold (`-platform`).

use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::host::Host;
use crate::manifest::{self, serves, Kind, Wanted};
use crate::pull::fetch_manifest;
use crate::reference::Reference;
use crate::Options;

/// Whether `opts` names the platforms the push is to hold (`-platform`, but not `all`).
pub(crate) fn platforms_named(opts: &Options) -> bool {
    opts.platform.as_deref().is_some_and(|p| !p.trim().eq_ignore_ascii_case("all"))
}

/// Refuses to push `ours` (the platforms pushed) over r's tag when the tag is now an
/// index with platforms that `ours` lacks, naming them.
pub(crate) async fn check<H: Host>(
    c: &mut Client<'_, H>,
    r: &Reference,
    ours: &[Wanted],
    opts: &Options,
) -> Result<()> {
    let Some(tag) = r.tag() else { return Ok(()) };
    if platforms_named(opts) {
        return Ok(());
    }
    let now = match fetch_manifest(c, r, tag).await {
        Ok(f) => f,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(()), // a new tag
        Err(e) => return Err(e),
    };
    if now.kind != Kind::Index {
        return Ok(());
    }
    let theirs = manifest::platforms(&manifest::parse_index(&now.body, &r.to_string())?);
    let lost: Vec<String> =
        theirs.iter().filter(|t| !ours.iter().any(|o| serves(o, t))).map(ToString::to_string).collect();
    if lost.is_empty() {
        return Ok(());
    }
    let list = |v: &[Wanted]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let (all, kept) = (list(&theirs), list(ours));
    let kept = if kept.is_empty() { "an image of no known platform".to_string() } else { kept };
    Err(Error::usage(format!(
        "not pushing: {r} is an index of {} platforms ({all}), and this push would replace it with {kept}, leaving \
         everyone who pulls it on {} without an image. Push to another tag, or say that the tag is to hold only \
         what is pushed with -platform {}",
        theirs.len(),
        lost.join(", "),
        list(ours).replace(", ", ",")
    )))
}
