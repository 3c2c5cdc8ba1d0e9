"""Malformed compressed-image files: refused with a clear error, never inflated."""

import io
import zipfile

import numpy as np
import pytest

from sksvd.image import CompressedImage, compress_image

GREY = np.add.outer(np.arange(20), np.arange(30)).astype(np.uint8)


def _members(image=GREY, rank=2, bits=None):
    """The arrays a valid file holds, by name."""
    buffer = io.BytesIO()
    compress_image(image, rank=rank, bits=bits).save(buffer)
    with np.load(io.BytesIO(buffer.getvalue())) as data:
        return {name: data[name] for name in data.files}


def write_npz(path, members, raw=None):
    """Write ``members`` as NAME.npy, plus raw byte members named as given."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in members.items():
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{name}.npy", buffer.getvalue())
        for name, data in (raw or {}).items():
            archive.writestr(name, data)
    return path


def _declaring(shape, dtype="<f8"):
    """An .npy header declaring ``shape``, followed by a little data only."""
    buffer = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + b"\0" * 1000


def test_valid_file_loads(tmp_path):
    loaded = CompressedImage.load(write_npz(tmp_path / "ok.npz", _members()))
    np.testing.assert_array_equal(loaded.reconstruct(), GREY)


def test_unknown_members_are_refused_before_inflating(tmp_path):
    # Four members declaring 320 MB each: none is inflated.
    raw = {f"junk{i}.npy": _declaring((40_000_000,)) for i in range(4)}
    path = write_npz(tmp_path / "junk.npz", _members(), raw)
    with pytest.raises(ValueError, match="unexpected member 'junk0.npy'"):
        CompressedImage.load(path)


def test_member_without_npy_suffix_is_refused(tmp_path):
    # np.load would map both "U0" and "U0.npy" to the key U0.
    path = write_npz(tmp_path / "raw.npz", _members(), {"U0": _declaring((2**28,))})
    with pytest.raises(ValueError, match="unexpected member 'U0'"):
        CompressedImage.load(path)


def test_factor_bytes_are_bounded_by_the_shape(tmp_path):
    members = _members()
    del members["U0"]
    path = write_npz(tmp_path / "big.npz", members, {"U0.npy": _declaring((20, 10**7))})
    with pytest.raises(ValueError, match="bytes of factors"):
        CompressedImage.load(path)


@pytest.mark.parametrize(
    ("bits", "name", "value", "message"),
    [
        (8, "U0_step", np.array([0.0, 1.0], dtype=np.float32), "quantization steps"),
        (8, "U0_step", np.array([np.nan, 1.0], dtype=np.float32), "quantization"),
        (8, "Vt0_step", np.array([1.0, 1.0]), "quantization steps"),  # float64
        (8, "U0", np.zeros((20, 2), dtype=np.int32), "int8/16"),
        (None, "shape", np.array([2**32, 2**32]), "pixels; refused"),
        (None, "shape", np.array([20.7, 30.0]), "malformed image shape"),
        (None, "shape", np.array([20, 30, 1]), r"\(height, width, 3\|4\)"),
        (None, "shape", np.array([20, 30, 5]), r"\(height, width, 3\|4\)"),
        (None, "shape", np.array([20, 30, 0]), r"\(height, width, 3\|4\)"),
        (None, "shape", np.array([0, 30]), "height, width >= 1"),
        (None, "shape", np.arange(10**4), "declares a shape"),
        (None, "value_range", np.array([0.0, np.nan]), "value_range"),
        (None, "value_range", np.array([np.inf, -np.inf]), "value_range"),
        (None, "value_range", np.array([300.0, 10.0]), "value_range"),
        (None, "value_range", np.array([0, 255]), "malformed value_range"),
        (None, "psnr", np.array(np.nan), "psnr=nan"),
        (None, "psnr", np.array([30.0]), "malformed psnr"),
        (None, "relative_error", np.array(-5.0), "relative_error=-5"),
        (None, "relative_error", np.array(np.inf), "relative_error=inf"),
        (None, "dtype", np.array("m8[s]"), "boolean, integer or float"),
        (None, "dtype", np.array("c16"), "boolean, integer or float"),
        (None, "dtype", np.array("no such dtype"), "malformed image dtype"),
        (None, "format_version", np.array(3), "format version 3"),
        (None, "format_version", np.array(1.0), "malformed format_version"),
    ],
)
def test_malformed_metadata_is_refused(tmp_path, bits, name, value, message):
    members = _members(bits=bits)
    members[name] = value
    with pytest.raises(ValueError, match=message):
        CompressedImage.load(write_npz(tmp_path / "bad.npz", members))


def test_factors_of_a_missing_or_extra_channel_are_refused(tmp_path):
    members = _members()
    members["U1"], members["s1"], members["Vt1"] = (
        members["U0"],
        members["s0"],
        members["Vt0"],
    )
    with pytest.raises(ValueError, match="factors of a 1-channel image"):
        CompressedImage.load(write_npz(tmp_path / "extra.npz", members))
    members = _members()
    del members["Vt0"]
    with pytest.raises(ValueError, match="missing"):
        CompressedImage.load(write_npz(tmp_path / "missing.npz", members))


def test_duplicate_members_are_refused(tmp_path):
    path = tmp_path / "twice.npz"
    write_npz(path, _members())
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning):
        archive.writestr("s0.npy", buffer.getvalue())  # zipfile warns: duplicate
    with pytest.raises(ValueError, match="twice"):
        CompressedImage.load(path)


def _quantized_members():
    return _members(bits=8)


def test_quantized_file_loads(tmp_path):
    members = _quantized_members()
    assert members["U0"].dtype == np.int8 and members["format_version"] == 2
    loaded = CompressedImage.load(write_npz(tmp_path / "q.npz", members))
    assert loaded.bits == 8


def test_quantized_file_without_its_steps_is_refused(tmp_path):
    members = _quantized_members()
    del members["Vt0_step"]
    with pytest.raises(ValueError, match="missing"):
        CompressedImage.load(write_npz(tmp_path / "nostep.npz", members))


def test_negative_dimensions_cannot_cancel_a_huge_member(tmp_path):
    # 120 MB declared by U0, "−120 MB" by Vt0: refused before either is read.
    members = _members()
    members["shape"] = np.array([1, 1])
    members["s0"] = np.zeros(1)
    del members["U0"], members["Vt0"]
    raw = {
        "U0.npy": _declaring((1, 15_000_000)),
        "Vt0.npy": _declaring((-1, 15_000_000)),
    }
    with pytest.raises(ValueError, match="declares Vt0 of shape"):
        CompressedImage.load(write_npz(tmp_path / "negative.npz", members, raw))


def test_total_declared_bytes_have_an_absolute_cap(tmp_path):
    members = _members()
    members["shape"] = np.array([3000, 3000])
    members["s0"] = np.zeros(3000)
    members["U0"] = members["Vt0"] = np.zeros((3000, 3000))  # 144 MB, deflates to kB
    path = write_npz(tmp_path / "big.npz", members)
    with pytest.raises(ValueError, match="max_bytes"):
        CompressedImage.load(path, max_bytes=10**8)
    assert CompressedImage.load(path, max_bytes=2 * 10**8).shape == (3000, 3000)


def test_value_range_beyond_the_dtype_is_refused(tmp_path):
    members = _members()
    members["value_range"] = np.array([0.0, 1e6])
    with pytest.raises(ValueError, match="beyond the uint8 range"):
        CompressedImage.load(write_npz(tmp_path / "range.npz", members))


def test_huge_steps_are_refused_without_a_warning(tmp_path):
    members = _quantized_members()
    members["U0_step"] = np.full(2, 3e38, dtype=np.float32)
    with pytest.raises(ValueError, match="non-finite"):
        CompressedImage.load(write_npz(tmp_path / "steps.npz", members))


def test_load_adds_the_extension_save_added(tmp_path):
    compress_image(GREY, rank=2).save(tmp_path / "noext")
    assert CompressedImage.load(tmp_path / "noext").shape == GREY.shape
