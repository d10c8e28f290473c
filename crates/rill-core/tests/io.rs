//! Saving and loading `.npy`, `.npz` and safetensors files.
//!
//! References are independent of rill's writers and readers: the expected bytes are the random
//! bytes an array was made from; hand-written `.npy` files (Fortran order, big-endian, 0-d,
//! misaligned) get their expected values from index arithmetic; archives and safetensors files
//! are also written and read with the `zip` and `safetensors` crates directly. The comparisons
//! with NumPy's own files are in tests/python/test_io.py.

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use rill_core::io::{self, Loaded};
use rill_core::{ops, Array, Device, Dtype, Error};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const SHAPES: &[&[usize]] = &[&[], &[0], &[1], &[7], &[3, 4, 5], &[2, 0, 3], &[1, 1, 9]];

/// Random bytes for a `dtype` array of `n` elements: any bit pattern, except that bools are 0 or 1.
fn random_bytes(rng: &mut StdRng, dtype: Dtype, n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n * dtype.size()];
    rng.fill_bytes(&mut bytes);
    if dtype == Dtype::Bool {
        bytes.iter_mut().for_each(|b| *b &= 1);
    }
    bytes
}

fn random_array(rng: &mut StdRng, dtype: Dtype, shape: &[usize]) -> (Array, Vec<u8>) {
    let bytes = random_bytes(rng, dtype, shape.iter().product());
    (Array::from_bytes(&bytes, dtype, shape, ()).unwrap(), bytes)
}

