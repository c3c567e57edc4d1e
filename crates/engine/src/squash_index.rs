//! An index squashed: every chosen platform with the same rule on its own layers, one after
//! the other (each read, merged and written before the next is read, so that only one
//! platform's layers are held at once), into one new index; and what the input's index
//! named that the output leaves out (attestations, platforms without their blobs), said.

use std::cell::RefCell;

use crate::error::{Error, ErrorCode, Result};
use crate::image::platforms::Platforms;
use crate::options::{ArchiveFormat, ProgressFn, SquashFrom};
use crate::read::index::Group;
use crate::read::manifests::ImageDesc;
use crate::report::{LeftOut, PlatformSquash, Progress, SquashPointChoice, SquashReport};
use crate::squash::{check_from, format_name, plan, Context};
use crate::write::IndexWriter;

/// Squashes the images `chosen` (positions in `images`, all platforms of `group`) into one
/// index written to `out` under `tags`.
pub(crate) fn squash_index(
    cx: &Context<'_, '_>,
    images: &[ImageDesc],
    group: &Group,
    chosen: &[usize],
    tags: &[String],
    out: &mut dyn std::io::Write,
    progress: &mut ProgressFn,
) -> Result<SquashReport> {
    let platforms: Vec<&str> = chosen.iter().map(|&i| images[i].platform.as_str()).collect();
    if cx.opts.format == ArchiveFormat::Docker {
        return Err(Error::new(
            ErrorCode::ImageChoice,
            format!(
                "the input is an index of {} platforms ({}), and the Docker layout (-format docker, docker-archive:) \
                 holds one image: choose one with -platform {}, or write the OCI layout (the default), which holds \
                 them all",
                platforms.len(),
                platforms.join(", "),
                platforms[0]
            ),
        ));
    }
    check_from_everywhere(images, chosen, &cx.opts.from)?;

    // Progress names the platform being worked on.
    let label: RefCell<Option<String>> = RefCell::new(None);
    let mut tagged = |p: &Progress| {
        let mut p = p.clone();
        p.platform = label.borrow().clone();
        progress(&p)
    };
    let mut writer = IndexWriter::start(out, &mut tagged)?;
    let mut done = Vec::new();
    for (n, &i) in chosen.iter().enumerate() {
        let image = &images[i];
        *label.borrow_mut() = Some(format!("{} ({} of {})", image.platform, n + 1, chosen.len()));
        let entry = group.entries.iter().find(|e| e.image == i);
        let planned = plan(cx, image, writer.progress())?;
        let job = planned.job(cx, image, tags, ArchiveFormat::Oci);
        let written =
            writer.add(&job, entry.and_then(|e| e.platform.as_ref()), entry.and_then(|e| e.annotations.as_ref()))?;
        let report = planned.report(written, tags, ArchiveFormat::Oci);
        done.push(PlatformSquash { platform: image.platform.clone(), report });
    }
    *label.borrow_mut() = None;
    let index = writer.finish(tags, group.annotations.as_ref())?;
    let mut report = summed(&done, tags);
    report.image_id = index.digest.clone();
    report.manifest_digest = Some(index.digest);
    report.output_bytes = index.output_bytes;
    report.platforms = done;
    report.left_out = left_out(group, cx.opts.platform.as_deref());
    Ok(report)
}

