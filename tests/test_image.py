"""Image compression against the Eckart–Young optimum computed with NumPy."""

import io

import numpy as np
import pytest

from sksvd.image import CompressedImage, compress_image, read_image, write_image


@pytest.fixture
def photo():
    datasets = pytest.importorskip("sklearn.datasets")
    pytest.importorskip("PIL")
    return datasets.load_sample_image("china.jpg")[::4, ::4]  # 107 × 160 × 3


def _optimal_error(channel, rank):
    s = np.linalg.svd(channel.astype(np.float64), compute_uv=False)
    return np.sqrt(np.sum(s[rank:] ** 2))


@pytest.mark.parametrize("rank", [1, 5, 20])
def test_unclipped_error_is_the_eckart_young_optimum(rng, rank):
    image = rng.standard_normal((40, 30)) * 3.0  # outside [0, 1]: never clipped
    compressed = compress_image(image, rank=rank)
    error = np.linalg.norm(image - compressed.reconstruct(clip=False))
    # float32 factors: relative accuracy about 1e-7 of the image's norm.
    assert error == pytest.approx(_optimal_error(image, rank), abs=1e-5)
    assert compressed.value_range is None
    assert compressed.relative_error == pytest.approx(
        error / np.linalg.norm(image), rel=1e-5
    )


def test_colour_channels_get_their_own_factors(photo):
    compressed = compress_image(photo, rank=10)
    assert compressed.ranks == (10, 10, 10)
    raw = compressed.reconstruct(clip=False)
    for channel in range(3):
        error = np.linalg.norm(photo[..., channel] - raw[..., channel])
        assert error == pytest.approx(_optimal_error(photo[..., channel], 10), rel=1e-5)


def test_reconstruction_keeps_dtype_range_and_shape(photo):
    compressed = compress_image(photo, rank=5)
    image = compressed.reconstruct()
    assert image.dtype == np.uint8 and image.shape == photo.shape
    # Clipping and rounding can only bring the image closer than the optimum
    # (plus half a grey level of rounding per pixel).
    optimum = np.sqrt(sum(_optimal_error(photo[..., c], 5) ** 2 for c in range(3)))
    error = np.linalg.norm(photo.astype(float) - image)
    assert error <= optimum + 0.5 * np.sqrt(photo.size)
    mse = np.mean((photo.astype(float) - image) ** 2)
    assert compressed.psnr == pytest.approx(10 * np.log10(255**2 / mse))


def test_float_image_in_unit_range_is_clipped_to_it(rng):
    image = rng.random((30, 20))
    reconstruction = compress_image(image, rank=2).reconstruct()
    assert reconstruction.dtype == np.float64
    assert reconstruction.min() >= 0 and reconstruction.max() <= 1


def test_storage_numbers(photo):
    compressed = compress_image(photo, rank=7)
    m, n = photo.shape[:2]
    assert compressed.storage_ratio == pytest.approx(3 * 7 * (m + n + 1) / (3 * m * n))
    assert compressed.nbytes == 3 * 7 * (m + n + 1) * 4
    assert compressed.original_nbytes == photo.nbytes


def test_energy_gives_per_channel_ranks(photo):
    compressed = compress_image(photo, energy=0.99)
    for channel, rank in enumerate(compressed.ranks):
        s = np.linalg.svd(photo[..., channel].astype(float), compute_uv=False)
        cumulative = np.cumsum(s**2) / np.sum(s**2)
        assert rank == np.searchsorted(cumulative, 0.99) + 1


def test_npz_round_trip_is_exact(photo, tmp_path):
    compressed = compress_image(photo, rank=6)
    compressed.save(tmp_path / "photo.npz")
    loaded = CompressedImage.load(tmp_path / "photo.npz")
    np.testing.assert_array_equal(loaded.reconstruct(), compressed.reconstruct())
    assert loaded.ranks == compressed.ranks
    assert loaded.psnr == compressed.psnr
    assert loaded.dtype == compressed.dtype and loaded.shape == compressed.shape


