//! `docker-squash`: a drop-in for the original's command line.
//!   docker save IMAGE | docker-squash -t TAG [-from ID|root] [-verbose] | docker load
//! The command line itself (flags, usage, what is printed) is `squash-cli-def`'s, shared
//! with the npm bin; this file does the I/O.

mod engine;
mod input;
mod output;
mod registry;
mod scratch;
mod signals;

use std::cell::Cell;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

use squash_cli_def::{gate, inspect, say, Args, Command, Location};
use squash_engine::{Archive, Progress};

const PROG: &str = "docker-squash";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match squash_cli_def::parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprint!("{PROG}: {e}\n\n{}", squash_cli_def::usage(PROG));
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{}", squash_cli_def::usage(PROG));
        return ExitCode::SUCCESS;
    }
    if args.version {
        println!("{PROG} {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let pending = signals::Pending::default();
    if let Err(e) = signals::install(PROG, pending.clone()) {
        eprintln!("{PROG}: {e}");
        return ExitCode::FAILURE;
    }
    let stdout_closed = Rc::new(Cell::new(false));
    let result = match args.command {
        Command::Inspect => inspect(&args, &stdout_closed),
        Command::Squash => squash(&args, &pending, &stdout_closed),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Whoever reads our stdout has gone (`| head -c 1000`): nothing to say to anyone;
        // the status a shell shows for SIGPIPE.
        Err(_) if stdout_closed.get() => ExitCode::from(128 + 13),
        Err(e) => {
            eprintln!("{PROG}: {e}");
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
            eprintln!("{}", say::stamped(self.start.elapsed().as_secs_f64(), msg));
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
            let line = say::progress(p.phase, p.bytes_done, p.bytes_total, start.elapsed().as_secs_f64());
            let _ = write!(io::stderr(), "{line}");
        }
        true
    }
}

fn inspect(args: &Args, stdout_closed: &Rc<Cell<bool>>) -> Result<(), String> {
    if args.positional.is_none() && args.input.is_none() {
        return Err(say::needs_file(PROG));
    }
    let log = Log { verbose: args.verbose, start: Instant::now() };
    let src = input::open_location(&args.source, args, PROG, &mut |m| log.say(m))?;
    let spooled_from = src.compression;
    let archive = Archive::open(Box::new(src)).map_err(|e| e.to_string())?;
    let mut facts = archive
        .inspect(args.image.as_deref(), args.platform.as_deref(), !args.no_verify, &mut progress_printer())
        .map_err(|e| e.to_string())?;
    if spooled_from != squash_engine::Compression::None {
        // The file was decompressed on the way in; say what the user's file is.
        facts.compression = spooled_from.name().to_string();
    }
    let text = if args.json { inspect::json(&facts)? } else { inspect::table(&facts) };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| {
        stdout_closed.set(e.kind() == io::ErrorKind::BrokenPipe);
        format!("writing to stdout: {e}")
    })?;
    // The CI gate: the facts are printed either way, then the one line saying why.
    let max_wasted = args.max_wasted.as_deref().map(gate::parse_wasted).transpose()?;
    match gate::check(&facts, args.fail_under_efficiency, max_wasted) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

fn squash(args: &Args, pending: &signals::Pending, stdout_closed: &Rc<Cell<bool>>) -> Result<(), String> {
    let log = Log { verbose: args.verbose, start: Instant::now() };
    let opts = squash_cli_def::squash_options(args)?;
    // Bad options, and an output that cannot be written, are refused before stdin is
    // spooled or a pull starts.
    squash_engine::check_options(&opts).map_err(|e| e.to_string())?;
    output::check(&args.destination)?;
    let mut src = input::open_location(&args.source, args, PROG, &mut |m| log.say(m))?;
    let watch = src.watch.take();
    let pulled = src.pulled.take();
    log.say(&say::input_size(squash_engine::ReadAt::size(&src)));
    let mut archive = Archive::open(Box::new(src)).map_err(|e| e.to_string())?;
    archive.set_scratch(std::rc::Rc::new(scratch::scratch));
    log.say(say::verify_note(opts.verify));
    if args.verbose {
        if let Ok(list) = archive.list() {
            say::listing(&list).iter().for_each(|l| log.say(l));
        }
    }
    let mut out = output::Output::open_location(&args.destination, pending, stdout_closed.clone())?;
    let mut printer = progress_printer();
    let result = archive.squash(&opts, out.writer(), &mut printer);
    // A file that changed under us gives an error naming what happened, never an image.
    let result = match watch.as_ref().and_then(input::Watch::changed) {
        Some(why) => Err(squash_engine::Error::new(squash_engine::ErrorCode::Io, why)),
        None => result,
    };
    match result {
        Ok(report) => {
            let said = out.commit(pulled.as_ref(), args, &mut |m| log.say(m))?;
            // Always said (the original did): which layer was kept, and why.
            eprintln!("{PROG}: {}", report.from.reason);
            // Never silent: what the input's index named that the output leaves out.
            report.left_out.iter().for_each(|l| eprintln!("{PROG}: {}", l.reason));
            if matches!(args.destination, Location::Engine { .. } | Location::Registry { .. }) {
                // No file to look at: say what was done, and what the engine's load said.
                eprintln!("{PROG}: {}", say::sizes(&report));
                said.iter().for_each(|l| eprintln!("{PROG}: {l}"));
            }
            say::summary(&report).iter().for_each(|l| log.say(l));
            Ok(())
        }
        Err(e) => {
            out.abandon();
            Err(e.to_string())
        }
    }
}
