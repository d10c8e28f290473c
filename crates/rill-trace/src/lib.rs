//! Looks at rill timeline captures without a browser.
//!
//! A capture (`rill_core::trace::start_capture` / `stop_capture`) writes Chrome trace-event JSON.
//! This crate reads it back into a [`Timeline`] (the parsing and the summary live in
//! `rill_core::trace`, so in-process and offline numbers are computed by the same code), draws it
//! as SVG ([`render_svg`]) and prints its summary. The `rill-trace` binary is the command-line
//! face of it.

mod axis;
mod palette;
mod render;

pub use render::{render_svg, RenderOptions};
pub use rill_core::trace::{Summary, Timeline};
