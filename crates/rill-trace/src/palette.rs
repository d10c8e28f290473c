//! Colours: one per frequent op name, grey for the rest, red kept for waits.

use std::collections::HashMap;

/// Distinct, colour-blind-friendly fills (Tableau 10 without its red, which marks waits).
const FILLS: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7",
];
pub const OTHER: &str = "#bab0ac";
pub const WAIT: &str = "#d62728";

/// The op names in legend order (most frequent first, ties by name) with their colours; names
/// beyond the palette share [`OTHER`].
pub struct Palette {
    pub named: Vec<(String, usize, &'static str)>,
    pub others: usize,
    colours: HashMap<String, &'static str>,
}

impl Palette {
    pub fn new<'a>(names: impl Iterator<Item = &'a str>) -> Palette {
        let mut count: HashMap<&str, usize> = HashMap::new();
        for n in names {
            *count.entry(n).or_default() += 1;
        }
        let mut by_freq: Vec<(&str, usize)> = count.into_iter().collect();
        by_freq.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let named: Vec<(String, usize, &'static str)> = by_freq
            .iter()
            .zip(FILLS)
            .map(|((n, c), f)| (n.to_string(), *c, f))
            .collect();
        let others = by_freq.iter().skip(FILLS.len()).map(|(_, c)| c).sum();
        let colours = named.iter().map(|(n, _, f)| (n.clone(), *f)).collect();
        Palette {
            named,
            others,
            colours,
        }
    }

    pub fn fill(&self, op: &str) -> &'static str {
        self.colours.get(op).copied().unwrap_or(OTHER)
    }
}

/// Black or white, whichever reads better on `fill` (`#rrggbb`).
pub fn text_on(fill: &str) -> &'static str {
    let c = |i: usize| u8::from_str_radix(&fill[i..i + 2], 16).unwrap_or(0) as f64;
    let luma = 0.299 * c(1) + 0.587 * c(3) + 0.114 * c(5);
    if luma > 150.0 {
        "#1b1b1b"
    } else {
        "#ffffff"
    }
}
