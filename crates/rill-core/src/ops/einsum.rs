//! `einsum` and `einsum_path`: Einstein summation reduced to diagonals, sums, transposes,
//! reshapes and batched `matmul`.
//!
//! The subscripts are parsed into one list of labels per operand; an ellipsis becomes labels of
//! its own, numbered from the right so that the ellipsis dims of all operands broadcast together
//! (an operand with fewer of them has only the last ones). Each operand first loses its repeated
//! labels (`diagonal` pairs them up, so `ii` is the diagonal and `ii->` the trace) and the labels
//! no other operand and not the output names (summed at once). Operands are then contracted two
//! at a time in the order `einsum_path` picks: labels shared by the pair and needed later are
//! batch dims, labels shared and not needed later are contracted, the rest are the rows and
//! columns of one `matmul`. Sizes of 1 broadcast against any size, as in MLX.
//!
//! The order is greedy: at each step the pair whose contraction costs the fewest multiply-adds,
//! the first such pair on ties (MLX's choice on the cases the tests compare).

use super::{broadcast_to, diagonal, matmul, multiply, reshape, sum, transpose};
use crate::{Array, Error, Result, Stream, StreamOrDevice};

/// A label: a letter, or an ellipsis dim (`ELLIPSIS + k`, `k` counted from the right).
type Label = u32;
const ELLIPSIS: Label = 1 << 16;

/// The parsed subscripts.
#[derive(Debug, Clone)]
struct Spec {
    inputs: Vec<Vec<Label>>,
    output: Vec<Label>,
}

fn err(msg: impl Into<String>) -> Error {
    Error::arg("einsum", msg)
}

/// The labels of one operand's subscripts for an operand of `ndim` dims.
fn parse_term(term: &str, ndim: Option<usize>) -> Result<Vec<Label>> {
    let mut labels = Vec::new();
    let mut ellipsis_at = None;
    let mut rest = term;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("...") {
            if ellipsis_at.is_some() {
                return Err(err(format!(
                    "Subscripts '{term}' have more than one ellipsis"
                )));
            }
            ellipsis_at = Some(labels.len());
            rest = r;
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        if !c.is_ascii_alphabetic() {
            return Err(err(format!(
                "Subscripts must be letters (or an ellipsis), got '{c}' in '{term}'"
            )));
        }
        labels.push(c as Label);
        rest = &rest[1..];
    }
    if let Some(at) = ellipsis_at {
        let explicit = labels.len();
        let n = match ndim {
            Some(nd) if nd >= explicit => nd - explicit,
            Some(nd) => {
                return Err(err(format!(
                    "Subscripts '{term}' name {explicit} dimensions but the operand has {nd}"
                )))
            }
            // In the output: filled in later from the inputs' ellipsis dims.
            None => 0,
        };
        let dims = (0..n).rev().map(|k| ELLIPSIS + k as Label);
        labels.splice(at..at, dims);
    }
    Ok(labels)
}

