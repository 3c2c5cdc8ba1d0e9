"""SVD of dask arrays: TSQR for tall-skinny data, a compressed SVD otherwise.

dask is optional; this module imports it only when a dask array arrives.
"""

import numpy as np

from sksvd.linalg._dask_statistics import lazy_column_norms
from sksvd.linalg._randomized import resolve_n_iter
from sksvd.linalg._result import SVDResult

# Columns up to this many are gathered into one chunk for TSQR: each block of
# rows then costs rows × columns² and the R factors columns² each.
TSQR_MAX_COLUMNS = 5000


def is_dask_array(X):
    """Whether X is a dask array, without importing dask when it is not loaded."""
    module = type(X).__module__
    return module.startswith("dask.") and hasattr(X, "chunks")


def check_dask_array(X, *, name="X"):
    """Validate the parts of a dask array that need no pass over the data.

    Returns X as a float dask array whose columns are one chunk when that is
    cheap. Values (NaN, infinity) are checked by the caller in the same pass
    that computes its statistics, see :func:`finite_check`.
    """
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array for {name}; got {X.ndim}-D.")
    if any(np.isnan(size) for sizes in X.chunks for size in sizes):
        raise ValueError(
            f"{name} has unknown chunk sizes (as after boolean indexing); call "
            f"{name}.compute_chunk_sizes() first."
        )
    if np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"Complex data not supported in {name}.")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
        raise ValueError(f"{name} must hold numbers; got dtype {X.dtype}.")
    if min(X.shape) == 0:
        raise ValueError(f"{name} is empty: shape {X.shape}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.shape[1] <= TSQR_MAX_COLUMNS and len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def finite_check(X):
    """A lazy boolean: whether every value of X is finite."""
    import dask.array as da

    return da.isfinite(X).all()


def raise_if_not_finite(all_finite, name="X"):
    if not bool(all_finite):
        raise ValueError(f"Input {name} contains NaN or infinity.")


def dask_svd(X, n_components, *, compute_u, random_state, n_oversamples, n_iter):
    """Truncated SVD of a dask array; ``s`` and ``Vt`` computed, ``U`` lazy.

    - Columns in one chunk (rechunked by :func:`check_dask_array` up to
      ``TSQR_MAX_COLUMNS``): ``dask.array.linalg.svd``, the exact TSQR-based SVD,
      one pass over the data.
    - Otherwise: ``dask.array.linalg.svd_compressed`` (Halko et al.'s randomized
      SVD with power iterations), ``2·n_iter + 2`` passes.

    ``s`` and ``Vt`` come back as NumPy arrays (one ``compute``); ``U`` stays a
    lazy dask array, or None.
    """
    import dask
    import dask.array as da

    k = min(X.shape) if n_components is None else n_components
    if len(X.chunks[1]) == 1:
        U, s, Vt = da.linalg.svd(X, coerce_signs=False)
    else:
        seed = random_state.randint(np.iinfo(np.int32).max)
        U, s, Vt = da.linalg.svd_compressed(
            X,
            k,
            # "QR" re-orthonormalises between power iterations; plain powers lose
            # the smaller components to rounding (2e-6 relative seen at σ₃).
            iterator="QR",
            n_power_iter=resolve_n_iter(n_iter, k, X.shape),
            n_oversamples=n_oversamples,
            seed=seed,
            coerce_signs=False,
        )
    s, Vt = dask.compute(s[:k], Vt[:k])
    U = U[:, :k] if compute_u else None
    return SVDResult(U, np.asarray(s), np.ascontiguousarray(Vt))


def _check_block(block):
    if not np.all(np.isfinite(block)):
        raise ValueError("Input X contains NaN or infinity (found while computing).")
    return block


def lazily_checked(X):
    """X with a finiteness check run on each block when (and if) it is computed."""
    return X.map_blocks(_check_block, dtype=X.dtype)


def dask_svd_projections(A, B):
    """``s``, ``Vt``, ``UᵀB`` and ``‖B‖`` per column, from one pass over A and B.

    TSQR (``dask.array.linalg.svd``) needs A's columns in one chunk, which
    :func:`check_dask_array` arranges. Also reports whether A and B are finite.
    """
    import dask
    import dask.array as da

    U, s, Vt = da.linalg.svd(A, coerce_signs=False)
    finite = finite_check(A) & da.isfinite(B).all()
    try:
        return dask.compute(s, Vt, U.T @ B, lazy_column_norms(B), finite)
    except np.linalg.LinAlgError:
        # LAPACK fails on NaN before the finiteness check reports; say why.
        raise_if_not_finite(finite.compute(), "X or y")
        raise
