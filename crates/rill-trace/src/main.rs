//! `rill-trace`: render a rill trace to SVG, or print its summary.

use rill_trace::{render_svg, RenderOptions, Timeline};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  rill-trace render TRACE.json [-o OUT.svg] [--width PIXELS] [--title TEXT]
      draws one lane per stream (grouped by device), ops coloured by name, waits on other
      streams (red, hatched), arrows from producers to consumers on other streams, active
      memory per device, and a time axis in ms. OUT defaults to TRACE with an .svg extension.
  rill-trace summary TRACE.json
      prints per-stream busy, idle and waiting time, and the overlap of each pair of streams.

TRACE.json is what rill's stop_capture writes (Chrome trace-event JSON).";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("rill-trace: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Other(msg)) => {
            eprintln!("rill-trace: {msg}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Usage(String),
    Other(String),
}

fn read(path: &Path) -> Result<Timeline, Failure> {
    Timeline::read_chrome_json(path).map_err(|e| Failure::Other(e.to_string()))
}

fn run(args: &[String]) -> Result<(), Failure> {
    let usage = |m: &str| Failure::Usage(m.to_string());
    match args.first().map(String::as_str) {
        Some("render") => {
            let mut input = None;
            let mut output = None;
            let mut opts = RenderOptions::default();
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                let mut value = |name: &str| {
                    it.next()
                        .cloned()
                        .ok_or_else(|| usage(&format!("{name} needs a value")))
                };
                match a.as_str() {
                    "-o" | "--output" => output = Some(PathBuf::from(value(a)?)),
                    "--width" => {
                        let w = value(a)?;
                        opts.width = w
                            .parse()
                            .map_err(|_| usage(&format!("--width: not a number: {w}")))?;
                    }
                    "--title" => opts.title = Some(value(a)?),
                    "-h" | "--help" => return Err(usage("help")),
                    s if s.starts_with('-') => return Err(usage(&format!("unknown option {s}"))),
                    s if input.is_none() => input = Some(PathBuf::from(s)),
                    s => return Err(usage(&format!("unexpected argument {s}"))),
                }
            }
            let input = input.ok_or_else(|| usage("render needs a trace file"))?;
            let output = output.unwrap_or_else(|| input.with_extension("svg"));
            if output
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("png"))
            {
                return Err(Failure::Other(
                    "only SVG is written; convert it, e.g. `rsvg-convert timeline.svg -o timeline.png`".into(),
                ));
            }
            let t = read(&input)?;
            std::fs::write(&output, render_svg(&t, &opts))
                .map_err(|e| Failure::Other(format!("cannot write {}: {e}", output.display())))?;
            println!(
                "wrote {} ({} ops, {} streams)",
                output.display(),
                t.ops.len(),
                t.streams().len()
            );
            Ok(())
        }
        Some("summary") => {
            let [_, input] = args else {
                return Err(usage("summary takes one trace file"));
            };
            print!("{}", read(Path::new(input))?.summary());
            Ok(())
        }
        Some("-h" | "--help" | "help") | None => Err(usage("what should it do?")),
        Some(other) => Err(usage(&format!("unknown command {other}"))),
    }
}
