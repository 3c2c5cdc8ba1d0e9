"""Image compression by truncated SVD: one set of factors per channel.

Reading and writing image files needs Pillow (``pip install "sksvd[image]"``);
compressing arrays needs only the core dependencies.
"""

import io
import struct
import zipfile
import zlib
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from sksvd._compat import Interval, StrOptions, validate_params
from sksvd._compression import TruncatedSVDCompressor
from sksvd.linalg._engine import SOLVERS, frobenius_norm


class CompressedImage:
    """An image stored as the truncated SVD ``U_k Σ_k V_kᵀ`` of each channel.

    Made by :func:`compress_image` or :meth:`load`; not meant to be built by hand.

    Attributes
    ----------
    factors : list of tuple of ndarray
        ``(U, s, Vt)`` per channel: ``U`` of shape (height, k), ``s`` of shape
        (k,), ``Vt`` of shape (k, width); float32, or float64 for a channel whose
        singular values fall outside 1e-30 … 1e30.
    shape : tuple of int
        Shape of the original image, (height, width) or (height, width, channels).
    dtype : numpy dtype
        Data type of the original image.
    value_range : tuple of float
        The range reconstructions are clipped to: the dtype's range for integer
        images, ``(0, 1)`` for float images inside it, otherwise None (no
        clipping).
    psnr : float
        Peak signal-to-noise ratio of ``reconstruct()`` against the original, in
        dB, with the peak the span of ``value_range`` (or of the original's
        values when that is None); ``inf`` for a lossless result.
    relative_error : float
        ``‖original − reconstruct()‖_F / ‖original‖_F`` (0 for an all-zero
        original).
    bits : int or None
        Bits per entry of the quantized ``U`` and ``Vt`` (see
        :func:`compress_image`), or None for float factors.

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.image import CompressedImage, compress_image
    >>> image = np.add.outer(np.arange(40), np.arange(30)).astype(np.uint8)
    >>> compressed = compress_image(image, rank=2)
    >>> compressed.ranks, compressed.shape
    ((2,), (40, 30))
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "image.npz"
    ...     compressed.save(path)
    ...     loaded = CompressedImage.load(path)
    >>> bool(np.array_equal(loaded.reconstruct(), image))
    True
    """

    def __init__(
        self, factors, shape, dtype, value_range, psnr, relative_error, bits=None
    ):
        self.factors = factors
        self.bits = bits
        self.shape = tuple(int(size) for size in shape)
        self.dtype = np.dtype(dtype)
        self.value_range = value_range
        self.psnr = float(psnr)
        self.relative_error = float(relative_error)

    def __repr__(self):
        return (
            f"CompressedImage(shape={self.shape}, ranks={self.ranks}, "
            f"storage_ratio={self.storage_ratio:.3f}, psnr={self.psnr:.2f})"
        )

    @property
    def ranks(self):
        """Rank kept for each channel, as a tuple."""
        return tuple(s.size for _, s, _ in self.factors)

    @property
    def storage_ratio(self):
        """Values stored, ``Σ_c k_c (m + n + 1)``, over the ``m·n·channels`` pixels."""
        height, width = self.shape[:2]
        stored = sum(rank * (height + width + 1) for rank in self.ranks)
        return stored / (height * width * len(self.factors))

    @property
    def nbytes(self):
        """Bytes taken by the factors in memory (float)."""
        return sum(U.nbytes + s.nbytes + Vt.nbytes for U, s, Vt in self.factors)

    @property
    def file_nbytes(self):
        """Bytes of the file :meth:`save` writes: what storing the image costs."""
        buffer = io.BytesIO()
        self.save(buffer)
        return buffer.getbuffer().nbytes

    @property
    def original_nbytes(self):
        """Bytes taken by the original image's pixels."""
        return int(np.prod(self.shape)) * self.dtype.itemsize

    def reconstruct(self, clip=True):
        """The rank-k image.

        Parameters
        ----------
        clip : bool, default=True
            Clip to ``value_range`` and, for integer images, round, returning the
            original's dtype. ``clip=False`` returns the raw float64 low-rank
            matrices, whose error is the Eckart–Young optimum.

        Returns
        -------
        image : ndarray of shape ``shape``
        """
        channels = [(U.astype(np.float64) * s) @ Vt for U, s, Vt in self.factors]
        image = channels[0] if len(self.shape) == 2 else np.stack(channels, axis=-1)
        if not clip:
            return image
        if self.value_range is not None:
            image = np.clip(image, *self.value_range)
        if self.dtype == np.bool_:
            return image >= 0.5
        if np.issubdtype(self.dtype, np.integer):
            image = np.rint(image)
        return image.astype(self.dtype)

    def save(self, path):
        """Write the factors and metadata to a ``.npz`` file (no pickled objects).

        Parameters
        ----------
        path : str, path-like or file-like
            Destination; NumPy appends ``.npz`` to a name without it.

        Notes
        -----
        A zip archive of ``.npy`` arrays compressed by deflate (zlib), readable
        by :func:`numpy.load` anywhere. Float factors are stored as float32
        (float64 for a channel whose σ leave 1e-30 … 1e30; format version 1);
        quantized factors (``bits``) as int8 or int16 with one float32 step per
        component (version 2), which deflate then shrinks
        further.
        """
        arrays = {
            "format_version": np.array(
                1 if getattr(self, "_grid", None) is None else 2
            ),
            "shape": np.array(self.shape),
            "dtype": np.array(self.dtype.str),
            "value_range": np.array(
                [np.nan, np.nan] if self.value_range is None else self.value_range
            ),
            "psnr": np.array(self.psnr),
            "relative_error": np.array(self.relative_error),
        }
        grid = getattr(self, "_grid", None)
        for channel, (U, s, Vt) in enumerate(self.factors):
            if grid is not None:
                # The integers and steps the factors were dequantized from.
                U, arrays[f"U{channel}_step"], Vt, arrays[f"Vt{channel}_step"] = grid[
                    channel
                ]
            arrays[f"U{channel}"], arrays[f"s{channel}"] = U, s
            arrays[f"Vt{channel}"] = Vt
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path, *, max_bytes=2**30):
        """Read a file written by :meth:`save`.

        Parameters
        ----------
        path : str, path-like or file-like
            A name without ``.npz`` that does not exist is tried with it, as
            :meth:`save` (NumPy) adds it.
        max_bytes : int, default=2**30
            Most bytes the factors may declare in all (1 GiB), besides the bound
            the image's own shape sets; raise it for very large images.

        Returns
        -------
        CompressedImage

        Raises
        ------
        ValueError
            If the file is not a compressed image of a known format version.
        """
        if isinstance(path, str | Path):
            path = Path(path)
            if not path.exists() and path.suffix != ".npz":
                path = path.with_name(path.name + ".npz")
        contents = _read_npz(path, max_bytes)
        shape, channels = _read_shape(path, contents)
        version = _scalar(path, contents, "format_version", "iu")
        if version not in (1, 2):
            raise ValueError(
                f"{path} has format version {version}; this sksvd reads versions "
                "1 and 2."
            )
        dtype = _read_dtype(path, contents)
        value_range = _read_value_range(path, contents)
        if value_range is not None and dtype.kind in "biu":
            low, high = _value_range(np.zeros(1, dtype=dtype))
            if value_range[0] < low or value_range[1] > high:
                raise ValueError(
                    f"{path} has value_range {value_range}, beyond the {dtype} "
                    f"range [{low}, {high}]."
                )
        psnr = _scalar(path, contents, "psnr", "f")
        error = _scalar(path, contents, "relative_error", "f")
        if np.isnan(psnr):
            raise ValueError(f"{path} has psnr=nan; a PSNR is a number or ±inf.")
        if not (np.isfinite(error) and error >= 0):
            raise ValueError(
                f"{path} has relative_error={error}; it must be finite and >= 0."
            )
        factors, grid = [], []
        for channel in range(channels):
            U, s, Vt, quantized = _read_factors(path, contents, channel, shape, version)
            factors.append((U, s, Vt))
            grid.append(quantized)
        return cls._with_grid(
            factors,
            shape,
            dtype,
            value_range,
            psnr,
            error,
            None if version == 1 else grid,
        )

    @classmethod
    def _with_grid(cls, factors, shape, dtype, value_range, psnr, error, grid):
        """An instance whose factors are dequantized from ``grid`` (or float)."""
        bits = None
        if grid is not None:
            largest = max(
                int(np.max(np.abs(part.astype(np.int32)), initial=0))
                for U, _, Vt, _ in grid
                for part in (U, Vt)
            )
            bits = max(2, largest.bit_length() + 1)
        compressed = cls(factors, shape, dtype, value_range, psnr, error, bits=bits)
        compressed._grid = grid
        return compressed


