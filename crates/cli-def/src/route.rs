//! From where to where a run goes: the [`Location`]s of `-i`/`-o` (or of the bare IMAGE),
//! and what they imply for the other options. A location may name the tag
//! (`-o docker-daemon:app:sq`, `oci-archive:o.tar:app:sq`), the layout (`docker-archive:`)
//! or the image to read (`docker-archive:in.tar:app:1`); given twice, by a flag and by a
//! location, and different, which one was meant cannot be known: a usage error.

use squash_engine::{normalize_tag, ArchiveFormat};

use crate::location::{is_image_id, Engine, Location};
use crate::parse::{Args, Command};

/// Archive names a bare IMAGE must not be taken for (`docker-squash app.tar`).
const ARCHIVE_ENDINGS: &[&str] = &[".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd"];

/// Sets `a.source` and `a.destination` from `-i`, `-o` and the bare IMAGE, and the tag,
/// layout and image they imply.
pub(crate) fn resolve(a: &mut Args) -> Result<(), String> {
    a.source = match (a.positional.clone(), a.input.as_deref()) {
        (Some(_), Some(_)) => return Err("give the image once: as IMAGE or as -i, not both".into()),
        (Some(p), None) if a.command == Command::Inspect => Location::parse(&p, "inspect")?,
        (Some(p), None) => bare_image(&p)?,
        (None, i) => Location::parse(i.unwrap_or("-"), "-i")?,
    };
    if let Location::Archive { reference: Some(r), .. } = &a.source {
        agree("-image", &mut a.image, r, "-i")?;
    }
    if a.command == Command::Inspect {
        a.destination = Location::Stdio;
        return Ok(());
    }
    a.destination = match (a.output.as_deref(), &a.source) {
        (Some(o), _) => Location::parse(o, "-o")?,
        // The bare IMAGE goes back into its engine, as the Python squasher does: under -t,
        // else under its own name (which then names the squashed image).
        (None, Location::Engine { engine, reference }) if a.positional.is_some() => {
            let reference = a.tag.clone().unwrap_or_else(|| reference.clone());
            Location::Engine { engine: *engine, reference }
        }
        (None, _) => Location::Stdio,
    };
    let format = a.format.as_deref().map(str::parse::<ArchiveFormat>).transpose()?;
    match a.destination.clone() {
        Location::Archive { format: Some(f), reference, .. } => {
            if format.is_some_and(|g| g != f) {
                let (g, f) = (name(format), name(Some(f)));
                return Err(format!("-format {g} and -o {f}-archive: ask for two layouts: give one"));
            }
            a.format = Some(name(Some(f)).to_string());
            if let Some(r) = reference {
                same_tag(&mut a.tag, &r)?;
            }
        }
        Location::Engine { engine, reference } => {
            // An image id names no tag: the squashed image keeps the tags it had (none,
            // when `docker save` was given an id), and the load says its id.
            if is_image_id(&reference) {
                if a.output.is_some() {
                    return Err(format!(
                        "-o {}{reference}: an image is loaded under a name; give name:tag",
                        engine.transport()
                    ));
                }
            } else {
                same_tag(&mut a.tag, &reference)?;
            }
        }
        Location::Registry { .. } => {
            if a.tag.is_some() {
                return Err("-t names the image in an archive; a push is named by -o docker://…: drop -t".into());
            }
            if format == Some(ArchiveFormat::Docker) {
                return Err("-format is an archive's layout; a push to a registry has none: drop -format".into());
            }
        }
        Location::Archive { .. } | Location::Stdio => {}
    }
    Ok(())
}

/// The bare IMAGE of `docker-squash [-t TAG] IMAGE`: an image in the local engine unless a
/// transport says otherwise.
fn bare_image(p: &str) -> Result<Location, String> {
    match Location::parse(p, "IMAGE")? {
        Location::Archive { format: None, .. } => {
            if ARCHIVE_ENDINGS.iter().any(|e| p.ends_with(e)) {
                return Err(format!(
                    "`{p}` looks like a file: give it as -i {p} (a bare IMAGE names an image in the local engine)"
                ));
            }
            Ok(Location::Engine { engine: Engine::Docker, reference: p.to_string() })
        }
        e @ Location::Engine { .. } => Ok(e),
        other => Err(format!(
            "a bare IMAGE is an image in the local engine (docker-daemon: or containers-storage:); \
             for {} give -i and -o",
            other.describe("-")
        )),
    }
}

/// `-t` and a tag a location names: the same tag, or an error.
fn same_tag(tag: &mut Option<String>, named: &str) -> Result<(), String> {
    let named_full = normalize_tag(named).map_err(|e| e.to_string())?;
    match tag {
        Some(t) if normalize_tag(t).map_err(|e| e.to_string())? != named_full => {
            Err(format!("-t {t} and -o …{named} name two different tags: give one"))
        }
        _ => {
            *tag = Some(named.to_string());
            Ok(())
        }
    }
}

