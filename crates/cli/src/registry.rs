//! `docker://`: an image read from a registry and a result pushed to one, with no daemon
//! (crates/registry speaks the Distribution API). A pull lands in an unlinked temporary
//! file as an OCI layout the engine reads like any archive; a push is made from the
//! archive the squash wrote into another, so only the new layer and the config travel.

use std::fs::File;
use std::io::BufWriter;

use squash_cli_def::{say, Args};
use squash_registry::{MediaTypes, Options, Reference};

/// The registry image read, remembered for the push: where its layers can be mounted
/// from, and which media types it used.
#[derive(Clone)]
pub struct Pulled {
    pub reference: Reference,
    pub media: MediaTypes,
}

/// How the arguments reach registries.
pub fn options(args: &Args) -> Options {
    Options {
        insecure: args.insecure_registries.clone(),
        platform: args.platform.clone(),
        docker_config: None,
        verbose: args.verbose,
        timeout: args.registry_timeout.map(std::time::Duration::from_secs),
    }
}

fn reference(text: &str) -> Result<Reference, String> {
    Reference::parse(text).map_err(|e| e.to_string())
}

/// Pulls `docker://text` into a new unlinked temporary file.
pub fn pull(text: &str, args: &Args, log: &mut dyn FnMut(&str)) -> Result<(File, Pulled), String> {
    let r = reference(text)?;
    let mut file = crate::scratch::temp_file()?;
    log(&say::pulling(&r.to_string()));
    let got = squash_registry::pull(&r, &options(args), &mut file, log).map_err(|e| e.to_string())?;
    log(&say::pulled(&got.digest, got.layers, got.bytes));
    if !got.platforms.is_empty() {
        log(&format!("an index: pulled {}", got.platforms.join(", ")));
    }
    // A Docker schema 2 image is pushed back as one; an OCI image stays OCI.
    let media = if got.media_type.contains("docker") { MediaTypes::Docker } else { MediaTypes::Oci };
    Ok((file, Pulled { reference: r, media }))
}

/// The archive a push is made from: written to an unlinked temporary file, pushed on commit.
pub struct Push {
    pub w: BufWriter<File>,
    reference: Reference,
}

impl Push {
    pub fn open(text: &str) -> Result<Push, String> {
        let reference = reference(text)?;
        Ok(Push { w: BufWriter::with_capacity(1 << 20, crate::scratch::temp_file()?), reference })
    }

    /// Pushes what was written; returns the lines saying what was sent.
    pub fn commit(self, from: Option<&Pulled>, args: &Args, log: &mut dyn FnMut(&str)) -> Result<Vec<String>, String> {
        let file = self.w.into_inner().map_err(|e| format!("writing a temporary file: {}", e.error()))?;
        // Mounts only make sense within one registry; the library checks, we offer.
        let mount_from = from.map(|p| &p.reference);
        let media = from.map_or(MediaTypes::Oci, |p| p.media);
        let pushed = squash_registry::push(&file, &self.reference, mount_from, media, &options(args), log)
            .map_err(|e| e.to_string())?;
        let cost = |v: &[(String, u64)]| (v.len(), v.iter().map(|(_, n)| n).sum::<u64>());
        let [what, blobs] = say::pushed(
            &self.reference.to_string(),
            &pushed.digest,
            cost(&pushed.uploaded),
            cost(&pushed.mounted),
            cost(&pushed.existing),
        );
        Ok(vec![what, blobs])
    }
}