/// The elements of `a` as bytes in row-major order, gathered here by index arithmetic over the
/// layout of its host data (no rill op in between: a copy op converts floats and would quiet a
/// signalling NaN).
fn row_major_bytes(a: &Array) -> Vec<u8> {
    let data = a.host_data().unwrap();
    let (shape, size) = (a.shape(), a.itemsize());
    let n: usize = shape.iter().product();
    let buffer = data.buffer.as_bytes();
    let mut out = Vec::with_capacity(n * size);
    let mut index = vec![0usize; shape.len()];
    for _ in 0..n {
        let element = data.layout.offset as isize
            + index
                .iter()
                .zip(&data.layout.strides)
                .map(|(&i, &s)| i as isize * s)
                .sum::<isize>();
        let at = element as usize * size;
        out.extend_from_slice(&buffer[at..at + size]);
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    out
}

/// True when `a`'s buffer is memory rill did not allocate (a mapping), not a pooled copy.
fn is_mapped(a: &Array) -> bool {
    a.data().unwrap().buffer.capacity() == 0
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A `.npy` file written by hand: version 1.0, `header` padded with spaces to `pad_to` bytes
/// in all (so the data's alignment can be chosen), then `data`.
fn hand_npy(path: &Path, header: &str, pad_to: usize, data: &[u8]) {
    let mut text = header.to_string();
    while 10 + text.len() + 1 < pad_to {
        text.push(' ');
    }
    text.push('\n');
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(b"\x93NUMPY\x01\x00").unwrap();
    f.write_all(&(text.len() as u16).to_le_bytes()).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.write_all(data).unwrap();
}

fn file_error_of(r: Result<impl std::fmt::Debug, Error>, path: &Path) -> String {
    match r {
        Err(e @ Error::File { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("[load] ") && msg.contains(&path.display().to_string()),
                "the error names the op and the file: {msg}"
            );
            msg
        }
        other => panic!(
            "expected a file error for {}, got {other:?}",
            path.display()
        ),
    }
}

#[test]
fn npy_round_trips_every_dtype_byte_for_byte() {
    let mut rng = StdRng::seed_from_u64(1);
    let d = dir();
    for dtype in Dtype::ALL {
        for &shape in SHAPES {
            let (a, bytes) = random_array(&mut rng, dtype, shape);
            let path = d.path().join(format!("{dtype}.npy"));
            io::save_npy(&path, &a).unwrap();
            // The file itself: a 64-byte aligned header, then exactly the bytes.
            let file = std::fs::read(&path).unwrap();
            let header_len = file.len() - bytes.len();
            assert_eq!(header_len % 64, 0);
            assert_eq!(&file[header_len..], &bytes[..], "{dtype} {shape:?}");
            let text = String::from_utf8_lossy(&file[10..header_len]);
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            let shape_text = match shape.len() {
                1 => format!("({},)", dims[0]),
                _ => format!("({})", dims.join(", ")),
            };
            assert!(text.contains(&format!("'shape': {shape_text}")), "{text}");

            let b = io::load_npy(&path, ()).unwrap();
            assert_eq!((b.dtype(), b.shape()), (dtype, shape), "{dtype} {shape:?}");
            assert_eq!(row_major_bytes(&b), bytes, "{dtype} {shape:?}");
            if !bytes.is_empty() {
                assert!(
                    is_mapped(&b),
                    "an aligned little-endian file is used in place"
                );
            }
        }
    }
}

#[test]
fn npy_type_strings_are_numpys_and_mlxs() {
    let d = dir();
    let expected = [
        (Dtype::Bool, "|b1"),
        (Dtype::Uint8, "|u1"),
        (Dtype::Int8, "|i1"),
        (Dtype::Uint16, "<u2"),
        (Dtype::Int64, "<i8"),
        (Dtype::Float16, "<f2"),
        (Dtype::Float64, "<f8"),
        (Dtype::Complex64, "<c8"),
        // MLX writes bfloat16 as two raw bytes.
        (Dtype::Bfloat16, "<V2"),
    ];
    for (dtype, descr) in expected {
        let path = d.path().join("t.npy");
        io::save_npy(
            &path,
            &Array::from_bytes(&vec![0; dtype.size()], dtype, &[1], ()).unwrap(),
        )
        .unwrap();
        let file = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&file);
        assert!(
            text.contains(&format!("'descr': '{descr}'")),
            "{dtype}: {text}"
        );
        assert!(text.contains("'fortran_order': False"));
    }
}

#[test]
fn saves_write_row_major_order_for_any_layout() {
    let d = dir();
    let a = ops::arange(0.0, 24.0, 1.0, Some(Dtype::Int32), ()).unwrap();
    let a = ops::reshape(&a, &[2, 3, 4], ()).unwrap();
    let t = ops::transpose(&a, Some(&[2, 0, 1]), ()).unwrap();
    let path = d.path().join("t.npy");
    io::save_npy(&path, &t).unwrap();
    let b = io::load_npy(&path, ()).unwrap();
    assert_eq!(b.shape(), &[4, 2, 3]);
    // t[i, j, k] = a[j, k, i] = 12 j + 4 k + i
    let mut want = Vec::new();
    for i in 0..4 {
        for j in 0..2 {
            for k in 0..3 {
                want.push(12 * j + 4 * k + i);
            }
        }
    }
    assert_eq!(b.to_vec::<i32>().unwrap(), want);
    let file = std::fs::read(&path).unwrap();
    let raw: Vec<i32> = file[file.len() - 96..]
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(raw, want);
}

#[test]
fn saved_views_keep_every_bit() {
    // float16 signalling NaNs (0x7c01) in a transposed view: written as they are, not quieted.
    let mut rng = StdRng::seed_from_u64(8);
    let mut bits: Vec<u16> = (0..24).map(|_| rng.random()).collect();
    bits[5] = 0x7c01;
    bits[17] = 0xfc02;
    let bytes: Vec<u8> = bits.iter().flat_map(|b| b.to_le_bytes()).collect();
    let a = Array::from_bytes(&bytes, Dtype::Float16, &[4, 6], ()).unwrap();
    let t = ops::transpose(&a, None, ()).unwrap();
    let d = dir();
    let path = d.path().join("t.npy");
    io::save_npy(&path, &t).unwrap();
    let file = std::fs::read(&path).unwrap();
    let want: Vec<u8> = (0..6)
        .flat_map(|j| (0..4).map(move |i| i * 6 + j))
        .flat_map(|k| bits[k].to_le_bytes())
        .collect();
    assert_eq!(&file[file.len() - 48..], &want[..]);
}

#[test]
fn fortran_order_files_load_as_views_with_the_right_values() {
    let d = dir();
    let path = d.path().join("f.npy");
    // Column-major (2, 3, 4): element [i, j, k] at i + 2 j + 6 k; its value is 100 i + 10 j + k.
    let (n0, n1, n2) = (2, 3, 4);
    let mut data = vec![0f32; n0 * n1 * n2];
    for i in 0..n0 {
        for j in 0..n1 {
            for k in 0..n2 {
                data[i + n0 * j + n0 * n1 * k] = (100 * i + 10 * j + k) as f32;
            }
        }
    }
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    hand_npy(
        &path,
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }",
        64,
        &bytes,
    );
    let a = io::load_npy(&path, ()).unwrap();
    assert_eq!(a.shape(), &[2, 3, 4]);
    assert!(
        is_mapped(&a),
        "a Fortran-order file is a view of the mapping"
    );
    let mut want = Vec::new();
    for i in 0..n0 {
        for j in 0..n1 {
            for k in 0..n2 {
                want.push((100 * i + 10 * j + k) as f32);
            }
        }
    }
    assert_eq!(a.to_vec::<f32>().unwrap(), want);
    // Saved again, it is row-major.
    let again = d.path().join("c.npy");
    io::save_npy(&again, &a).unwrap();
    let text = String::from_utf8_lossy(&std::fs::read(&again).unwrap()[..64]).to_string();
    assert!(text.contains("'fortran_order': False"), "{text}");
    assert_eq!(
        io::load_npy(&again, ()).unwrap().to_vec::<f32>().unwrap(),
        want
    );
}

