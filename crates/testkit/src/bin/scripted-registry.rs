//! `scripted-registry SCENARIO`: the hostile registry of `squash_testkit::hostile_registry`
//! as a process, for the npm package's tests in Node (the Rust tests start it in-process).
//! Prints one JSON line with its addresses and login, then one JSON line per request any
//! listener receives; exits when its stdin closes.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use squash_testkit::hostile_registry::{basic, Hostile, Scenario, PASSWORD, TOKEN};

fn main() -> std::process::ExitCode {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(scenario) = Scenario::from_name(&name) else {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        eprintln!("scripted-registry: SCENARIO is one of {}", names.join(", "));
        return std::process::ExitCode::from(2);
    };
    let hostile = match Hostile::start(scenario) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("scripted-registry: cannot listen: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let hello = json!({
        "scenario": scenario.name(), "addrs": hostile.server.addrs, "registry": hostile.registry(),
        "reference": hostile.reference(), "pushReference": hostile.push_reference(),
        "config": hostile.config_json(), "password": PASSWORD, "token": TOKEN, "basic": basic(),
    });
    if writeln!(out, "{hello}").and_then(|()| out.flush()).is_err() {
        return std::process::ExitCode::FAILURE;
    }
    let closed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&closed);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_err() {
                break;
            }
        }
        flag.store(true, Ordering::SeqCst);
    });
    let mut told = 0;
    loop {
        let done = closed.load(Ordering::SeqCst);
        let seen = hostile.server.seen();
        for r in &seen[told.min(seen.len())..] {
            let index = hostile.server.addrs.iter().position(|a| *a == r.at);
            let line = json!({
                "at": r.at, "index": index, "method": r.method, "target": r.target,
                "authorization": r.header("authorization"),
            });
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return std::process::ExitCode::SUCCESS;
            }
        }
        told = seen.len();
        if done {
            return std::process::ExitCode::SUCCESS;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
