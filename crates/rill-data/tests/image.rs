//! Images: decoding PNG files written here by a minimal encoder of the test's own (stored deflate
//! blocks, so the expected pixels are the random ones it was given), crops against slices,
//! random crops' reproducibility, and resizing against a plain triangle-filter reference.

mod common;

use common::*;
use rill_data::{Buffer, Error, HostArray, ImageSize, Sample, Transforms};

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A PNG of 8-bit pixels (`channels` 1: grey, 3: RGB, 4: RGBA), its data in stored (uncompressed)
/// deflate blocks.
fn png(pixels: &[u8], w: usize, h: usize, channels: usize) -> Vec<u8> {
    let colour = match channels {
        1 => 0u8,
        3 => 2,
        4 => 6,
        _ => unreachable!(),
    };
    let mut raw = Vec::new();
    for row in pixels.chunks(w * channels) {
        raw.push(0u8); // filter: none
        raw.extend_from_slice(row);
    }
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, c) in chunks.iter().enumerate() {
        z.push((i + 1 == chunks.len()) as u8);
        z.extend_from_slice(&(c.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(c.len() as u16)).to_le_bytes());
        z.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = (w as u32).to_be_bytes().to_vec();
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, colour, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    out
}

fn random_pixels(rng: &mut Lcg, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.below(256) as u8).collect()
}

fn image(pixels: Vec<u8>, h: usize, w: usize, c: usize) -> HostArray {
    HostArray::new(rill_data::Dtype::Uint8, vec![h, w, c], pixels).unwrap()
}

fn one(key: &str, a: HostArray) -> Buffer {
    Buffer::from_vec(vec![sample(&[(key, a)])])
}

#[test]
fn png_files_and_bytes_decode_to_their_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(7);
    // (height, width, channels in the file, channels out: alpha is dropped)
    let cases = [(13, 17, 3, 3), (5, 9, 1, 1), (8, 3, 4, 3), (1, 1, 3, 3)];
    let mut samples = Vec::new();
    let mut want = Vec::new();
    for (i, &(h, w, c, out)) in cases.iter().enumerate() {
        let px = random_pixels(&mut rng, h * w * c);
        let bytes = png(&px, w, h, c);
        std::fs::write(dir.path().join(format!("{i}.png")), &bytes).unwrap();
        let expect: Vec<u8> = px.chunks(c).flat_map(|p| p[..out].to_vec()).collect();
        want.push((h, w, out, expect));
        samples.push(sample(&[
            ("file", HostArray::from_text(&format!("{i}.png"))),
            ("bytes", HostArray::from_bytes(&bytes)),
        ]));
    }
    let b = Buffer::from_vec(samples);
    let prefix = dir.path().to_str().unwrap();
    let from_file = b.load_image("file", prefix, false, false, "img");
    let from_bytes = b.load_image("bytes", "", false, true, "");
    let info = b.load_image("file", prefix, true, false, "wh");
    for (i, (h, w, c, px)) in want.iter().enumerate() {
        for (s, key) in [
            (from_file.get(i as i64).unwrap(), "img"),
            (from_bytes.get(i as i64).unwrap(), "bytes"),
        ] {
            assert_eq!(s[key].dtype(), rill_data::Dtype::Uint8);
            assert_eq!(s[key].shape(), &[*h, *w, *c]);
            assert_eq!(s[key].bytes(), &px[..], "image {i} from {key}");
        }
        let wh = info.get(i as i64).unwrap()["wh"].to_vec::<i64>().unwrap();
        assert_eq!(wh, vec![*w as i64, *h as i64]);
    }
    // The same through a stream on several threads.
    let st = from_file.to_stream().ordered_prefetch(3, 3).unwrap();
    let got = st.collect().unwrap();
    for (s, (_, _, _, px)) in got.iter().zip(&want) {
        assert_eq!(s["img"].bytes(), &px[..]);
    }
}

#[test]
fn undecodable_bytes_and_missing_files_name_the_key_and_sample() {
    let b = Buffer::from_vec(vec![
        sample(&[("f", HostArray::from_text("not an image"))]),
        sample(&[("f", HostArray::from_text("no-such-file.png"))]),
    ]);
    match b.load_image("f", "", false, true, "").get(0) {
        Err(Error::Sample {
            op,
            key,
            index,
            detail,
        }) => {
            assert_eq!((op, key.as_str(), index), ("load_image", "f", 0));
            assert!(detail.contains("decode"), "{detail}");
        }
        other => panic!("expected a sample error, got {:?}", other.map(|_| ())),
    }
    match b
        .load_image("f", "/nonexistent-dir", false, false, "")
        .get(1)
    {
        Err(Error::File { op, path, .. }) => {
            assert_eq!(op, "load_image");
            assert!(path.contains("no-such-file.png"), "{path}");
        }
        other => panic!("expected a file error, got {:?}", other.map(|_| ())),
    }
}

