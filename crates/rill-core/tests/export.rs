//! Exported functions (`rill_core::transforms::{FunctionExporter, ImportedFunction}`): programs
//! written to a file and read back replay to the values of a float64 reference on random inputs;
//! a call picks its trace by signature; the file's header, length, checksum and version are
//! checked; steps that hold host code are refused at export.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::transforms::{
    checkpoint, grad, stop_gradient, FunctionExporter, ImportedFunction, Program, Signature,
};
use rill_core::{ops, Array, Dtype, Error, Result};
use std::sync::Arc;

fn rand_f32(rng: &mut StdRng, shape: &[usize]) -> (Array, Vec<f64>) {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-2.0f32..2.0)).collect();
    (
        Array::from_slice(&v, shape).unwrap(),
        v.iter().map(|&x| x as f64).collect(),
    )
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "{what}[{i}]: {g} != {w}"
        );
    }
}

fn sig(positional: usize, keywords: &[&str]) -> Signature {
    Signature {
        positional,
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
    }
}

/// `exp(x) @ w + b`, with `w` captured (a constant of the program) and `b` a keyword input.
fn layer(w: &Array) -> impl Fn(&[Array]) -> Result<Vec<Array>> + '_ {
    move |xs: &[Array]| {
        let h = ops::matmul(&ops::exp(&xs[0], ())?, w, ())?;
        Ok(vec![
            ops::add(&h, &xs[1], ())?,
            ops::sum(&h, None, false, ())?,
        ])
    }
}

