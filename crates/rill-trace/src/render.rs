//! Draws a timeline as a standalone SVG: a title with the summary, a legend, one lane per stream
//! grouped by device, ops as boxes coloured by op name, waits as red hatched boxes, arrows from
//! producers to consumers on other streams, a memory track per device, and a time axis in ms.
//!
//! The SVG is written by hand. Its parts carry classes and `data-` attributes (`lane`, `op`,
//! `wait`, `flow`, `axis`, `tick`, `legend`, `memory`) so that tests and scripts can find them.

// SVG fragments are long raw strings; several end in a newline on purpose, inside the raw literal.
#![allow(clippy::write_with_newline)]

use crate::axis;
use crate::palette::{self, Palette};
use rill_core::trace::{device_label, LaneSummary, OpRecord, Summary, Timeline};
use rill_core::Device;
use std::collections::HashMap;
use std::fmt::Write;

/// How to draw.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Width of the picture in pixels (the height follows from the number of lanes).
    pub width: f64,
    /// Replaces the default title ("rill timeline").
    pub title: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            width: 1400.0,
            title: None,
        }
    }
}

// Wide enough for "41 ops · busy 61.70 ms · wait 10.15 ms" at 10 px.
const LABEL_W: f64 = 240.0;
const RIGHT: f64 = 28.0;
const LANE_H: f64 = 38.0;
const BOX_H: f64 = 24.0;
const DEVICE_H: f64 = 24.0;
const MEM_H: f64 = 46.0;
const FONT: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";
/// Host spans are one neutral colour: their names are few and the ops' colours stay distinct.
const HOST_FILL: &str = "#8c96a8";

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

fn ms(us: f64) -> String {
    let v = us / 1e3;
    if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn bytes(b: u64) -> String {
    let b = b as f64;
    match b {
        b if b >= 1024.0 * 1024.0 * 1024.0 => format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0)),
        b if b >= 1024.0 * 1024.0 => format!("{:.1} MiB", b / (1024.0 * 1024.0)),
        b if b >= 1024.0 => format!("{:.1} KiB", b / 1024.0),
        b => format!("{b} B"),
    }
}

