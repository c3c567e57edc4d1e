//! `-platform` as every host takes it: one `os/arch[/variant]`, a comma list of them, or
//! `all`; and which platform a name picks (`linux/arm64` picks `linux/arm64/v8` too).

use crate::error::{Error, ErrorCode, Result};

/// The platforms asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platforms {
    /// None named: every platform of an index (linux/amd64 where one must be chosen).
    Default,
    /// `all`: every platform of an index.
    All,
    /// These, in the order given.
    List(Vec<String>),
}

impl Platforms {
    /// Reads `-platform`'s value; None is [`Platforms::Default`].
    pub fn parse(arg: Option<&str>) -> Result<Platforms> {
        let Some(arg) = arg else { return Ok(Platforms::Default) };
        let bad = |why: &str| {
            Error::new(
                ErrorCode::BadOption,
                format!("-platform takes OS/ARCH[/VARIANT], a comma list of them, or all, not `{arg}`: {why}"),
            )
        };
        if arg.trim() == "all" {
            return Ok(Platforms::All);
        }
        let mut list: Vec<String> = Vec::new();
        for item in arg.split(',').map(str::trim) {
            if item == "all" {
                return Err(bad("`all` stands alone"));
            }
            if item.is_empty() || item.contains(char::is_whitespace) || item.split('/').any(str::is_empty) {
                return Err(bad("an empty or blank platform"));
            }
            if !list.iter().any(|p| p == item) {
                list.push(item.to_string());
            }
        }
        Ok(Platforms::List(list))
    }

    /// True when `have` is one of the platforms asked for (all of them for Default and All).
    pub fn wants(&self, have: &str) -> bool {
        match self {
            Platforms::Default | Platforms::All => true,
            Platforms::List(l) => l.iter().any(|w| picks(w, have)),
        }
    }
}

/// Whether `-platform want` picks the platform `have`: the same, or `have` is a variant of
/// it; arm64's one variant, v8, is also arm64 without one (as containerd normalizes it).
pub fn picks(want: &str, have: &str) -> bool {
    let (want, have) = (plain_arm64(want), plain_arm64(have));
    have == want || have.strip_prefix(want).is_some_and(|rest| rest.starts_with('/'))
}

fn plain_arm64(p: &str) -> &str {
    match p.strip_suffix("/v8") {
        Some(rest) if rest.ends_with("/arm64") => rest,
        _ => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_all_and_variants() {
        assert_eq!(Platforms::parse(None).unwrap(), Platforms::Default);
        assert_eq!(Platforms::parse(Some("all")).unwrap(), Platforms::All);
        let l = Platforms::parse(Some("linux/amd64, linux/arm64/v8,linux/amd64")).unwrap();
        assert_eq!(l, Platforms::List(vec!["linux/amd64".into(), "linux/arm64/v8".into()]));
        assert!(Platforms::parse(Some("linux/arm64")).unwrap().wants("linux/arm64/v8"));
        assert!(!Platforms::parse(Some("linux/arm")).unwrap().wants("linux/arm64"));
        assert!(Platforms::parse(Some("linux/arm64/v8")).unwrap().wants("linux/arm64"));
        assert!(!Platforms::parse(Some("linux/arm/v7")).unwrap().wants("linux/arm/v6"));
        for bad in ["", "linux/amd64,", "all,linux/amd64", "linux//amd64", "linux/ amd64"] {
            let e = Platforms::parse(Some(bad)).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadOption, "{bad}");
            assert!(e.message.starts_with("-platform takes OS/ARCH[/VARIANT]"), "{}", e.message);
        }
    }
}
