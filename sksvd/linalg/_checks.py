"""Ranks: checking a requested one against the data, finding one from an energy;
singular values checked against the dtype they are returned in; arrays checked.

Shared by the engine and the estimators.
"""

import numpy as np
from sklearn.utils import check_array as _check_array

from sksvd.linalg._policy import largest_rank


def check_array(array, *args, **kwargs):
    """scikit-learn's ``check_array``, without the warning of its own shortcut.

    Its NaN/inf check sums the array first and, where the sum of finite
    float32 data overflows, checks entry by entry: the overflow warning on the
    way is about that sum, not the data, and is not passed on. Non-finite
    entries are still refused.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _check_array(array, *args, **kwargs)


def check_rank(rank, shape, solver, name="n_components", smallest=1):
    """Raise a ValueError naming the problem if ``rank`` components can't be had.

    Every solver returns at most ``min(n_samples, n_features)`` components; ARPACK
    returns at most one fewer, block Lanczos four fewer.
    """
    n_samples, n_features = shape
    largest = largest_rank(solver, shape)
    if largest < min(shape) and rank > largest:
        raise ValueError(
            f"{name}={rank} is too large for solver={solver!r}, which returns "
            f"at most min(n_samples, n_features) - {min(shape) - largest} = "
            f"{largest} components "
            f"(n_samples={n_samples}, n_features={n_features}). Use a smaller "
            f"{name} or solver='full'."
        )
    if rank > largest:
        raise ValueError(
            f"{name}={rank} must be between {smallest} and min(n_samples, n_features)="
            f"{largest} (n_samples={n_samples}, n_features={n_features})."
        )


def rank_for_energy(s, energy, norm):
    """Smallest ``r`` with ``Σᵢ≤ᵣ (σᵢ/‖X‖_F)² ≥ energy``, or None if ``s`` falls short.

    The ratios are formed before squaring, so neither huge nor tiny data overflows
    or underflows. When ``s`` is the whole spectrum, rounding can leave its total a
    few ulps below an ``energy`` close to one; the caller then keeps every
    component. An all-zero matrix (``norm = 0``) needs rank 1.
    """
    if norm == 0.0:
        return 1
    cumulative = np.cumsum((s.astype(np.float64) / norm) ** 2)
    rank = int(np.searchsorted(cumulative, energy, side="left")) + 1
    return rank if rank <= s.size else None


def check_singular_values_fit(largest, dtype):
    """Raise a ValueError naming the problem if σ₁ = ``largest`` exceeds ``dtype``.

    Singular values are returned in X's dtype: float32 data whose σ₁ passes
    float32's largest value (about 3.4e38) would come back as ``inf``. NaN (an
    overflow on the way) is refused the same way.
    """
    dtype = np.dtype(dtype)
    if not largest <= np.finfo(dtype).max:
        fix = (
            "divide X (or the sample weights) by a constant first"
            if dtype == np.float64
            else "pass X as float64, or divide X (or the sample weights) by a "
            "constant first"
        )
        raise ValueError(
            f"The singular values of X exceed the range of {dtype.name} (X's "
            f"dtype, which they are returned in); {fix}."
        )
