//! Saving and loading GGUF files.
//!
//! The references are independent of rill's writer and reader: files are also written here by
//! hand (the format's bytes, laid out in the test), and the expected quantized arrays are
//! worked out from the blocks' bytes. The comparisons with the `gguf` Python package and with
//! real MLX are in tests/python/test_io_gguf.py.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use rill_core::io::{self, GgufValue, Loaded};
use rill_core::{Array, Dtype, Error};
use std::path::Path;

const DTYPES: &[Dtype] = &[
    Dtype::Float32,
    Dtype::Float16,
    Dtype::Bfloat16,
    Dtype::Float64,
    Dtype::Int8,
    Dtype::Int16,
    Dtype::Int32,
    Dtype::Int64,
];
const SHAPES: &[&[usize]] = &[&[], &[0], &[1], &[7], &[3, 4, 5], &[2, 0, 3], &[1, 2, 3, 4]];

fn random_array(rng: &mut StdRng, dtype: Dtype, shape: &[usize]) -> (Array, Vec<u8>) {
    let mut bytes = vec![0u8; shape.iter().product::<usize>() * dtype.size()];
    rng.fill_bytes(&mut bytes);
    (Array::from_bytes(&bytes, dtype, shape, ()).unwrap(), bytes)
}

/// True when `a`'s buffer is memory rill did not allocate (the file's mapping).
fn is_mapped(a: &Array) -> bool {
    a.data().unwrap().buffer.capacity() == 0
}

/// The error of a load that must fail, checked to be a file error naming the op and the file.
fn file_error(path: &Path) -> String {
    match io::load_gguf(path, ()) {
        Err(e @ Error::File { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("[load] ") && msg.contains(&path.display().to_string()),
                "the error names the op and the file: {msg}"
            );
            msg
        }
        other => panic!("expected a file error, got {other:?}"),
    }
}

