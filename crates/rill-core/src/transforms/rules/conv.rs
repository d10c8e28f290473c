//! The rule of `Op::Conv`. Both cotangents are convolutions again, so grad of grad works and both
//! run on the convolution kernels (`backend/cpu/conv*.rs`). Per spatial dim, with stride `s`,
//! kernel dilation `kd`, input dilation `id`, padding `lo`/`hi`, kernel `K` (`Ke = (K-1) kd + 1`
//! taps wide), input `In` (`Ld = (In-1) id + 1` once dilated) and output `Out`, the forward sum is
//! `y[o] = Σ_k xd[o s + k kd - lo] w[k]` over the dilated input `xd`.
//!
//! - Input: `gxd[p] = Σ_k gs[p + lo - k kd] w[k]` over the cotangent dilated by `s`: a
//!   convolution of the cotangent with the kernel flipped (channels in and out swapped), input
//!   dilation `s`, padding `Ke - 1 - lo` before and `Ld - 1 + lo - (Out-1) s` after. Either can be
//!   negative: the convolution pads by at most zero and the first `-pad` outputs are dropped.
//!   The input's own gradient is every `id`-th element of `gxd`.
//! - Weights: `gw[k] = Σ_{n,o} g[n, o] xd[n, o s + k kd - lo]`: a convolution in which the input
//!   channels play the batch and the batch plays the channels, the cotangent is the kernel
//!   (kernel dilation `s`), the stride is `kd`, and the first `K` outputs are kept.
//!
//! Grouped convolutions are differentiated group by group.

use crate::op::ConvParams;
use crate::ops::{concatenate, conv_general, flip, slice, split, transpose, Split};
use crate::{Array, Result, Stream};

pub(super) fn conv(
    p: &ConvParams,
    x: &Array,
    w: &Array,
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    if p.groups == 1 {
        let gx = wants[0]
            .then(|| input_grad(p, x.shape(), w, g, s))
            .transpose()?;
        let gw = wants[1]
            .then(|| weight_grad(p, x, w.shape(), g, s))
            .transpose()?;
        return Ok(vec![gx, gw]);
    }
    let one = ConvParams {
        groups: 1,
        ..p.clone()
    };
    let last = x.ndim() as isize - 1;
    let xs = split(x, Split::Sections(p.groups), last, s)?;
    let ws = split(w, Split::Sections(p.groups), 0, s)?;
    let gs = split(g, Split::Sections(p.groups), last, s)?;
    let (mut gx, mut gw) = (Vec::new(), Vec::new());
    for ((x, w), g) in xs.iter().zip(&ws).zip(&gs) {
        if wants[0] {
            gx.push(input_grad(&one, x.shape(), w, g, s)?);
        }
        if wants[1] {
            gw.push(weight_grad(&one, x, w.shape(), g, s)?);
        }
    }
    Ok(vec![
        wants[0]
            .then(|| concatenate(&gx, Some(last), s))
            .transpose()?,
        wants[1].then(|| concatenate(&gw, Some(0), s)).transpose()?,
    ])
}

/// `(a, ...spatial, b)` to `(b, ...spatial, a)`.
fn swap_ends(a: &Array, s: Stream) -> Result<Array> {
    let n = a.ndim() as isize;
    let mut axes: Vec<isize> = (0..n).collect();
    axes.swap(0, n as usize - 1);
    transpose(a, Some(&axes), s)
}

fn input_grad(p: &ConvParams, x_shape: &[usize], w: &Array, g: &Array, s: Stream) -> Result<Array> {
    let d = x_shape.len() - 2;
    let (mut lo, mut hi, mut start, mut stop) = (vec![], vec![], vec![0isize], vec![]);
    stop.push(x_shape[0] as isize);
    let mut step = vec![1isize];
    for i in 0..d {
        let (inp, k, out) = (x_shape[1 + i], w.shape()[1 + i], g.shape()[1 + i]);
        let ld = ((inp - 1) * p.input_dilation[i] + 1) as isize;
        let ke = ((k - 1) * p.kernel_dilation[i] + 1) as isize;
        let lo_i = p.padding_lo[i] as isize;
        let before = ke - 1 - lo_i;
        let after = ld - 1 + lo_i - (out as isize - 1) * p.stride[i] as isize;
        lo.push(before.max(0) as usize);
        hi.push(after.max(0) as usize);
        // Output `q` of the padded convolution is `gxd[q + before - max(before, 0)]`.
        let first = before.max(0) - before;
        start.push(first);
        stop.push(first + ld);
        step.push(p.input_dilation[i] as isize);
    }
    start.push(0);
    stop.push(x_shape[d + 1] as isize);
    step.push(1);
    let full = conv_general(
        g,
        &swap_ends(w, s)?,
        &vec![1; d],
        &lo,
        &hi,
        &p.kernel_dilation,
        &p.stride,
        1,
        !p.flip,
        s,
    )?;
    slice(&full, &start, &stop, &step, s)
}

fn weight_grad(
    p: &ConvParams,
    x: &Array,
    w_shape: &[usize],
    g: &Array,
    s: Stream,
) -> Result<Array> {
    let d = w_shape.len() - 2;
    // (c_in, K'..., c_out) with K' >= K: the sums for taps past the kernel are dropped.
    let full = conv_general(
        &swap_ends(x, s)?,
        &swap_ends(g, s)?,
        &p.kernel_dilation,
        &p.padding_lo,
        &p.padding_hi,
        &p.stride,
        &p.input_dilation,
        1,
        false,
        s,
    )?;
    let mut stop: Vec<isize> = full.shape().iter().map(|&n| n as isize).collect();
    for i in 0..d {
        stop[1 + i] = w_shape[1 + i] as isize;
    }
    let kept = slice(&full, &vec![0; d + 2], &stop, &vec![1; d + 2], s)?;
    let kept = if p.flip {
        let axes: Vec<isize> = (1..=d as isize).collect();
        flip(&kept, Some(&axes), s)?
    } else {
        kept
    };
    swap_ends(&kept, s)
}