/// `a[y..y+h, x..x+w]` of an (H, W, C) uint8 image, by indexing.
fn window(px: &[u8], iw: usize, c: usize, y: usize, x: usize, w: usize, h: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for r in y..y + h {
        out.extend_from_slice(&px[(r * iw + x) * c..(r * iw + x + w) * c]);
    }
    out
}

#[test]
fn center_crops_are_the_middle_rounded_down() {
    let mut rng = Lcg(11);
    for &(ih, iw, c, h, w) in &[
        (37, 53, 3, 10, 20),
        (37, 53, 3, 11, 21),
        (8, 8, 1, 8, 8),
        (9, 4, 2, 2, 3),
    ] {
        let px = random_pixels(&mut rng, ih * iw * c);
        let s = one("x", image(px.clone(), ih, iw, c))
            .image_center_crop("x", w, h, "y")
            .get(0)
            .unwrap();
        assert_eq!(s["y"].shape(), &[h, w, c]);
        assert_eq!(
            s["y"].bytes(),
            &window(&px, iw, c, (ih - h) / 2, (iw - w) / 2, w, h)[..]
        );
        assert_eq!(s["x"].bytes(), &px[..], "the input key is kept");
    }
    let too_big = one("x", image(vec![1; 12], 2, 2, 3)).image_center_crop("x", 3, 1, "");
    match too_big.get(0) {
        Err(Error::Sample { op, detail, .. }) => {
            assert_eq!(op, "image_center_crop");
            assert!(detail.contains("smaller than the 3x1 crop"), "{detail}");
        }
        other => panic!("expected an error, got {:?}", other.map(|_| ())),
    }
}

/// The (y, x) places where `crop` lies in the image (by search, as a reference).
fn places(
    px: &[u8],
    ih: usize,
    iw: usize,
    c: usize,
    crop: &[u8],
    w: usize,
    h: usize,
) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for y in 0..=ih - h {
        for x in 0..=iw - w {
            if window(px, iw, c, y, x, w, h) == crop {
                v.push((y, x));
            }
        }
    }
    v
}

#[test]
fn random_crops_are_windows_reproducible_from_the_seed_on_any_threads() {
    let mut rng = Lcg(3);
    let (ih, iw, c, h, w) = (6, 7, 3, 3, 4);
    let images: Vec<Vec<u8>> = (0..200)
        .map(|_| random_pixels(&mut rng, ih * iw * c))
        .collect();
    let samples: Vec<Sample> = images
        .iter()
        .map(|p| sample(&[("x", image(p.clone(), ih, iw, c))]))
        .collect();
    let b = Buffer::from_vec(samples);
    let crops = |seed: u64| -> Vec<Vec<u8>> {
        b.image_random_crop("x", w, h, seed, "")
            .to_stream()
            .ordered_prefetch(8, 3)
            .unwrap()
            .collect()
            .unwrap()
            .iter()
            .map(|s| s["x"].bytes().to_vec())
            .collect()
    };
    let a = crops(42);
    let mut seen = std::collections::BTreeSet::new();
    for (i, crop) in a.iter().enumerate() {
        let at = places(&images[i], ih, iw, c, crop, w, h);
        assert_eq!(at.len(), 1, "crop {i} is one window of its image");
        seen.insert(at[0]);
    }
    // Every one of the 4 x 4 places turns up among 200 draws (each misses with odds 0.94^200).
    assert_eq!(seen.len(), (ih - h + 1) * (iw - w + 1));
    assert_eq!(a, crops(42), "the same seed gives the same crops");
    let other = crops(43);
    assert!(a.iter().zip(&other).filter(|(x, y)| x != y).count() > 100);
    // On a stream with unordered prefetch: the crops follow the samples, not the threads.
    let st = Buffer::from_vec(
        images
            .iter()
            .enumerate()
            .map(|(i, p)| sample(&[("x", image(p.clone(), ih, iw, c)), ("i", scalar(i as i32))]))
            .collect(),
    )
    .to_stream()
    // Uneven work before the crop, so that threads overtake one another on the way to it.
    .key_transform(
        "i",
        "",
        std::sync::Arc::new(|a: &HostArray| {
            let i = a.to_vec::<i32>().unwrap()[0] as u64;
            std::thread::sleep(std::time::Duration::from_micros((i * 7919) % 300));
            Ok(a.clone())
        }),
    )
    .image_random_crop("x", w, h, 42, "")
    .prefetch(8, 4)
    .unwrap();
    let got = st.collect().unwrap();
    assert_eq!(got.len(), 200);
    for s in &got {
        let i = vals(s, "i")[0] as usize;
        assert_eq!(s["x"].bytes(), &a[i][..]);
    }
    match one("x", image(vec![0; 12], 2, 2, 3))
        .image_random_crop("x", 1, 3, 0, "")
        .get(0)
    {
        Err(Error::Sample { op, .. }) => assert_eq!(op, "image_random_crop"),
        other => panic!("expected an error, got {:?}", other.map(|_| ())),
    }
}