// The format's bytes, by hand.
fn string(s: &str) -> Vec<u8> {
    let mut v = (s.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

fn tensor_info(name: &str, dims_innermost_first: &[u64], kind: u32, offset: u64) -> Vec<u8> {
    let mut v = string(name);
    v.extend_from_slice(&(dims_innermost_first.len() as u32).to_le_bytes());
    for d in dims_innermost_first {
        v.extend_from_slice(&d.to_le_bytes());
    }
    v.extend_from_slice(&kind.to_le_bytes());
    v.extend_from_slice(&offset.to_le_bytes());
    v
}

/// A version 3 file: header, `kvs` (n of them), tensor infos (n), padding to 32, data.
fn file(kvs: (&[u8], u64), infos: (&[u8], u64), data: &[u8]) -> Vec<u8> {
    let mut v = b"GGUF".to_vec();
    v.extend_from_slice(&3u32.to_le_bytes());
    v.extend_from_slice(&infos.1.to_le_bytes());
    v.extend_from_slice(&kvs.1.to_le_bytes());
    v.extend_from_slice(kvs.0);
    v.extend_from_slice(infos.0);
    v.resize(v.len().next_multiple_of(32), 0);
    v.extend_from_slice(data);
    v
}

#[test]
fn gguf_round_trips_every_dtype_and_metadata_byte_for_byte() {
    let mut rng = StdRng::seed_from_u64(13);
    let mut arrays = Vec::new();
    let mut bytes = Vec::new();
    for &dtype in DTYPES {
        for shape in SHAPES {
            let (a, b) = random_array(&mut rng, dtype, shape);
            arrays.push((format!("{dtype}{shape:?}"), a));
            bytes.push(b);
        }
    }
    let scalar = |v: &[u8], dtype| GgufValue::Array(Array::from_bytes(v, dtype, &[], ()).unwrap());
    let metadata = vec![
        ("name".to_string(), GgufValue::String("ünï".into())),
        (
            "list".to_string(),
            GgufValue::Strings(vec!["a".into(), String::new(), "ccc".into()]),
        ),
        (
            "u64".to_string(),
            scalar(&u64::MAX.to_le_bytes(), Dtype::Uint64),
        ),
        ("flag".to_string(), scalar(&[1], Dtype::Bool)),
        (
            "f64".to_string(),
            scalar(&0.1f64.to_le_bytes(), Dtype::Float64),
        ),
        (
            "i16s".to_string(),
            GgufValue::Array(Array::from_slice(&[-1i16, 2, -3], &[3]).unwrap()),
        ),
        (
            "f32s".to_string(),
            GgufValue::Array(Array::from_slice(&[1.5f32, -0.25], &[2]).unwrap()),
        ),
    ];
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("a.gguf");
    io::save_gguf(&path, &arrays, &metadata).unwrap();

    // The bytes: magic, version 3, the counts; the first tensor's dims innermost first.
    let raw = std::fs::read(&path).unwrap();
    assert_eq!(&raw[..4], b"GGUF");
    assert_eq!(u32::from_le_bytes(raw[4..8].try_into().unwrap()), 3);
    assert_eq!(
        u64::from_le_bytes(raw[8..16].try_into().unwrap()),
        arrays.len() as u64
    );
    assert_eq!(u64::from_le_bytes(raw[16..24].try_into().unwrap()), 7);

    let (loaded, meta) = io::load_gguf(&path, ()).unwrap();
    assert_eq!(loaded.len(), arrays.len());
    for (((name, a), want), (lname, b)) in arrays.iter().zip(&bytes).zip(&loaded) {
        assert_eq!(name, lname, "file order");
        assert_eq!((b.dtype(), b.shape()), (a.dtype(), a.shape()), "{name}");
        assert_eq!(&io::to_bytes(b).unwrap(), want, "{name}");
        if !want.is_empty() {
            assert!(is_mapped(b), "{name} is used in place");
        }
    }
    let keys: Vec<&str> = meta.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["name", "list", "u64", "flag", "f64", "i16s", "f32s"]);
    let value = |k: &str| &meta.iter().find(|(n, _)| n == k).unwrap().1;
    assert!(matches!(value("name"), GgufValue::String(s) if s == "ünï"));
    assert!(matches!(value("list"), GgufValue::Strings(v) if v == &["a", "", "ccc"]));
    let GgufValue::Array(u) = value("u64") else {
        panic!()
    };
    assert_eq!((u.dtype(), u.shape()), (Dtype::Uint64, &[][..]));
    assert_eq!(u.to_vec::<u64>().unwrap(), [u64::MAX]);
    let GgufValue::Array(f) = value("flag") else {
        panic!()
    };
    assert_eq!(f.dtype(), Dtype::Bool);
    let GgufValue::Array(x) = value("f64") else {
        panic!()
    };
    assert_eq!(x.to_vec::<f64>().unwrap(), [0.1]);
    let GgufValue::Array(v) = value("i16s") else {
        panic!()
    };
    assert_eq!((v.dtype(), v.shape()), (Dtype::Int16, &[3][..]));
    assert_eq!(v.to_vec::<i16>().unwrap(), [-1, 2, -3]);

    // `load` finds the format by the extension.
    assert!(matches!(
        io::load(&path, None, ()).unwrap(),
        Loaded::Gguf { arrays, metadata } if arrays.len() == loaded.len() && metadata.len() == 7
    ));
}

#[test]
fn gguf_files_written_by_hand_load_with_reversed_dims_and_mlx_quantized_triplets() {
    let d = tempfile::tempdir().unwrap();
    // An int16 tensor of dims [3, 2] (innermost first): shape (2, 3).
    let values: Vec<u8> = (1i16..=6).flat_map(|v| v.to_le_bytes()).collect();
    // One Q8_0 block (scale 0.5, weights -128..=124 by 4) and one Q4_0 block (scale 2.0, weights
    // j % 16 in the low nibbles, 15 - j % 16 in the high ones).
    let mut q8 = half::f16::from_f32(0.5).to_le_bytes().to_vec();
    q8.extend((0..32).map(|j| (-128 + 4 * j) as i8 as u8));
    let mut q4 = half::f16::from_f32(2.0).to_le_bytes().to_vec();
    q4.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
    let mut data = values.clone();
    data.resize(32, 0);
    data.extend_from_slice(&q8);
    data.resize(96, 0);
    data.extend_from_slice(&q4);
    let infos = [
        tensor_info("t", &[3, 2], 25, 0),
        tensor_info("q8.weight", &[32], 8, 32),
        tensor_info("q4", &[32], 2, 96),
    ]
    .concat();
    let mut kvs = string("general.alignment");
    kvs.extend_from_slice(&4u32.to_le_bytes());
    kvs.extend_from_slice(&32u32.to_le_bytes());
    let path = d.path().join("h.gguf");
    std::fs::write(&path, file((&kvs, 1), (&infos, 3), &data)).unwrap();

    let (arrays, meta) = io::load_gguf(&path, ()).unwrap();
    let names: Vec<&str> = arrays.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "t",
            "q8.weight",
            "q8.scales",
            "q8.biases",
            "q4",
            "q4.scales",
            "q4.biases"
        ]
    );
    assert_eq!(meta.len(), 1);
    let t = &arrays[0].1;
    assert_eq!((t.dtype(), t.shape()), (Dtype::Int16, &[2, 3][..]));
    assert_eq!(t.to_vec::<i16>().unwrap(), [1, 2, 3, 4, 5, 6]);
    // Q8_0: unsigned weights q + 128, four to a uint32; scale d, bias -128 d.
    let w = &arrays[1].1;
    assert_eq!((w.dtype(), w.shape()), (Dtype::Uint32, &[8][..]));
    let want: Vec<u8> = (0..32).map(|j| 4 * j as u8).collect();
    assert_eq!(io::to_bytes(w).unwrap(), want);
    assert_eq!(arrays[2].1.to_vec::<f32>().unwrap(), [0.5]);
    assert_eq!(arrays[3].1.to_vec::<f32>().unwrap(), [-64.0]);
    assert_eq!(arrays[2].1.shape(), &[1]);
    // Q4_0: weights in order, two to a byte (low nibble first); scale d, bias -8 d.
    let w = &arrays[4].1;
    assert_eq!((w.dtype(), w.shape()), (Dtype::Uint32, &[4][..]));
    let nibbles: Vec<u8> = (0..32).map(|j| if j < 16 { j } else { 31 - j }).collect();
    let want: Vec<u8> = nibbles.chunks(2).map(|p| p[0] | (p[1] << 4)).collect();
    assert_eq!(io::to_bytes(w).unwrap(), want);
    assert_eq!(arrays[5].1.to_vec::<f32>().unwrap(), [2.0]);
    assert_eq!(arrays[6].1.to_vec::<f32>().unwrap(), [-16.0]);
}

