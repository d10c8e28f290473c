"""rill.data's images: load_image against the pixels Pillow wrote (PNG exact, JPEG against
Pillow's own decoding within a stated tolerance), crops against NumPy slices, random crops'
reproducibility, resizing against Pillow's BILINEAR, and the `*_if` forms, on random images."""

import io

import numpy as np
import pytest
from PIL import Image

import rill.data as dx


@pytest.fixture
def rng():
    return np.random.default_rng(20261203)


def smooth_image(rng, h, w):
    """A photo-like image (gradients plus noise): what JPEG is made for."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h)], axis=-1)
    return np.clip(base + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)


def encode(img, fmt, **kw):
    out = io.BytesIO()
    Image.fromarray(img).save(out, format=fmt, **kw)
    return out.getvalue()


@pytest.mark.parametrize("stream", [False, True])
def test_png_decodes_exactly_from_files_and_bytes(tmp_path, rng, stream):
    imgs = [
        rng.integers(0, 256, (37, 53, 3), dtype=np.uint8),  # RGB
        rng.integers(0, 256, (20, 11), dtype=np.uint8),  # grey: one channel
        rng.integers(0, 256, (9, 14, 4), dtype=np.uint8),  # RGBA: alpha dropped
    ]
    samples = []
    for i, img in enumerate(imgs):
        Image.fromarray(img).save(tmp_path / f"{i}.png")
        samples.append({"file": f"{i}.png", "bytes": encode(img, "PNG")})
    b = dx.buffer_from_vector(samples)
    p = b.to_stream() if stream else b
    files = list(p.load_image("file", prefix=str(tmp_path), output_key="img"))
    if stream:
        p.reset()
    mem = list(p.load_image("bytes", from_memory=True))
    if stream:
        p.reset()
    info = list(p.load_image("file", prefix=str(tmp_path), info=True))
    for img, f, m, inf in zip(imgs, files, mem, info):
        want = img[:, :, None] if img.ndim == 2 else img[:, :, :3]
        for got in (f["img"], m["bytes"]):
            assert got.dtype == np.uint8 and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(inf["file"], [img.shape[1], img.shape[0]])
        assert inf["file"].dtype == np.int64


def test_jpeg_decodes_like_pillow_within_tolerance(tmp_path, rng):
    imgs = [smooth_image(rng, 64 + 7 * i, 96 - 5 * i) for i in range(4)]
    for i, img in enumerate(imgs):
        Image.fromarray(img).save(tmp_path / f"{i}.jpg", quality=90)
    b = dx.buffer_from_vector([{"f": f"{i}.jpg"} for i in range(4)]).load_image(
        "f", prefix=str(tmp_path)
    )
    for i, img in enumerate(imgs):
        got = b[i]["f"]
        want = np.asarray(Image.open(tmp_path / f"{i}.jpg").convert("RGB"))
        assert got.shape == want.shape and got.dtype == np.uint8
        diff = np.abs(got.astype(int) - want)
        # Two correct decoders differ in the IDCT and chroma upsampling they use; the pixels of
        # the source are farther from both than they are from each other.
        assert diff.max() <= 8 and diff.mean() < 1.0, (diff.max(), diff.mean())


def test_undecodable_and_missing_images_raise_naming_the_sample(tmp_path):
    b = dx.buffer_from_vector([{"f": b"not an image"}, {"f": "missing.png"}])
    with pytest.raises(ValueError, match=r"load_image.*'f'.*decode"):
        b.load_image("f", from_memory=True)[0]
    with pytest.raises(RuntimeError, match="missing.png"):
        b.load_image("f", prefix=str(tmp_path))[1]
    with pytest.raises(ValueError, match="format"):
        b.load_image("f", format="YCbCr")


@pytest.mark.parametrize("stream", [False, True])
def test_center_crop_is_the_middle_rounded_down(rng, stream):
    shapes = [(37, 53, 3), (40, 40, 1), (21, 30, 3)]
    imgs = [rng.integers(0, 256, s, dtype=np.uint8) for s in shapes]
    b = dx.buffer_from_vector([{"x": im} for im in imgs])
    p = b.to_stream() if stream else b
    for w, h in [(20, 10), (21, 11), (21, 21)]:
        got = list(p.image_center_crop("x", w, h, output_key="y"))
        if stream:
            p.reset()
        for im, s in zip(imgs, got):
            y0, x0 = (im.shape[0] - h) // 2, (im.shape[1] - w) // 2
            np.testing.assert_array_equal(s["y"], im[y0 : y0 + h, x0 : x0 + w])
            np.testing.assert_array_equal(s["x"], im)
    with pytest.raises(ValueError, match="smaller than the 60x10 crop"):
        list(p.image_center_crop("x", 60, 10))


def windows(img, crop):
    h, w = crop.shape[:2]
    return [
        (y, x)
        for y in range(img.shape[0] - h + 1)
        for x in range(img.shape[1] - w + 1)
        if np.array_equal(img[y : y + h, x : x + w], crop)
    ]


def test_random_crop_is_a_window_reproducible_from_seed_or_state(rng):
    imgs = [rng.integers(0, 256, (9, 12, 3), dtype=np.uint8) for _ in range(960)]
    b = dx.buffer_from_vector([{"x": im, "i": np.array(i)} for i, im in enumerate(imgs)])
    a = [s["x"] for s in b.image_random_crop("x", 5, 4, seed=7)]
    places = {}
    for im, c in zip(imgs, a):
        at = windows(im, c)
        assert len(at) == 1
        places[at[0]] = places.get(at[0], 0) + 1
    # Uniform over the 6 x 8 places: 20 each on average; a place drawn less than 5 or more than
    # 45 times has odds below 1e-5 (binomial tails), so this fails only for a skewed draw.
    assert len(places) == 6 * 8
    assert 5 <= min(places.values()) and max(places.values()) <= 45, places
    # The same seed gives the same crops, through a stream on several unordered threads too.
    st = b.to_stream().image_random_crop("x", 5, 4, seed=7).prefetch(8, 4)
    got = {int(s["i"]): s["x"] for s in st}
    for i, c in enumerate(a):
        np.testing.assert_array_equal(got[i], c)
    # Without a seed the seed comes from set_state's sequence.
    dx.set_state(99)
    u = [s["x"] for s in b.image_random_crop("x", 5, 4)]
    dx.set_state(99)
    v = [s["x"] for s in b.image_random_crop("x", 5, 4)]
    for x, y in zip(u, v):
        np.testing.assert_array_equal(x, y)
    assert sum(not np.array_equal(x, y) for x, y in zip(a, u)) > 800
    with pytest.raises(ValueError, match="image_random_crop"):
        b.image_random_crop("x", 13, 4)[0]


def test_random_crop_above_repeat_draws_new_places_each_pass(rng):
    img = rng.integers(0, 256, (16, 16, 1), dtype=np.uint8)
    st = dx.buffer_from_vector([{"x": img}] * 50).to_stream().repeat(1)
    above = [windows(img, s["x"])[0] for s in st.image_random_crop("x", 4, 4, seed=1)]
    assert above[:50] != above[50:]
    below = dx.buffer_from_vector([{"x": img}] * 50).to_stream()
    below = [windows(img, s["x"])[0] for s in below.image_random_crop("x", 4, 4, seed=1).repeat(1)]
    assert below[:50] == below[50:]


@pytest.mark.parametrize(
    "shape,size",
    [((37, 53, 3), (20, 15)), ((37, 53, 3), (106, 74)), ((64, 48, 1), (17, 31)), ((30, 30, 3), (30, 30))],
)
def test_resize_matches_pillow_bilinear(rng, shape, size):
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    got = dx.buffer_from_vector([{"x": img}]).image_resize("x", *size)[0]["x"]
    pil = Image.fromarray(img[:, :, 0] if shape[2] == 1 else img)
    want = np.asarray(pil.resize(size, Image.BILINEAR)).reshape(size[1], size[0], shape[2])
    assert got.shape == want.shape and got.dtype == np.uint8
    # Pillow rounds to 8 bits between its two passes; rill does not: at most one level apart.
    assert np.abs(got.astype(int) - want).max() <= 1


def test_resize_smallest_side_keeps_the_aspect(rng):
    img = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    b = dx.buffer_from_vector([{"x": img}, {"x": img.transpose(1, 0, 2).copy()}])
    for size in (20, 40):
        r = b.image_resize_smallest_side("x", size, output_key="y")
        w = round(53 * size / 37)
        assert r[0]["y"].shape == (size, w, 3)
        assert r[1]["y"].shape == (w, size, 3)
        want = np.asarray(Image.fromarray(img).resize((w, size), Image.BILINEAR))
        assert np.abs(r[0]["y"].astype(int) - want).max() <= 1


def test_image_if_forms(rng):
    img = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    b = dx.buffer_from_vector([{"x": img, "f": encode(img, "PNG")}])
    for name, args in [
        ("load_image", ("f",)),
        ("image_resize", ("x", 10, 8)),
        ("image_resize_smallest_side", ("x", 10)),
        ("image_center_crop", ("x", 10, 8)),
    ]:
        kwargs = {"from_memory": True} if name == "load_image" else {}
        on = getattr(b, name + "_if")(True, *args, **kwargs)[0]
        plain = getattr(b, name)(*args, **kwargs)[0]
        off = getattr(b, name + "_if")(False, *args, **kwargs)[0]
        key = args[0]
        np.testing.assert_array_equal(on[key], plain[key])
        np.testing.assert_array_equal(off[key], b[0][key])
    on = b.image_random_crop_if(True, "x", 5, 5, seed=3)[0]["x"]
    np.testing.assert_array_equal(on, b.image_random_crop("x", 5, 5, seed=3)[0]["x"])
    np.testing.assert_array_equal(b.to_stream().image_random_crop_if(False, "x", 5, 5).__next__()["x"], img)


def png_by_hand(pixels, bit_depth, colour_type):
    """A PNG with the given IHDR bit depth and colour type (0 grey, 2 RGB, 4 grey+alpha, 6 RGBA),
    unfiltered rows: Pillow cannot write 16-bit colour, grey+alpha or RGBA PNGs."""
    import struct
    import zlib

    h, w = pixels.shape[:2]

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = pixels.astype(">u2" if bit_depth == 16 else np.uint8).reshape(h, -1)
    rows = b"".join(b"\x00" + r.tobytes() for r in raw)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def decode_one(data):
    return dx.buffer_from_vector([{"f": data}]).load_image("f", from_memory=True)[0]["f"]


@pytest.mark.parametrize("channels,colour_type", [(1, 0), (2, 4), (3, 2), (4, 6)])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_png_colour_types_and_depths_match_pillow(rng, channels, colour_type, bit_depth):
    shape = (23, 31, channels) if channels > 1 else (23, 31)
    px = rng.integers(0, 2**bit_depth, shape)
    data = png_by_hand(px, bit_depth, colour_type)
    got = decode_one(data)
    pil = np.asarray(Image.open(io.BytesIO(data)))
    if pil.dtype == np.uint16:
        # Pillow keeps 16-bit grey as 16 bits (mode I;16); every 8-bit reading of 16-bit PNG
        # samples (Pillow's own for RGB and RGBA, libpng's strip, stb_image's, so mlx-data's)
        # keeps the high byte.
        pil = (pil >> 8).astype(np.uint8)
    if bit_depth == 16:
        # Pillow's reading equals the high byte wherever it gives 8 bits (checked, not assumed).
        first = pil if pil.ndim == 2 else pil[:, :, 0]
        np.testing.assert_array_equal(first, (px if px.ndim == 2 else px[:, :, 0]) >> 8)
    # Grey (with or without alpha) is one channel; colour is RGB; alpha is dropped.
    want = (pil if pil.ndim == 2 else pil[:, :, 0])[:, :, None] if channels <= 2 else pil[:, :, :3]
    assert got.dtype == np.uint8 and got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", ["1", "P", "RGB-tRNS", "L-tRNS"])
def test_png_palette_low_bit_and_transparency_match_pillow(rng, mode):
    if mode == "1":
        img = Image.fromarray(rng.integers(0, 2, (19, 26)).astype(bool))
        want = np.asarray(img.convert("L"))[:, :, None]
    elif mode == "P":
        img = Image.fromarray(rng.integers(0, 256, (19, 26, 3), dtype=np.uint8)).quantize(40)
        want = np.asarray(img.convert("RGB"))
    elif mode == "RGB-tRNS":
        img = Image.fromarray(rng.integers(0, 256, (19, 26, 3), dtype=np.uint8))
        img.info["transparency"] = (1, 2, 3)
        want = np.asarray(img)
    else:
        img = Image.fromarray(rng.integers(0, 256, (19, 26), dtype=np.uint8))
        img.info["transparency"] = 7
        want = np.asarray(img)[:, :, None]
    data = encode_pil(img, "PNG")
    got = decode_one(data)
    assert got.dtype == np.uint8 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def encode_pil(img, fmt, **kw):
    out = io.BytesIO()
    img.save(out, format=fmt, **kw)
    return out.getvalue()


@pytest.mark.parametrize(
    "kind,kw",
    [
        ("L", {}),
        ("RGB", {"subsampling": 0}),  # 4:4:4
        ("RGB", {"subsampling": 1}),  # 4:2:2
        ("RGB", {"subsampling": 2}),  # 4:2:0
        ("RGB", {"progressive": True}),
    ],
)
def test_jpeg_grey_and_colour_match_pillow_within_tolerance(rng, kind, kw):
    rgb = smooth_image(rng, 45, 67)  # sizes that are not multiples of the 8 or 16 px blocks
    img = Image.fromarray(rgb).convert(kind)
    data = encode_pil(img, "JPEG", quality=90, **kw)
    got = decode_one(data)
    want = np.asarray(Image.open(io.BytesIO(data)))
    if want.ndim == 2:
        want = want[:, :, None]
    assert got.dtype == np.uint8 and got.shape == want.shape, (got.shape, want.shape)
    diff = np.abs(got.astype(int) - want)
    # The tolerance: both decoders are correct but differ in IDCT rounding (libjpeg-turbo's
    # integer IDCT against zune-jpeg's) and, with subsampled chroma, in how they upsample it; a
    # level or two on most pixels, a few near sharp chroma edges. 8 levels at most and under one
    # on average (the source pixels are farther from either: quality 90 moves them by ~2-4).
    assert diff.max() <= 8 and diff.mean() < 1.0, (diff.max(), diff.mean())


def test_cmyk_jpeg_still_decodes_to_rgb(rng):
    # CMYK is left to the image crate's conversions: the same shape as any colour image.
    img = Image.fromarray(smooth_image(rng, 24, 40)).convert("CMYK")
    got = decode_one(encode_pil(img, "JPEG", quality=95))
    assert got.dtype == np.uint8 and got.shape == (24, 40, 3)


@pytest.mark.parametrize("stream", [False, True])
def test_corrupt_images_raise_naming_the_key_and_the_sample(rng, stream):
    good = encode(smooth_image(rng, 32, 32), "PNG")
    png = bytearray(encode(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), "PNG"))
    idat = png.index(b"IDAT")
    png[idat + 40] ^= 0xFF  # compressed data no longer matches the chunk's CRC
    jpg = encode(smooth_image(rng, 32, 32), "JPEG")
    cases = [
        ("PNG with a damaged IDAT", bytes(png)),
        ("PNG cut short", good[: len(good) // 2]),
        ("JPEG cut inside its headers", jpg[:60]),
        ("not an image", b"GIF89a but not really"),
    ]
    for what, bad in cases:
        samples = [{"img": good}, {"img": good}, {"img": bad}, {"img": good}]
        b = dx.buffer_from_vector(samples)
        with pytest.raises(ValueError, match=r"load_image: key 'img' of sample 2: .*decode") as e:
            if stream:
                list(b.to_stream().load_image("img", from_memory=True).prefetch(2, 2))
            else:
                b.load_image("img", from_memory=True)[2]
        assert "sample 2" in str(e.value), (what, str(e.value))
        # The samples around it still decode.
        np.testing.assert_array_equal(b.load_image("img", from_memory=True)[1]["img"], decode_one(good))


@pytest.mark.parametrize("stream", [False, True])
def test_crops_of_decoded_images_and_other_dtypes_are_numpy_slices(rng, stream):
    imgs = [smooth_image(rng, 70 + i, 90 - 3 * i) for i in range(5)]
    b = dx.buffer_from_vector([{"f": encode(im, "PNG")} for im in imgs])
    p = b.to_stream() if stream else b
    crops = list(p.load_image("f", from_memory=True).image_center_crop("f", 64, 64, output_key="c").batch(5))
    assert len(crops) == 1 and crops[0]["c"].shape == (5, 64, 64, 3)
    for im, c in zip(imgs, crops[0]["c"]):
        y0, x0 = (im.shape[0] - 64) // 2, (im.shape[1] - 64) // 2
        np.testing.assert_array_equal(c, im[y0 : y0 + 64, x0 : x0 + 64])
    # 2-d and wider element types: the window is cut by pixel, not by byte.
    for arr in (rng.normal(size=(13, 17)).astype(np.float32), rng.integers(0, 9, (13, 17, 2)).astype(np.int64)):
        got = dx.buffer_from_vector([{"x": arr}]).image_center_crop("x", 6, 5)[0]["x"]
        np.testing.assert_array_equal(got, arr[4:9, 5:11])
        whole = dx.buffer_from_vector([{"x": arr}]).image_center_crop("x", 17, 13)[0]["x"]
        np.testing.assert_array_equal(whole, arr)


def test_a_header_claiming_a_huge_image_is_an_error_not_an_allocation():
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # 30000 x 30000 RGB would be 2.7 GB of pixels; the data holds one row.
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * (1 + 3 * 30000)))
        + chunk(b"IEND", b"")
    )
    b = dx.buffer_from_vector([{"f": data}])
    with pytest.raises(ValueError, match=r"key 'f' of sample 0: .*30000x30000.*512 MiB"):
        b.load_image("f", from_memory=True)[0]