/// A flag's value and the same thing a location names: equal, or an error.
fn agree(flag: &str, value: &mut Option<String>, named: &str, by: &str) -> Result<(), String> {
    match value {
        Some(v) if v != named => Err(format!("{flag} {v} and {by} …:{named} name two different images: give one")),
        _ => {
            *value = Some(named.to_string());
            Ok(())
        }
    }
}

fn name(f: Option<ArchiveFormat>) -> &'static str {
    match f {
        Some(ArchiveFormat::Docker) => "docker",
        _ => "oci",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn p(s: &str) -> Result<Args, String> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    fn engine(engine: Engine, reference: &str) -> Location {
        Location::Engine { engine, reference: reference.into() }
    }

    #[test]
    fn a_bare_image_is_read_from_docker_and_loaded_back_under_its_name_or_the_tag() {
        let a = p("app:1").unwrap();
        assert_eq!(
            (a.source.clone(), a.destination.clone()),
            (engine(Engine::Docker, "app:1"), engine(Engine::Docker, "app:1"))
        );
        assert_eq!(a.tag.as_deref(), Some("app:1"));
        let a = p("-t app:sq -from root app:1").unwrap();
        assert_eq!(a.destination, engine(Engine::Docker, "app:sq"));
        assert_eq!(a.tag.as_deref(), Some("app:sq"));
        let a = p("containers-storage:localhost/app").unwrap();
        assert_eq!(a.destination, engine(Engine::Podman, "localhost/app"));
        let a = p("app:1 -o sq.tar").unwrap();
        assert_eq!(a.destination, Location::Archive { path: "sq.tar".into(), format: None, reference: None });
    }

    #[test]
    fn a_bare_image_by_id_keeps_its_own_tags() {
        let a = p("0123456789ab").unwrap();
        assert_eq!(a.destination, engine(Engine::Docker, "0123456789ab"));
        assert_eq!(a.tag, None);
        assert!(p("-o docker-daemon:0123456789ab app").unwrap_err().contains("loaded under a name; give name:tag"));
    }

    #[test]
    fn a_bare_file_name_or_registry_is_refused_with_what_to_type() {
        assert_eq!(
            p("app.tar").unwrap_err(),
            "`app.tar` looks like a file: give it as -i app.tar (a bare IMAGE names an image in the local engine)"
        );
        assert!(p("docker://r/app:1").unwrap_err().contains("for docker://r/app:1 give -i and -o"));
        assert_eq!(p("-i a.tar app").unwrap_err(), "give the image once: as IMAGE or as -i, not both");
    }

    #[test]
    fn an_output_location_names_the_tag_and_the_layout() {
        let a = p("-o docker-daemon:app:sq").unwrap();
        assert_eq!(a.tag.as_deref(), Some("app:sq"));
        let a = p("-o docker-archive:o.tar:app:sq").unwrap();
        assert_eq!((a.tag.as_deref(), a.format.as_deref()), (Some("app:sq"), Some("docker")));
        assert_eq!(p("-o oci-archive:o.tar").unwrap().format.as_deref(), Some("oci"));
        assert!(p("-t app:sq -o docker-daemon:app").unwrap_err().contains("name two different tags"));
        assert_eq!(p("-t app -o docker-daemon:app:latest").unwrap().tag.as_deref(), Some("app:latest"));
        assert_eq!(
            p("-format oci -o docker-archive:o.tar").unwrap_err(),
            "-format oci and -o docker-archive: ask for two layouts: give one"
        );
        assert!(p("-o docker-daemon:Bad:Tag").unwrap_err().contains("not a valid image tag"));
    }

    #[test]
    fn an_input_location_names_the_image_to_read() {
        let a = p("-i docker-archive:in.tar:app:1").unwrap();
        assert_eq!(a.image.as_deref(), Some("app:1"));
        assert!(p("-image other -i oci-archive:in.tar:app:1").unwrap_err().contains("name two different images"));
        let a = p("inspect docker-daemon:app:1").unwrap();
        assert_eq!((a.source, a.destination), (engine(Engine::Docker, "app:1"), Location::Stdio));
    }

    #[test]
    fn a_push_takes_no_tag_or_layout_and_insecure_registries_add_up() {
        let a = p("-i docker://r/a:1 -o docker://r/a:sq -insecure-registry r -insecure-registry=q:5000").unwrap();
        assert_eq!(a.destination, Location::Registry { reference: "r/a:sq".into() });
        assert_eq!(a.insecure_registries, ["r", "q:5000"]);
        assert!(p("-t x -o docker://r/a:sq").unwrap_err().contains("drop -t"));
        assert!(p("-format docker -o docker://r/a:sq").unwrap_err().contains("drop -format"));
    }
}