#[test]
fn corrupt_gguf_files_give_errors_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("c.gguf");
    let a = Array::from_slice(&[1.5f32; 12], &[3, 4]).unwrap();
    let meta = vec![
        ("s".to_string(), GgufValue::String("text".into())),
        (
            "l".to_string(),
            GgufValue::Strings(vec!["x".into(), "yz".into()]),
        ),
    ];
    io::save_gguf(&path, &[("a", a.clone()), ("b", a)], &meta).unwrap();
    let whole = std::fs::read(&path).unwrap();
    // Every truncation fails (the file ends with the last tensor's data).
    for len in 0..whole.len() {
        std::fs::write(&path, &whole[..len]).unwrap();
        let msg = file_error(&path);
        assert!(
            msg.contains("truncated") || msg.contains("not a GGUF file"),
            "{len}: {msg}"
        );
    }
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"GGML\x03\0\0\0".to_vec(), "not a GGUF file"),
        (
            [&b"GGUF"[..], &1u32.to_le_bytes(), &[0; 16]].concat(),
            "version 1 is not supported",
        ),
        (
            [&b"GGUF"[..], &3u32.to_be_bytes(), &[0; 16]].concat(),
            "big-endian",
        ),
        (
            file((&[], 0), (&tensor_info("t", &[4], 0, 1 << 40), 1), &[0; 16]),
            "past the end",
        ),
        (
            file((&[], 0), (&tensor_info("t", &[4], 77, 0), 1), &[0; 16]),
            "'t' is of the unknown type 77",
        ),
        (
            file((&[], 0), (&tensor_info("t", &[4], 14, 0), 1), &[0; 16]),
            "'t' is of type Q6_K",
        ),
        (
            file(
                (&[], 0),
                (
                    &[tensor_info("t", &[4], 0, 0), tensor_info("t", &[4], 0, 0)].concat(),
                    2,
                ),
                &[0; 16],
            ),
            "two tensors are named 't'",
        ),
        (
            file(
                (&[], 0),
                (
                    &[
                        tensor_info("x.weight", &[32], 8, 0),
                        tensor_info("x.scales", &[1], 0, 64),
                    ]
                    .concat(),
                    2,
                ),
                &[0; 68],
            ),
            "two tensors are named 'x.scales' (the quantized tensor 'x.weight' gives it)",
        ),
        (
            file(
                (&[], 0),
                (&tensor_info("t", &[1 << 62, 1 << 62], 0, 0), 1),
                &[0; 16],
            ),
            "too large",
        ),
        (
            file(
                (
                    &[
                        string("k"),
                        9u32.to_le_bytes().to_vec(),
                        6u32.to_le_bytes().to_vec(),
                        (1u64 << 62).to_le_bytes().to_vec(),
                    ]
                    .concat(),
                    1,
                ),
                (&[], 0),
                &[],
            ),
            "claims",
        ),
        (file((&[], u64::MAX), (&[], u64::MAX), &[]), "truncated"),
    ];
    for (i, (bytes, want)) in cases.iter().enumerate() {
        std::fs::write(&path, bytes).unwrap();
        let msg = file_error(&path);
        assert!(msg.contains(want), "case {i}: {msg}");
    }
    // A missing file is an argument error (MLX's ValueError), naming it.
    let missing = d.path().join("missing.gguf");
    let e = io::load_gguf(&missing, ()).unwrap_err();
    assert!(
        matches!(e, Error::Argument { op: "load", .. }) && e.to_string().contains("missing.gguf"),
        "{e}"
    );
}

