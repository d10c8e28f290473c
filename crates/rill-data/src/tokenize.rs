//! `tokenize`: text (a sample's bytes) cut into the tokens of a vocabulary, held in a
//! [`CharTrie`], as mlx-data does it.
//!
//! The text's positions are the nodes of a graph; each token that matches at position `i` and
//! ends at `j` is an edge `i -> j` weighing the token's score (1 without scores). The result is
//! the lightest path from the start to the end (the fewest tokens, without scores), found by one
//! pass over the positions in order: an edge replaces a node's best path only when strictly
//! lighter, so between equal paths the one found first wins, which is mlx-data's choice
//! (checked against mlx-data 0.1.0: "aba" with {a, b, ab, ba} gives [a, ba]).
//!
//! Text that no token covers is an error naming the farthest position reached, unless
//! `ignore_unk`: then a position where no token starts gets an edge that skips what the trie walk
//! from there read plus the byte it failed on, emitting nothing; a path with fewer skips always
//! wins over one with more (so skips are a last resort), then the lighter one. These are facts
//! observed on mlx-data 0.1.0, which documents neither.
//!
//! Tokens are bytes: a UTF-8 character of several bytes is matched byte by byte, as mlx-data's
//! `CharTrie` matches it.

use std::collections::HashMap;

#[derive(Clone, Default)]
struct Node {
    /// Children by the next byte, sorted by it.
    children: Vec<(u8, usize)>,
    /// The token that ends here.
    id: Option<i64>,
}

/// A vocabulary: tokens (byte strings) and their ids.
#[derive(Clone)]
pub struct CharTrie {
    nodes: Vec<Node>,
    keys: HashMap<i64, Vec<u8>>,
}

impl Default for CharTrie {
    fn default() -> Self {
        CharTrie {
            nodes: vec![Node::default()],
            keys: HashMap::new(),
        }
    }
}

impl CharTrie {
    pub fn new() -> Self {
        Self::default()
    }

    fn child(&self, node: usize, b: u8) -> Option<usize> {
        let c = &self.nodes[node].children;
        c.binary_search_by_key(&b, |&(k, _)| k).ok().map(|i| c[i].1)
    }

    /// Adds `token` with `id` (the number of tokens so far when None) and returns its id; a token
    /// already there keeps its id. An empty token is refused (it would match everywhere).
    pub fn insert(&mut self, token: &[u8], id: Option<i64>) -> Result<i64, String> {
        if token.is_empty() {
            return Err("a token cannot be empty".into());
        }
        let mut node = 0;
        for &b in token {
            node = match self.child(node, b) {
                Some(n) => n,
                None => {
                    let n = self.nodes.len();
                    self.nodes.push(Node::default());
                    let c = &mut self.nodes[node].children;
                    let at = c.partition_point(|&(k, _)| k < b);
                    c.insert(at, (b, n));
                    n
                }
            };
        }
        if let Some(existing) = self.nodes[node].id {
            return Ok(existing);
        }
        let id = id.unwrap_or(self.keys.len() as i64);
        if self.keys.contains_key(&id) {
            return Err(format!("the id {id} is already another token's"));
        }
        self.nodes[node].id = Some(id);
        self.keys.insert(id, token.to_vec());
        Ok(id)
    }

    /// The id of `token`, if it is one.
    pub fn search(&self, token: &[u8]) -> Option<i64> {
        let mut node = 0;
        for &b in token {
            node = self.child(node, b)?;
        }
        self.nodes[node].id
    }

    /// The token with this id.
    pub fn key(&self, id: i64) -> Option<&[u8]> {
        self.keys.get(&id).map(|k| k.as_slice())
    }

    pub fn num_keys(&self) -> usize {
        self.keys.len()
    }

    /// Whether every id indexes a table of `n` scores.
    pub(crate) fn ids_below(&self, n: usize) -> bool {
        self.keys.keys().all(|&id| id >= 0 && (id as usize) < n)
    }

    /// Calls `f(end, id)` for each token that starts at `text[i]`, shortest first, and returns
    /// the position where the walk stopped (the first byte no token continues with, or the end).
    fn walk(&self, text: &[u8], i: usize, mut f: impl FnMut(usize, i64)) -> usize {
        let mut node = 0;
        for (j, &b) in text.iter().enumerate().skip(i) {
            match self.child(node, b) {
                Some(n) => node = n,
                None => return j,
            }
            if let Some(id) = self.nodes[node].id {
                f(j + 1, id);
            }
        }
        text.len()
    }
}

/// A path's weight: skips first, then the scores' sum.
type Weight = (usize, f64);

fn lighter(a: Weight, b: Option<Weight>) -> bool {
    b.is_none_or(|b| a.0 < b.0 || (a.0 == b.0 && a.1 < b.1))
}

/// The ids of the lightest tokenization of `text` (see the module doc). `scores[id]` weighs
/// token `id` (1 each when `scores` is empty).
pub fn tokenize(
    trie: &CharTrie,
    text: &[u8],
    scores: &[f64],
    ignore_unk: bool,
) -> Result<Vec<i64>, String> {
    let n = text.len();
    let score = |id: i64| {
        if scores.is_empty() {
            1.0
        } else {
            scores[id as usize]
        }
    };
    let mut best: Vec<Option<Weight>> = vec![None; n + 1];
    // The step that reached each position: (from, the token, or None for a skip).
    let mut prev: Vec<(usize, Option<i64>)> = vec![(0, None); n + 1];
    best[0] = Some((0, 0.0));
    let mut farthest = 0;
    for i in 0..n {
        let Some((skips, cost)) = best[i] else {
            continue;
        };
        farthest = i;
        let mut any = false;
        let stop = trie.walk(text, i, |end, id| {
            any = true;
            let w = (skips, cost + score(id));
            if lighter(w, best[end]) {
                best[end] = Some(w);
                prev[end] = (i, Some(id));
            }
        });
        if !any && ignore_unk {
            let end = (stop + 1).min(n);
            let w = (skips + 1, cost);
            if lighter(w, best[end]) {
                best[end] = Some(w);
                prev[end] = (i, None);
            }
        }
    }
    if best[n].is_none() {
        return Err(format!(
            "could not tokenize {:?}: nothing in the vocabulary matches at byte {farthest}",
            String::from_utf8_lossy(text)
        ));
    }
    let mut ids = Vec::new();
    let mut at = n;
    while at > 0 {
        let (from, id) = prev[at];
        ids.extend(id);
        at = from;
    }
    ids.reverse();
    Ok(ids)
}
