//! Command-line parsing. By hand, because the original docker-squash used Go's flag
//! package, whose single-dash long flags (`-from`, `-verbose`) users' scripts still pass;
//! argument parsers for Rust treat `-from` as `-f -r -o -m`.

pub const USAGE: &str = "\
Squash the layers of a Docker image into one.

Usage:
  docker save IMAGE | docker-squash [-t TAG] [-from ID|root] | docker load
  docker-squash [-t TAG] [-from ID|root] [-i IN] [-o OUT] [-image REF] [-platform OS/ARCH] [-no-verify] [-verbose]
  docker-squash inspect [--json] [-image REF] [-platform OS/ARCH] [-no-verify] FILE

Options:
  -t, --tag TAG          tag the result (repo:tag); default: keep the image's own tags
  -from, --from ID|root  keep layer ID and all below, squash the rest (`root`: one layer);
                         default: keep the base image up to its first `ADD file:` layer
  -i, --input FILE       the archive `docker save` wrote (.tar, .tar.gz, .tar.zst); default stdin
  -o, --output FILE      where to write the squashed archive; default stdout
  -image, --image REF    which image of a multi-image archive (tag or id)
  -platform, --platform  OS/ARCH of an OCI index with several platforms (default linux/amd64)
  -no-verify             trust the layers' diff_ids instead of hashing every layer: several
                         times faster, but a damaged layer that is squashed goes unnoticed
  -verbose, -v           say what is done, on stderr
  -h, --help             this help
  --version              the version
Layer ids are those `docker-squash inspect FILE` prints (any unique prefix).
";

#[derive(Debug, Default)]
pub struct Args {
    pub inspect: bool,
    pub json: bool,
    pub tag: Option<String>,
    pub from: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub image: Option<String>,
    pub platform: Option<String>,
    pub no_verify: bool,
    pub verbose: bool,
    pub help: bool,
    pub version: bool,
}

pub fn parse(argv: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = argv.iter().peekable();
    if it.peek().map(|s| s.as_str()) == Some("inspect") {
        a.inspect = true;
        it.next();
    }
    while let Some(arg) = it.next() {
        // Accept -flag, --flag, -flag=value and --flag=value, as Go's flag package does.
        let (name, inline) = match arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) {
            Some(rest) if !rest.is_empty() => match rest.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (rest.to_string(), None),
            },
            _ => {
                if a.inspect && a.input.is_none() {
                    a.input = Some(arg.clone());
                    continue;
                }
                if arg == "-" {
                    continue; // stdin, the default
                }
                return Err(format!("unexpected argument `{arg}`"));
            }
        };
        let mut value = |flag: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it.next().cloned().ok_or_else(|| format!("flag -{flag} needs a value")),
            }
        };
        match name.as_str() {
            "t" | "tag" => a.tag = Some(value("t")?),
            "from" | "f" => a.from = Some(value("from")?),
            "i" | "input" => a.input = Some(value("i")?),
            "o" | "output" => a.output = Some(value("o")?),
            "image" => a.image = Some(value("image")?),
            "platform" => a.platform = Some(value("platform")?),
            "verbose" | "v" => a.verbose = inline.as_deref().is_none_or(|v| v != "false"),
            "no-verify" => a.no_verify = inline.as_deref().is_none_or(|v| v != "false"),
            "json" => a.json = true,
            "h" | "help" => a.help = true,
            "version" => a.version = true,
            _ => return Err(format!("unknown flag `{arg}`")),
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Args {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>()).unwrap()
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
    fn no_verify_is_a_switch_in_either_form() {
        assert!(p("-no-verify").no_verify);
        assert!(p("inspect --no-verify x.tar").no_verify);
        assert!(!p("-no-verify=false").no_verify);
        assert!(!p("-t a").no_verify);
    }

    #[test]
    fn inspect_takes_a_file_and_json() {
        let a = p("inspect --json some.tar");
        assert!(a.inspect && a.json);
        assert_eq!(a.input.as_deref(), Some("some.tar"));
    }

    #[test]
    fn unknown_flags_and_missing_values_are_errors() {
        assert!(parse(&["-nope".into()]).is_err());
        assert!(parse(&["-t".into()]).is_err());
    }
}
