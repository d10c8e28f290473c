//! The graph of some arrays in Graphviz's DOT language (`mx.export_to_dot`), laid out as MLX lays
//! it out, so the two read alike: every array is a node named by a letter (`A`, `B`, ...,
//! `AA`, ...) or by the name the caller gives it; every op is a rectangle labelled with its name,
//! with an edge from each input array to it and one from it to its output. Leaves (data and
//! evaluated arrays) are ranked as sources; computed arrays that nothing drawn reads, as sinks
//! (MLX's rule: an output that another drawn op reads is not a sink).
//!
//! rill's graph has one output per node, so an op MLX computes as one primitive with several
//! outputs (`depends` of several inputs, `split`) shows as one rectangle per output here.

use super::walk;
use crate::Array;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// The DOT text of the graph that computes `outputs` and the arrays of `names`: every
/// unevaluated array they need, and the evaluated arrays those read. `names` names arrays (the
/// last name given to one array wins); as in MLX, a named array is drawn with its graph even
/// when no output needs it.
pub fn to_dot(outputs: &[Array], names: &[(String, Array)]) -> String {
    let given: HashMap<u64, &str> = names.iter().map(|(n, a)| (a.id(), n.as_str())).collect();
    let roots: Vec<Array> = outputs
        .iter()
        .cloned()
        .chain(names.iter().map(|(_, a)| a.clone()))
        .collect();
    let mut letters: HashMap<u64, String> = HashMap::new();
    let mut name = |a: &Array| -> String {
        let id = a.id();
        let n = given.get(&id).map(|s| s.to_string()).unwrap_or_else(|| {
            let next = letters.len();
            letters
                .entry(id)
                .or_insert_with(|| letter_name(next))
                .clone()
        });
        quote(&n)
    };
    let nodes = walk(&roots);
    let read: HashSet<u64> = nodes
        .iter()
        .flat_map(|n| {
            n.op.iter()
                .flat_map(|(_, inputs)| inputs.iter().map(Array::id))
        })
        .collect();
    let mut out = String::from("digraph {\n");
    for node in nodes {
        let me = name(&node.array);
        let Some((op, inputs)) = node.op else {
            let _ = writeln!(out, "{{ rank=source; {me}; }}");
            continue;
        };
        let prim = quote(&format!("op{}", node.array.id()));
        let _ = writeln!(out, "{{ {prim} [label={}, shape=rectangle]; }}", quote(op));
        for x in &inputs {
            let _ = writeln!(out, "{} -> {prim}", name(x));
        }
        let rank = if !read.contains(&node.array.id()) {
            "rank=sink; "
        } else {
            ""
        };
        let _ = writeln!(out, "{{ {rank}{me}; }}");
        let _ = writeln!(out, "{prim} -> {me}");
    }
    out.push('}');
    out
}

/// `A`..`Z`, then `AA`..`AZ`, `BA`.. (spreadsheet columns), as MLX's namer counts.
fn letter_name(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII letters")
}

/// A DOT identifier in double quotes (any name the caller gives is then valid).
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
