//! The command line into [`Args`]. By hand, because the original docker-squash used Go's
//! flag package, whose single-dash long flags (`-from`, `-verbose`) users' scripts still
//! pass; argument parsers for Rust treat `-from` as `-f -r -o -m`.

use serde::Serialize;

use squash_engine::{ArchiveFormat, LayerCompression};

use crate::flags::{self, Takes};
use crate::location::Location;

/// What to do.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// Squash an archive (the default).
    #[default]
    Squash,
    /// `inspect FILE`: show the layers, the squash points and the wasted space.
    Inspect,
}

/// The parsed command line. Serialized (camelCase) for the npm bin.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Squash or inspect.
    pub command: Command,
    /// `--json`: inspect prints JSON instead of the table.
    pub json: bool,
    /// `-t`: the tag of the result.
    pub tag: Option<String>,
    /// `-from`: the squash point (a layer id or `root`).
    pub from: Option<String>,
    /// `-i` (or inspect's FILE): the input; None or `-` for stdin.
    pub input: Option<String>,
    /// `-o`: the output; None or `-` for stdout.
    pub output: Option<String>,
    /// The bare IMAGE (squash) or FILE (inspect), as given.
    pub positional: Option<String>,
    /// Where the image is read from: `-i`, the bare IMAGE, or stdin.
    pub source: Location,
    /// Where the result goes: `-o`, the engine of a bare IMAGE, or stdout.
    pub destination: Location,
    /// `-insecure-registry`: registries that may be reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// `-registry-timeout`: seconds a registry may take (see squash_registry::Deadlines).
    pub registry_timeout: Option<u64>,
    /// `-registry-timeout` as given, until checked.
    #[serde(skip)]
    pub(crate) registry_timeout_text: Option<String>,
    /// `-image`: which image of the archive.
    pub image: Option<String>,
    /// `-platform`: which platform of an OCI index.
    pub platform: Option<String>,
    /// `-compress`: auto, none, gzip or zstd (checked).
    pub compress: Option<String>,
    /// `-level`: the compression level.
    pub level: Option<i32>,
    /// `-level` as given, until checked.
    #[serde(skip)]
    pub(crate) level_text: Option<String>,
    /// `-format`: oci or docker (checked).
    pub format: Option<String>,
    /// `--fail-under-efficiency`: inspect fails under this efficiency (0 to 1).
    pub fail_under_efficiency: Option<f64>,
    /// `--fail-under-efficiency` as given, until checked.
    #[serde(skip)]
    pub(crate) fail_under_efficiency_text: Option<String>,
    /// `--max-wasted`: inspect fails above this waste (checked; see [`crate::gate`]).
    pub max_wasted: Option<String>,
    /// `-no-verify`: trust the layers' diff_ids.
    pub no_verify: bool,
    /// `-verbose`: say what is done, on stderr.
    pub verbose: bool,
    /// `-h`: print the usage.
    pub help: bool,
    /// `--version`: print the version.
    pub version: bool,
}

/// Parses the arguments after the program's name. The error is the message to print before
/// the usage text (and exit 2), e.g. "unknown flag `-nope`".
pub fn parse(argv: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut given: Vec<&str> = Vec::new();
    let mut it = argv.iter().peekable();
    if it.peek().map(|s| s.as_str()) == Some("inspect") {
        a.command = Command::Inspect;
        it.next();
    }
    while let Some(arg) = it.next() {
        // Accept -flag, --flag, -flag=value and --flag=value, as Go's flag package does.
        let (name, inline) = match arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) {
            Some(rest) if !rest.is_empty() => match rest.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (rest, None),
            },
            _ => {
                if arg == "-" && a.command == Command::Squash {
                    continue; // stdin, the default
                }
                if a.positional.is_none() {
                    a.positional = Some(arg.clone());
                    continue;
                }
                return Err(format!("unexpected argument `{arg}`"));
            }
        };
        let flag = flags::find(name).ok_or_else(|| format!("unknown flag `{arg}`"))?;
        match flag.only {
            Some(Command::Squash) if a.command == Command::Inspect => {
                return Err(format!("inspect takes no -{}: it only reads (squashing takes it)", flag.names[0]));
            }
            Some(Command::Inspect) if a.command == Command::Squash => {
                return Err(format!("--{} is for `inspect`, not for a squash", flag.names[0]));
            }
            _ => {}
        }
        match flag.takes {
            Takes::Value(set) => {
                let value = match inline {
                    Some(v) => v.to_string(),
                    None => it.next().cloned().ok_or_else(|| format!("flag -{} needs a value", flag.names[0]))?,
                };
                // Two values for one flag: which one was meant cannot be known.
                if given.contains(&flag.names[0]) {
                    return Err(format!("-{} given twice: give it once", flag.names[0]));
                }
                given.push(flag.names[0]);
                set(&mut a, value);
            }
            Takes::Values(add) => {
                let value = match inline {
                    Some(v) => v.to_string(),
                    None => it.next().cloned().ok_or_else(|| format!("flag -{} needs a value", flag.names[0]))?,
                };
                add(&mut a, value);
            }
            Takes::Switch(set) => set(&mut a, inline != Some("false")),
            Takes::Mark(set) => set(&mut a),
        }
    }
    check_values(&mut a)?;
    crate::route::resolve(&mut a)?;
    Ok(a)
}

