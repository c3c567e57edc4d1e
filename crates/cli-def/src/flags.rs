//! The flags, defined once: the names each one answers to, what it takes, and the help
//! line(s) it shows. [`crate::parse`] reads the names from this table and [`usage`] prints
//! the help from it, so a flag cannot be accepted without being documented (or the other
//! way round). This file holds the whole usage text; `{prog}` stands for the program's
//! name (`docker-squash` natively, `docker-squash-wasm` for the npm bin).

use crate::parse::{Args, Command};

/// What a flag takes, and where its value goes.
pub(crate) enum Takes {
    /// A value: `-flag VALUE` or `-flag=VALUE`.
    Value(fn(&mut Args, String)),
    /// A value that may be given more than once, each adding one.
    Values(fn(&mut Args, String)),
    /// A switch, as Go's flag package has them: `-flag`, or `-flag=false` to turn it off.
    Switch(fn(&mut Args, bool)),
    /// On whenever given, in whatever form.
    Mark(fn(&mut Args)),
}

/// One flag of the command line.
pub(crate) struct Flag {
    /// The names it answers to, with one dash or two; the first is the one messages use.
    pub names: &'static [&'static str],
    pub takes: Takes,
    /// How the help shows it (None: only in the synopsis above the options).
    pub shown: Option<&'static str>,
    /// Its help, one entry per line.
    pub help: &'static [&'static str],
    /// The one command it is for (None: both); given to the other, it is an error.
    pub only: Option<Command>,
}

pub(crate) const FLAGS: &[Flag] = &[
    Flag {
        names: &["t", "tag"],
        takes: Takes::Value(|a, v| a.tag = Some(v)),
        shown: Some("-t, --tag TAG"),
        help: &["tag the result (repo:tag); default: keep the image's own tags"],
        only: Some(Command::Squash),
    },
    Flag {
        names: &["from", "f"],
        takes: Takes::Value(|a, v| a.from = Some(v)),
        shown: Some("-from, --from ID|root"),
        help: &[
            "keep layer ID and all below, squash the rest (`root`: one layer);",
            "default: keep the base image up to its first `ADD file:` layer",
        ],
        only: Some(Command::Squash),
    },
    Flag {
        names: &["i", "input"],
        takes: Takes::Value(|a, v| a.input = Some(v)),
        shown: Some("-i, --input IN"),
        help: &[
            "the archive `docker save` wrote (.tar, .tar.gz, .tar.zst), or",
            "docker-daemon:REF, containers-storage:REF (podman), docker://REF",
            "(a registry), docker-archive:/oci-archive:PATH; default stdin",
        ],
        only: None,
    },
    Flag {
        names: &["o", "output"],
        takes: Takes::Value(|a, v| a.output = Some(v)),
        shown: Some("-o, --output OUT"),
        help: &[
            "where the result goes: a file (OCI layout, or -format),",
            "docker-archive:PATH[:TAG], oci-archive:PATH[:TAG], docker-daemon:TAG",
            "(loaded), containers-storage:TAG, docker://REF (pushed); default stdout",
        ],
        only: Some(Command::Squash),
    },
    Flag {
        names: &["insecure-registry"],
        takes: Takes::Values(|a, v| a.insecure_registries.push(v)),
        shown: Some("-insecure-registry HOST"),
        help: &["reach this registry over plain HTTP (loopback ones always may)"],
        only: None,
    },
    Flag {
        names: &["registry-timeout"],
        takes: Takes::Value(|a, v| a.registry_timeout_text = Some(v)),
        shown: Some("-registry-timeout SECS"),
        help: &[
            "registries must connect and answer within SECS and send at least",
            "1 KiB every SECS, or the transfer is stopped (default 30)",
        ],
        only: None,
    },
    Flag {
        names: &["image"],
        takes: Takes::Value(|a, v| a.image = Some(v)),
        shown: Some("-image, --image REF"),
        help: &["which image of a multi-image archive (tag or id)"],
        only: None,
    },
    Flag {
        names: &["platform"],
        takes: Takes::Value(|a, v| a.platform = Some(v)),
        shown: Some("-platform, --platform"),
        help: &["OS/ARCH[/VARIANT] of an index, a comma list, or all (the default)"],
        only: None,
    },
    Flag {
        names: &["compress"],
        takes: Takes::Value(|a, v| a.compress = Some(v)),
        shown: Some("-compress C"),
        help: &[
            "how the new layer is stored: auto (default), none, gzip or zstd;",
            "auto: as the layers it replaces were (gzip or zstd from a registry",
            "or Docker 29's store, a plain tar from a classic docker save)",
        ],
        only: Some(Command::Squash),
    },
    Flag {
        names: &["level"],
        takes: Takes::Value(|a, v| a.level_text = Some(v)),
        shown: Some("-level N"),
        help: &["compression level: gzip 1-9 (default 6), zstd 1-19 (default 3)"],
        only: Some(Command::Squash),
    },
    Flag {
        names: &["format"],
        takes: Takes::Value(|a, v| a.format = Some(v)),
        shown: Some("-format F"),
        help: &[
            "the archive's layout: oci (default), as Docker 25+ writes it and",
            "every loader reads it; docker: the layout of Docker before 25",
        ],
        only: Some(Command::Squash),
    },
    Flag {
        names: &["no-verify"],
        takes: Takes::Switch(|a, on| a.no_verify = on),
        shown: Some("-no-verify"),
        help: &[
            "trust the layers' diff_ids instead of hashing every layer: several",
            "times faster, but a damaged layer that is squashed goes unnoticed",
        ],
        only: None,
    },
    Flag {
        names: &["verbose", "v"],
        takes: Takes::Switch(|a, on| a.verbose = on),
        shown: Some("-verbose, -v"),
        help: &["say what is done, on stderr"],
        only: None,
    },
    Flag {
        names: &["fail-under-efficiency"],
        takes: Takes::Value(|a, v| a.fail_under_efficiency_text = Some(v)),
        shown: Some("--fail-under-efficiency E"),
        help: &["inspect: exit 1 if an image's efficiency (0-1, as dive", "scores it) is under E"],
        only: Some(Command::Inspect),
    },
    Flag {
        names: &["max-wasted"],
        takes: Takes::Value(|a, v| a.max_wasted = Some(v)),
        shown: Some("--max-wasted N|P%"),
        help: &["inspect: exit 1 if an image wastes more than N bytes", "(20MB, 512KiB) or P% of its size"],
        only: Some(Command::Inspect),
    },
    Flag {
        names: &["json"],
        takes: Takes::Mark(|a| a.json = true),
        shown: None,
        help: &[],
        only: Some(Command::Inspect),
    },
    Flag {
        names: &["h", "help"],
        takes: Takes::Mark(|a| a.help = true),
        shown: Some("-h, --help"),
        help: &["this help"],
        only: None,
    },
    Flag {
        names: &["version"],
        takes: Takes::Mark(|a| a.version = true),
        shown: Some("--version"),
        help: &["the version"],
        only: None,
    },
];

