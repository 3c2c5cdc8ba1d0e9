"""Corrupt, truncated and oversized files: a clean ValueError every time.

Valid files are mutated at random (bytes flipped, cut short, junk appended); the
readers must return a valid result or raise ValueError, never crash, hang or
write anything.
"""

import io
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sksvd.image import CompressedImage, compress_image, read_image, write_image

pytestmark = pytest.mark.slow
pytest.importorskip("PIL")

RNG = np.random.default_rng(0)
PHOTO = RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8)


def _bytes_of_npz():
    buffer = io.BytesIO()
    compressed = compress_image(PHOTO, rank=3)
    compressed.save(buffer)
    return buffer.getvalue()


def _bytes_of_png():
    buffer = io.BytesIO()
    from PIL import Image

    Image.fromarray(PHOTO).save(buffer, format="PNG")
    return buffer.getvalue()


NPZ, PNG = _bytes_of_npz(), _bytes_of_png()


def _npz_seeds():
    """The valid file and the malformed ones of tests/test_npz_safety.py."""
    from tests.test_npz_safety import _declaring, _members, write_npz

    members = _members(PHOTO, rank=3)
    variants = [
        ({}, {f"junk{i}.npy": _declaring((40_000_000,)) for i in range(4)}),
        ({}, {"U0": _declaring((2**28,))}),
        ({"shape": np.array([2**32, 2**32])}, {}),
        ({"shape": np.array([24.7, 32.0, 3.0])}, {}),
        ({"value_range": np.array([0.0, np.nan])}, {}),
        ({"value_range": np.array([300.0, 10.0])}, {}),
        ({"psnr": np.array(np.nan), "relative_error": np.array(-5.0)}, {}),
        ({"dtype": np.array("m8[s]")}, {}),
    ]
    seeds = [NPZ]
    for changes, raw in variants:
        buffer = io.BytesIO()
        write_npz(buffer, {**members, **changes}, raw)
        seeds.append(buffer.getvalue())
    return seeds


NPZ_SEEDS = _npz_seeds()


def mutations(original):
    flips = st.lists(
        st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    )

    def flip(changes):
        data = bytearray(original)
        for position, value in changes:
            data[position] = value
        return bytes(data)

    return st.one_of(
        flips.map(flip),
        st.integers(0, len(original) - 1).map(lambda cut: original[:cut]),
        st.binary(min_size=1, max_size=64).map(lambda junk: original + junk),
        st.binary(max_size=256),
    )


# SKSVD_FUZZ_EXAMPLES raises the count for a long run (3000 and more).
FUZZ = settings(
    max_examples=int(os.environ.get("SKSVD_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(data=st.sampled_from(NPZ_SEEDS).flatmap(mutations))
def test_npz_loader_never_crashes(tmp_path, data):
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(data)
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        loaded = CompressedImage.load(path)
    except ValueError:
        pass
    else:
        image = loaded.reconstruct()
        assert image.shape == loaded.shape
        assert np.all(np.isfinite(image.astype(float)))
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@FUZZ
@given(data=mutations(PNG))
def test_image_reader_never_crashes(tmp_path, data):
    path = tmp_path / "fuzzed.png"
    path.write_bytes(data)
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        image = read_image(path)
    except ValueError:
        pass
    else:
        assert image.dtype in (np.uint8, np.uint16, np.float32)
        assert image.ndim in (2, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_npz_zip_bomb_is_refused_before_inflating(tmp_path):
    # 40 GB of zeros declared in a header, compressed to a few hundred kB, for
    # an image whose factors need at most 6 GB.
    path = tmp_path / "bomb.npz"
    header = {"descr": "<f8", "fortran_order": False, "shape": (100_000, 50_000)}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("U0.npy", "w", force_zip64=True) as stream:
            np.lib.format.write_array_header_1_0(stream, header)
            stream.write(b"\0" * 1_000_000)  # the rest is never read
        metadata = {
            "format_version": np.array(1),
            "shape": np.array([10_000, 5_000]),
            "dtype": np.array("|u1"),
            "value_range": np.array([0.0, 255.0]),
            "psnr": np.array(30.0),
            "relative_error": np.array(0.1),
            "s0": np.ones(10),
            "Vt0": np.ones((10, 5_000)),
        }
        for name, value in metadata.items():
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{name}.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="bytes of factors"):
        CompressedImage.load(path)


def test_npz_with_objects_is_refused(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, shape=np.array([2, 2]), U0=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="Python objects"):
        CompressedImage.load(path)


def test_npz_with_non_finite_factors_is_refused(tmp_path):
    compressed = compress_image(PHOTO[..., 0], rank=2)
    U, s, Vt = compressed.factors[0]
    compressed.factors[0] = (U, s, np.full_like(Vt, np.nan))
    compressed.save(tmp_path / "nan.npz")
    with pytest.raises(ValueError, match="non-finite"):
        CompressedImage.load(tmp_path / "nan.npz")


def test_round_trip_through_files(tmp_path):
    write_image(tmp_path / "photo.png", PHOTO)
    compressed = compress_image(read_image(tmp_path / "photo.png"), rank=4)
    compressed.save(tmp_path / "photo.npz")
    np.testing.assert_array_equal(
        CompressedImage.load(tmp_path / "photo.npz").reconstruct(),
        compressed.reconstruct(),
    )
