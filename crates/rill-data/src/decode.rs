//! Decoding encoded PNG and JPEG bytes into a sample's pixels: a uint8 array of shape
//! (height, width, 3) for colour and (height, width, 1) for grey, alpha dropped (as mlx-data).
//!
//! The common cases go straight to the codecs that the `image` crate wraps (zune-jpeg, png), which
//! write into the very buffer that becomes the sample's array. Through `image::load_from_memory`
//! the same decoding cost more than the codecs' own work: the JPEG decoder copied the input and
//! parsed its headers twice, and every image went through a `DynamicImage` and a conversion
//! pass. Formats and layouts the direct path does not handle (CMYK JPEG, anything neither PNG nor
//! JPEG) still go through the `image` crate, so what decodes is unchanged.
//!
//! 16-bit PNG samples keep their high byte (libpng's and stb_image's strip, hence mlx-data's and
//! Pillow's for RGB: the same pixels as theirs).

use crate::array::HostArray;
use image::ColorType;
use rill_core::Dtype;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_SOI: &[u8] = &[0xFF, 0xD8, 0xFF];
/// The most a decoded image may take: the `image` crate's default allocation limit, which the
/// decoding through it had. A header claiming a huge size is an error here, not an allocation
/// that aborts the process.
const MAX_BYTES: usize = 512 * 1024 * 1024;

/// What the direct path made of the bytes.
enum Direct {
    /// The pixels, (height, width, channels) with 1 or 3 channels.
    Pixels(usize, usize, usize, Vec<u8>),
    /// A valid image of a kind the direct path leaves to the `image` crate.
    Unsupported,
    /// A header whose (width, height) would decode to more than `MAX_BYTES`.
    TooLarge(usize, usize),
}

/// The pixels of encoded PNG or JPEG bytes (see the module doc), or why there are none.
pub(crate) fn decode(bytes: &[u8]) -> Result<HostArray, String> {
    // A codec that panics on hostile input must not take the worker down with a message that
    // names no sample: the panic becomes this image's error.
    let (h, w, c, data) = catch_unwind(AssertUnwindSafe(|| decode_pixels(bytes)))
        .unwrap_or_else(|_| Err("the decoder failed on malformed data".to_string()))?;
    HostArray::new(Dtype::Uint8, vec![h, w, c], data).map_err(|e| e.to_string())
}

fn decode_pixels(bytes: &[u8]) -> Result<(usize, usize, usize, Vec<u8>), String> {
    let direct = if bytes.starts_with(PNG_SIGNATURE) {
        png(bytes).map_err(|e| format!("cannot decode the image: {e}"))?
    } else if bytes.starts_with(JPEG_SOI) {
        jpeg(bytes).map_err(|e| format!("cannot decode the image: {e}"))?
    } else {
        Direct::Unsupported
    };
    match direct {
        Direct::Pixels(h, w, c, data) => Ok((h, w, c, data)),
        Direct::Unsupported => through_image_crate(bytes),
        Direct::TooLarge(w, h) => Err(format!(
            "cannot decode the image: {w}x{h} (width x height) decodes to more than {} MiB",
            MAX_BYTES >> 20
        )),
    }
}

/// JPEG through zune-jpeg with the options the `image` crate gives it (lenient about recoverable
/// stream errors, no width or height limit: the size is held to `MAX_BYTES`), colour converted
/// to RGB by the decoder itself.
fn jpeg(bytes: &[u8]) -> Result<Direct, zune_jpeg::errors::DecodeErrors> {
    let options = DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    d.decode_headers()?;
    let out = match d.input_colorspace() {
        Some(ColorSpace::Luma) => ColorSpace::Luma,
        Some(ColorSpace::YCbCr | ColorSpace::RGB) => ColorSpace::RGB,
        // CMYK, YCCK and the rest: the `image` crate's conversions.
        _ => return Ok(Direct::Unsupported),
    };
    d.set_options(d.options().jpeg_set_out_colorspace(out));
    let Some((w, h)) = d.dimensions() else {
        return Ok(Direct::Unsupported);
    };
    let c = out.num_components();
    let Some(n) = d.output_buffer_size() else {
        return Ok(Direct::Unsupported);
    };
    if n > MAX_BYTES {
        return Ok(Direct::TooLarge(w, h));
    }
    let mut data = vec![0; n];
    d.decode_into(&mut data)?;
    Ok(Direct::Pixels(h, w, c, data))
}

/// PNG through the png crate, expanded to 8-bit grey, grey+alpha, RGB or RGBA (palettes and
/// transparency become colours and alpha, 16-bit samples keep their high byte), then the alpha
/// channel dropped in place.
fn png(bytes: &[u8]) -> Result<Direct, png::DecodingError> {
    // The limit the `image` crate gave the png crate (above the png crate's own 64 MiB), so that
    // an image that decoded before still decodes.
    let limits = png::Limits { bytes: MAX_BYTES };
    let mut d = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    d.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    // Text and colour-profile chunks are metadata that a sample's pixels do not use.
    d.set_ignore_text_chunk(true);
    d.set_ignore_iccp_chunk(true);
    let mut r = d.read_info()?;
    let (colour, depth) = r.output_color_type();
    let (stored, kept) = match colour {
        png::ColorType::Grayscale => (1, 1),
        png::ColorType::GrayscaleAlpha => (2, 1),
        png::ColorType::Rgb => (3, 3),
        png::ColorType::Rgba => (4, 3),
        png::ColorType::Indexed => return Ok(Direct::Unsupported),
    };
    let Some(n) = r.output_buffer_size() else {
        return Ok(Direct::Unsupported);
    };
    if depth != png::BitDepth::Eight {
        return Ok(Direct::Unsupported);
    }
    let (w, h) = r.info().size();
    let (w, h) = (w as usize, h as usize);
    if n > MAX_BYTES {
        return Ok(Direct::TooLarge(w, h));
    }
    let mut data = vec![0; n];
    r.next_frame(&mut data)?;
    if stored != kept {
        drop_alpha(&mut data, stored, kept);
    }
    Ok(Direct::Pixels(h, w, kept, data))
}

/// Keeps the first `kept` of every `stored` bytes, in place: pixel i moves from i * stored to
/// i * kept, never ahead of where it is read, so one forward pass needs no second buffer.
fn drop_alpha(data: &mut Vec<u8>, stored: usize, kept: usize) {
    let pixels = data.len() / stored;
    for i in 0..pixels {
        for k in 0..kept {
            data[i * kept + k] = data[i * stored + k];
        }
    }
    data.truncate(pixels * kept);
}

/// Everything else through the `image` crate: a `DynamicImage` converted to grey or RGB.
fn through_image_crate(bytes: &[u8]) -> Result<(usize, usize, usize, Vec<u8>), String> {
    let img =
        image::load_from_memory(bytes).map_err(|e| format!("cannot decode the image: {e}"))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let grey = matches!(
        img.color(),
        ColorType::L8 | ColorType::La8 | ColorType::L16 | ColorType::La16
    );
    Ok(if grey {
        (h, w, 1, img.into_luma8().into_raw())
    } else {
        (h, w, 3, img.into_rgb8().into_raw())
    })
}