/// `-from ID` must name a layer of every platform squashed: one lacking it is an error
/// naming those that lack it and those that have it, before any layer is read.
fn check_from_everywhere(images: &[ImageDesc], chosen: &[usize], from: &SquashFrom) -> Result<()> {
    let SquashFrom::Layer(id) = from else { return Ok(()) };
    let (mut have, mut lack) = (Vec::new(), Vec::new());
    let mut first_error = None;
    for &i in chosen {
        match check_from(&images[i], from) {
            Ok(()) => have.push(images[i].platform.as_str()),
            Err(e) if e.code == ErrorCode::FromChoice => {
                lack.push(images[i].platform.as_str());
                first_error.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    match (have.is_empty(), first_error) {
        (_, None) => Ok(()),
        (true, Some(e)) => Err(Error::new(
            ErrorCode::FromChoice,
            format!(
                "-from {id}: no platform of the index ({}) has that layer. {}: {}",
                lack.join(", "),
                lack[0],
                e.message
            ),
        )),
        (false, Some(_)) => Err(Error::new(
            ErrorCode::FromChoice,
            format!(
                "-from {id} names a layer of {} but not of {}: squash only the platforms that have it with \
                 -platform {}, or squash every platform from root (-from root) or from its own default point \
                 (no -from)",
                have.join(", "),
                lack.join(", "),
                have.join(",")
            ),
        )),
    }
}

/// What `group` names that no output of it holds, and why: its attestations, and those of
/// its absent platforms that `platform` (`-platform`) would have taken, the others not
/// having been asked for.
pub(crate) fn left_out(group: &Group, platform: Option<&str>) -> Vec<LeftOut> {
    let wanted = Platforms::parse(platform).unwrap_or(Platforms::All);
    let absent: Vec<String> = group.absent.iter().filter(|a| wanted.wants(a)).cloned().collect();
    let mut out = Vec::new();
    if group.attestations > 0 {
        out.push(LeftOut {
            kind: "attestation".into(),
            count: group.attestations,
            platforms: Vec::new(),
            reason: format!(
                "{} attestation manifest{} dropped: {} the original images, which the squash replaces (sign and \
                 attest the squashed image again)",
                group.attestations,
                if group.attestations == 1 { "" } else { "s" },
                if group.attestations == 1 { "it describes" } else { "they describe" },
            ),
        });
    }
    if !absent.is_empty() {
        out.push(LeftOut {
            kind: "absent".into(),
            count: absent.len(),
            platforms: absent.clone(),
            reason: format!(
                "{} platform{} of the index left out, {} blobs not being in the archive (saved or pulled without \
                 them): {}",
                absent.len(),
                if absent.len() == 1 { "" } else { "s" },
                if absent.len() == 1 { "its" } else { "their" },
                absent.join(", ")
            ),
        });
    }
    out
}

/// The platforms' squashes summed up into one report (the index's digest and the
/// platforms themselves are the caller's to add).
fn summed(done: &[PlatformSquash], tags: &[String]) -> SquashReport {
    let sum = |f: fn(&SquashReport) -> u64| done.iter().map(|p| f(&p.report)).sum::<u64>();
    let count = |f: fn(&SquashReport) -> usize| done.iter().map(|p| f(&p.report)).sum::<usize>();
    let same = |f: fn(&SquashReport) -> String| {
        let all: Vec<String> = done.iter().map(|p| f(&p.report)).collect();
        all.windows(2).all(|w| w[0] == w[1]).then(|| all.first().cloned()).flatten()
    };
    let reasons = |f: fn(&SquashReport) -> &str| {
        done.iter().map(|p| format!("{}: {}", p.platform, f(&p.report))).collect::<Vec<_>>().join("; ")
    };
    let first = done.first().map(|p| &p.report);
    let same_point = same(|r| format!("{:?}", r.from.layer_index));
    SquashReport {
        image_id: String::new(),
        tags: tags.to_vec(),
        from: SquashPointChoice {
            from: same(|r| r.from.from.clone()).unwrap_or_else(|| "per platform".into()),
            layer_index: same_point.and(first.and_then(|r| r.from.layer_index)),
            reason: reasons(|r| r.from.reason.as_str()),
        },
        layers_before: count(|r| r.layers_before),
        layers_after: count(|r| r.layers_after),
        size_before: sum(|r| r.size_before),
        size_after: sum(|r| r.size_after),
        new_layer_diff_id: None,
        new_layer_size: sum(|r| r.new_layer_size),
        new_layer_digest: None,
        new_layer_stored_size: sum(|r| r.new_layer_stored_size),
        compression: same(|r| r.compression.clone()).unwrap_or_else(|| "per platform".into()),
        compression_level: first.map_or(0, |r| r.compression_level),
        compression_reason: same(|r| r.compression_reason.clone())
            .unwrap_or_else(|| reasons(|r| r.compression_reason.as_str())),
        format: format_name(ArchiveFormat::Oci).to_string(),
        manifest_digest: None,
        output_bytes: 0,
        platforms: Vec::new(),
        left_out: Vec::new(),
    }
}
