//! `tokenize` against a brute-force reference (every way to cut the text, the lightest kept) on
//! random texts and vocabularies, and mlx-data 0.1.0's choices between equal cuts.

mod common;

use common::*;
use rill_data::{tokenize, Buffer, CharTrie, Error, HostArray, Transforms};

/// Every lightest cut of `text[i..]`: (skips, cost, ids) by plain recursion over the vocabulary.
fn all_cuts(
    vocab: &[&[u8]],
    scores: &[f64],
    text: &[u8],
    i: usize,
    ignore_unk: bool,
) -> Vec<(usize, f64, Vec<i64>)> {
    if i == text.len() {
        return vec![(0, 0.0, vec![])];
    }
    let mut out = Vec::new();
    for (id, t) in vocab.iter().enumerate() {
        if text[i..].starts_with(t) {
            for (s, c, mut ids) in all_cuts(vocab, scores, text, i + t.len(), ignore_unk) {
                ids.insert(0, id as i64);
                out.push((s, c + scores[id], ids));
            }
        }
    }
    if out.is_empty() && ignore_unk {
        // The longest prefix of text[i..] that begins a token, then the byte after it.
        let read = (0..=text.len() - i)
            .rev()
            .find(|&k| vocab.iter().any(|t| t.starts_with(&text[i..i + k])))
            .unwrap();
        let next = (i + read + 1).min(text.len());
        for (s, c, ids) in all_cuts(vocab, scores, text, next, ignore_unk) {
            out.push((s + 1, c, ids));
        }
    }
    out
}

fn best(cuts: Vec<(usize, f64, Vec<i64>)>) -> Vec<Vec<i64>> {
    let Some(min) = cuts
        .iter()
        .map(|c| (c.0, c.1))
        .min_by(|a, b| a.partial_cmp(b).unwrap())
    else {
        return vec![];
    };
    cuts.into_iter()
        .filter(|c| c.0 == min.0 && (c.1 - min.1).abs() < 1e-9)
        .map(|c| c.2)
        .collect()
}

#[test]
fn cuts_are_the_lightest_on_random_texts() {
    let mut rng = Lcg(17);
    let mut checked = 0;
    for round in 0..300 {
        let alphabet = b"abcd";
        let vocab: Vec<Vec<u8>> = {
            let mut v: Vec<Vec<u8>> = Vec::new();
            while v.len() < 6 {
                let len = 1 + rng.below(3);
                let t: Vec<u8> = (0..len).map(|_| alphabet[rng.below(4)]).collect();
                if !v.contains(&t) {
                    v.push(t);
                }
            }
            v
        };
        let refs: Vec<&[u8]> = vocab.iter().map(|t| t.as_slice()).collect();
        let mut trie = CharTrie::new();
        for t in &refs {
            trie.insert(t, None).unwrap();
        }
        let scores: Vec<f64> = if round % 2 == 0 {
            vec![1.0; vocab.len()]
        } else {
            (0..vocab.len())
                .map(|_| 0.1 + rng.below(1000) as f64 / 100.0)
                .collect()
        };
        let text: Vec<u8> = (0..rng.below(12)).map(|_| alphabet[rng.below(4)]).collect();
        for ignore_unk in [false, true] {
            let want = best(all_cuts(&refs, &scores, &text, 0, ignore_unk));
            let given: &[f64] = if round % 2 == 0 { &[] } else { &scores };
            match tokenize(&trie, &text, given, ignore_unk) {
                Ok(ids) => {
                    assert!(
                        want.contains(&ids),
                        "{:?} in {refs:?}: got {ids:?}, want one of {want:?}",
                        String::from_utf8_lossy(&text)
                    );
                    checked += 1;
                }
                Err(e) => assert!(want.is_empty(), "{e}, but {want:?} cut it"),
            }
        }
    }
    assert!(checked > 300, "only {checked} texts could be cut");
}

#[test]
fn equal_cuts_and_skips_are_chosen_as_mlx_data_chooses() {
    let trie = |tokens: &[&str]| {
        let mut t = CharTrie::new();
        for s in tokens {
            t.insert(s.as_bytes(), None).unwrap();
        }
        t
    };
    // (vocabulary, text, ignore_unk, mlx-data 0.1.0's ids)
    let cases: &[(&[&str], &str, bool, &[i64])] = &[
        (&["a", "b", "ab", "ba", "c", "abc"], "aba", false, &[0, 3]),
        (
            &["a", "b", "ab", "ba", "c", "abc"],
            "ababa",
            false,
            &[0, 3, 3],
        ),
        (&["a", "b", "ab", "ba", "c", "abc"], "abab", false, &[2, 2]),
        (&["a", "b", "ab", "ba", "c", "abc"], "bab", false, &[1, 2]),
        (&["a", "b", "ab", "ba", "c", "abc"], "axb", true, &[0, 1]),
        (&["a", "b", "ab", "ba", "c", "abc"], "xxab", true, &[2]),
        (&["abc", "b", "c"], "abcab", true, &[0]),
        (&["abc", "bd"], "abd", true, &[]),
        (&["abc", "bd"], "aabd", true, &[1]),
        (&["a", "ab", "bc", "d", "cz"], "abcd", true, &[0, 2, 3]),
    ];
    for (vocab, text, ignore_unk, want) in cases {
        let got = tokenize(&trie(vocab), text.as_bytes(), &[], *ignore_unk).unwrap();
        assert_eq!(&got, want, "{text:?} in {vocab:?}");
    }
    let err = tokenize(&trie(&["ab", "a"]), b"ab c", &[], false).unwrap_err();
    assert!(err.contains("at byte 2"), "{err}");
}

#[test]
fn the_step_gives_int64_ids_and_names_the_sample_it_cannot_cut() {
    let mut t = CharTrie::new();
    assert_eq!(t.insert(b"x", Some(5)).unwrap(), 5);
    assert_eq!(t.insert("é".as_bytes(), None).unwrap(), 1);
    assert_eq!(t.insert(b"x", None).unwrap(), 5, "a token keeps its id");
    assert_eq!(
        (t.num_keys(), t.search(b"x"), t.search(b"y")),
        (2, Some(5), None)
    );
    assert_eq!(t.key(1), Some("é".as_bytes()));
    let b = Buffer::from_vec(vec![
        sample(&[("s", HostArray::from_text("xéx"))]),
        sample(&[("s", HostArray::from_text("xy"))]),
    ]);
    let tok = b.tokenize("s", &t, false, &[], "ids").unwrap();
    let s = tok.get(0).unwrap();
    assert_eq!(s["ids"].to_vec::<i64>().unwrap(), vec![5, 1, 5]);
    match tok.get(1) {
        Err(Error::Sample { op, key, index, .. }) => {
            assert_eq!((op, key.as_str(), index), ("tokenize", "s", 1))
        }
        other => panic!("expected an error, got {:?}", other.map(|_| ())),
    }
    assert!(
        b.tokenize("s", &t, false, &[1.0; 3], "").is_err(),
        "id 5 has no score"
    );
}