# float32 holds about 7 digits between 1e-38 and 3e38; well inside that range
# (pixel values of any real image) the factors are stored in float32.
_FLOAT32_SAFE = (1e-30, 1e30)


def _factor_dtype(s):
    """float32 for the factors, or float64 when σ would leave float32's range."""
    positive = s[s > 0]
    if positive.size == 0:
        return np.float32
    inside = _FLOAT32_SAFE[0] < positive.min() and positive.max() < _FLOAT32_SAFE[1]
    return np.float32 if inside else np.float64


# What a damaged archive can raise while being opened or inflated.
_ARCHIVE_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    RuntimeError,  # zipfile: encrypted members, unknown compression methods
    KeyError,
    SyntaxError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
)
# Largest image a .npz file may describe: Pillow's own default limit, twice.
_MAX_PIXELS = 2 * 89_478_485


class _Refused(ValueError):
    """A readable archive whose contents are not a valid compressed image."""


_METADATA = (
    "format_version",
    "shape",
    "dtype",
    "value_range",
    "psnr",
    "relative_error",
)
# Bytes a metadata member may declare: a few numbers or a short dtype string.
_METADATA_BYTES = 256
_FACTOR_NAMES = ("U", "s", "Vt")


def _read_npz(path, max_bytes):
    """The members of a compressed-image ``.npz``, read within one byte budget.

    Every member must be ``NAME.npy`` for a name a compressed image holds, once.
    The array headers are read first, without inflating any data: metadata
    members may declare at most a few hundred bytes, and the factors together
    at most what the image's own shape allows (``k ≤ min(height, width)``
    components of ``height + width + 1`` float64 numbers per channel). Shapes
    are multiplied as Python integers, so no declared size can overflow. Each
    member is then inflated once, exactly to its declared size.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            headers = _headers(path, archive)
            metadata = {name: _inflate(archive, headers[name]) for name in _METADATA}
            _check_factor_budget(path, metadata, headers, max_bytes)
            factors = {
                name: _inflate(archive, header)
                for name, header in headers.items()
                if name not in _METADATA
            }
    except _Refused:
        raise
    except _ARCHIVE_ERRORS as error:
        raise ValueError(f"{path} is not a readable .npz file: {error}") from None
    return {**metadata, **factors}


def _inflate(archive, header):
    with archive.open(header[0]) as stream:
        return np.lib.format.read_array(stream, allow_pickle=False)


def _headers(path, archive):
    """``name -> (member, shape, dtype)`` from the array headers alone."""
    allowed = set(_METADATA) | {
        f"{kind}{channel}{suffix}"
        for kind in _FACTOR_NAMES
        for channel in range(4)
        for suffix in ("", "_step")
        if kind != "s" or not suffix
    }
    headers = {}
    for member in archive.infolist():
        name = member.filename.removesuffix(".npy")
        if not member.filename.endswith(".npy") or name not in allowed:
            raise _Refused(
                f"{path} is not a compressed image written by sksvd: unexpected "
                f"member {member.filename!r}."
            )
        if name in headers:
            raise _Refused(f"{path} holds the member {name!r} twice; refused.")
        with archive.open(member) as stream:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        if dtype.hasobject:
            raise _Refused(f"{path} holds Python objects ({name}); refused.")
        if any(int(size) < 0 for size in shape):
            raise _Refused(f"{path} declares {name} of shape {shape}; refused.")
        headers[name] = (member, shape, dtype)
    missing = [name for name in _METADATA if name not in headers]
    if missing:
        raise _Refused(
            f"{path} is not a compressed image written by sksvd: no {missing[0]}."
        )
    for name in _METADATA:
        _, shape, dtype = headers[name]
        if _declared_bytes(shape, dtype) > _METADATA_BYTES:
            raise _Refused(
                f"{path} declares a {name} of shape {shape}; refused (metadata is "
                "a few numbers)."
            )
    return headers


def _declared_bytes(shape, dtype):
    count = 1
    for size in shape:
        count *= int(size)  # Python integers: no overflow
    return count * dtype.itemsize


def _check_factor_budget(path, metadata, headers, max_bytes):
    """Refuse factors the image's shape does not call for, before inflating them."""
    shape, channels = _read_shape(path, metadata)
    expected = {f"{kind}{c}" for kind in _FACTOR_NAMES for c in range(channels)}
    version = metadata["format_version"]
    if version.shape == () and version.dtype.kind in "iu" and version.item() == 2:
        expected |= {f"{kind}{c}_step" for kind in ("U", "Vt") for c in range(channels)}
    present = set(headers) - set(_METADATA)
    if present != expected:
        surplus, lacking = sorted(present - expected), sorted(expected - present)
        raise _Refused(
            f"{path} does not hold the factors of a {channels}-channel image "
            f"(unexpected: {surplus}, missing: {lacking})."
        )
    height, width = shape[:2]
    budget = min(channels * min(height, width) * (height + width + 1) * 8, max_bytes)
    declared = sum(
        _declared_bytes(size, dtype)
        for name, (_, size, dtype) in headers.items()
        if name in expected
    )
    if declared > budget:
        raise _Refused(
            f"{path} declares {declared} bytes of factors, more than the "
            f"{budget} allowed for an image of shape {shape} (at most max_bytes="
            f"{max_bytes}); refused."
        )