#[test]
fn big_endian_files_are_copied_in_native_order() {
    let d = dir();
    let mut rng = StdRng::seed_from_u64(2);
    let path = d.path().join("be.npy");

    let ints: Vec<i32> = (0..10).map(|_| rng.random()).collect();
    let data: Vec<u8> = ints.iter().flat_map(|v| v.to_be_bytes()).collect();
    hand_npy(
        &path,
        "{'descr': '>i4', 'fortran_order': False, 'shape': (2, 5), }",
        64,
        &data,
    );
    let a = io::load_npy(&path, ()).unwrap();
    assert!(!is_mapped(&a), "a big-endian file is copied");
    assert_eq!(a.to_vec::<i32>().unwrap(), ints);

    let floats: Vec<f64> = (0..6).map(|_| rng.random::<f64>() - 0.5).collect();
    let data: Vec<u8> = floats.iter().flat_map(|v| v.to_be_bytes()).collect();
    hand_npy(
        &path,
        "{'descr': '>f8', 'fortran_order': True, 'shape': (3, 2), }",
        64,
        &data,
    );
    let a = io::load_npy(&path, ()).unwrap();
    // Column-major (3, 2): [i, j] at i + 3 j.
    let want: Vec<f64> = (0..3)
        .flat_map(|i| (0..2).map(move |j| (i, j)))
        .map(|(i, j)| floats[i + 3 * j])
        .collect();
    assert_eq!(a.to_vec::<f64>().unwrap(), want);

    // complex64: each of the two float32 parts is big-endian.
    let parts: Vec<f32> = (0..8).map(|_| rng.random()).collect();
    let data: Vec<u8> = parts.iter().flat_map(|v| v.to_be_bytes()).collect();
    hand_npy(
        &path,
        "{'descr': '>c8', 'fortran_order': False, 'shape': (4,), }",
        64,
        &data,
    );
    let a = io::load_npy(&path, ()).unwrap();
    let got = a.to_vec::<rill_core::num_complex::Complex32>().unwrap();
    let want: Vec<rill_core::num_complex::Complex32> = parts
        .chunks(2)
        .map(|p| rill_core::num_complex::Complex32::new(p[0], p[1]))
        .collect();
    assert_eq!(got, want);

    // One-byte types have no byte order, whatever the header says.
    hand_npy(
        &path,
        "{'descr': '>u1', 'fortran_order': False, 'shape': (3,), }",
        64,
        &[1, 2, 250],
    );
    assert_eq!(
        io::load_npy(&path, ()).unwrap().to_vec::<u8>().unwrap(),
        vec![1, 2, 250]
    );
}

#[test]
fn zero_d_and_misaligned_files_load() {
    let d = dir();
    let path = d.path().join("s.npy");
    hand_npy(
        &path,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
        64,
        &2.5f64.to_le_bytes(),
    );
    let a = io::load_npy(&path, ()).unwrap();
    assert_eq!(a.shape(), &[] as &[usize]);
    assert_eq!(a.item::<f64>().unwrap(), 2.5);

    // Data starting at an odd offset cannot be used in place as int64: it is copied.
    let values: Vec<i64> = vec![-3, 1 << 40, 7];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,)}";
    hand_npy(&path, header, 10 + header.len() + 1, &data);
    assert_ne!(
        (10 + header.len() + 1) % 8,
        0,
        "the test needs a misaligned start"
    );
    let a = io::load_npy(&path, ()).unwrap();
    assert!(!is_mapped(&a));
    assert_eq!(a.to_vec::<i64>().unwrap(), values);
}

