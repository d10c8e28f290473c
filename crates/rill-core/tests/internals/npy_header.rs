//! The .npy header: what NumPy, MLX and old files write, what is refused and why.

use rill_core::internals::{header_bytes, parse_header, HeaderError, DATA_ALIGN, MAGIC};
use rill_core::Dtype;

fn header(text: &str) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

#[test]
fn reads_the_spellings_of_numpy_mlx_and_old_files() {
    let cases = [
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            Dtype::Float32,
            false,
            vec![2, 3],
        ),
        (
            "{'descr': '<V2', 'fortran_order': True, 'shape': (3, )}",
            Dtype::Bfloat16,
            true,
            vec![3],
        ),
        (
            "{'descr': '|b1', 'fortran_order': False, 'shape': ()}",
            Dtype::Bool,
            false,
            vec![],
        ),
        (
            "{\"shape\": (4L, 5L), \"fortran_order\": False, \"descr\": \">i8\"}\n",
            Dtype::Int64,
            false,
            vec![4, 5],
        ),
        (
            "{'descr':'<c8','fortran_order':False,'shape':(0,)}    \n",
            Dtype::Complex64,
            false,
            vec![0],
        ),
    ];
    for (text, dtype, fortran, shape) in cases {
        let h = parse_header(&header(text)).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            (h.dtype, h.fortran_order, h.shape),
            (dtype, fortran, shape),
            "{text}"
        );
        assert_eq!(h.data_start, 10 + text.len());
    }
    let big = parse_header(&header(
        "{'descr': '>f8', 'fortran_order': False, 'shape': (1,)}",
    ))
    .unwrap();
    assert!(big.big_endian);
}

#[test]
fn refuses_bad_headers_with_a_reason() {
    let cases = [
        (
            "{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}",
            "complex128",
        ),
        (
            "{'descr': '<U5', 'fortran_order': False, 'shape': (1,)}",
            "strings",
        ),
        (
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}",
            "structured",
        ),
        ("{'descr': '<f4', 'fortran_order': False}", "no 'shape'"),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "negative",
        ),
        (
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "True or False",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
            "unexpected key",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,",
            "ends too early",
        ),
        ("{'descr': '<f4' 'fortran_order': False}", "expected ','"),
        ("[1, 2]", "not a dict"),
        (&"(".repeat(100), "nested too deeply"),
    ];
    for (text, want) in cases {
        let e = parse_header(&header(text)).unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
    let error = |bytes: &[u8]| parse_header(bytes).unwrap_err().to_string();
    assert!(error(b"\x93NUMPY\x04\x00\x00\x00").contains("version 4.0"));
    assert!(error(b"\x93NUMPY\x01").contains("truncated"));
    assert!(error(b"PK\x03\x04").contains("magic"));
    let mut cut = header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}");
    cut.truncate(30);
    assert!(error(&cut).contains("truncated"));
    let unsupported = "{'descr': '>c16', 'fortran_order': False, 'shape': (1,)}";
    assert!(matches!(
        parse_header(&header(unsupported)),
        Err(HeaderError::Unsupported(_))
    ));
}

#[test]
fn written_headers_align_the_data_and_read_back() {
    for shape in [
        vec![],
        vec![7],
        vec![2, 3, 4],
        vec![1; 40],
        vec![3; 5000],
        vec![1; 30000],
    ] {
        for dtype in Dtype::ALL {
            let bytes = header_bytes(dtype, &shape);
            assert_eq!(bytes.len() % DATA_ALIGN, 0);
            assert_eq!(bytes[6], if shape.len() < 20000 { 1 } else { 2 }, "version");
            assert_eq!(bytes.last(), Some(&b'\n'));
            let h = parse_header(&bytes).unwrap();
            assert_eq!(
                (h.dtype, h.shape.clone(), h.fortran_order),
                (dtype, shape.clone(), false)
            );
            assert_eq!(h.data_start, bytes.len());
        }
    }
}
