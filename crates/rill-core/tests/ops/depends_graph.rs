//! The graph as a whole: `ops::depends` (order without data: values, the buffer it shares, the
//! dependency evaluated first across streams, errors along its edges, and every function
//! transform through it), and the read-only `graph` module (post-order walk, DOT text, buffer
//! sizes). References are computed here in float64 from the inputs, never from rill's results.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::transforms::{grad, jvp, place, vjp, vmap, Program};
use rill_core::{graph, new_stream, ops, Array, Device, Dtype};
use std::sync::Arc;

fn rand_f64(rng: &mut StdRng, shape: &[usize]) -> (Array, Vec<f64>) {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
    (Array::from_slice(&v, shape).unwrap(), v)
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-9 * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

#[test]
fn depends_gives_the_inputs_values_after_the_dependencies_across_streams() {
    let mut rng = StdRng::seed_from_u64(11);
    let (a, av) = rand_f64(&mut rng, &[3, 5]);
    let (b, bv) = rand_f64(&mut rng, &[4]);
    let other = new_stream(Device::cpu()).unwrap();
    // A dependency on another stream, a chain long enough that it is still queued when the
    // output's stream gets to it, and nothing reads it but `depends`.
    let mut dep = b.clone();
    for _ in 0..50 {
        dep = ops::multiply(&dep, &Array::scalar(1.0f64), other).unwrap();
    }
    let x = ops::exp(&a, ()).unwrap();
    let y = ops::negative(&a, ()).unwrap();
    let outs = ops::depends(&[x.clone(), y.clone()], std::slice::from_ref(&dep)).unwrap();
    assert_eq!(outs.len(), 2);
    assert_eq!(outs[0].op_name(), Some("depends"));
    assert_eq!(outs[0].shape(), &[3, 5]);
    rill_core::eval(&[&outs[0]]).unwrap();
    assert!(
        dep.is_available(),
        "evaluating the output evaluated its dependency"
    );
    assert!(x.is_available() && !y.is_available());
    close(
        "depends(exp(a))",
        &outs[0].to_vec::<f64>().unwrap(),
        &av.iter().map(|v| v.exp()).collect::<Vec<_>>(),
    );
    close(
        "depends(-a)",
        &outs[1].to_vec::<f64>().unwrap(),
        &av.iter().map(|v| -v).collect::<Vec<_>>(),
    );
    close("the dependency", &dep.to_vec::<f64>().unwrap(), &bv);
    // No copy: the output is the input's buffer under the input's layout.
    let (xd, od) = (x.data().unwrap(), outs[0].data().unwrap());
    assert!(Arc::ptr_eq(&xd.buffer, &od.buffer));
    assert_eq!(xd.layout, od.layout);
    // A view's layout is kept as it is (a transpose stays strided).
    let t = ops::transpose(&a, None, ()).unwrap();
    let dt = ops::depends(std::slice::from_ref(&t), &[])
        .unwrap()
        .remove(0);
    assert_eq!(dt.layout().unwrap(), t.layout().unwrap());
    assert!(ops::depends(&[], &[dep]).is_err(), "no inputs is an error");
}

#[test]
fn a_failed_dependency_fails_the_outputs() {
    let a = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    let idx = Array::from_slice(&[7i32], &[1]).unwrap();
    let bad = ops::take(&a, &idx, Some(0), ()).unwrap();
    let x = ops::add(&a, &a, ()).unwrap();
    let out = ops::depends(std::slice::from_ref(&x), &[bad])
        .unwrap()
        .remove(0);
    let err = out.eval().unwrap_err();
    assert!(err.to_string().contains("take"), "{err}");
    assert_eq!(
        x.to_vec::<f32>().unwrap(),
        vec![2.0, 4.0],
        "the input itself is fine"
    );
}

#[test]
fn transforms_pass_the_value_and_ignore_the_dependencies() {
    let mut rng = StdRng::seed_from_u64(12);
    let (x, xv) = rand_f64(&mut rng, &[6]);
    let (y, _) = rand_f64(&mut rng, &[3]);
    let (w, wv) = rand_f64(&mut rng, &[6]);
    // loss = sum(depends(2x, 3y)^2 * w): d/dx = 8 x w, nothing to y.
    let loss = |xs: &[Array]| {
        let two = ops::multiply(&xs[0], &Array::scalar(2.0f64), ())?;
        let three = ops::multiply(&xs[1], &Array::scalar(3.0f64), ())?;
        let z = ops::depends(&[two], &[three])?.remove(0);
        ops::sum(
            &ops::multiply(&ops::square(&z, ())?, &w, ())?,
            None,
            false,
            (),
        )
    };
    let g = grad(loss, &[x.clone(), y.clone()]).unwrap();
    let want: Vec<f64> = xv.iter().zip(&wv).map(|(x, w)| 8.0 * x * w).collect();
    close("grad x", &g[0].to_vec::<f64>().unwrap(), &want);
    close("grad y", &g[1].to_vec::<f64>().unwrap(), &[0.0; 3]);

    // vjp and jvp of depends(x, y): the identity on x.
    let (ct, ctv) = rand_f64(&mut rng, &[6]);
    let f = |xs: &[Array]| ops::depends(&xs[..1], &xs[1..]);
    let (_, vj) = vjp(f, &[x.clone(), y.clone()], std::slice::from_ref(&ct)).unwrap();
    close("vjp x", &vj[0].to_vec::<f64>().unwrap(), &ctv);
    close("vjp y", &vj[1].to_vec::<f64>().unwrap(), &[0.0; 3]);
    let (t, tv) = rand_f64(&mut rng, &[6]);
    let (ty, _) = rand_f64(&mut rng, &[3]);
    let (out, jv) = jvp(f, &[x.clone(), y.clone()], &[t, ty]).unwrap();
    close("jvp value", &out[0].to_vec::<f64>().unwrap(), &xv);
    close("jvp", &jv[0].to_vec::<f64>().unwrap(), &tv);

    // vmap: batched value, batched or constant dependency; and a constant value.
    let (xb, xbv) = rand_f64(&mut rng, &[4, 6]);
    let (yb, _) = rand_f64(&mut rng, &[4, 3]);
    for axes in [[Some(0), Some(0)], [Some(0), None], [None, Some(0)]] {
        let ins = [
            if axes[0].is_some() {
                xb.clone()
            } else {
                x.clone()
            },
            if axes[1].is_some() {
                yb.clone()
            } else {
                y.clone()
            },
        ];
        let m = vmap(f, &ins, &axes).unwrap().remove(0);
        let got = place(m, Some(0), 4).unwrap();
        assert_eq!(got.shape(), &[4, 6], "{axes:?}");
        let want: Vec<f64> = if axes[0].is_some() {
            xbv.clone()
        } else {
            xv.iter().cycle().take(24).copied().collect()
        };
        close(
            &format!("vmap {axes:?}"),
            &got.to_vec::<f64>().unwrap(),
            &want,
        );
    }
}

#[test]
fn compile_replays_depends_and_its_dependency() {
    let mut rng = StdRng::seed_from_u64(13);
    let f = |xs: &[Array]| {
        let v = ops::add(&xs[0], &Array::scalar(1.0f64), ())?;
        let d = ops::multiply(&xs[1], &Array::scalar(2.0f64), ())?;
        ops::depends(&[v], &[d])
    };
    let (x, _) = rand_f64(&mut rng, &[5]);
    let (y, _) = rand_f64(&mut rng, &[2]);
    let (program, _) = Program::trace(f, &[x, y]).unwrap();
    let (x2, x2v) = rand_f64(&mut rng, &[5]);
    let (y2, _) = rand_f64(&mut rng, &[2]);
    let out = program.replay(&[x2, y2]).unwrap().remove(0);
    let nodes = graph::walk(std::slice::from_ref(&out));
    let (op, inputs) = nodes.last().unwrap().op.clone().unwrap();
    assert_eq!((op, inputs.len()), ("depends", 2));
    let dep = inputs[1].clone();
    assert!(!dep.is_available());
    out.eval().unwrap();
    assert!(
        dep.is_available(),
        "the replayed dependency ran with the output"
    );
    close(
        "replay",
        &out.to_vec::<f64>().unwrap(),
        &x2v.iter().map(|v| v + 1.0).collect::<Vec<_>>(),
    );
}

#[test]
fn walk_is_post_order_and_dot_declares_every_node() {
    let a = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    let b = ops::exp(&a, ()).unwrap();
    let c = ops::add(&b, &a, ()).unwrap();
    let d = ops::multiply(&c, &c, ()).unwrap();
    let nodes = graph::walk(&[d.clone(), b.clone()]);
    let ids: Vec<u64> = nodes.iter().map(|n| n.array.id()).collect();
    assert_eq!(ids, vec![a.id(), b.id(), c.id(), d.id()]);
    assert!(nodes[0].op.is_none());
    let (op, inputs) = nodes[3].op.clone().unwrap();
    assert_eq!((op, inputs.len()), ("multiply", 2));

    let dot = graph::to_dot(std::slice::from_ref(&d), &[("input".into(), a.clone())]);
    assert!(dot.starts_with("digraph {\n") && dot.ends_with('}'));
    assert!(dot.contains("{ rank=source; \"input\"; }"), "{dot}");
    assert_eq!(dot.matches("shape=rectangle").count(), 3);
    // Only `d` is read by nothing drawn: c is an input of d, though a root too when asked for.
    assert_eq!(dot.matches("rank=sink").count(), 1);
    let both = graph::to_dot(&[d.clone(), c.clone()], &[]);
    assert_eq!(both.matches("rank=sink").count(), 1, "{both}");
    // 3 ops: b <- a; c <- b, a; d <- c, c; one edge from each op to its output.
    assert_eq!(dot.matches(" -> ").count(), 1 + 2 + 2 + 3);
    d.eval().unwrap();
    assert!(graph::walk(std::slice::from_ref(&d))[0].op.is_none());
    // A chain deeper than any stack: walked without recursion.
    let mut x = a.clone();
    for _ in 0..100_000 {
        x = ops::negative(&x, ()).unwrap();
    }
    assert_eq!(graph::walk(&[x]).len(), 100_001);
}

#[test]
fn buffer_sizes_count_each_buffer_once() {
    // The host allocator's sizes (a GPU's pool reserves blocks of other sizes).
    let cpu = Device::cpu();
    let a = ops::zeros(&[16, 16], Dtype::Float32, cpu).unwrap();
    let b = ops::ones(&[32], Dtype::Float64, cpu).unwrap();
    let err = graph::array_buffer_size(std::slice::from_ref(&a)).unwrap_err();
    assert!(err.to_string().contains("evaluated"), "{err}");
    rill_core::eval(&[&a, &b]).unwrap();
    // 1024 and 256 bytes: powers of two of at least 64 bytes, reserved as they are.
    let t = ops::transpose(&a, None, cpu).unwrap();
    let r = ops::reshape(&a, &[256], cpu).unwrap();
    let dep = ops::depends(std::slice::from_ref(&b), std::slice::from_ref(&a))
        .unwrap()
        .remove(0);
    rill_core::eval(&[&t, &r, &dep]).unwrap();
    assert_eq!(
        graph::array_buffer_size(std::slice::from_ref(&a)).unwrap(),
        1024
    );
    assert_eq!(
        graph::array_buffer_size(&[a.clone(), t, r, a.clone()]).unwrap(),
        1024
    );
    assert_eq!(graph::array_buffer_size(&[a, b, dep]).unwrap(), 1024 + 256);
    assert_eq!(graph::array_buffer_size(&[]).unwrap(), 0);
}