def test_load_rejects_foreign_files(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="not a compressed image"):
        CompressedImage.load(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        CompressedImage.load(tmp_path / "junk.npz")


def test_load_never_unpickles(tmp_path):
    np.savez(
        tmp_path / "objects.npz", format_version=np.array([{"a": 1}], dtype=object)
    )
    with pytest.raises(ValueError):
        CompressedImage.load(tmp_path / "objects.npz")


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "message"),
    [
        (np.zeros((4, 4)), {}, ValueError, "exactly one of rank and energy"),
        (np.zeros((4, 4)), {"rank": 2, "energy": 0.5}, ValueError, "exactly one"),
        (np.zeros((4, 4, 2)), {"rank": 1}, ValueError, r"\(height, width, 3\|4\)"),
        (np.zeros((0, 4)), {"rank": 1}, ValueError, "empty"),
        (np.full((4, 4), np.nan), {"rank": 1}, ValueError, "NaN"),
        (np.array([["a", "b"]]), {"rank": 1}, TypeError, "numbers"),
        (np.zeros((4, 4)), {"rank": 5}, ValueError, r"rank=5 exceeds min\(height"),
    ],
)
def test_bad_images(image, kwargs, error, message):
    with pytest.raises(error, match=message):
        compress_image(image, **kwargs)


