//! Images: decoding (`load_image`) and mlx-data's geometric steps (resize, center and random
//! crops). An image in a sample is a uint8 array of shape (height, width, channels), as
//! mlx-data's: 3 channels for colour, 1 for grey (the alpha channel is dropped, as mlx-data drops
//! it).
//!
//! Decoding is `decode.rs`'s; resampling is the `image` crate's, and this file only moves pixels
//! between its buffers and sample arrays. Crops are plain slices, exact for any dtype. Resizing
//! is a triangle (bilinear) filter widened by the scale when shrinking, so a smaller image
//! averages the pixels it covers instead of skipping them; that is Pillow's `BILINEAR`
//! (mlx-data's own filter differs from it by a few levels when shrinking).
//!
//! A random crop draws its place from the step's seed and the sample's index (ChaCha8, `rng.rs`),
//! not from a generator shared by threads: the same pipeline gives the same crops whatever the
//! number of threads or the order they run in.

use crate::array::HostArray;
use crate::decode::decode;
use crate::error::{Error, Result};
use crate::load::{path_in, read};
use crate::rng::Rng;
use crate::sample::{get, Sample};
use image::{imageops, ImageBuffer, Luma, LumaA, Pixel, Rgb, Rgba};
use rill_core::Dtype;
use std::io::Cursor;

/// An error about sample `index`'s `key` in step `op`.
fn fail(op: &'static str, key: &str, index: usize, detail: String) -> Error {
    Error::Sample {
        op,
        key: key.to_string(),
        index,
        detail,
    }
}

/// `load_image`: the pixels of the image file that `key` names (below `prefix`), or of the encoded
/// bytes it holds (`from_memory`); with `info`, its `[width, height]` instead.
pub(crate) fn load_image(
    s: &Sample,
    key: &str,
    prefix: &str,
    info: bool,
    from_memory: bool,
    index: usize,
) -> Result<HostArray> {
    const OP: &str = "load_image";
    let pixels = |bytes: &[u8]| {
        if info {
            dimensions(bytes)
        } else {
            decode(bytes)
        }
    };
    if from_memory {
        // Decoded where the sample holds them: no copy of the encoded bytes.
        let a = get(s, key, OP, index)?;
        pixels(a.bytes()).map_err(|detail| {
            fail(
                OP,
                key,
                index,
                format!("the bytes of key '{key}': {detail}"),
            )
        })
    } else {
        let path = path_in(s, key, prefix, OP, index)?;
        pixels(&read(&path, OP)?)
            .map_err(|detail| fail(OP, key, index, format!("{}: {detail}", path.display())))
    }
}

/// `[width, height]` (int64) of encoded bytes, from the header alone (mlx-data's `info=True`).
pub(crate) fn dimensions(bytes: &[u8]) -> std::result::Result<HostArray, String> {
    let (w, h) = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .into_dimensions()
        .map_err(|e| format!("cannot read the image's header: {e}"))?;
    HostArray::from_slice(&[w as i64, h as i64], &[2]).map_err(|e| e.to_string())
}

/// Checks that `a` is an image (2 or 3 dims; a 2-d array is one channel) and returns its
/// (height, width).
pub(crate) fn extent(
    a: &HostArray,
    op: &'static str,
    key: &str,
    index: usize,
) -> Result<(usize, usize)> {
    match a.shape() {
        [h, w] | [h, w, _] => Ok((*h, *w)),
        s => Err(fail(
            op,
            key,
            index,
            format!("an image has shape (height, width) or (height, width, channels), not {s:?}"),
        )),
    }
}

/// The `w` x `h` window of `a` at row `y`, column `x` (the caller checks that it fits), copied
/// row by row straight from the image: one pass over the window's bytes, none over the rest.
fn crop_at(a: &HostArray, y: usize, x: usize, w: usize, h: usize) -> Result<HostArray> {
    let shape = a.shape();
    if (h, w) == (shape[0], shape[1]) {
        // The whole image: the same bytes, shared.
        return Ok(a.clone());
    }
    // Bytes per pixel: the channels (if any) times the element size.
    let px = shape[2..].iter().product::<usize>() * a.dtype().size();
    let row = shape[1] * px;
    let b = a.bytes();
    let mut out = Vec::with_capacity(h * w * px);
    for r in y..y + h {
        let at = r * row + x * px;
        out.extend_from_slice(&b[at..at + w * px]);
    }
    let mut cropped = shape.to_vec();
    cropped[0] = h;
    cropped[1] = w;
    HostArray::new(a.dtype(), cropped, out)
}