#[test]
fn corrupt_npy_files_give_errors_naming_the_file() {
    let d = dir();
    let path = d.path().join("bad.npy");
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    io::save_npy(&path, &a).unwrap();
    let whole = std::fs::read(&path).unwrap();

    // Every truncation, from the empty file to one byte short.
    for len in 0..whole.len() {
        std::fs::write(&path, &whole[..len]).unwrap();
        let msg = file_error_of(io::load_npy(&path, ()), &path);
        assert!(
            msg.contains("truncated") || msg.contains("magic") || msg.contains("parse"),
            "{len} bytes: {msg}"
        );
    }

    // Random garbage, with and without a valid magic string in front.
    let mut rng = StdRng::seed_from_u64(3);
    for i in 0..200 {
        let mut junk = vec![0u8; rng.random_range(0..300)];
        rng.fill_bytes(&mut junk);
        if i % 2 == 0 {
            let mut with_magic = b"\x93NUMPY\x01\x00".to_vec();
            with_magic.extend_from_slice(&junk);
            junk = with_magic;
        }
        std::fs::write(&path, &junk).unwrap();
        let _ = file_error_of(io::load_npy(&path, ()), &path);
    }

    // Dtypes rill does not have are dtype errors (MLX's ValueError), naming the file.
    for descr in ["<c16", "<U3", "|O", ">f16", "<M8[ns]"] {
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}");
        hand_npy(&path, &header, 64, &[0; 16]);
        let e = io::load_npy(&path, ()).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Dtype { op: "load", .. }), "{msg}");
        assert!(
            msg.contains(&format!("'{descr}'")) && msg.contains("bad.npy"),
            "{msg}"
        );
    }
    let cases = [
        ("{'descr': '<f4', 'shape': (1,), }", "fortran_order"),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
            "truncated",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1 << 62, 4), }",
            "parse",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
            "too large",
        ),
    ];
    for (header, want) in cases {
        hand_npy(&path, header, 64, &[0; 8]);
        let msg = file_error_of(io::load_npy(&path, ()), &path);
        assert!(msg.contains(want), "{header}: {msg}");
    }
    // A bool byte other than 0 or 1.
    hand_npy(
        &path,
        "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
        64,
        &[0, 1, 2],
    );
    assert!(file_error_of(io::load_npy(&path, ()), &path).contains("bool"));

    let missing = d.path().join("missing.npy");
    assert!(file_error_of(io::load_npy(&missing, ()), &missing).contains("cannot open"));
    let a_dir = d.path().join("adir.npy");
    std::fs::create_dir(&a_dir).unwrap();
    assert!(file_error_of(io::load_npy(&a_dir, ()), &a_dir).contains("not a regular file"));
}

fn named(rng: &mut StdRng) -> (Vec<(String, Array)>, Vec<Vec<u8>>) {
    let mut arrays = Vec::new();
    let mut bytes = Vec::new();
    for (i, dtype) in Dtype::ALL.into_iter().enumerate() {
        let shape = SHAPES[i % SHAPES.len()];
        let (a, b) = random_array(rng, dtype, shape);
        arrays.push((format!("{dtype}_{i}"), a));
        bytes.push(b);
    }
    (arrays, bytes)
}