def _scalar(path, contents, name, kinds):
    value = contents[name]
    if value.shape != () or value.dtype.kind not in kinds:
        raise ValueError(
            f"{path} has a malformed {name} (shape {value.shape}, dtype "
            f"{value.dtype}); expected a scalar."
        )
    return value.item()


def _read_shape(path, contents):
    shape = contents["shape"]
    if shape.ndim != 1 or shape.dtype.kind not in "iu" or shape.size not in (2, 3):
        raise _Refused(
            f"{path} has a malformed image shape {shape!r}: expected 2 or 3 integers."
        )
    shape = tuple(int(size) for size in shape)
    if min(shape[:2]) < 1 or (len(shape) == 3 and shape[2] not in (3, 4)):
        raise _Refused(
            f"{path} describes an image of shape {shape}: expected (height, width) "
            "or (height, width, 3|4) with height, width >= 1."
        )
    if shape[0] * shape[1] > _MAX_PIXELS:
        raise _Refused(f"{path} describes an image of {shape} pixels; refused.")
    return shape, (1 if len(shape) == 2 else shape[2])


def _read_dtype(path, contents):
    value = contents["dtype"]
    try:
        if value.shape != () or value.dtype.kind not in "US":
            raise TypeError
        dtype = np.dtype(str(value.item()))
    except (TypeError, ValueError):
        raise ValueError(f"{path} has a malformed image dtype {value!r}.") from None
    if dtype.kind not in "biuf":
        raise ValueError(
            f"{path} names the image dtype {dtype}; images are boolean, integer or "
            "float."
        )
    return dtype