fn reference(x: &[f64], w: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> (Vec<f64>, f64) {
    let mut out = vec![0.0; m * n];
    let mut total = 0.0;
    for i in 0..m {
        for j in 0..n {
            let h: f64 = (0..k).map(|t| x[i * k + t].exp() * w[t * n + j]).sum();
            total += h;
            out[i * n + j] = h + b[j];
        }
    }
    (out, total)
}

#[test]
fn traces_round_trip_and_calls_pick_their_trace() {
    let mut rng = StdRng::seed_from_u64(5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layer.fn");
    let (w, wv) = rand_f32(&mut rng, &[4, 3]);
    let mut exporter = FunctionExporter::new(&path, false, "meta");
    for m in [2, 5] {
        let (x, _) = rand_f32(&mut rng, &[m, 4]);
        let (b, _) = rand_f32(&mut rng, &[3]);
        let (program, _) = Program::trace(layer(&w), &[x, b]).unwrap();
        exporter.add(sig(1, &["b"]), program).unwrap();
        // Complete after every trace.
        assert!(ImportedFunction::read(&path).is_ok());
    }
    // The same signature again is refused.
    let (x, _) = rand_f32(&mut rng, &[2, 4]);
    let (b, _) = rand_f32(&mut rng, &[3]);
    let (program, _) = Program::trace(layer(&w), &[x, b]).unwrap();
    let err = exporter.add(sig(1, &["b"]), program).unwrap_err();
    assert!(err.to_string().contains("already exported"), "{err}");
    assert_eq!(exporter.len(), 2);
    drop(w);

    let f = ImportedFunction::read(&path).unwrap();
    assert_eq!(f.metadata(), "meta");
    assert!(!f.shapeless());
    assert_eq!(f.signatures().len(), 2);
    for m in [5, 2] {
        let (x, xv) = rand_f32(&mut rng, &[m, 4]);
        let (b, bv) = rand_f32(&mut rng, &[3]);
        let out = f.call(&[x], &[("b".to_string(), b)]).unwrap();
        let (want, total) = reference(&xv, &wv, &bv, m, 4, 3);
        assert_close("layer", &out[0].to_vec::<f64>().unwrap(), &want);
        assert_close("sum", &[out[1].item::<f64>().unwrap()], &[total]);
    }
    // No trace takes 3 rows, nor b by position.
    let (x, _) = rand_f32(&mut rng, &[3, 4]);
    let (b, _) = rand_f32(&mut rng, &[3]);
    let err = f
        .call(std::slice::from_ref(&x), &[("b".to_string(), b.clone())])
        .unwrap_err();
    assert!(matches!(err, Error::Argument { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("layer.fn") && text.contains("[3, 4] float32"),
        "{text}"
    );
    assert!(f.call(&[x, b], &[]).is_err());
}

#[test]
fn imported_functions_keep_stop_gradient_and_differentiate() {
    let mut rng = StdRng::seed_from_u64(9);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.fn");
    let (x, _) = rand_f32(&mut rng, &[6]);
    // f(x) = sin(x) * x + stop_gradient(x * x)
    let f = |xs: &[Array]| -> Result<Vec<Array>> {
        let a = ops::multiply(&ops::sin(&xs[0], ())?, &xs[0], ())?;
        let s = stop_gradient(&ops::multiply(&xs[0], &xs[0], ())?, ())?;
        Ok(vec![ops::add(&a, &s, ())?])
    };
    let (program, _) = Program::trace(f, std::slice::from_ref(&x)).unwrap();
    let mut exporter = FunctionExporter::new(&path, true, "");
    exporter.add(sig(1, &[]), program).unwrap();
    exporter.close();
    let (y, _) = rand_f32(&mut rng, &[6]);
    assert!(exporter
        .add(sig(1, &[]), Program::trace(f, &[y]).unwrap().0)
        .is_err());

    let imported = ImportedFunction::read(&path).unwrap();
    assert!(imported.shapeless());
    let (z, zv) = rand_f32(&mut rng, &[6]);
    let d = grad(
        |xs: &[Array]| {
            let out = imported.call(xs, &[])?;
            ops::sum(&out[0], None, false, ())
        },
        std::slice::from_ref(&z),
    )
    .unwrap();
    let want: Vec<f64> = zv.iter().map(|v| v.cos() * v + v.sin()).collect();
    assert_close("grad", &d[0].to_vec::<f64>().unwrap(), &want);
    // Shapeless or not, other shapes are refused, and the error says why.
    let (other, _) = rand_f32(&mut rng, &[7]);
    let err = imported.call(&[other], &[]).unwrap_err().to_string();
    assert!(err.contains("shapeless=True"), "{err}");
}

#[test]
fn host_code_is_refused_at_export() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.fn");
    let x = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    let inner: rill_core::transforms::Fun =
        Arc::new(|xs: &[Array]| Ok(vec![ops::multiply(&xs[0], &xs[0], ())?]));
    let (program, _) = Program::trace(|xs: &[Array]| checkpoint(inner.clone(), xs), &[x]).unwrap();
    let err = FunctionExporter::new(&path, false, "")
        .add(sig(1, &[]), program)
        .unwrap_err()
        .to_string();
    assert!(err.contains("checkpoint"), "{err}");
    assert!(!path.exists());
}

/// A file of one trace `x * 2` for a float32 `(2,)` input, and its bytes.
fn small_file(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>) {
    let path = dir.join("small.fn");
    let x = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    let (program, _) = Program::trace(
        |xs: &[Array]| {
            Ok(vec![ops::multiply(
                &xs[0],
                &Array::from_slice(&[2.0f32], &[])?,
                (),
            )?])
        },
        &[x],
    )
    .unwrap();
    FunctionExporter::new(&path, false, "")
        .add(sig(1, &[]), program)
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

fn read_error(path: &std::path::Path, bytes: &[u8]) -> String {
    std::fs::write(path, bytes).unwrap();
    let err = match ImportedFunction::read(path) {
        Err(e) => e,
        Ok(_) => panic!("{} was read", path.display()),
    };
    assert!(matches!(err, Error::File { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    text
}

#[test]
fn the_container_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = small_file(dir.path());
    assert_eq!(&bytes[..8], b"RILLFUNC");
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 1);
    let body = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 20 + body + 4);
    let f = ImportedFunction::read(&path).unwrap();
    let x = Array::from_slice(&[3.0f32, -1.5], &[2]).unwrap();
    assert_eq!(
        f.call(&[x], &[]).unwrap()[0].to_vec::<f32>().unwrap(),
        [6.0, -3.0]
    );
    let bad = dir.path().join("bad.fn");

    for cut in [3, 12, 20, bytes.len() / 2, bytes.len() - 1] {
        let text = read_error(&bad, &bytes[..cut]);
        assert!(
            text.contains("truncated") || (cut < 8 && text.contains("not a rill")),
            "{cut}: {text}"
        );
    }
    for at in [20, bytes.len() / 2, bytes.len() - 5] {
        let mut b = bytes.clone();
        b[at] ^= 0x10;
        assert!(read_error(&bad, &b).contains("checksum"));
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(read_error(&bad, &longer).contains("corrupt"));
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&7u32.to_le_bytes());
    let text = read_error(&bad, &newer);
    assert!(
        text.contains("version 7") && text.contains("newer"),
        "{text}"
    );
    // What an MLX .mlxfn file begins with: its MLX version, as a u64 length and text.
    let mut mlx = 6u64.to_le_bytes().to_vec();
    mlx.extend_from_slice(b"0.32.4");
    mlx.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let text = read_error(&bad, &mlx);
    assert!(
        text.contains("MLX .mlxfn") && text.contains("0.32.4"),
        "{text}"
    );
    assert!(read_error(&bad, b"").contains("empty"));
    assert!(read_error(&bad, b"\x89PNG\r\n\x1a\n....").contains("89 50 4e 47"));
    let missing = ImportedFunction::read(dir.path().join("missing.fn"));
    assert!(matches!(missing, Err(Error::File { .. })));
}

#[test]
fn constants_of_every_dtype_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consts.fn");
    let consts = [
        Array::from_slice(&[true, false, true], &[3]).unwrap(),
        Array::from_slice(&[-7i32, 0, 9], &[3]).unwrap(),
        Array::from_slice(&[u64::MAX, 1, 2], &[3]).unwrap(),
        ops::astype(
            &Array::from_slice(&[0.1f32, -2.5, 3.25], &[3]).unwrap(),
            Dtype::Float16,
            (),
        )
        .unwrap(),
        ops::astype(
            &Array::from_slice(&[0.1f64, -2.5, 1e300], &[3]).unwrap(),
            Dtype::Float64,
            (),
        )
        .unwrap(),
        // A transposed view: written in row-major order.
        ops::transpose(
            &Array::from_slice(&[1i16, 2, 3, 4, 5, 6], &[2, 3]).unwrap(),
            None,
            (),
        )
        .unwrap(),
    ];
    let x = Array::from_slice(&[1.0f32], &[1]).unwrap();
    let (program, _) = Program::trace(
        |xs: &[Array]| {
            let mut out = vec![xs[0].clone()];
            out.extend(consts.iter().cloned());
            Ok(out)
        },
        std::slice::from_ref(&x),
    )
    .unwrap();
    FunctionExporter::new(&path, false, "")
        .add(sig(1, &[]), program)
        .unwrap();
    let out = ImportedFunction::read(&path)
        .unwrap()
        .call(&[x], &[])
        .unwrap();
    for (got, want) in out[1..].iter().zip(&consts) {
        assert_eq!(got.dtype(), want.dtype());
        assert_eq!(got.shape(), want.shape());
        assert_eq!(
            rill_core::io::to_bytes(got).unwrap(),
            rill_core::io::to_bytes(want).unwrap()
        );
    }
}