#[test]
fn npz_round_trips_stored_and_deflated() {
    let mut rng = StdRng::seed_from_u64(4);
    let d = dir();
    let (arrays, bytes) = named(&mut rng);
    for compressed in [false, true] {
        let path = d.path().join(format!("a{compressed}.npz"));
        io::save_npz(&path, &arrays, compressed).unwrap();

        // Read with the zip crate: members `name.npy`, stored or deflated, each a .npy file.
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(archive.len(), arrays.len());
        for (i, (name, _)) in arrays.iter().enumerate() {
            let mut member = archive.by_name(&format!("{name}.npy")).unwrap();
            let method = if compressed {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            assert_eq!(member.compression(), method);
            let mut contents = Vec::new();
            std::io::Read::read_to_end(&mut member, &mut contents).unwrap();
            assert!(contents.starts_with(b"\x93NUMPY"));
            assert_eq!(&contents[contents.len() - bytes[i].len()..], &bytes[i][..]);
        }

        let loaded = io::load_npz(&path, ()).unwrap();
        assert_eq!(loaded.len(), arrays.len());
        for ((name, a), ((lname, b), want)) in arrays.iter().zip(loaded.iter().zip(&bytes)) {
            assert_eq!(name, lname);
            assert_eq!((a.dtype(), a.shape()), (b.dtype(), b.shape()));
            assert_eq!(&row_major_bytes(b), want, "{name}");
            if !compressed && !want.is_empty() {
                assert!(is_mapped(b), "stored members are used in place: {name}");
            }
        }
    }
    // Repeated names are refused before anything is written.
    let a = Array::from_slice(&[1u8], &[1]).unwrap();
    let path = d.path().join("dup.npz");
    let e = io::save_npz(&path, &[("x", a.clone()), ("x", a)], false).unwrap_err();
    assert!(matches!(e, Error::Argument { op: "savez", .. }), "{e}");
    assert!(!path.exists());
}

#[test]
fn npz_written_by_the_zip_crate_loads() {
    // Members written without alignment, one stored and one deflated, named as np.savez
    // names positional arrays.
    let d = dir();
    let path = d.path().join("foreign.npz");
    let npy = |descr: &str, shape: &str, data: &[u8]| {
        let p = d.path().join("m.npy");
        hand_npy(
            &p,
            &format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"),
            128,
            data,
        );
        std::fs::read(&p).unwrap()
    };
    let first = npy("<i2", "(3,)", &[1, 0, 2, 0, 0xff, 0xff]);
    let second = npy("<f4", "(2,)", &[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("arr_0.npy", stored).unwrap();
    w.write_all(&first).unwrap();
    w.start_file(
        "arr_1.npy",
        stored.compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    w.write_all(&second).unwrap();
    w.finish().unwrap();
    let loaded = io::load_npz(&path, ()).unwrap();
    assert_eq!(loaded[0].0, "arr_0");
    assert_eq!(loaded[0].1.to_vec::<i16>().unwrap(), vec![1, 2, -1]);
    assert_eq!(loaded[1].0, "arr_1");
    assert_eq!(loaded[1].1.to_vec::<f32>().unwrap(), vec![1.0, -2.0]);
}

#[test]
fn corrupt_npz_files_give_errors() {
    let mut rng = StdRng::seed_from_u64(5);
    let d = dir();
    let (a, _) = random_array(&mut rng, Dtype::Float32, &[1000]);
    for compressed in [false, true] {
        let path = d.path().join("c.npz");
        io::save_npz(&path, &[("a", a.clone())], compressed).unwrap();
        let whole = std::fs::read(&path).unwrap();
        // A flipped byte inside the member's data (the middle of the file).
        let mut bad = whole.clone();
        bad[whole.len() / 2] ^= 0x40;
        std::fs::write(&path, &bad).unwrap();
        let e = io::load_npz(&path, ()).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, Error::File { .. })
                && msg.contains("member 'a.npy'")
                && msg.contains("corrupt"),
            "compressed {compressed}: {msg}"
        );
        // Every truncation point gives an error and never a panic.
        for len in (0..whole.len()).step_by(97) {
            std::fs::write(&path, &whole[..len]).unwrap();
            assert!(io::load_npz(&path, ()).is_err(), "{len} bytes");
        }
    }
    let path = d.path().join("junk.npz");
    std::fs::write(&path, b"this is not a zip archive at all").unwrap();
    let e = io::load_npz(&path, ()).unwrap_err();
    assert!(
        matches!(e, Error::Argument { op: "load", .. }) && e.to_string().contains("junk.npz"),
        "{e}"
    );
    // A missing archive too (MLX's ValueError for both).
    let e = io::load_npz(d.path().join("missing.npz"), ()).unwrap_err();
    assert!(
        matches!(e, Error::Argument { op: "load", .. }) && e.to_string().contains("missing.npz"),
        "{e}"
    );
}

#[test]
fn safetensors_round_trip_with_metadata_against_the_crate() {
    let mut rng = StdRng::seed_from_u64(6);
    let d = dir();
    let (arrays, bytes) = named(&mut rng);
    let metadata = BTreeMap::from([
        ("format".to_string(), "mlx".to_string()),
        ("note".to_string(), "é \"quoted\"".to_string()),
    ]);
    let path = d.path().join("m.safetensors");
    io::save_safetensors(&path, &arrays, Some(&metadata)).unwrap();

    // Read with the safetensors crate directly.
    let file = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&file).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&file).unwrap();
    let got: BTreeMap<String, String> = header.metadata().clone().unwrap().into_iter().collect();
    assert_eq!(got, metadata);
    for ((name, a), want) in arrays.iter().zip(&bytes) {
        let t = st.tensor(name).unwrap();
        assert_eq!(t.shape(), a.shape());
        assert_eq!(t.data(), &want[..], "{name}");
    }

    let (loaded, loaded_meta) = io::load_safetensors(&path, ()).unwrap();
    assert_eq!(loaded_meta, metadata);
    assert_eq!(loaded.len(), arrays.len());
    for (name, a) in &arrays {
        let (_, b) = loaded.iter().find(|(n, _)| n == name).unwrap();
        let i = arrays.iter().position(|(n, _)| n == name).unwrap();
        assert_eq!((b.dtype(), b.shape()), (a.dtype(), a.shape()));
        assert_eq!(row_major_bytes(b), bytes[i], "{name}");
        if !bytes[i].is_empty() {
            assert!(is_mapped(b), "{name}");
        }
    }

    // Written by the crate, read by rill (no metadata: an empty map).
    let minus_five = (-5i64).to_le_bytes();
    let views: Vec<(String, safetensors::tensor::TensorView)> = vec![
        (
            "w".into(),
            safetensors::tensor::TensorView::new(
                safetensors::Dtype::BF16,
                vec![2],
                &[0x80, 0x3f, 0x00, 0xc0],
            )
            .unwrap(),
        ),
        (
            "b".into(),
            safetensors::tensor::TensorView::new(safetensors::Dtype::I64, vec![1], &minus_five)
                .unwrap(),
        ),
    ];
    let path = d.path().join("crate.safetensors");
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    let (loaded, meta) = io::load_safetensors(&path, ()).unwrap();
    assert!(meta.is_empty());
    let w = &loaded.iter().find(|(n, _)| n == "w").unwrap().1;
    assert_eq!(w.dtype(), Dtype::Bfloat16);
    assert_eq!(w.to_vec::<f32>().unwrap(), vec![1.0, -2.0]);
    let b = &loaded.iter().find(|(n, _)| n == "b").unwrap().1;
    assert_eq!(b.to_vec::<i64>().unwrap(), vec![-5]);
}