/// Checks that a `w` x `h` crop fits in `a`, returning `a`'s (height, width).
fn fits(
    a: &HostArray,
    w: usize,
    h: usize,
    op: &'static str,
    key: &str,
    index: usize,
) -> Result<(usize, usize)> {
    let (ih, iw) = extent(a, op, key, index)?;
    if w > iw || h > ih {
        return Err(fail(
            op,
            key,
            index,
            format!("the image is {iw}x{ih} (width x height), smaller than the {w}x{h} crop"),
        ));
    }
    Ok((ih, iw))
}

/// The `w` x `h` middle of the image (the offsets rounded down, as mlx-data's).
pub(crate) fn center_crop(
    a: &HostArray,
    w: usize,
    h: usize,
    op: &'static str,
    key: &str,
    index: usize,
) -> Result<HostArray> {
    let (ih, iw) = fits(a, w, h, op, key, index)?;
    crop_at(a, (ih - h) / 2, (iw - w) / 2, w, h)
}

/// A `w` x `h` crop at a place drawn uniformly from `seed` and the sample's `index`.
pub(crate) fn random_crop(
    a: &HostArray,
    w: usize,
    h: usize,
    seed: u64,
    op: &'static str,
    key: &str,
    index: usize,
) -> Result<HostArray> {
    let (ih, iw) = fits(a, w, h, op, key, index)?;
    let mut rng = Rng::new(seed, index as u64);
    let y = rng.below(ih - h + 1);
    let x = rng.below(iw - w + 1);
    crop_at(a, y, x, w, h)
}

/// The (width, height) that makes the image's smaller side `size`, keeping its aspect (the other
/// side rounded to the nearest pixel, as mlx-data's `image_resize_smallest_side`).
pub(crate) fn smallest_side(iw: usize, ih: usize, size: usize) -> (usize, usize) {
    let scale =
        |n: usize, of: usize| ((n as f64 * size as f64 / of as f64).round() as usize).max(1);
    if iw <= ih {
        (size, scale(ih, iw))
    } else {
        (scale(iw, ih), size)
    }
}

/// The image resized to `w` x `h` (see the module doc for the filter). uint8 images of 1 to 4
/// channels.
pub(crate) fn resize(
    a: &HostArray,
    w: usize,
    h: usize,
    op: &'static str,
    key: &str,
    index: usize,
) -> Result<HostArray> {
    let (ih, iw) = extent(a, op, key, index)?;
    let c = if a.ndim() == 2 { 1 } else { a.shape()[2] };
    if a.dtype() != Dtype::Uint8 || !(1..=4).contains(&c) || w == 0 || h == 0 {
        return Err(fail(
            op,
            key,
            index,
            format!(
                "resizes uint8 images of 1 to 4 channels to a size of at least 1x1, not a {} \
                 array of shape {:?} to {w}x{h}",
                a.dtype(),
                a.shape()
            ),
        ));
    }
    let px = a.bytes().to_vec();
    let (iw, ih, w32, h32) = (iw as u32, ih as u32, w as u32, h as u32);
    // The same filter for each channel count, through the crate's pixel type of that count.
    let out = match c {
        1 => resize_as::<Luma<u8>>(px, iw, ih, w32, h32),
        2 => resize_as::<LumaA<u8>>(px, iw, ih, w32, h32),
        3 => resize_as::<Rgb<u8>>(px, iw, ih, w32, h32),
        _ => resize_as::<Rgba<u8>>(px, iw, ih, w32, h32),
    }
    .ok_or_else(|| fail(op, key, index, "the image is too large".into()))?;
    let mut shape = vec![h, w];
    if a.ndim() == 3 {
        shape.push(c);
    }
    HostArray::new(Dtype::Uint8, shape, out)
}

fn resize_as<P: Pixel<Subpixel = u8> + 'static>(
    px: Vec<u8>,
    iw: u32,
    ih: u32,
    w: u32,
    h: u32,
) -> Option<Vec<u8>> {
    let img = ImageBuffer::<P, Vec<u8>>::from_raw(iw, ih, px)?;
    Some(imageops::resize(&img, w, h, imageops::FilterType::Triangle).into_raw())
}
