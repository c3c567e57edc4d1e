//! The parsed command line as the engine's [`SquashOptions`], for the native CLI (the npm
//! bin passes the same fields to the package's `squash`).

use squash_engine::{SquashFrom, SquashOptions};

use crate::parse::Args;

/// The squash the arguments ask for (the values [`crate::parse`] checks are checked again,
/// for `Args` made otherwise).
pub fn squash_options(args: &Args) -> Result<SquashOptions, String> {
    Ok(SquashOptions {
        from: SquashFrom::from_arg(args.from.as_deref()),
        tag: args.tag.clone(),
        image: args.image.clone(),
        platform: args.platform.clone(),
        verify: !args.no_verify,
        compress: args.compress.as_deref().map(str::parse).transpose()?.unwrap_or_default(),
        level: args.level,
        format: args.format.as_deref().map(str::parse).transpose()?.unwrap_or_default(),
        pushed: matches!(args.destination, crate::Location::Registry { .. }),
    })
}