/// Resizing one axis with a triangle filter widened by the scale when shrinking (Pillow's
/// BILINEAR), in f64: `src` is `n` lines of `len` values with `step` between values.
fn tri_weights(inn: usize, out: usize) -> Vec<Vec<(usize, f64)>> {
    let scale = inn as f64 / out as f64;
    let support = scale.max(1.0);
    (0..out)
        .map(|o| {
            let center = (o as f64 + 0.5) * scale;
            let mut ws: Vec<(usize, f64)> = (0..inn)
                .filter_map(|i| {
                    let t = ((i as f64 + 0.5 - center) / support).abs();
                    (t < 1.0).then_some((i, 1.0 - t))
                })
                .collect();
            let sum: f64 = ws.iter().map(|p| p.1).sum();
            ws.iter_mut().for_each(|p| p.1 /= sum);
            ws
        })
        .collect()
}

fn reference_resize(px: &[u8], ih: usize, iw: usize, c: usize, h: usize, w: usize) -> Vec<f64> {
    let (wy, wx) = (tri_weights(ih, h), tri_weights(iw, w));
    let mut out = vec![0.0; h * w * c];
    for y in 0..h {
        for x in 0..w {
            for k in 0..c {
                let mut v = 0.0;
                for &(sy, a) in &wy[y] {
                    for &(sx, b) in &wx[x] {
                        v += a * b * px[(sy * iw + sx) * c + k] as f64;
                    }
                }
                out[(y * w + x) * c + k] = v;
            }
        }
    }
    out
}

#[test]
fn resizing_matches_a_triangle_filter_within_one_level() {
    let mut rng = Lcg(5);
    for &(ih, iw, c, h, w) in &[
        (37, 53, 3, 15, 20),
        (37, 53, 3, 74, 106),
        (16, 16, 1, 5, 7),
        (9, 12, 4, 9, 5),
    ] {
        let px = random_pixels(&mut rng, ih * iw * c);
        let s = one("x", image(px.clone(), ih, iw, c))
            .image_resize(
                "x",
                ImageSize::Exact {
                    width: w,
                    height: h,
                },
                "",
            )
            .get(0)
            .unwrap();
        assert_eq!(s["x"].shape(), &[h, w, c]);
        let want = reference_resize(&px, ih, iw, c, h, w);
        let worst = s["x"]
            .bytes()
            .iter()
            .zip(&want)
            .map(|(&g, &r)| (g as f64 - r).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 1.0, "{ih}x{iw} -> {h}x{w}: off by {worst}");
    }
    // The smaller side becomes the size, the other is rounded to keep the aspect ratio.
    let px = random_pixels(&mut rng, 37 * 53 * 3);
    let b = one("x", image(px, 37, 53, 3));
    for (size, shape) in [(20, [20, 29, 3]), (40, [40, 57, 3])] {
        let s = b
            .image_resize("x", ImageSize::SmallestSide(size), "y")
            .get(0)
            .unwrap();
        assert_eq!(s["y"].shape(), &shape);
        let exact = b
            .image_resize(
                "x",
                ImageSize::Exact {
                    width: shape[1],
                    height: shape[0],
                },
                "y",
            )
            .get(0)
            .unwrap();
        assert_eq!(s["y"].bytes(), exact["y"].bytes());
    }
    let f32_image = Buffer::from_vec(vec![sample(&[(
        "x",
        HostArray::from_slice(&[0f32; 12], &[2, 2, 3]).unwrap(),
    )])]);
    match f32_image
        .image_resize(
            "x",
            ImageSize::Exact {
                width: 1,
                height: 1,
            },
            "",
        )
        .get(0)
    {
        Err(Error::Sample { op, detail, .. }) => {
            assert_eq!(op, "image_resize");
            assert!(detail.contains("uint8"), "{detail}");
        }
        other => panic!("expected an error, got {:?}", other.map(|_| ())),
    }
}