def _read_value_range(path, contents):
    value = contents["value_range"]
    if value.shape != (2,) or value.dtype.kind != "f":
        raise ValueError(f"{path} has a malformed value_range {value!r}.")
    low, high = (float(bound) for bound in value)
    if np.isnan(low) and np.isnan(high):
        return None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"{path} has value_range [{low}, {high}]: expected two finite numbers, "
            "the first below the second (or both NaN for none)."
        )
    return (low, high)


def _read_factors(path, contents, channel, shape, version):
    """``U``, ``s``, ``Vt`` (float) of one channel, and their integer grid or None."""
    U, s, Vt = (contents[f"{kind}{channel}"] for kind in _FACTOR_NAMES)
    if s.ndim != 1 or U.shape != (shape[0], s.size) or Vt.shape != (s.size, shape[1]):
        raise ValueError(f"{path} holds factors that do not match {shape}.")
    quantized = None
    if version == 2:
        steps = (contents[f"U{channel}_step"], contents[f"Vt{channel}_step"])
        if U.dtype not in (np.int8, np.int16) or Vt.dtype != U.dtype:
            raise ValueError(f"{path} holds quantized factors that are not int8/16.")
        if any(
            step.shape != (s.size,)
            or step.dtype != np.float32
            or not np.all(np.isfinite(step) & (step > 0))
            for step in steps
        ):
            raise ValueError(f"{path} holds malformed quantization steps.")
        quantized = (U, steps[0], Vt, steps[1])
        with np.errstate(over="ignore"):  # overflow is refused just below
            U = U.astype(np.float32) * steps[0]
            Vt = Vt.astype(np.float32) * steps[1][:, np.newaxis]
    arrays = (U, s, Vt)
    if not all(a.dtype.kind == "f" for a in arrays) or not all(
        np.all(np.isfinite(a)) for a in arrays
    ):
        raise ValueError(f"{path} holds non-finite or non-float factors.")
    if np.any(s < 0):
        raise ValueError(f"{path} holds negative singular values.")
    return U, s, Vt, quantized


def _quantize(factor, bits, axis):
    """Integers ``q`` and float32 steps with ``q·step`` the factor on its grid.

    Each component (a column of ``U``, ``axis=0``; a row of ``Vt``, ``axis=1``)
    gets the step ``max|x| / (2^(bits−1) − 1)``, so its entries round to
    integers of ``bits`` bits (int8 up to 8, int16 up to 16).
    """
    levels = 2 ** (bits - 1) - 1
    peak = np.max(np.abs(factor), axis=axis).astype(np.float32)
    step = np.where(peak > 0, peak / np.float32(levels), np.float32(1)).astype(
        np.float32
    )
    shaped = step[np.newaxis, :] if axis == 0 else step[:, np.newaxis]
    dtype = np.int8 if bits <= 8 else np.int16
    q = np.clip(np.rint(factor / shaped), -levels, levels).astype(dtype)
    return q, step


