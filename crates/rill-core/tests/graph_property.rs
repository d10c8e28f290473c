//! Random graphs spread over random streams evaluate to the same values as a float64 reference
//! interpreter of the same graph, and as the same graph built on one stream.

use proptest::prelude::*;
use rill_core::{ops, Array, Device, Stream};
use std::sync::OnceLock;

fn streams() -> &'static Vec<Stream> {
    static S: OnceLock<Vec<Stream>> = OnceLock::new();
    S.get_or_init(|| {
        (0..4)
            .map(|_| rill_core::new_stream(Device::cpu()).unwrap())
            .collect()
    })
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Vec<f32>),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Max(usize, usize),
}

const N: usize = 16;

fn node_strategy(i: usize) -> BoxedStrategy<Node> {
    let leaf = proptest::collection::vec(-4.0f32..4.0, N).prop_map(Node::Leaf);
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

fn graph_strategy() -> impl Strategy<Value = (Vec<Node>, Vec<usize>)> {
    (2usize..40).prop_flat_map(|n| {
        let nodes: Vec<BoxedStrategy<Node>> = (0..n).map(node_strategy).collect();
        (nodes, proptest::collection::vec(0usize..4, n))
    })
}

/// The graph evaluated in f64, independently of rill.
fn reference(nodes: &[Node]) -> Vec<Vec<f64>> {
    let mut vals: Vec<Vec<f64>> = Vec::new();
    for n in nodes {
        let v = match n {
            Node::Leaf(x) => x.iter().map(|&v| v as f64).collect(),
            Node::Add(a, b) => vals[*a].iter().zip(&vals[*b]).map(|(x, y)| x + y).collect(),
            Node::Sub(a, b) => vals[*a].iter().zip(&vals[*b]).map(|(x, y)| x - y).collect(),
            Node::Mul(a, b) => vals[*a].iter().zip(&vals[*b]).map(|(x, y)| x * y).collect(),
            Node::Max(a, b) => vals[*a]
                .iter()
                .zip(&vals[*b])
                .map(|(x, y)| x.max(*y))
                .collect(),
        };
        vals.push(v);
    }
    vals
}

fn build(nodes: &[Node], placement: &[usize], one_stream: bool) -> Vec<Array> {
    let mut out: Vec<Array> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let s = streams()[if one_stream { 0 } else { placement[i] }];
        let a = match n {
            Node::Leaf(x) => Array::from_slice_on(x, &[N], s).unwrap(),
            Node::Add(a, b) => ops::add(&out[*a], &out[*b], s).unwrap(),
            Node::Sub(a, b) => ops::subtract(&out[*a], &out[*b], s).unwrap(),
            Node::Mul(a, b) => ops::multiply(&out[*a], &out[*b], s).unwrap(),
            Node::Max(a, b) => ops::maximum(&out[*a], &out[*b], s).unwrap(),
        };
        out.push(a);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_graphs_on_random_streams_match_the_reference((nodes, placement) in graph_strategy()) {
        let expect = reference(&nodes);
        let multi = build(&nodes, &placement, false);
        let single = build(&nodes, &placement, true);
        // Evaluate only some roots first (a partial graph), then everything, so later evals meet
        // already-scheduled and already-finished nodes.
        let half: Vec<&Array> = multi.iter().step_by(3).collect();
        rill_core::eval(&half).unwrap();
        rill_core::eval(&multi.iter().collect::<Vec<_>>()).unwrap();
        rill_core::eval(&single.iter().collect::<Vec<_>>()).unwrap();
        for i in 0..nodes.len() {
            let m = multi[i].to_vec::<f32>().unwrap();
            let s = single[i].to_vec::<f32>().unwrap();
            prop_assert_eq!(&m, &s, "node {} differs between many streams and one", i);
            for (k, (&got, &want)) in m.iter().zip(&expect[i]).enumerate() {
                let tol = 1e-4 * want.abs().max(1.0);
                prop_assert!(((got as f64) - want).abs() <= tol || (want.is_infinite() && got as f64 == want),
                    "node {} element {}: got {}, want {}", i, k, got, want);
            }
        }
    }
}