const ABOUT: &str = "\
Squash the layers of a Docker image into one.

Usage:
  docker save IMAGE | {prog} [-t TAG] [-from ID|root] | docker load
  {prog} [-t TAG] [-from ID|root] IMAGE       (from the local engine, loaded back)
  {prog} [-t TAG] [-from ID|root] [-i IN] [-o OUT] [-compress C] [-level N] [-format F]
        [-image REF] [-platform OS/ARCH] [-no-verify] [-verbose]
  {prog} inspect [--json] [-image REF] [-platform OS/ARCH] [-no-verify]
        [--fail-under-efficiency E] [--max-wasted N|P%] IN

Options:
";

const FOOTER: &str = "Layer ids are those `{prog} inspect FILE` prints (any unique prefix).\n";

/// The help text of the program named `prog`, as `-h` prints it and usage errors end.
pub fn usage(prog: &str) -> String {
    let width = FLAGS.iter().filter_map(|f| f.shown).map(str::len).max().unwrap_or(0);
    let mut text = ABOUT.replace("{prog}", prog);
    for flag in FLAGS {
        let Some(shown) = flag.shown else { continue };
        for (n, line) in flag.help.iter().enumerate() {
            let left = if n == 0 { shown } else { "" };
            text.push_str(&format!("  {left:<width$}  {line}\n"));
        }
    }
    text.push_str(&FOOTER.replace("{prog}", prog));
    text
}

/// The flag named `name` (without its dashes).
pub(crate) fn find(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.names.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_has_a_distinct_name_and_every_shown_flag_a_help_line() {
        let mut names: Vec<&str> = FLAGS.iter().flat_map(|f| f.names.iter().copied()).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a name is used twice");
        for f in FLAGS {
            assert_eq!(f.shown.is_some(), !f.help.is_empty(), "{:?}", f.names);
        }
    }

    #[test]
    fn the_help_names_the_program_and_lines_up_the_options() {
        let u = usage("prog");
        assert!(u.starts_with("Squash the layers of a Docker image into one.\n\nUsage:\n  docker save IMAGE | prog "));
        assert!(u.ends_with("Layer ids are those `prog inspect FILE` prints (any unique prefix).\n"));
        assert!(!u.contains("{prog}"));
        assert!(u.contains("\n  -t, --tag TAG              tag the result"));
        assert!(u.contains("\n                             default: keep the base image"));
        assert!(u.lines().all(|l| l.chars().count() <= 100), "lines fit a terminal:\n{u}");
    }
}