/// Rough width of `text` in pixels at `size` (no font metrics in a hand-written SVG).
fn text_w(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// Maps microseconds to x.
struct Scale {
    t0: f64,
    t1: f64,
    x0: f64,
    w: f64,
}

impl Scale {
    fn x(&self, t: f64) -> f64 {
        self.x0 + (t - self.t0) / (self.t1 - self.t0) * self.w
    }
}

/// The picture of `t` as an SVG document.
pub fn render_svg(t: &Timeline, opts: &RenderOptions) -> String {
    let summary = t.summary();
    let width = opts.width.max(LABEL_W + RIGHT + 200.0);
    let (t0, t1) = t.active_span().unwrap_or((0.0, t.duration_us.max(1.0)));
    // Host spans (data threads) widen the picture when they start before or end after the ops.
    let t0 = t.host.iter().map(|h| h.start_us).fold(t0, f64::min);
    let t1 = t.host.iter().map(|h| h.end_us).fold(t1, f64::max);
    let sc = Scale {
        t0,
        t1: if t1 > t0 { t1 } else { t0 + 1.0 },
        x0: LABEL_W,
        w: width - LABEL_W - RIGHT,
    };
    let palette = Palette::new(t.ops.iter().map(|o| o.op.as_str()));

    let mut body = String::new();
    let mut y = header(&mut body, t, &summary, opts, width);
    y = legend(
        &mut body,
        &palette,
        t.ops.iter().any(|o| o.error.is_some()),
        y,
        width,
    );
    let plot_top = y + 8.0;
    y = plot_top;

    // Lanes, grouped by device; remember each stream's lane centre for the arrows.
    let mut lane_mid: HashMap<usize, f64> = HashMap::new();
    let mut lanes = String::new();
    let mut grid_rows: Vec<(f64, f64)> = Vec::new();
    for device in t.devices() {
        let _ = write!(
            lanes,
            r##"<g class="device" data-device="{d}"><rect x="0" y="{y:.1}" width="{width:.1}" height="{DEVICE_H}" fill="#dde3ea"/><text x="10" y="{ty:.1}" font-size="13" font-weight="bold" fill="#24313f">{d}</text></g>"##,
            d = device_label(device),
            ty = y + 16.5
        );
        y += DEVICE_H;
        for (i, (_, stream)) in t
            .streams()
            .into_iter()
            .filter(|(d, _)| *d == device)
            .enumerate()
        {
            lane(
                &mut lanes, t, &summary, &sc, &palette, device, stream, y, i, width,
            );
            lane_mid.insert(stream, y + LANE_H / 2.0);
            grid_rows.push((y, y + LANE_H));
            y += LANE_H;
        }
        if t.memory.iter().any(|m| m.device == device) {
            memory_track(&mut lanes, t, &sc, device, y, width);
            y += MEM_H;
        }
    }
    if !t.host.is_empty() {
        let _ = write!(
            lanes,
            r##"<g class="device" data-device="host"><rect x="0" y="{y:.1}" width="{width:.1}" height="{DEVICE_H}" fill="#dde3ea"/><text x="10" y="{ty:.1}" font-size="13" font-weight="bold" fill="#24313f">host threads</text></g>"##,
            ty = y + 16.5
        );
        y += DEVICE_H;
        for (i, l) in summary.host.iter().enumerate() {
            host_lane(&mut lanes, t, &sc, l, y, i, width);
            grid_rows.push((y, y + LANE_H));
            y += LANE_H;
        }
    }
    let plot_bottom = y;

    // Grid lines behind everything in the plot, the axis below it.
    let (ticks, step) = axis::ticks(sc.t0 / 1e3, sc.t1 / 1e3, ((sc.w / 110.0) as usize).max(2));
    let mut grid = String::new();
    for tk in &ticks {
        let x = sc.x(tk * 1e3);
        let _ = write!(
            grid,
            r##"<line x1="{x:.2}" y1="{plot_top:.1}" x2="{x:.2}" y2="{plot_bottom:.1}" stroke="#000" stroke-opacity="0.08"/>"##
        );
    }
    let axis_y = plot_bottom + 6.0;
    let mut axis_svg = format!(
        r##"<g class="axis" data-unit="ms"><line x1="{x0:.1}" y1="{axis_y:.1}" x2="{x1:.1}" y2="{axis_y:.1}" stroke="#333"/>"##,
        x0 = sc.x0,
        x1 = sc.x0 + sc.w
    );
    let dec = axis::decimals(step);
    for tk in &ticks {
        let x = sc.x(tk * 1e3);
        let label = format!("{tk:.dec$} ms");
        let _ = write!(
            axis_svg,
            r##"<g class="tick" data-ms="{tk}"><line x1="{x:.2}" y1="{axis_y:.1}" x2="{x:.2}" y2="{y2:.1}" stroke="#333"/><text x="{x:.2}" y="{ty:.1}" font-size="11" text-anchor="middle" fill="#333">{label}</text></g>"##,
            y2 = axis_y + 5.0,
            ty = axis_y + 18.0
        );
    }
    let _ = write!(
        axis_svg,
        r##"<text x="{x:.1}" y="{y:.1}" font-size="11" text-anchor="middle" fill="#555">time since start_capture</text></g>"##,
        x = sc.x0 + sc.w / 2.0,
        y = axis_y + 34.0
    );
    let height = axis_y + 44.0;

    let mut flows = String::new();
    for f in t.flows() {
        let (Some(&y1), Some(&y2)) = (
            lane_mid.get(&f.producer_stream),
            lane_mid.get(&f.consumer_stream),
        ) else {
            continue;
        };
        let (x1, x2) = (sc.x(f.from_us), sc.x(f.to_us));
        let bend = ((x2 - x1).abs() / 2.0).clamp(12.0, 60.0);
        let _ = write!(
            flows,
            r##"<path class="flow" data-producer="{p}" data-consumer="{c}" d="M{x1:.2},{y1:.1} C{cx1:.2},{y1:.1} {cx2:.2},{y2:.1} {x2:.2},{y2:.1}" fill="none" stroke="#1b1b1b" stroke-opacity="0.8" stroke-width="1.4" marker-end="url(#arrow)"><title>input #{p} (stream {ps}) -&gt; #{c} (stream {cs})</title></path>"##,
            p = f.producer,
            c = f.consumer,
            ps = f.producer_stream,
            cs = f.consumer_stream,
            cx1 = x1 + bend,
            cx2 = x2 - bend
        );
    }

    let mut svg = String::with_capacity(body.len() + lanes.len() + flows.len() + 4096);
    let _ = write!(
        svg,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="{FONT}">
<defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fbd5d5"/><line x1="0" y1="0" x2="0" y2="6" stroke="{red}" stroke-width="2.5"/></pattern><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1b1b1b"/></marker></defs>
<rect width="100%" height="100%" fill="#ffffff"/>
"##,
        red = palette::WAIT
    );
    svg.push_str(&body);
    svg.push_str(&lanes);
    svg.push_str(&grid);
    svg.push_str(&flows);
    svg.push_str(&axis_svg);
    svg.push_str("\n</svg>\n");
    svg
}

/// Title and summary lines; returns the y below them.
fn header(out: &mut String, t: &Timeline, s: &Summary, opts: &RenderOptions, width: f64) -> f64 {
    let title = opts.title.clone().unwrap_or_else(|| "rill timeline".into());
    let devices: Vec<String> = t.devices().into_iter().map(device_label).collect();
    let line1 = format!(
        "{} ops on {} stream(s) of {} · active span {} ms · capture {} ms",
        s.ops,
        s.streams.len(),
        if devices.is_empty() {
            "no device".into()
        } else {
            devices.join(", ")
        },
        ms(s.span_us),
        ms(s.capture_us)
    );
    let mut busy: Vec<String> = s
        .streams
        .iter()
        .take(6)
        .map(|st| {
            format!(
                "stream {} {} ms ({:.0}%)",
                st.stream,
                ms(st.busy_us),
                100.0 * st.utilization()
            )
        })
        .collect();
    if s.streams.len() > 6 {
        busy.push(format!("and {} more", s.streams.len() - 6));
    }
    let mut top: Vec<_> = s.overlaps.iter().collect();
    top.sort_by(|a, b| b.both_busy_us.total_cmp(&a.both_busy_us));
    let overlap: Vec<String> = top
        .iter()
        .take(3)
        .map(|o| {
            format!(
                "{} & {}: {} ms ({:.0}% of the shorter)",
                o.a,
                o.b,
                ms(o.both_busy_us),
                100.0 * o.fraction
            )
        })
        .collect();
    let line2 = format!(
        "busy: {}",
        if busy.is_empty() {
            "none".into()
        } else {
            busy.join(", ")
        }
    );
    let line3 = format!(
        "overlap: {} · waits on other streams: {} ({} ms)",
        if overlap.is_empty() {
            "none".into()
        } else {
            overlap.join(", ")
        },
        s.waits.len(),
        ms(s.wait_us())
    );
    let _ = write!(
        out,
        r##"<g class="title"><text x="12" y="28" font-size="19" font-weight="bold" fill="#111">{}</text>"##,
        esc(&title)
    );
    for (i, l) in [line1, line2, line3].iter().enumerate() {
        let _ = write!(
            out,
            r##"<text class="summary" x="12" y="{y}" font-size="13" fill="#333" textLength="{tl}" lengthAdjust="spacingAndGlyphs">{}</text>"##,
            esc(l),
            y = 50 + 18 * i,
            // Only squeeze a line that would not fit.
            tl = text_w(l, 13.0).min(width - 24.0).max(1.0) as u32
        );
    }
    out.push_str("</g>\n");
    50.0 + 18.0 * 2.0 + 10.0
}

/// Colour swatches of the most frequent ops, then waits and arrows; returns the y below.
fn legend(out: &mut String, p: &Palette, errors: bool, y0: f64, width: f64) -> f64 {
    let mut items: Vec<(String, String)> = p
        .named
        .iter()
        .map(|(n, c, f)| {
            (
                format!("{n} ×{c}"),
                format!(r##"<rect width="14" height="12" fill="{f}"/>"##),
            )
        })
        .collect();
    if p.others > 0 {
        items.push((
            format!("other ops ×{}", p.others),
            format!(
                r##"<rect width="14" height="12" fill="{}"/>"##,
                palette::OTHER
            ),
        ));
    }
    items.push((
        "waiting on another stream".into(),
        format!(
            r##"<rect width="14" height="12" fill="url(#hatch)" stroke="{}"/>"##,
            palette::WAIT
        ),
    ));
    items.push((
        "input from another stream".into(),
        r##"<line x1="0" y1="6" x2="20" y2="6" stroke="#1b1b1b" stroke-width="1.4" marker-end="url(#arrow)"/>"##.into(),
    ));
    if errors {
        items.push((
            "failed op".into(),
            r##"<rect width="14" height="12" fill="#ffffff" stroke="#7f0000" stroke-width="2"/>"##
                .into(),
        ));
    }
    let _ = write!(out, r##"<g class="legend">"##);
    let (mut x, mut y) = (12.0, y0);
    for (label, swatch) in items {
        let w = 26.0 + text_w(&label, 12.0) + 18.0;
        if x + w > width - 12.0 && x > 12.0 {
            x = 12.0;
            y += 20.0;
        }
        let _ = write!(
            out,
            r##"<g class="legend-item" transform="translate({x:.1},{y:.1})">{swatch}<text x="26" y="10.5" font-size="12" fill="#222">{}</text></g>"##,
            esc(&label)
        );
        x += w;
    }
    out.push_str("</g>\n");
    y + 22.0
}

fn tooltip(o: &OpRecord) -> String {
    let mut s = format!(
        "{} #{} on stream {}\n{:?} {}\ninputs {:?}\nstart {} ms, ran {:.1} µs (submitted at {} ms)",
        o.op,
        o.id,
        o.stream,
        o.shape,
        o.dtype,
        o.input_shapes,
        ms(o.start_us),
        o.duration_us(),
        ms(o.submitted_us)
    );
    if let Some(e) = &o.error {
        s.push_str("\nerror: ");
        s.push_str(e);
    }
    esc(&s)
}

/// The background of the `i`th lane of a group: alternating greys, so neighbours stay apart.
fn lane_fill(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        "#f7f8fa"
    } else {
        "#eef0f3"
    }
}

#[allow(clippy::too_many_arguments)]
fn lane(
    out: &mut String,
    t: &Timeline,
    s: &Summary,
    sc: &Scale,
    p: &Palette,
    device: Device,
    stream: usize,
    y: f64,
    i: usize,
    width: f64,
) {
    let bg = lane_fill(i);
    let _ = write!(
        out,
        r##"<g class="lane" data-stream="{stream}" data-device="{d}" data-y="{y:.1}" data-height="{LANE_H}"><rect x="0" y="{y:.1}" width="{width:.1}" height="{LANE_H}" fill="{bg}"/>"##,
        d = device_label(device)
    );
    let st = s.streams.iter().find(|x| x.stream == stream);
    let detail = st.map_or(String::new(), |st| {
        let mut d = format!("{} ops · busy {} ms", st.ops, ms(st.busy_us));
        if st.wait_us > 0.0 {
            let _ = write!(d, " · wait {} ms", ms(st.wait_us));
        }
        d
    });
    let _ = write!(
        out,
        r##"<text class="lane-label" x="14" y="{y1:.1}" font-size="13" font-weight="bold" fill="#111">stream {stream}</text><text x="14" y="{y2:.1}" font-size="10" fill="#555">{}</text>"##,
        esc(&detail),
        y1 = y + 16.0,
        y2 = y + 30.0
    );
    let by = y + (LANE_H - BOX_H) / 2.0;
    for w in t.waits().iter().filter(|w| w.stream == stream) {
        let (x1, x2) = (sc.x(w.from_us), sc.x(w.to_us));
        let what = w
            .producer_op
            .clone()
            .unwrap_or_else(|| "an earlier op".into());
        let _ = write!(
            out,
            r##"<rect class="wait" data-producer="{p}" data-consumer="{c}" x="{x1:.2}" y="{by:.1}" width="{ww:.2}" height="{BOX_H}" fill="url(#hatch)" stroke="{red}" stroke-width="1"><title>stream {stream} waited {d} ms for {what} #{p} on stream {ps}</title></rect>"##,
            p = w.producer,
            c = w.consumer,
            ps = w.producer_stream,
            ww = (x2 - x1).max(1.0),
            red = palette::WAIT,
            d = ms(w.duration_us()),
            what = esc(&what)
        );
        if x2 - x1 > 40.0 {
            let _ = write!(
                out,
                r##"<text x="{x:.2}" y="{ty:.1}" font-size="10" font-weight="bold" text-anchor="middle" fill="{red}" stroke="#fff" stroke-width="3" paint-order="stroke">wait</text>"##,
                x = (x1 + x2) / 2.0,
                ty = by + BOX_H / 2.0 + 3.5,
                red = palette::WAIT
            );
        }
    }
    for o in t.ops.iter().filter(|o| o.stream == stream) {
        let (x1, x2) = (sc.x(o.start_us), sc.x(o.end_us));
        let w = (x2 - x1).max(0.6);
        let fill = p.fill(&o.op);
        let stroke = if o.error.is_some() {
            r##" stroke="#7f0000" stroke-width="2""##
        } else if w > 4.0 {
            r##" stroke="#ffffff" stroke-width="0.6""##
        } else {
            ""
        };
        let _ = write!(
            out,
            r##"<rect class="op" data-op="{}" data-id="{}" x="{x1:.2}" y="{by:.1}" width="{w:.2}" height="{BOX_H}" fill="{fill}"{stroke}><title>{}</title></rect>"##,
            esc(&o.op),
            o.id,
            tooltip(o)
        );
        if w > text_w(&o.op, 10.0) + 6.0 {
            let _ = write!(
                out,
                r##"<text x="{x:.2}" y="{ty:.1}" font-size="10" text-anchor="middle" fill="{c}" pointer-events="none">{}</text>"##,
                esc(&o.op),
                x = x1 + w / 2.0,
                ty = by + BOX_H / 2.0 + 3.5,
                c = palette::text_on(fill)
            );
        }
    }
    out.push_str("</g>\n");
}

/// One thread's spans of host work (a data pipeline's worker), `LaneSummary` `l`.
fn host_lane(
    out: &mut String,
    t: &Timeline,
    sc: &Scale,
    l: &LaneSummary,
    y: f64,
    i: usize,
    width: f64,
) {
    let bg = lane_fill(i);
    let _ = write!(
        out,
        r##"<g class="host-lane" data-lane="{name}" data-y="{y:.1}" data-height="{LANE_H}"><rect x="0" y="{y:.1}" width="{width:.1}" height="{LANE_H}" fill="{bg}"/><text class="lane-label" x="14" y="{y1:.1}" font-size="12" font-weight="bold" fill="#111">{name}</text><text x="14" y="{y2:.1}" font-size="10" fill="#555">{n} spans · busy {b} ms</text>"##,
        name = esc(&l.lane),
        n = l.spans,
        b = ms(l.busy_us),
        y1 = y + 16.0,
        y2 = y + 30.0
    );
    let by = y + (LANE_H - BOX_H) / 2.0;
    for h in t.host.iter().filter(|h| h.lane == l.lane) {
        let (x1, x2) = (sc.x(h.start_us), sc.x(h.end_us));
        let _ = write!(
            out,
            r##"<rect class="host-span" x="{x1:.2}" y="{by:.1}" width="{w:.2}" height="{BOX_H}" fill="{HOST_FILL}"><title>{name}: {d} ms</title></rect>"##,
            w = (x2 - x1).max(0.6),
            name = esc(&h.name),
            d = ms(h.duration_us())
        );
    }
    out.push_str("</g>\n");
}

fn memory_track(out: &mut String, t: &Timeline, sc: &Scale, device: Device, y: f64, width: f64) {
    let samples: Vec<_> = t.memory.iter().filter(|m| m.device == device).collect();
    let peak = samples.iter().map(|m| m.bytes).max().unwrap_or(0).max(1);
    let (top, bottom) = (y + 6.0, y + MEM_H - 6.0);
    let yv = |b: u64| bottom - (b as f64 / peak as f64) * (bottom - top);
    let mut d = format!("M{:.2},{bottom:.1}", sc.x(samples[0].t_us));
    let mut last = bottom;
    for m in &samples {
        let x = sc.x(m.t_us);
        let yy = yv(m.bytes);
        let _ = write!(d, " L{x:.2},{last:.1} L{x:.2},{yy:.1}");
        last = yy;
    }
    let _ = write!(
        d,
        " L{:.2},{last:.1} L{:.2},{bottom:.1} Z",
        sc.x(sc.t1),
        sc.x(sc.t1)
    );
    let _ = write!(
        out,
        r##"<g class="memory" data-device="{dl}" data-peak-bytes="{peak}"><rect x="0" y="{y:.1}" width="{width:.1}" height="{MEM_H}" fill="#ffffff"/><text x="14" y="{y1:.1}" font-size="12" font-weight="bold" fill="#111">active memory</text><text x="14" y="{y2:.1}" font-size="10" fill="#555">peak {pk} (sampled per op)</text><path d="{d}" fill="#9ecae1" fill-opacity="0.6" stroke="#3182bd" stroke-width="1"/></g>
"##,
        dl = device_label(device),
        y1 = y + 18.0,
        y2 = y + 32.0,
        pk = bytes(peak)
    );
}
