//! `progress`: a progress bar over a stream (the `indicatif` crate), with samples per second,
//! drawn on stderr only when stderr is a terminal: in a log file or a notebook's captured
//! output it draws nothing and costs one counter increment per sample.

use crate::error::Result;
use crate::position::Position;
use crate::sample::Sample;
use crate::stream::{Stream, StreamNode};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

pub(crate) struct Progress {
    up: Stream,
    bar: ProgressBar,
}

impl Progress {
    /// A bar counting up to `total` samples (a spinner and a count without one), labelled `desc`.
    pub fn new(up: Stream, total: Option<u64>, desc: &str) -> Self {
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), target()),
            None => ProgressBar::with_draw_target(None, target()),
        };
        let template = if total.is_some() {
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})"
        } else {
            "{msg} [{elapsed_precise}] {spinner} {pos} samples ({per_sec})"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(desc.to_string());
        Progress { up, bar }
    }
}

/// stderr when it is a terminal, nothing otherwise.
fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

impl StreamNode for Progress {
    fn next(&self) -> Result<Option<Sample>> {
        let s = self.up.next()?;
        match s {
            Some(_) => self.bar.inc(1),
            None => self.bar.finish(),
        }
        Ok(s)
    }
    fn reset(&self) -> Result<()> {
        self.bar.reset();
        self.up.reset()
    }
    // The bar shows; it holds no position of its own.
    fn save(&self, out: &mut Position) -> Result<()> {
        self.up.save_into(out)
    }
    fn restore(&self, input: &mut &[u64]) -> Result<()> {
        self.up.restore_from(input)
    }
}