def _value_range(image):
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return (float(info.min), float(info.max))
    if image.dtype == np.bool_:
        return (0.0, 1.0)
    if image.size and image.min() >= 0 and image.max() <= 1:
        return (0.0, 1.0)
    return None


def _check_image(image):
    if hasattr(image, "to_numpy"):  # pandas: nullable columns, NA as NaN
        image = image.to_numpy(dtype=np.float64, na_value=np.nan)
    image = np.asarray(image)
    if image.dtype == object or not (
        np.issubdtype(image.dtype, np.number) or image.dtype == np.bool_
    ):
        raise TypeError(f"image must hold numbers; got dtype {image.dtype}.")
    if np.issubdtype(image.dtype, np.complexfloating):
        raise TypeError("image must be real; got complex values.")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(
            "image must have shape (height, width) for grey or (height, width, 3|4) "
            f"for colour; got {image.shape}."
        )
    if min(image.shape[:2]) == 0:
        raise ValueError(f"image is empty: shape {image.shape}.")
    if not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or infinite values.")
    return image


@validate_params(
    {
        "image": ["array-like"],
        "rank": [Interval(Integral, 1, None, closed="left"), None],
        "energy": [Interval(Real, 0, 1, closed="neither"), None],
        "bits": [Interval(Integral, 2, 16, closed="both"), None],
        "solver": [StrOptions(set(SOLVERS))],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def compress_image(
    image, rank=None, energy=None, *, bits=None, solver="auto", random_state=None
):
    """Compress a grey or colour image by truncating each channel's SVD.

    Parameters
    ----------
    image : array-like of shape (height, width) or (height, width, 3 or 4)
        Pixel values, integer (such as uint8) or float.

    rank : int, default=None
        Rank kept in every channel, at most ``min(height, width)``.

    energy : float in (0, 1), default=None
        Instead of ``rank``: keep, per channel, the smallest rank whose
        components hold at least this fraction of the channel's ``‖X‖²_F``.

    bits : int from 2 to 16, default=None
        Quantize each column of ``U`` and row of ``Vt`` to integers of this many
        bits (int8 up to 8 bits, int16 beyond) with one float32 step per
        component, so that the file :meth:`CompressedImage.save` writes is
        small; None keeps float32 factors. ``psnr`` and ``relative_error`` are
        those of the quantized factors. See Notes for the error bound.

    solver : {"auto", "full", "qr", "gram", "randomized", "lanczos", "arpack", \
            "propack", "block_krylov"}, default="auto"
        The engine's solver; see :func:`sksvd.linalg.svd`.

    random_state : int, RandomState instance or None, default=None
        Seeds the randomized and Krylov solvers.

    Returns
    -------
    CompressedImage
        The factors, with the storage, error and PSNR of the reconstruction.

    See Also
    --------
    sksvd.TruncatedSVDCompressor : The compressor applied to each channel.
    read_image : Read a file into an array.

    Notes
    -----
    A channel of ``m × n`` pixels at rank ``k`` stores ``k(m + n + 1)`` numbers
    instead of ``m·n``: a saving when ``k < mn/(m + n + 1)``. By Eckart–Young, the
    unclipped reconstruction is the closest rank-``k`` image in the Frobenius
    norm; clipping to the value range can only bring it closer.

    Quantization with ``b`` bits rounds each entry of a unit vector ``uᵢ`` to a
    grid of step ``δᵢ = max|uᵢ| / (2^(b−1) − 1)``, so ``‖Δuᵢ‖ ≤ δᵢ·√m / 2``
    (and likewise ``‖Δvᵢ‖ ≤ δ'ᵢ·√n / 2``), and the quantized reconstruction is
    within ``Σᵢ σᵢ (‖Δuᵢ‖ + ‖Δvᵢ‖ + ‖Δuᵢ‖·‖Δvᵢ‖)`` of the unquantized one in
    the Frobenius norm. With 8 bits and typical image vectors that is about 1 %
    of each component; the reported PSNR is measured, not bounded.

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.image import compress_image
    >>> gradient = np.add.outer(np.arange(64), np.arange(48)).astype(np.uint8)
    >>> compressed = compress_image(gradient, rank=2)
    >>> compressed.ranks, round(compressed.storage_ratio, 3)
    ((2,), 0.074)
    >>> bool(np.array_equal(compressed.reconstruct(), gradient))
    True
    """
    if (rank is None) == (energy is None):
        raise ValueError("Pass exactly one of rank and energy.")
    image = _check_image(image)
    if rank is not None and rank > min(image.shape[:2]):
        raise ValueError(
            f"rank={rank} exceeds min(height, width) = {min(image.shape[:2])} of an "
            f"image of shape {image.shape}."
        )
    pixels = image.astype(np.float64)
    channels = [pixels] if image.ndim == 2 else np.moveaxis(pixels, -1, 0)
    target = rank if rank is not None else energy
    factors = []
    for channel in channels:
        compressor = TruncatedSVDCompressor(
            target, solver=solver, random_state=random_state
        )
        scores = compressor.fit_transform(channel)
        s = compressor.singular_values_
        # scores = U Σ (or X V for the approximate solvers); a zero singular
        # value leaves a zero column, whose U column is then zero too.
        U = np.divide(scores, s, out=np.zeros_like(scores), where=s > 0)
        dtype = _factor_dtype(s)
        factors.append(
            (U.astype(dtype), s.astype(dtype), compressor.components_.astype(dtype))
        )
    grid = None
    if bits is not None:
        grid = [
            (*_quantize(U, bits, axis=0), *_quantize(Vt, bits, axis=1))
            for U, _, Vt in factors
        ]
        factors = [
            (
                qU.astype(np.float32) * stepU,
                s.astype(np.float32),
                qVt.astype(np.float32) * stepVt[:, np.newaxis],
            )
            for (qU, stepU, qVt, stepVt), (_, s, _) in zip(grid, factors, strict=True)
        ]
    value_range = _value_range(image)
    compressed = CompressedImage._with_grid(
        factors, image.shape, image.dtype, value_range, 0, 0, grid
    )
    reconstruction = compressed.reconstruct().astype(np.float64)
    compressed.psnr, compressed.relative_error = _quality(
        pixels, reconstruction, value_range
    )
    return compressed


@validate_params(
    {
        "image": ["array-like"],
        "ranks": ["array-like", None],
        "bits": [Interval(Integral, 2, 16, closed="both")],
        "jpeg_qualities": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def rate_distortion(image, *, ranks=None, bits=8, jpeg_qualities=None):
    """Bytes against PSNR for rank-k SVD and for JPEG, on the same image.

    Each SVD point is the file :meth:`CompressedImage.save` writes for the image
    compressed at one rank with ``bits``-bit factors (the SVD is computed once,
    at the largest rank, and truncated); each JPEG point is the file Pillow
    writes at one quality (4:2:0 chroma subsampling, Pillow's default). PSNR is
    measured against ``image`` with the peak of its dtype, as
    :func:`compress_image` reports it.

    Parameters
    ----------
    image : array-like of shape (height, width) or (height, width, 3), uint8
        JPEG holds 8-bit grey or RGB images.
    ranks : sequence of int, default=None
        None: up to 16 distinct ranks spaced geometrically from 1 to
        ``min(height, width)/2``.
    bits : int from 2 to 16, default=8
        Bits per entry of the quantized factors.
    jpeg_qualities : sequence of int, default=None
        None: 5, 10, 20, …, 90, 95.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``method`` ("svd" or "jpeg"), ``parameter`` (rank or
        quality), ``bytes`` and ``psnr`` (dB).

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.image import rate_distortion
    >>> image = np.add.outer(np.arange(64), np.arange(48)).astype(np.uint8)
    >>> table = rate_distortion(image, ranks=[1, 2], jpeg_qualities=[50])
    >>> table["method"].tolist()
    ['svd', 'svd', 'jpeg']
    """
    import pandas as pd

    Image = _pillow()
    image = _check_image(image)
    if image.dtype != np.uint8 or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(
            "rate_distortion compares with JPEG, which holds 8-bit grey or RGB "
            f"images; got dtype {image.dtype} and shape {image.shape}."
        )
    shortest = min(image.shape[:2])
    if ranks is None:
        ranks = np.unique(np.geomspace(1, max(shortest // 2, 1), 16).astype(int))
    ranks = sorted({int(rank) for rank in ranks})
    if not ranks or ranks[0] < 1 or ranks[-1] > shortest:
        raise ValueError(
            f"ranks must be a non-empty list of integers between 1 and {shortest}; "
            f"got {ranks}."
        )
    qualities = (
        (5, *range(10, 100, 10), 95) if jpeg_qualities is None else jpeg_qualities
    )
    qualities = [int(quality) for quality in qualities]
    if not all(1 <= quality <= 95 for quality in qualities):
        raise ValueError(
            f"jpeg_qualities must lie between 1 and 95 (Pillow's useful range); got "
            f"{qualities}."
        )
    pixels = image.astype(np.float64)
    value_range = _value_range(image)
    full = compress_image(image, rank=ranks[-1], bits=bits)
    rows = []
    for rank in ranks:
        truncated = CompressedImage._with_grid(
            [(U[:, :rank], s[:rank], Vt[:rank]) for U, s, Vt in full.factors],
            full.shape,
            full.dtype,
            value_range,
            0,
            0,
            [
                (qU[:, :rank], sU[:rank], qV[:rank], sV[:rank])
                for qU, sU, qV, sV in full._grid
            ],
        )
        # Its own PSNR and error in the file, as compress_image would write.
        truncated.psnr, truncated.relative_error = _quality(
            pixels, truncated.reconstruct().astype(np.float64), value_range
        )
        rows.append(("svd", rank, truncated.file_nbytes, truncated.psnr))
    for quality in qualities:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
        size = buffer.getbuffer().nbytes
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            restored = np.asarray(decoded, dtype=np.float64)
        psnr, _ = _quality(pixels, restored, value_range)
        rows.append(("jpeg", int(quality), size, psnr))
    return pd.DataFrame(rows, columns=["method", "parameter", "bytes", "psnr"])


def _quality(original, reconstruction, value_range):
    """PSNR and relative error, in units of the peak so nothing overflows."""
    if value_range is not None:
        peak = value_range[1] - value_range[0]
    else:
        # The data's span, or its magnitude for a constant image.
        peak = float(np.ptp(original)) or float(np.max(np.abs(original)))
    unit = peak or float(np.max(np.abs(original))) or 1.0
    difference = (original - reconstruction) / unit
    mse = float(np.mean(difference**2))
    if mse == 0:
        psnr = np.inf
    else:
        psnr = 10 * np.log10((peak / unit) ** 2 / mse) if peak else -np.inf
    norm = frobenius_norm(original / unit)
    error = frobenius_norm(difference) / norm if norm else 0.0
    # Plain floats, as CompressedImage.__init__ and load give them.
    return float(psnr), float(error)


def _pillow():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Reading and writing image files needs Pillow: pip install "sksvd[image]"'
        ) from None
    return Image


# Pillow modes read as they are, and the NumPy dtype each gives.
_NATIVE_MODES = {"L": "uint8", "RGB": "uint8", "RGBA": "uint8", "F": "float32"}
# Pillow modes converted without changing a value: bilevel to grey (0 or 255),
# palettes and other 8-bit layouts to RGB or RGBA.
_CONVERTED_MODES = {
    "1": "L",
    "P": None,  # RGBA when the palette has transparency, else RGB
    "PA": "RGBA",
    "LA": "RGBA",
    "La": "RGBA",
    "RGBX": "RGB",
    "RGBa": "RGBA",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
}


def read_image(path):
    """Read an image file into an array, keeping its bit depth and values.

    - 8-bit grey, RGB and RGBA images give uint8 arrays; bilevel, palette,
      grey-with-alpha, CMYK, YCbCr, LAB and HSV images are converted by Pillow
      to 8-bit grey, RGB or RGBA first (values are not rescaled).
    - 16-bit grey images (modes ``I;16*``, and mode ``I`` with values in
      0 … 65535, as Pillow opens some 16-bit PNG and TIFF files) give uint16.
    - 32-bit float images (mode ``F``, as in float TIFF files) give float32,
      values unchanged.

    Other modes (32-bit integers beyond 16 bits, packed or exotic layouts) are
    refused with a ValueError that names the mode: no image is read wrongly.
    Pillow's decompression-bomb guard stays on: a file with more than twice
    ``PIL.Image.MAX_IMAGE_PIXELS`` pixels is refused (Pillow warns above the
    limit itself).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    image : ndarray of shape (height, width) or (height, width, 3 or 4)
        uint8, uint16 or float32.

    Raises
    ------
    ValueError
        If the file is missing, unreadable, truncated, too large, or of a mode
        that cannot be read faithfully.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from sksvd.image import read_image, write_image
    >>> image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_image(pathlib.Path(folder) / "tiny.png", image)
    ...     again = read_image(pathlib.Path(folder) / "tiny.png")
    >>> bool(np.array_equal(again, image))
    True
    """
    Image = _pillow()
    path = Path(path)
    try:
        with Image.open(path) as opened:
            frames = getattr(opened, "n_frames", 1)
            if frames > 1:
                raise _UnsupportedMode(
                    f"{path} holds {frames} frames (an animation or a multi-page "
                    "file); save the frame to compress as an image of its own"
                )
            # Pillow reads 16-bit colour (and grey with alpha) as 8-bit: its raw
            # mode, visible before loading, tells.
            raw = [tile[3] for tile in getattr(opened, "tile", ()) if len(tile) > 3]
            wide = [mode for mode in raw if isinstance(mode, str) and ";16" in mode]
            if wide and opened.mode in ("RGB", "RGBA", "LA"):
                raise _UnsupportedMode(
                    f"{path}: 16-bit colour ({wide[0]}) would be read as 8 bits; "
                    "save it as 16-bit grey, 8-bit colour or float first"
                )
            opened.load()
            return _pixels(path, opened)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except Image.DecompressionBombError as error:
        raise ValueError(f"{path}: refused, too many pixels ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, _UnsupportedMode):
            raise
        raise ValueError(f"{path}: not a readable image ({error})") from None


class _UnsupportedMode(ValueError):
    pass


def _pixels(path, opened):
    mode = opened.mode
    if mode in _NATIVE_MODES:
        return np.asarray(opened, dtype=_NATIVE_MODES[mode])
    if mode.startswith("I;16"):
        return np.asarray(opened).astype(np.uint16)
    if mode == "I":
        pixels = np.asarray(opened)
        if pixels.size and 0 <= pixels.min() and pixels.max() <= 65535:
            return pixels.astype(np.uint16)
        raise _UnsupportedMode(
            f"{path}: mode I (32-bit integers) with values outside 0 … 65535 is not "
            "supported; save the image with 16 bits or as float (mode F)"
        )
    if mode in _CONVERTED_MODES:
        target = _CONVERTED_MODES[mode]
        if target is None:
            has_alpha = "transparency" in opened.info
            target = "RGBA" if has_alpha else "RGB"
        return np.asarray(opened.convert(target))
    raise _UnsupportedMode(
        f"{path}: Pillow mode {mode!r} is not supported; convert the image to 8- or "
        "16-bit grey, RGB, RGBA or float first"
    )


def write_image(path, image):
    """Write an array as an image file, keeping its bit depth.

    - uint8 arrays (grey, RGB, RGBA) in any format Pillow writes; the format
      follows the extension.
    - uint16 grey arrays as 16-bit images (PNG or TIFF).
    - float32 and float64 grey arrays as 32-bit float TIFF (``.tif``/``.tiff``).
    - boolean arrays as bilevel images.

    Anything else (16-bit colour, other integer types, float colour, a float
    image to a format other than TIFF) is refused with a ValueError, before any
    file is created.

    Parameters
    ----------
    path : str or path-like
    image : ndarray of shape (height, width) or (height, width, 3 or 4)

    Examples
    --------
    See :func:`read_image`.
    """
    Image = _pillow()
    path = Path(path)
    image = np.asarray(image)
    tiff = path.suffix.lower() in (".tif", ".tiff")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(
            f"{path}: an image has shape (height, width) or (height, width, 3|4); "
            f"got {image.shape}"
        )
    if image.dtype == np.uint8 or image.dtype == np.bool_:
        picture = Image.fromarray(image)
    elif image.dtype == np.uint16 and image.ndim == 2:
        if path.suffix.lower() not in (".png", ".tif", ".tiff"):
            raise ValueError(
                f"{path}: a 16-bit image is written as PNG or TIFF; got "
                f"{path.suffix or 'no extension'}"
            )
        picture = Image.fromarray(image)
    elif image.dtype.kind == "f" and image.ndim == 2:
        if not tiff:
            raise ValueError(
                f"{path}: a float image is written as TIFF (.tif); got "
                f"{path.suffix or 'no extension'}"
            )
        limit = float(np.finfo(np.float32).max)
        if not np.all(np.isfinite(image)) or np.max(np.abs(image), initial=0) > limit:
            raise ValueError(
                f"{path}: float TIFF holds finite float32 values; this image has "
                "values that are not finite or beyond float32's range"
            )
        picture = Image.fromarray(image.astype(np.float32))
    else:
        raise ValueError(
            f"{path}: cannot write a {image.dtype} image of shape {image.shape}; "
            "images are uint8 (grey or colour), uint16 or float (grey)"
        )
    try:
        picture.save(path)
    except (OSError, KeyError, ValueError) as error:
        # Pillow's refusal (say RGBA as JPEG, or an unknown extension); it
        # creates no file when it refuses before writing.
        raise ValueError(f"{path}: cannot be written ({error})") from None


def _output_suffix(path):
    """The extension ``sksvd compress`` writes for this input: .tif for float."""
    Image = _pillow()
    try:
        with Image.open(path) as opened:
            return ".tif" if opened.mode == "F" else ".png"
    except (OSError, SyntaxError, ValueError):
        return ".png"  # read_image reports the problem