def test_file_round_trip_and_errors(photo, tmp_path):
    write_image(tmp_path / "photo.png", photo)
    np.testing.assert_array_equal(read_image(tmp_path / "photo.png"), photo)
    with pytest.raises(ValueError, match="no such file"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(ValueError, match="not a readable image"):
        read_image(tmp_path / "broken.png")


def test_truncated_file_is_refused(photo, tmp_path):
    write_image(tmp_path / "photo.png", photo)
    data = (tmp_path / "photo.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.png"):
        read_image(tmp_path / "cut.png")


def test_decompression_bomb_guard_stays_on(tmp_path, monkeypatch):
    from PIL import Image

    write_image(tmp_path / "big.png", np.zeros((100, 100), dtype=np.uint8))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 10,000 > 2 × 1000
    with pytest.raises(ValueError, match="too many pixels"):
        read_image(tmp_path / "big.png")


@pytest.mark.parametrize("magnitude", [1e-300, 1e300])
def test_extreme_magnitudes_keep_their_factors(rng, magnitude):
    # float32 cannot hold such singular values: the factors stay in float64.
    image = rng.standard_normal((20, 15))
    compressed = compress_image(image * magnitude, rank=3)
    assert compressed.factors[0][1].dtype == np.float64
    error = np.linalg.norm(image - compressed.reconstruct(clip=False) / magnitude)
    assert error == pytest.approx(_optimal_error(image, 3), rel=1e-10)


# Every mode is read faithfully, or refused by name.


def test_sixteen_bit_image_keeps_its_levels(tmp_path, rng):
    from PIL import Image

    levels = rng.integers(0, 111, (40, 30)) * 500  # 111 grey levels up to 55000
    Image.fromarray(levels.astype(np.uint16)).save(tmp_path / "g16.png")
    image = read_image(tmp_path / "g16.png")
    assert image.dtype == np.uint16
    np.testing.assert_array_equal(image, levels)
    compressed = compress_image(image, rank=30)  # full rank: lossless
    assert compressed.value_range == (0.0, 65535.0)
    np.testing.assert_array_equal(compressed.reconstruct(), levels)
    write_image(tmp_path / "again.png", compressed.reconstruct())
    np.testing.assert_array_equal(read_image(tmp_path / "again.png"), levels)
    # A lossy rank: the PSNR is against the 16-bit peak, and finite.
    low = compress_image(image, rank=3)
    mse = np.mean((low.reconstruct().astype(float) - levels) ** 2)
    assert low.psnr == pytest.approx(10 * np.log10(65535.0**2 / mse), rel=1e-9)


def test_float_image_keeps_its_values(tmp_path):
    from PIL import Image

    values = np.linspace(0, 0.84, 600, dtype=np.float32).reshape(20, 30)
    Image.fromarray(values).save(tmp_path / "f.tif")
    image = read_image(tmp_path / "f.tif")
    assert image.dtype == np.float32
    np.testing.assert_array_equal(image, values)
    write_image(tmp_path / "again.tif", image)
    np.testing.assert_array_equal(read_image(tmp_path / "again.tif"), values)


def test_converted_modes_keep_their_values(tmp_path):
    from PIL import Image

    bits = np.zeros((8, 8), dtype=bool)
    bits[::2] = True
    Image.fromarray(bits).save(tmp_path / "bits.png")
    np.testing.assert_array_equal(read_image(tmp_path / "bits.png"), bits * 255)
    colours = np.array([[[255, 0, 0], [0, 128, 255]]], dtype=np.uint8)
    paletted = Image.fromarray(colours).convert("P", palette=Image.Palette.ADAPTIVE)
    paletted.save(tmp_path / "palette.png")
    np.testing.assert_array_equal(read_image(tmp_path / "palette.png"), colours)
    grey_alpha = Image.fromarray(np.full((4, 4, 2), [90, 200], dtype=np.uint8), "LA")
    grey_alpha.save(tmp_path / "la.png")
    read = read_image(tmp_path / "la.png")
    np.testing.assert_array_equal(read[..., :3], 90)
    np.testing.assert_array_equal(read[..., 3], 200)


def test_wide_integers_are_refused_by_mode(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((4, 4), 70_000, dtype=np.int32)).save(tmp_path / "i.tif")
    with pytest.raises(ValueError, match="mode I"):
        read_image(tmp_path / "i.tif")


@pytest.mark.parametrize(
    ("name", "image", "message"),
    [
        ("f.png", np.zeros((4, 4), np.float32), "float image is written as TIFF"),
        ("c16.png", np.zeros((4, 4, 3), np.uint16), "cannot write a uint16"),
        ("i.png", np.zeros((4, 4), np.int32), "cannot write a int32"),
        ("g16.jpg", np.zeros((4, 4), np.uint16), "16-bit image is written as PNG"),
    ],
)
def test_write_refuses_what_the_format_cannot_hold(tmp_path, name, image, message):
    with pytest.raises(ValueError, match=message):
        write_image(tmp_path / name, image)
    assert not (tmp_path / name).exists()


# Bytes on disk: quantized factors, and a comparison with JPEG.


@pytest.mark.parametrize("bits", [4, 8, 12, 16])
def test_quantized_factors_round_trip_and_meet_their_bound(photo, tmp_path, bits):
    grey = photo[..., 0]
    exact = compress_image(grey, rank=12)
    quantized = compress_image(grey, rank=12, bits=bits)
    assert quantized.bits == bits
    quantized.save(tmp_path / "q.npz")
    assert quantized.file_nbytes == (tmp_path / "q.npz").stat().st_size
    loaded = CompressedImage.load(tmp_path / "q.npz")
    assert loaded.bits == bits
    np.testing.assert_array_equal(loaded.reconstruct(), quantized.reconstruct())
    # The documented bound: Σ σᵢ (‖Δuᵢ‖ + ‖Δvᵢ‖ + ‖Δuᵢ‖‖Δvᵢ‖), with
    # ‖Δuᵢ‖ ≤ δᵢ√m/2, δᵢ = max|uᵢ|/(2^(b−1) − 1).
    (U, s, Vt), (Uq, _, Vtq) = exact.factors[0], quantized.factors[0]
    levels = 2 ** (bits - 1) - 1
    du = np.abs(U).max(axis=0) / levels * np.sqrt(U.shape[0]) / 2
    dv = np.abs(Vt).max(axis=1) / levels * np.sqrt(Vt.shape[1]) / 2
    bound = np.sum(s * (du + dv + du * dv))
    difference = np.linalg.norm((Uq * s) @ Vtq - (U * s) @ Vt)
    assert difference <= bound * (1 + 1e-6)


def test_quantized_file_is_smaller_and_reported_psnr_is_measured(photo):
    exact = compress_image(photo, rank=10)
    quantized = compress_image(photo, rank=10, bits=8)
    assert quantized.file_nbytes < 0.5 * exact.file_nbytes
    mse = np.mean((quantized.reconstruct().astype(float) - photo) ** 2)
    assert quantized.psnr == pytest.approx(10 * np.log10(255.0**2 / mse), rel=1e-9)


def test_rate_distortion_against_independent_measurements(photo):
    from PIL import Image

    from sksvd.image import rate_distortion

    grey = photo[..., 0]
    table = rate_distortion(grey, ranks=[2, 8], jpeg_qualities=[30, 90])
    svd = table[table["method"] == "svd"]
    for rank, size, psnr in zip(
        svd["parameter"], svd["bytes"], svd["psnr"], strict=True
    ):
        # Truncating one SVD and computing each rank afresh give the same
        # subspaces up to rounding; quantized and deflated, the files differ
        # by a few bytes.
        alone = compress_image(grey, rank=rank, bits=8)
        assert size == pytest.approx(alone.file_nbytes, rel=0.02)
        assert psnr == pytest.approx(alone.psnr, rel=1e-3)
    jpeg = table[table["method"] == "jpeg"]
    for quality, size, psnr in zip(
        jpeg["parameter"], jpeg["bytes"], jpeg["psnr"], strict=True
    ):
        buffer = io.BytesIO()
        Image.fromarray(grey).save(buffer, format="JPEG", quality=int(quality))
        assert size == buffer.getbuffer().nbytes
        decoded = np.asarray(Image.open(buffer), dtype=float)
        mse = np.mean((decoded - grey) ** 2)
        assert psnr == pytest.approx(10 * np.log10(255.0**2 / mse), rel=1e-9)
    assert np.all(np.diff(svd["bytes"]) > 0) and np.all(np.diff(jpeg["bytes"]) > 0)


def test_rate_distortion_needs_what_jpeg_holds(photo):
    from sksvd.image import rate_distortion

    with pytest.raises(ValueError, match="8-bit grey or RGB"):
        rate_distortion(photo[..., 0].astype(np.uint16) * 200)
    with pytest.raises(ValueError, match="8-bit grey or RGB"):
        rate_distortion(np.dstack([photo, photo[..., :1]]))


def test_boolean_image_is_thresholded_at_one_half(rng):
    image = rng.random((6, 5)) > 0.5
    np.testing.assert_array_equal(compress_image(image, rank=5).reconstruct(), image)


def test_sixteen_bit_colour_is_refused_not_truncated(tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    height, width = 2, 3
    rows = b"".join(b"\0" + b"\x67\x32" * (3 * width) for _ in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    (tmp_path / "rgb16.png").write_bytes(png)
    with pytest.raises(ValueError, match="16-bit colour"):
        read_image(tmp_path / "rgb16.png")


def test_animations_are_refused(tmp_path):
    from PIL import Image

    frames = [Image.fromarray(np.full((4, 4), value, np.uint8)) for value in (0, 255)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(ValueError, match="2 frames"):
        read_image(tmp_path / "a.gif")


@pytest.mark.parametrize(
    ("name", "image", "message"),
    [
        ("rgba.jpg", np.zeros((4, 4, 4), np.uint8), "cannot be written"),
        ("two.png", np.zeros((4, 4, 2), np.uint8), r"\(height, width, 3\|4\)"),
        ("line.png", np.zeros(4, np.uint8), r"\(height, width\)"),
        ("huge.tif", np.array([[1e300, 0.1]]), "beyond float32"),
    ],
)
def test_write_refuses_shapes_and_values_clearly(tmp_path, name, image, message):
    with pytest.raises(ValueError, match=message):
        write_image(tmp_path / name, image)
    assert not (tmp_path / name).exists()


def test_constant_float_image_has_a_finite_psnr():
    compressed = compress_image(np.full((4, 4), 3.3), rank=1, bits=8)
    assert np.isfinite(compressed.psnr) and compressed.psnr > 40


def test_rate_distortion_files_are_what_compress_writes(photo):
    from sksvd.image import rate_distortion

    grey = photo[..., 0]
    table = rate_distortion(grey, ranks=[grey.shape[0]], jpeg_qualities=[50])
    alone = compress_image(grey, rank=grey.shape[0], bits=8)
    assert table["bytes"].iloc[0] == alone.file_nbytes


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ranks": []}, "non-empty"),
        ({"bits": None}, "bits"),
        ({"jpeg_qualities": [0]}, "between 1 and 95"),
        ({"jpeg_qualities": [101]}, "between 1 and 95"),
    ],
)
def test_rate_distortion_validates_its_arguments(photo, options, message):
    from sksvd.image import rate_distortion

    with pytest.raises(ValueError, match=message):
        rate_distortion(photo[..., 0], **options)


def test_quality_figures_are_plain_floats():
    # compress_image gave numpy.float64 where CompressedImage() and load() give
    # float; the type is the same on every path now.
    image = np.add.outer(np.arange(40), np.arange(30)).astype(np.uint8)
    compressed = compress_image(image, rank=1)
    assert type(compressed.psnr) is float
    assert type(compressed.relative_error) is float
