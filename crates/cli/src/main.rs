//! `docker-squash`: a drop-in for the original's command line.
//!   docker save IMAGE | docker-squash -t TAG [-from ID|root] [-verbose] | docker load

mod args;
mod input;
mod output;
mod show;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use squash_engine::{Archive, Progress, SquashFrom, SquashOptions};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("docker-squash: {e}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{}", args::USAGE);
        return ExitCode::SUCCESS;
    }
    if args.version {
        println!("docker-squash {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let result = if args.inspect { inspect(&args) } else { squash(&args) };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("docker-squash: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Log {
    verbose: bool,
    start: Instant,
}

impl Log {
    fn say(&self, msg: &str) {
        if self.verbose {
            eprintln!("[{:>6.1}s] {msg}", self.start.elapsed().as_secs_f64());
        }
    }
}

/// A progress line on stderr when it is a terminal, redrawn at most a few times a second.
fn progress_printer() -> impl FnMut(&Progress) -> bool {
    let tty = io::stderr().is_terminal();
    let mut last = Instant::now();
    let start = Instant::now();
    move |p: &Progress| {
        if tty && (last.elapsed().as_millis() >= 200 || p.bytes_done >= p.bytes_total) {
            last = Instant::now();
            let pct = if p.bytes_total > 0 { p.bytes_done as f64 * 100.0 / p.bytes_total as f64 } else { 0.0 };
            let rate = p.bytes_done as f64 / start.elapsed().as_secs_f64().max(0.001) / 1e6;
            let _ = write!(
                io::stderr(),
                "\r{:<5} {:>5.1}%  {} / {}  {rate:.0} MB/s   ",
                p.phase,
                pct,
                show::bytes(p.bytes_done),
                show::bytes(p.bytes_total)
            );
            if p.bytes_done >= p.bytes_total {
                let _ = write!(io::stderr(), "\r{:70}\r", "");
            }
        }
        true
    }
}

fn inspect(args: &args::Args) -> Result<(), String> {
    let path = args.input.as_deref().ok_or("inspect needs a FILE: docker-squash inspect image.tar")?;
    let log = Log { verbose: args.verbose, start: Instant::now() };
    let src = input::open(Some(path), &mut |m| log.say(m))?;
    let spooled_from = src.compression;
    let archive = Archive::open(Box::new(src)).map_err(|e| e.to_string())?;
    let mut facts = archive
        .inspect(args.image.as_deref(), args.platform.as_deref(), !args.no_verify, &mut progress_printer())
        .map_err(|e| e.to_string())?;
    if spooled_from != squash_engine::Compression::None {
        // The file was decompressed on the way in; say what the user's file is.
        facts.compression = spooled_from.name().to_string();
    }
    let mut out = io::stdout().lock();
    let r = if args.json {
        serde_json::to_writer_pretty(&mut out, &facts).map_err(io::Error::other).and_then(|_| writeln!(out))
    } else {
        show::inspection(&mut out, &facts)
    };
    r.map_err(|e| format!("writing to stdout: {e}"))
}

fn squash(args: &args::Args) -> Result<(), String> {
    let log = Log { verbose: args.verbose, start: Instant::now() };
    let opts = SquashOptions {
        from: match args.from.as_deref() {
            None => SquashFrom::Default,
            Some("root") => SquashFrom::Root,
            Some(id) => SquashFrom::Layer(id.to_string()),
        },
        tag: args.tag.clone(),
        image: args.image.clone(),
        platform: args.platform.clone(),
        verify: !args.no_verify,
    };
    if let Some(t) = &opts.tag {
        squash_engine::normalize_tag(t).map_err(|e| e.to_string())?;
    }
    let src = input::open(args.input.as_deref(), &mut |m| log.say(m))?;
    log.say(&format!("input: {} bytes", src_size(&src)));
    let archive = Archive::open(Box::new(src)).map_err(|e| e.to_string())?;
    log.say(if args.no_verify {
        "layers: trusting the config's diff_ids (-no-verify)"
    } else {
        "layers: each verified against its diff_id"
    });
    if args.verbose {
        if let Ok(list) = archive.list() {
            log.say(&format!("archive: {}, compression {}", list.format, list.compression));
            for img in &list.images {
                let layers = img.history.iter().filter(|h| h.layer.is_some()).count();
                log.say(&format!("image {}: {} {} ({layers} layers)", img.index, show::tags(&img.tags), img.platform));
            }
        }
    }
    let mut out = output::Output::open(args.output.as_deref())?;
    let mut printer = progress_printer();
    let result = archive.squash(&opts, out.writer(), &mut printer);
    match result {
        Ok(report) => {
            out.commit()?;
            // Always said (the original did): which layer was kept, and why.
            eprintln!("docker-squash: {}", report.from.reason);
            let kept = report.from.layer_index.map_or(0, |k| k + 1);
            for i in 0..report.layers_before {
                log.say(&format!("layer {i}: {}", if i < kept { "kept" } else { "squashed" }));
            }
            log.say(&format!(
                "layers: {} -> {}; size: {} -> {}; new layer {} ({})",
                report.layers_before,
                report.layers_after,
                show::bytes(report.size_before),
                show::bytes(report.size_after),
                report.new_layer_diff_id.as_deref().unwrap_or("none"),
                show::bytes(report.new_layer_size)
            ));
            log.say(&format!("image {} tagged {}", report.image_id, show::tags(&report.tags)));
            Ok(())
        }
        Err(e) => {
            out.abandon();
            Err(e.to_string())
        }
    }
}

fn src_size(s: &input::FileSource) -> u64 {
    squash_engine::ReadAt::size(s)
}
