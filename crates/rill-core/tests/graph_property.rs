//! Random graphs spread over random streams (CPU streams, and GPU streams when there is a GPU)
//! evaluate to exactly what a float32 reference interpreter of the same graph gives.
//!
//! The ops (add, subtract, multiply, maximum) are single IEEE operations, correctly rounded on
//! every device, so the reference rounds to float32 after every op as rill does and the
//! comparison is exact: no tolerance can hide a wrong value, and none can fail on a right one.
//! Leaves are small (16 elements) or large (enough that the CPU kernels split across threads);
//! roots are evaluated from several threads at once, partly before the rest, so evaluations meet
//! nodes already scheduled and already finished.
//!
//! `RILL_PROPTEST_CASES` sets the number of cases (64 by default; use thousands for long runs).

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::{ops, Array, Device, Stream};
use std::sync::OnceLock;

fn streams() -> &'static Vec<Stream> {
    static S: OnceLock<Vec<Stream>> = OnceLock::new();
    S.get_or_init(|| {
        let mut v: Vec<Stream> = (0..4)
            .map(|_| rill_core::new_stream(Device::cpu()).unwrap())
            .collect();
        if rill_core::is_available(Device::gpu(0)) {
            v.extend((0..4).map(|_| rill_core::new_stream(Device::gpu(0)).unwrap()));
        } else {
            eprintln!("graph_property: no GPU, CPU streams only");
        }
        v
    })
}

#[derive(Debug, Clone)]
enum Node {
    /// Leaf values drawn from this seed.
    Leaf(u64),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Max(usize, usize),
}

/// Elements per array: small, or large enough for the CPU's parallel kernels (> 2 * 32768).
const SIZES: [usize; 2] = [16, 70_001];

fn leaf_values(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-4.0f32..4.0)).collect()
}

fn node_strategy(i: usize) -> BoxedStrategy<Node> {
    let leaf = any::<u64>().prop_map(Node::Leaf);
    if i == 0 {
        return leaf.boxed();
    }
    let pick = 0..i;
    prop_oneof![
        1 => leaf,
        3 => (pick.clone(), pick.clone()).prop_map(|(a, b)| Node::Add(a, b)),
        2 => (pick.clone(), pick.clone()).prop_map(|(a, b)| Node::Sub(a, b)),
        2 => (pick.clone(), pick.clone()).prop_map(|(a, b)| Node::Mul(a, b)),
        2 => (pick.clone(), pick).prop_map(|(a, b)| Node::Max(a, b)),
    ]
    .boxed()
}

/// (nodes, stream of each node, array size, threads that evaluate).
fn graph_strategy() -> impl Strategy<Value = (Vec<Node>, Vec<usize>, usize, usize)> {
    (2usize..40, 0usize..SIZES.len(), 1usize..5).prop_flat_map(|(n, size, threads)| {
        let nodes: Vec<BoxedStrategy<Node>> = (0..n).map(node_strategy).collect();
        (
            nodes,
            proptest::collection::vec(0usize..64, n),
            Just(SIZES[size]),
            Just(threads),
        )
    })
}

/// The graph evaluated in float32, one rounding per op, independently of rill.
fn reference(nodes: &[Node], n: usize) -> Vec<Vec<f32>> {
    let mut vals: Vec<Vec<f32>> = Vec::new();
    for node in nodes {
        let zip = |a: usize, b: usize, f: fn(f32, f32) -> f32| -> Vec<f32> {
            vals[a]
                .iter()
                .zip(&vals[b])
                .map(|(&x, &y)| f(x, y))
                .collect()
        };
        let v = match node {
            Node::Leaf(seed) => leaf_values(*seed, n),
            Node::Add(a, b) => zip(*a, *b, |x, y| x + y),
            Node::Sub(a, b) => zip(*a, *b, |x, y| x - y),
            Node::Mul(a, b) => zip(*a, *b, |x, y| x * y),
            // NaN wins, as NumPy's maximum (none arise from these inputs, but keep the rule).
            Node::Max(a, b) => zip(*a, *b, |x, y| if x.is_nan() || x >= y { x } else { y }),
        };
        vals.push(v);
    }
    vals
}

fn build(nodes: &[Node], placement: &[usize], n: usize) -> Vec<Array> {
    let all = streams();
    let mut out: Vec<Array> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let s = all[placement[i] % all.len()];
        let a = match node {
            Node::Leaf(seed) => Array::from_slice_on(&leaf_values(*seed, n), &[n], s).unwrap(),
            Node::Add(a, b) => ops::add(&out[*a], &out[*b], s).unwrap(),
            Node::Sub(a, b) => ops::subtract(&out[*a], &out[*b], s).unwrap(),
            Node::Mul(a, b) => ops::multiply(&out[*a], &out[*b], s).unwrap(),
            Node::Max(a, b) => ops::maximum(&out[*a], &out[*b], s).unwrap(),
        };
        out.push(a);
    }
    out
}

fn cases() -> u32 {
    std::env::var("RILL_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn random_graphs_on_random_streams_match_the_reference(
        (nodes, placement, n, threads) in graph_strategy()
    ) {
        let expect = reference(&nodes, n);
        let arrays = build(&nodes, &placement, n);
        // Some roots first, then everything, split over `threads` threads evaluating at once.
        let some: Vec<&Array> = arrays.iter().step_by(3).collect();
        rill_core::eval(&some).unwrap();
        std::thread::scope(|scope| {
            for t in 0..threads {
                let mine: Vec<Array> = arrays.iter().skip(t).step_by(threads).cloned().collect();
                scope.spawn(move || rill_core::eval(&mine.iter().collect::<Vec<_>>()).unwrap());
            }
        });
        for i in 0..nodes.len() {
            let got = arrays[i].to_vec::<f32>().unwrap();
            for (k, (&g, &w)) in got.iter().zip(&expect[i]).enumerate() {
                prop_assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "node {} ({:?} on {}) element {}: got {}, want {}",
                    i, nodes[i], arrays[i].stream(), k, g, w
                );
            }
        }
    }
}