/// The values that have a fixed set or a form, checked before anything is read.
fn check_values(a: &mut Args) -> Result<(), String> {
    if let Some(c) = &a.compress {
        c.parse::<LayerCompression>()?;
    }
    if let Some(f) = &a.format {
        f.parse::<ArchiveFormat>()?;
    }
    if let Some(e) = a.fail_under_efficiency_text.take() {
        a.fail_under_efficiency = Some(crate::gate::parse_efficiency(&e)?);
    }
    if let Some(w) = &a.max_wasted {
        crate::gate::parse_wasted(w)?;
    }
    if let Some(t) = a.registry_timeout_text.take() {
        a.registry_timeout = Some(parse_timeout(&t)?);
    }
    if let Some(l) = a.level_text.take() {
        let n =
            l.parse::<i32>().map_err(|_| format!("-level takes a number (1-9 for gzip, 1-19 for zstd), not `{l}`"))?;
        a.level = Some(n);
    }
    Ok(())
}

/// `-registry-timeout`: whole seconds, `90` or `90s`, from 1 s to a day.
fn parse_timeout(t: &str) -> Result<u64, String> {
    let n = t.strip_suffix('s').unwrap_or(t).parse::<u64>().ok().filter(|n| (1..=86_400).contains(n));
    n.ok_or_else(|| format!("-registry-timeout takes seconds, 1 to 86400 (e.g. 120), not `{t}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Args {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>()).unwrap()
    }

    fn err(s: &str) -> String {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>()).unwrap_err()
    }

    #[test]
    fn the_originals_single_dash_long_flags_are_accepted() {
        let a = p("-t app:sq -from root -verbose");
        assert_eq!(a.tag.as_deref(), Some("app:sq"));
        assert_eq!(a.from.as_deref(), Some("root"));
        assert!(a.verbose);
    }

    #[test]
    fn double_dash_and_equals_forms_are_accepted() {
        let a = p("--from=abc --tag x -i in.tar --output=out.tar");
        assert_eq!(a.from.as_deref(), Some("abc"));
        assert_eq!(a.tag.as_deref(), Some("x"));
        assert_eq!(a.input.as_deref(), Some("in.tar"));
        assert_eq!(a.output.as_deref(), Some("out.tar"));
    }

    #[test]
    fn registry_timeout_takes_whole_seconds_from_one_to_a_day() {
        assert_eq!(p("-registry-timeout 120").registry_timeout, Some(120));
        assert_eq!(p("-registry-timeout=90s").registry_timeout, Some(90));
        assert_eq!(p("-t a").registry_timeout, None);
        for bad in ["0", "-3", "1.5", "2m", "86401", ""] {
            assert!(err(&format!("-registry-timeout={bad}")).contains("-registry-timeout takes seconds"), "{bad}");
        }
    }

    #[test]
    fn no_verify_is_a_switch_in_either_form() {
        assert!(p("-no-verify").no_verify);
        assert!(p("inspect --no-verify x.tar").no_verify);
        assert!(!p("-no-verify=false").no_verify);
        assert!(!p("-t a").no_verify);
    }

    #[test]
    fn inspect_takes_a_file_and_json() {
        let a = p("inspect --json some.tar");
        assert!(a.command == Command::Inspect && a.json);
        assert_eq!(a.source, Location::Archive { path: "some.tar".into(), format: None, reference: None });
    }

    #[test]
    fn unknown_flags_missing_values_and_strays_are_errors_that_say_which() {
        assert_eq!(err("-nope"), "unknown flag `-nope`");
        assert_eq!(err("--nope=1"), "unknown flag `--nope=1`");
        assert_eq!(err("-t"), "flag -t needs a value");
        assert_eq!(err("-i x --input"), "flag -i needs a value");
        assert_eq!(err("app stray"), "unexpected argument `stray`");
        assert_eq!(err("inspect a.tar b.tar"), "unexpected argument `b.tar`");
        assert!(p("-").input.is_none(), "`-` is stdin, the default");
    }

    #[test]
    fn a_flag_given_twice_or_to_the_wrong_command_is_an_error_that_says_which() {
        assert_eq!(err("-t a:1 --tag=b:2"), "-t given twice: give it once");
        assert_eq!(err("-i a.tar -o b.tar -input c.tar"), "-i given twice: give it once");
        assert!(p("-verbose -v -no-verify -no-verify").verbose, "switches may repeat");
        assert_eq!(err("inspect -t app x.tar"), "inspect takes no -t: it only reads (squashing takes it)");
        assert_eq!(
            err("inspect -compress gzip x.tar"),
            "inspect takes no -compress: it only reads (squashing takes it)"
        );
        assert_eq!(err("inspect --output=o.tar x.tar"), "inspect takes no -o: it only reads (squashing takes it)");
        assert_eq!(err("-from root --json"), "--json is for `inspect`, not for a squash");
        let a = p("inspect -verbose -image app -platform linux/arm64 -no-verify --json x.tar");
        assert!(a.verbose && a.json && a.no_verify && a.image.is_some() && a.platform.is_some());
    }

    #[test]
    fn compress_level_and_format_are_checked_when_parsed() {
        let a = p("-compress zstd -level 19 -format docker");
        assert_eq!((a.compress.as_deref(), a.level, a.format.as_deref()), (Some("zstd"), Some(19), Some("docker")));
        assert_eq!(err("-compress lz4"), "-compress takes auto, none, gzip or zstd, not `lz4`");
        assert_eq!(err("-format=tar"), "-format takes oci (Docker 25+, the default) or docker (before 25), not `tar`");
        assert_eq!(err("-level fast"), "-level takes a number (1-9 for gzip, 1-19 for zstd), not `fast`");
    }
}