#[test]
fn corrupt_safetensors_files_give_errors() {
    let d = dir();
    let path = d.path().join("c.safetensors");
    let a = Array::from_slice(&[1.0f32; 16], &[4, 4]).unwrap();
    io::save_safetensors(&path, &[("a", a)], None).unwrap();
    let whole = std::fs::read(&path).unwrap();
    for len in 0..whole.len() {
        std::fs::write(&path, &whole[..len]).unwrap();
        let msg = file_error_of(io::load_safetensors(&path, ()), &path);
        assert!(msg.contains("not a valid safetensors file"), "{len}: {msg}");
    }
    std::fs::write(&path, b"\xff\xff\xff\xff\xff\xff\xff\xffgarbage").unwrap();
    let _ = file_error_of(io::load_safetensors(&path, ()), &path);
    // A dtype rill does not have.
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F8_E4M3, vec![2], &[1, 2])
        .unwrap();
    std::fs::write(&path, safetensors::serialize([("f8", view)], None).unwrap()).unwrap();
    let e = io::load_safetensors(&path, ()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Dtype { op: "load", .. }), "{msg}");
    assert!(
        msg.contains("'f8'") && msg.contains("F8_E4M3") && msg.contains("c.safetensors"),
        "{msg}"
    );
}

#[test]
fn load_picks_the_format_by_extension_or_name() {
    let d = dir();
    let a = Array::from_slice(&[1i32, 2, 3], &[3]).unwrap();
    let npy = d.path().join("a.npy");
    io::save_npy(&npy, &a).unwrap();
    let npz = d.path().join("a.npz");
    io::save_npz(&npz, &[("arr_0", a.clone())], false).unwrap();
    let st = d.path().join("a.safetensors");
    io::save_safetensors(&st, &[("x", a.clone())], None).unwrap();

    assert!(
        matches!(io::load(&npy, None, ()).unwrap(), Loaded::Array(b) if b.to_vec::<i32>().unwrap() == [1, 2, 3])
    );
    assert!(
        matches!(io::load(&npz, None, ()).unwrap(), Loaded::Named { metadata: None, arrays } if arrays[0].0 == "arr_0")
    );
    assert!(
        matches!(io::load(&st, None, ()).unwrap(), Loaded::Named { metadata: Some(m), .. } if m.is_empty())
    );
    // A format named explicitly wins over the extension.
    let odd = d.path().join("weights.bin");
    std::fs::copy(&st, &odd).unwrap();
    assert!(matches!(
        io::load(&odd, Some("safetensors"), ()).unwrap(),
        Loaded::Named { .. }
    ));

    let e = io::load(&odd, None, ()).unwrap_err();
    assert_eq!(e.to_string(), "[load] Unknown file format bin");
    let e = io::load(d.path().join("noext"), None, ()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "[load] Could not infer file format from extension"
    );
    let e = io::load(&npy, Some("gif"), ()).unwrap_err();
    assert!(matches!(e, Error::Argument { .. }));
}

