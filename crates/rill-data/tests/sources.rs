//! Line and CSV readers against files written here, and their errors.

mod common;

use common::*;
use rill_data::{csv_reader, csv_reader_from_string, line_reader, Error, Transforms};

fn text(s: &rill_data::Sample, key: &str) -> String {
    s[key].to_string_lossy().unwrap()
}

#[test]
fn line_reader_gives_each_line_without_its_newline() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lines.txt");
    let lines = ["first", "", "third with ümlaut", "crlf"];
    std::fs::write(&p, "first\n\nthird with ümlaut\ncrlf\r\n").unwrap();
    let st = line_reader(p.to_str().unwrap(), "line").unwrap();
    let got: Vec<String> = st
        .collect()
        .unwrap()
        .iter()
        .map(|s| text(s, "line"))
        .collect();
    assert_eq!(got, lines);
    st.reset().unwrap();
    assert_eq!(st.collect().unwrap().len(), 4);
    // Prefetching a file keeps every line.
    let st = line_reader(p.to_str().unwrap(), "line")
        .unwrap()
        .prefetch(2, 2)
        .unwrap();
    let mut got: Vec<String> = st
        .collect()
        .unwrap()
        .iter()
        .map(|s| text(s, "line"))
        .collect();
    got.sort();
    let mut want: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want);

    let e = line_reader(dir.path().join("missing.txt").to_str().unwrap(), "line")
        .err()
        .unwrap();
    assert!(
        matches!(&e, Error::File { path, .. } if path.ends_with("missing.txt")),
        "{e}"
    );
}

#[test]
fn csv_reader_names_keys_by_the_header_and_keeps_quotes() {
    let body = "a;b\n1;\"x;y\"\n2;'q'\n";
    let st = csv_reader_from_string(body, b';', b'"').unwrap();
    let rows = st.collect().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (text(&rows[0], "a"), text(&rows[0], "b")),
        ("1".into(), "x;y".into())
    );
    assert_eq!(text(&rows[1], "b"), "'q'");

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("n.csv");
    let mut rng = Lcg(3);
    let nums: Vec<(u32, u32)> = (0..25)
        .map(|_| (rng.below(1000) as u32, rng.below(1000) as u32))
        .collect();
    let mut s = String::from("x,y\n");
    for (x, y) in &nums {
        s += &format!("{x},{y}\n");
    }
    std::fs::write(&p, s).unwrap();
    let st = csv_reader(p.to_str().unwrap(), b',', b'"')
        .unwrap()
        .rename_key("x", "z");
    let got: Vec<(u32, u32)> = st
        .collect()
        .unwrap()
        .iter()
        .map(|r| (text(r, "z").parse().unwrap(), text(r, "y").parse().unwrap()))
        .collect();
    assert_eq!(got, nums);

    let bad = csv_reader_from_string("a,b\n1,2\n3\n", b',', b'"').unwrap();
    assert!(bad.next().unwrap().is_some());
    let e = bad.next().unwrap_err();
    assert!(matches!(e, Error::File { line: Some(3), .. }), "{e}");
    assert!(bad.next().unwrap().is_none());
}