fn parse(subscripts: &str, shapes: &[&[usize]]) -> Result<Spec> {
    let s: String = subscripts.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match s.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (s.as_str(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != shapes.len() {
        return Err(err(format!(
            "Number of operands ({}) does not match the subscripts '{subscripts}' ({} terms)",
            shapes.len(),
            terms.len()
        )));
    }
    let mut inputs = Vec::new();
    for (i, (t, shape)) in terms.iter().zip(shapes).enumerate() {
        let labels = parse_term(t, Some(shape.len()))?;
        if labels.len() != shape.len() {
            return Err(err(format!(
                "Subscripts '{t}' of operand {i} name {} dimensions but its shape is {shape:?}",
                labels.len()
            )));
        }
        inputs.push(labels);
    }
    let ellipsis_rank = inputs
        .iter()
        .flatten()
        .filter(|&&l| l >= ELLIPSIS)
        .map(|&l| l - ELLIPSIS + 1)
        .max()
        .unwrap_or(0);
    let ellipsis: Vec<Label> = (0..ellipsis_rank).rev().map(|k| ELLIPSIS + k).collect();
    let output = match rhs {
        Some(r) => {
            let mut out = parse_term(r, None)?;
            if let Some(at) = r.find("...") {
                let at = r[..at].chars().count();
                out.splice(at..at, ellipsis.iter().copied());
            }
            for (i, l) in out.iter().enumerate() {
                if out[..i].contains(l) {
                    return Err(err(format!(
                        "Output subscript '{}' appears more than once in '{subscripts}'",
                        char::from_u32(*l).unwrap_or('?')
                    )));
                }
                if !inputs.iter().any(|t| t.contains(l)) {
                    return Err(err(format!(
                        "Output subscript '{}' does not appear in the inputs of '{subscripts}'",
                        char::from_u32(*l).unwrap_or('?')
                    )));
                }
            }
            out
        }
        None => {
            // NumPy's implicit output: the ellipsis dims, then the letters named once, sorted.
            let mut once: Vec<Label> = inputs
                .iter()
                .flatten()
                .copied()
                .filter(|&l| l < ELLIPSIS)
                .filter(|l| inputs.iter().flatten().filter(|m| *m == l).count() == 1)
                .collect();
            once.sort_unstable();
            ellipsis.iter().copied().chain(once).collect()
        }
    };
    Ok(Spec { inputs, output })
}

/// The size of every label: the largest over the operands, where each is that size or 1.
fn label_sizes(spec: &Spec, shapes: &[&[usize]]) -> Result<Vec<(Label, usize)>> {
    let mut sizes: Vec<(Label, usize)> = Vec::new();
    for (labels, shape) in spec.inputs.iter().zip(shapes) {
        for (&l, &n) in labels.iter().zip(shape.iter()) {
            match sizes.iter_mut().find(|(m, _)| *m == l) {
                Some((_, size)) if *size == 1 => *size = n,
                Some(_) => {}
                None => sizes.push((l, n)),
            }
        }
    }
    for (i, (labels, shape)) in spec.inputs.iter().zip(shapes).enumerate() {
        for (d, (&l, &n)) in labels.iter().zip(shape.iter()).enumerate() {
            let size = size_of(&sizes, l);
            if n != size && n != 1 {
                return Err(err(format!(
                    "Cannot broadcast dimension {d} of input {i} with shape {shape:?} to size {size}."
                )));
            }
        }
    }
    Ok(sizes)
}

fn size_of(sizes: &[(Label, usize)], l: Label) -> usize {
    sizes.iter().find(|(m, _)| *m == l).map_or(1, |&(_, n)| n)
}

/// The labels a term keeps after summing out those needed nowhere else and merging repeats.
fn reduced(labels: &[Label], needed: &dyn Fn(Label) -> bool) -> Vec<Label> {
    let mut out: Vec<Label> = Vec::new();
    for &l in labels {
        if needed(l) && !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// The pair contraction of terms `a` and `b` that keeps `keep` labels: the resulting labels and
/// its cost in multiply-adds.
fn contraction(
    a: &[Label],
    b: &[Label],
    keep: &dyn Fn(Label) -> bool,
    sizes: &[(Label, usize)],
) -> (Vec<Label>, usize) {
    let mut all: Vec<Label> = reduced(a, &|_| true);
    all.extend(reduced(b, &|_| true).into_iter().filter(|l| !a.contains(l)));
    let result: Vec<Label> = all.iter().copied().filter(|&l| keep(l)).collect();
    let cost = flops(&all, result.len() < all.len(), 2, sizes);
    (result, cost)
}

/// The multiply-adds of a contraction over `labels` of `terms` operands, in opt_einsum's count
/// (which MLX reports): the size of the label space once per extra operand, and once more when
/// a label is summed.
fn flops(labels: &[Label], summed: bool, terms: usize, sizes: &[(Label, usize)]) -> usize {
    let size: usize = labels.iter().map(|&l| size_of(sizes, l)).product();
    size * terms.saturating_sub(1).max(1) + if summed { size } else { 0 }
}

/// The greedy contraction order: pairs of positions in the current list of terms (each
/// contraction removes the pair and appends its result), and the total and naive costs.
fn plan(spec: &Spec, sizes: &[(Label, usize)]) -> (Vec<(usize, usize)>, usize) {
    let mut terms: Vec<Vec<Label>> = spec.inputs.clone();
    let mut path = Vec::new();
    let mut total = 0;
    while terms.len() > 1 {
        let mut best: Option<(usize, usize, usize, Vec<Label>)> = None;
        for i in 0..terms.len() {
            for j in i + 1..terms.len() {
                let keep = |l: Label| {
                    spec.output.contains(&l)
                        || terms
                            .iter()
                            .enumerate()
                            .any(|(k, t)| k != i && k != j && t.contains(&l))
                };
                let (labels, cost) = contraction(&terms[i], &terms[j], &keep, sizes);
                if best.as_ref().is_none_or(|b| cost < b.2) {
                    best = Some((i, j, cost, labels));
                }
            }
        }
        let (i, j, cost, labels) = best.expect("at least two terms");
        total += cost;
        terms.remove(j);
        terms.remove(i);
        terms.push(labels);
        path.push((i, j));
    }
    (path, total)
}

/// `x` (with `labels`) with repeated labels merged into their diagonal and the labels `needed`
/// refuses summed out; returns the new array and labels.
fn simplify(
    mut x: Array,
    mut labels: Vec<Label>,
    needed: &dyn Fn(Label) -> bool,
    stream: Stream,
) -> Result<(Array, Vec<Label>)> {
    // Repeated labels: `diagonal` removes both axes and appends the diagonal as the last one.
    while let Some((i, j)) = (0..labels.len())
        .flat_map(|i| (i + 1..labels.len()).map(move |j| (i, j)))
        .find(|&(i, j)| labels[i] == labels[j])
    {
        let l = labels[i];
        x = diagonal(&x, 0, i as isize, j as isize, stream)?;
        labels.remove(j);
        labels.remove(i);
        labels.push(l);
    }
    let drop: Vec<isize> = (0..labels.len())
        .filter(|&d| !needed(labels[d]))
        .map(|d| d as isize)
        .collect();
    if !drop.is_empty() {
        x = sum(&x, Some(&drop), false, stream)?;
        labels.retain(|&l| needed(l));
    }
    Ok((x, labels))
}

/// `x` (with `labels`) permuted to `order` (a permutation of its labels).
fn permute(x: &Array, labels: &[Label], order: &[Label], stream: Stream) -> Result<Array> {
    let perm: Vec<isize> = order
        .iter()
        .map(|l| labels.iter().position(|m| m == l).expect("label present") as isize)
        .collect();
    if perm.iter().enumerate().all(|(i, &p)| p == i as isize) {
        return Ok(x.clone());
    }
    transpose(x, Some(&perm), stream)
}

/// `x` broadcast so that every dim has its label's full size.
fn expand(x: &Array, labels: &[Label], sizes: &[(Label, usize)], stream: Stream) -> Result<Array> {
    let full: Vec<usize> = labels.iter().map(|&l| size_of(sizes, l)).collect();
    if full == x.shape() {
        return Ok(x.clone());
    }
    broadcast_to(x, &full, stream)
}

/// Contracts `a` and `b`, keeping the labels `keep` accepts, through one batched matmul.
fn contract(
    (a, la): (&Array, &[Label]),
    (b, lb): (&Array, &[Label]),
    keep: &dyn Fn(Label) -> bool,
    sizes: &[(Label, usize)],
    stream: Stream,
) -> Result<(Array, Vec<Label>)> {
    let (a, la) = simplify(
        a.clone(),
        la.to_vec(),
        &|l| keep(l) || lb.contains(&l),
        stream,
    )?;
    let (b, lb) = simplify(
        b.clone(),
        lb.to_vec(),
        &|l| keep(l) || la.contains(&l),
        stream,
    )?;
    let batch: Vec<Label> = la
        .iter()
        .copied()
        .filter(|l| lb.contains(l) && keep(*l))
        .collect();
    let inner: Vec<Label> = la
        .iter()
        .copied()
        .filter(|l| lb.contains(l) && !keep(*l))
        .collect();
    let rows: Vec<Label> = la.iter().copied().filter(|l| !lb.contains(l)).collect();
    let cols: Vec<Label> = lb.iter().copied().filter(|l| !la.contains(l)).collect();
    let a_order: Vec<Label> = [&batch[..], &rows, &inner].concat();
    let b_order: Vec<Label> = [&batch[..], &inner, &cols].concat();
    // Shared labels must agree in size before they are merged; dims of only one side keep theirs.
    let a = permute(&a, &la, &a_order, stream)?;
    let b = permute(&b, &lb, &b_order, stream)?;
    let a_full = broadcast_shared(&a, &a_order, &lb, sizes, stream)?;
    let b_full = broadcast_shared(&b, &b_order, &la, sizes, stream)?;
    let result_labels: Vec<Label> = [&batch[..], &rows, &cols].concat();
    let y = if inner.is_empty() && (rows.is_empty() || cols.is_empty()) {
        // An outer or elementwise product: matmul of a k = 1 dim would do, but multiply is direct.
        let a_shape: Vec<isize> = a_order
            .iter()
            .map(|l| {
                if la.contains(l) {
                    dim(&a_full, &a_order, *l)
                } else {
                    1
                }
            })
            .chain(cols.iter().map(|_| 1))
            .collect();
        let b_shape: Vec<isize> = batch
            .iter()
            .map(|&l| dim(&b_full, &b_order, l))
            .chain(rows.iter().map(|_| 1))
            .chain(cols.iter().map(|&l| dim(&b_full, &b_order, l)))
            .collect();
        multiply(
            &reshape(&a_full, &a_shape, stream)?,
            &reshape(&b_full, &b_shape, stream)?,
            stream,
        )?
    } else {
        let n = |x: &Array, order: &[Label], ls: &[Label]| -> isize {
            ls.iter().map(|&l| dim(x, order, l)).product()
        };
        let bsz = n(&a_full, &a_order, &batch);
        let k = n(&a_full, &a_order, &inner);
        let a3 = reshape(&a_full, &[bsz, n(&a_full, &a_order, &rows), k], stream)?;
        let b3 = reshape(&b_full, &[bsz, k, n(&b_full, &b_order, &cols)], stream)?;
        let y = matmul(&a3, &b3, stream)?;
        let shape: Vec<isize> = batch
            .iter()
            .chain(&rows)
            .map(|&l| dim(&a_full, &a_order, l))
            .chain(cols.iter().map(|&l| dim(&b_full, &b_order, l)))
            .collect();
        reshape(&y, &shape, stream)?
    };
    Ok((y, result_labels))
}

fn dim(x: &Array, labels: &[Label], l: Label) -> isize {
    x.shape()[labels.iter().position(|&m| m == l).expect("label present")] as isize
}

/// `x` (with `labels`) broadcast to full size along the labels it shares with `other`.
fn broadcast_shared(
    x: &Array,
    labels: &[Label],
    other: &[Label],
    sizes: &[(Label, usize)],
    stream: Stream,
) -> Result<Array> {
    let target: Vec<usize> = labels
        .iter()
        .zip(x.shape())
        .map(|(l, &n)| {
            if other.contains(l) {
                size_of(sizes, *l)
            } else {
                n
            }
        })
        .collect();
    if target == x.shape() {
        return Ok(x.clone());
    }
    broadcast_to(x, &target, stream)
}

/// The Einstein summation `subscripts` (NumPy's notation: `"ij,jk->ik"`, an implicit output
/// when `->` is missing, `...` for broadcast dims, a repeated label for a diagonal) over
/// `operands`. Products go through `matmul`, so they need inexact dtypes, as in MLX.
pub fn einsum(subscripts: &str, operands: &[Array], s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("einsum")?;
    if operands.is_empty() {
        return Err(err("At least one operand is required"));
    }
    let shapes: Vec<&[usize]> = operands.iter().map(|a| a.shape()).collect();
    let spec = parse(subscripts, &shapes)?;
    let sizes = label_sizes(&spec, &shapes)?;
    let (path, _) = plan(&spec, &sizes);
    let mut terms: Vec<(Array, Vec<Label>)> = operands
        .iter()
        .cloned()
        .zip(spec.inputs.iter().cloned())
        .collect();
    // Each operand first drops what no other operand and not the output needs.
    for i in 0..terms.len() {
        let others: Vec<Label> = terms
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != i)
            .flat_map(|(_, t)| t.1.clone())
            .collect();
        let needed = |l: Label| spec.output.contains(&l) || others.contains(&l);
        let (x, labels) = terms[i].clone();
        terms[i] = simplify(x, labels, &needed, stream)?;
    }
    for (i, j) in path {
        let (b, lb) = terms.remove(j);
        let (a, la) = terms.remove(i);
        let rest: Vec<Label> = terms.iter().flat_map(|t| t.1.clone()).collect();
        let keep = |l: Label| spec.output.contains(&l) || rest.contains(&l);
        terms.push(contract((&a, &la), (&b, &lb), &keep, &sizes, stream)?);
    }
    let (x, labels) = terms.pop().expect("one term left");
    let (x, labels) = simplify(x, labels, &|l| spec.output.contains(&l), stream)?;
    let x = permute(&x, &labels, &spec.output, stream)?;
    expand(&x, &spec.output, &sizes, stream)
}

/// The contraction order `einsum` uses for `subscripts` over operands of `shapes` (pairs of
/// positions in the shrinking list of terms, each result appended at the end; `[0]` alone for a
/// single operand), and a summary of its cost in NumPy's and MLX's format.
pub fn einsum_path(subscripts: &str, shapes: &[&[usize]]) -> Result<(Vec<Vec<usize>>, String)> {
    if shapes.is_empty() {
        return Err(err("At least one operand is required"));
    }
    let spec = parse(subscripts, shapes)?;
    let sizes = label_sizes(&spec, shapes)?;
    let (path, cost) = plan(&spec, &sizes);
    let mut all: Vec<Label> = spec.inputs.iter().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    let naive_scaling = all.len();
    // Summed means a label left out of the output; a diagonal (`ii->i`) alone sums nothing.
    let summed = all.iter().any(|l| !spec.output.contains(l));
    let naive = flops(&all, summed, spec.inputs.len(), &sizes);
    let cost = if path.is_empty() { naive } else { cost };
    let optimized_scaling = optimized_scaling(&spec, &path);
    let info = format!(
        "  Complete contraction:  {subscripts}\n         Naive scaling:  {naive_scaling}\n     Optimized scaling:  {optimized_scaling}\n      Naive FLOP count:  {naive}\n  Optimized FLOP count:  {cost}\n"
    );
    // One operand is one step over it alone, as MLX reports it.
    let steps = if path.is_empty() {
        vec![vec![0]]
    } else {
        path.iter().map(|&(i, j)| vec![i, j]).collect()
    };
    Ok((steps, info))
}

/// The largest number of distinct labels any one contraction of `path` touches.
fn optimized_scaling(spec: &Spec, path: &[(usize, usize)]) -> usize {
    let mut terms = spec.inputs.clone();
    let mut scaling = terms
        .iter()
        .map(|t| reduced(t, &|_| true).len())
        .max()
        .unwrap_or(0);
    for &(i, j) in path {
        let b = terms.remove(j);
        let a = terms.remove(i);
        let rest: Vec<Label> = terms.iter().flatten().copied().collect();
        let mut all = a.clone();
        all.extend(b.iter().filter(|l| !a.contains(l)));
        scaling = scaling.max(reduced(&all, &|_| true).len());
        all.retain(|l| spec.output.contains(l) || rest.contains(l));
        terms.push(all);
    }
    scaling
}