#[test]
fn loads_run_on_the_stream_they_are_given() {
    let d = dir();
    let path = d.path().join("s.npy");
    io::save_npy(&path, &Array::from_slice(&[4u16, 5], &[2]).unwrap()).unwrap();
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let a = io::load_npy(&path, s).unwrap();
    assert_eq!(a.stream(), s);
    let doubled = ops::add(&a, &a, ()).unwrap();
    assert_eq!(doubled.to_vec::<u16>().unwrap(), vec![8, 10]);
}

#[test]
fn a_failed_save_keeps_the_old_file() {
    let d = dir();
    let path = d.path().join("keep.npy");
    let old = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    io::save_npy(&path, &old).unwrap();
    let before = std::fs::read(&path).unwrap();

    // An array whose evaluation fails (an index out of bounds, found when it runs).
    let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
    let bad = ops::take(
        &x,
        &Array::from_slice(&[0i32, 9], &[2]).unwrap(),
        Some(0),
        (),
    )
    .unwrap();
    let e = io::save_npy(&path, &bad).unwrap_err();
    assert!(matches!(e, Error::Runtime { op: "take", .. }), "{e}");
    let e = io::save_npz(&path, &[("a", old.clone()), ("b", bad.clone())], true).unwrap_err();
    assert!(matches!(e, Error::Runtime { .. }), "{e}");
    let e = io::save_safetensors(&path, &[("b", bad)], None).unwrap_err();
    assert!(matches!(e, Error::Runtime { .. }), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // A directory that does not exist: the error names the file.
    let nowhere = d.path().join("no/such/dir/x.npy");
    let e = io::save_npy(&nowhere, &old).unwrap_err();
    assert!(
        matches!(e, Error::File { op: "save", .. }) && e.to_string().contains("x.npy"),
        "{e}"
    );

    // No temporary file is left behind.
    let left: Vec<PathBuf> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(left, vec![path]);
}

#[cfg(unix)]
#[test]
fn a_mapped_array_outlives_its_file_being_replaced_or_deleted() {
    let mut rng = StdRng::seed_from_u64(7);
    let d = dir();
    let path = d.path().join("m.npy");
    let (first, first_bytes) = random_array(&mut rng, Dtype::Float32, &[256, 64]);
    io::save_npy(&path, &first).unwrap();
    let loaded = io::load_npy(&path, ()).unwrap();
    assert!(is_mapped(&loaded));

    // Replacing the file (a save renames a new file over it) leaves the mapped array alone.
    let (second, second_bytes) = random_array(&mut rng, Dtype::Float32, &[256, 64]);
    io::save_npy(&path, &second).unwrap();
    assert_eq!(row_major_bytes(&loaded), first_bytes);
    assert_eq!(
        row_major_bytes(&io::load_npy(&path, ()).unwrap()),
        second_bytes
    );

    // So does deleting it; and arrays computed from it read the same bytes.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(row_major_bytes(&loaded), first_bytes);
    let sum = ops::add(&loaded, &loaded, ()).unwrap();
    let want: Vec<f32> = first_bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()) * 2.0)
        .collect();
    let got = sum.to_vec::<f32>().unwrap();
    assert!(got
        .iter()
        .zip(&want)
        .all(|(g, w)| g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())));
}

#[test]
fn saved_files_get_ordinary_permissions() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let d = dir();
        let path = d.path().join("p.npy");
        io::save_npy(&path, &Array::from_slice(&[1u8], &[1]).unwrap()).unwrap();
        let plain = d.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode(&path),
            mode(&plain),
            "a save creates files as a plain create does"
        );
    }
}