#[test]
fn gguf_saves_refuse_what_the_format_or_mlx_cannot_hold() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("s.gguf");
    let a = Array::from_slice(&[1u8, 2], &[2]).unwrap();
    let e = io::save_gguf(&path, &[("u", a)], &[]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Runtime {
                op: "save_gguf",
                ..
            }
        ) && e.to_string().contains("'u'"),
        "{e}"
    );
    assert!(!path.exists(), "a refused save writes nothing");
    let f = Array::from_slice(&[1.0f32], &[1]).unwrap();
    let meta = |v| vec![("k".to_string(), GgufValue::Array(v))];
    let two_d = Array::from_slice(&[1i32; 4], &[2, 2]).unwrap();
    let e = io::save_gguf(&path, &[("f", f.clone())], &meta(two_d)).unwrap_err();
    assert!(matches!(e, Error::Runtime { .. }), "{e}");
    let empty = Array::from_slice::<i32>(&[], &[0]).unwrap();
    let e = io::save_gguf(&path, &[("f", f.clone())], &meta(empty)).unwrap_err();
    assert!(matches!(e, Error::Runtime { .. }), "{e}");
    let half = Array::from_bytes(&[0, 0x3c], Dtype::Float16, &[1], ()).unwrap();
    let e = io::save_gguf(&path, &[("f", f.clone())], &meta(half)).unwrap_err();
    assert!(matches!(e, Error::Dtype { .. }), "{e}");
    let e = io::save_gguf(&path, &[("f", f.clone()), ("f", f)], &[]).unwrap_err();
    assert!(matches!(e, Error::Argument { .. }), "{e}");
    assert!(!path.exists());
}
