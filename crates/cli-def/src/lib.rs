//! The `docker-squash` command line, defined once for both of its hosts: the native CLI
//! (`crates/cli`) and the npm package's bin (through the wasm crate's `parseArgs`,
//! `usage`, `renderInspect`, ... exports). Everything here is pure: it turns arguments
//! into an [`Args`] and facts into text; reading, writing and exiting are the hosts'.
//!
//! - [`flags`]: the flag table, from which parsing and the help text both come (the usage
//!   text lives in that one file);
//! - [`parse`]: argv into [`Args`], in the conventions of Go's flag package;
//! - [`location`]: `-i`/`-o` in skopeo's transport syntax (files, engines, registries), and
//!   `route` what they imply for the tag and layout;
//! - [`options`]: [`Args`] into the engine's `SquashOptions`;
//! - [`inspect`]: `docker-squash inspect` as a table or as JSON;
//! - [`gate`]: `inspect --fail-under-efficiency` / `--max-wasted`, for CI;
//! - [`say`]: the lines the CLI writes on stderr (verbose log, progress, argument errors);
//! - [`format`]: sizes, tags and ids as the CLI shows them.

#![deny(missing_docs)]

pub mod flags;
pub mod format;
pub mod gate;
pub mod inspect;
pub mod location;
pub mod options;
pub mod parse;
mod route;
pub mod say;

pub use flags::usage;
pub use location::{Engine, Location};
pub use options::squash_options;
pub use parse::{parse, Args, Command};
