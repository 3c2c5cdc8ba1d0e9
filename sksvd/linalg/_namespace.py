"""Array-API input: PyTorch, CuPy or array-api-strict arrays, on their own device.

Under scikit-learn's ``array_api_dispatch``, an array that is not NumPy's is
factored in its own namespace and on its own device. What has the size of the data
stays there: the centred copy, every product with it, the factorisations, U. What
has the size of one row or one component comes back to the host as NumPy float64
for the estimators' bookkeeping, so that every range check and guard of NumPy
input applies unchanged: column means and norms, singular values and the right
factor ``Vt`` (k × n_features). The estimators move their fitted attributes to the
input's device at the end of ``fit``.

Nothing here imports an array library: the namespace is recognised from the array
(scikit-learn's vendored array-api-compat looks at the modules already loaded).
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn import get_config

from sksvd import _compat
from sksvd.linalg._checks import check_singular_values_fit
from sksvd.linalg._policy import SAFE_RANGE
from sksvd.linalg._result import SVDResult


class Namespace(NamedTuple):
    """An array namespace, the device the data lives on, and its widest float."""

    xp: object
    device: object
    wide: object

    def asarray(self, values, dtype=None):
        """``values`` (NumPy or of this namespace) on this device, in ``dtype``."""
        if isinstance(values, np.ndarray) or np.isscalar(values):
            values = np.asarray(values)
            if values.dtype == np.float64 and self.wide != self.xp.float64:
                values = values.astype(np.float32)
            array = _compat.move_to(values, xp=self.xp, device=self.device)
        else:
            array = values
        return array if dtype is None else self.xp.astype(array, dtype)

    def numpy(self, array):
        """A NumPy copy of an array of this namespace, on the host."""
        return _host_copy(array)

    def float64(self, array):
        """``array`` in the widest float the device has (float64 where it can).

        The array itself when it is in that dtype already: callers only read it.
        """
        return self.xp.astype(array, self.wide, copy=False)

    @property
    def eps(self):
        """The machine epsilon of the widest float, in which sums accumulate."""
        return float(np.finfo(numpy_dtype(self.wide)).eps)


def _host_copy(array):
    # A tensor that records gradients is read without them (the fit is not
    # differentiated), as scikit-learn's own conversion does for its estimators.
    if getattr(array, "requires_grad", False):
        array = array.detach()
    return np.asarray(_compat.move_to(array, xp=np, device="cpu"))


def namespace_of(*arrays):
    """The :class:`Namespace` of non-NumPy array-API arrays, or None.

    None unless scikit-learn's ``array_api_dispatch`` is on and at least one of
    ``arrays`` is an array of a namespace other than NumPy's (dask arrays and
    sparse matrices have their own routes).
    """
    if not get_config()["array_api_dispatch"]:
        return None
    candidates = [
        a
        for a in arrays
        if a is not None
        and not isinstance(a, np.ndarray)
        and not sp.issparse(a)
        and not type(a).__module__.startswith("dask.")
        and not type(a).__module__.startswith("pandas.")
    ]
    if not candidates:
        return None
    if _compat.get_namespace_and_device is None:
        raise ImportError(
            "Array-API input (array_api_dispatch=True with a non-NumPy array) needs "
            "scikit-learn 1.8 or newer; upgrade scikit-learn, or pass NumPy arrays."
        )
    if not any(_compat.is_array_api_obj(a) for a in candidates):
        return None
    xp, compliant, device = _compat.get_namespace_and_device(*candidates)
    if not compliant or _compat.is_numpy_namespace(xp):
        return None
    return Namespace(xp, device, _compat.max_precision_float_dtype(xp, device))


def detached(values):
    """A PyTorch tensor without its gradient record; anything else as given."""
    if getattr(values, "requires_grad", False) and hasattr(values, "detach"):
        return values.detach()
    return values


def refuse(X, what):
    """A TypeError for an array-API array where ``what`` takes NumPy input only."""
    ns = namespace_of(X)
    if ns is None:
        return
    raise TypeError(
        f"{what} computes on NumPy arrays; X is a {ns.xp.__name__.split('.')[-1]} "
        "array and array_api_dispatch is on. Convert X to NumPy first, or use "
        "TruncatedSVDCompressor, PCAViaSVD or MinNormLeastSquares, which fit it "
        "on its device."
    )


def to_numpy(values):
    """``values`` as NumPy when they are an array of another namespace, else as is.

    For what is of the size of one column (sample weights): checked and kept on
    the host with NumPy's rules.
    """
    if values is None or isinstance(values, np.ndarray) or sp.issparse(values):
        return values
    if _compat.is_array_api_obj is not None and _compat.is_array_api_obj(values):
        if type(values).__module__.startswith("dask."):
            return values
        return _host_copy(values)
    return values


def move_attributes(estimator, ns):
    """Move every NumPy array attribute of a fitted estimator to ``ns``'s device.

    Floats keep their dtype where the device has it (float32 otherwise).
    """
    for name, value in list(vars(estimator).items()):
        if isinstance(value, np.ndarray) and value.dtype.kind in "fbiu":
            setattr(estimator, name, ns.asarray(value))


def take_rows(X, rows):
    """The rows of X picked by a NumPy boolean mask or index array, in X's namespace."""
    ns = namespace_of(X)
    if ns is None:
        return X[rows]
    rows = np.asarray(rows)
    index = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64)
    return ns.xp.take(X, ns.asarray(index), axis=0)


def column_range(X, columns, ns):
    """``max − min`` of some columns of X, float64 on the host."""
    part = ns.xp.take(X, ns.asarray(np.asarray(columns, dtype=np.int64)), axis=1)
    high = ns.numpy(ns.xp.max(part, axis=0)).astype(np.float64)
    return high - ns.numpy(ns.xp.min(part, axis=0))


def promoted(X, *arrays):
    """X and fitted arrays in their promoted dtype, for array-API X (else as given).

    NumPy promotes float32 with float64 in a product; PyTorch refuses to mix
    them, so a model fitted in one precision and applied to data in the other
    gets the NumPy result this way.
    """
    ns = namespace_of(X)
    present = [a for a in arrays if a is not None and not isinstance(a, float)]
    if ns is None or all(a.dtype == X.dtype for a in present):
        return (X, *arrays)
    target = ns.xp.result_type(X.dtype, *(a.dtype for a in present))
    return tuple(
        a if a is None or isinstance(a, float) else ns.xp.astype(a, target)
        for a in (X, *arrays)
    )


def times(U, s):
    """``U * s`` with the NumPy vector ``s`` moved to U's namespace first."""
    ns = namespace_of(U)
    return U * (s if ns is None else ns.asarray(s, U.dtype))


def float_dtypes(X):
    """The float dtypes validation accepts for X: its namespace's, or NumPy's."""
    ns = namespace_of(X)
    if ns is None:
        return [np.float64, np.float32]
    return (
        [ns.xp.float64, ns.xp.float32] if ns.wide == ns.xp.float64 else [ns.xp.float32]
    )


def numpy_dtype(dtype):
    """The NumPy dtype of a float dtype of any namespace."""
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, type) and issubclass(dtype, np.generic):
        return np.dtype(dtype)
    return np.dtype("float32") if "float32" in str(dtype) else np.dtype("float64")


def _safe_unit(largest):
    """1, or the magnitude to divide by when squares would leave float64's range."""
    inside = largest == 0 or SAFE_RANGE[0] <= largest <= SAFE_RANGE[1]
    return 1.0 if inside or not np.isfinite(largest) else largest


def column_mean(X, weights, ns):
    """(Weighted) column means, float64 on the host, exact for constant columns.

    As :func:`sksvd.linalg._statistics.column_mean`: the sums run on the device
    in its widest float; columns whose mean lies within rounding of the first
    row's value are checked (``min = max``) and, if constant, get that value.
    """
    xp = ns.xp
    n_samples = X.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        if weights is None:
            mean = ns.numpy(xp.sum(X, axis=0, dtype=ns.wide)) / n_samples
        else:
            fractions = np.asarray(weights, dtype=np.float64)
            fractions = fractions / fractions.max()
            fractions /= fractions.sum()
            mean = ns.numpy(ns.asarray(fractions, ns.wide) @ ns.float64(X))
        mean = np.asarray(mean, dtype=np.float64)
        first = np.asarray(ns.numpy(X[0, :]), dtype=np.float64)
        eps = np.finfo(np.float64).eps
        near = np.abs(first - mean) <= 4 * n_samples * eps * np.abs(first)
    candidates = np.flatnonzero(near & (first != mean))
    if candidates.size:
        part = xp.take(X, ns.asarray(candidates), axis=1)
        low = ns.numpy(xp.min(part, axis=0))
        high = ns.numpy(xp.max(part, axis=0))
        constant = low == high
        mean[candidates[constant]] = first[candidates[constant]]
    return mean


def column_norms(X, ns, mean=None, weights=None):
    """``‖diag(√w)(xⱼ − μⱼ)‖`` per column, float64 on the host, safe from overflow.

    Each column is divided by its own largest magnitude before squaring, as
    :func:`sksvd.linalg._norms.column_norms` does where it must.
    """
    xp = ns.xp
    if X.shape[0] == 0:
        return np.zeros(X.shape[1])
    Z = ns.float64(X)
    if mean is not None:
        Z = Z - ns.asarray(np.asarray(mean, np.float64), ns.wide)
    if weights is not None:
        root = np.sqrt(np.asarray(weights, np.float64))
        Z = Z * ns.asarray(root, ns.wide)[:, None]
    scale = xp.max(xp.abs(Z), axis=0)
    divisor = xp.where(scale > 0, scale, xp.ones_like(scale))
    finite = xp.isfinite(divisor)
    divisor = xp.where(finite, divisor, xp.ones_like(divisor))
    scaled = Z / divisor
    norms = xp.sqrt(xp.sum(scaled * scaled, axis=0)) * divisor
    norms = xp.where(finite, norms, scale)  # inf or nan columns stay so
    with np.errstate(over="ignore"):
        return np.asarray(ns.numpy(norms), dtype=np.float64)


def frobenius_norm(X, ns):
    """``‖X‖_F`` as a Python float, accumulated in the device's widest float."""
    xp = ns.xp
    if X.shape[0] * X.shape[1] == 0:
        return 0.0
    Z = ns.float64(X)
    largest = float(xp.max(xp.abs(Z)))
    if largest == 0.0 or not np.isfinite(largest):
        return largest
    divisor = _safe_unit(largest)
    if divisor != 1.0:
        Z = Z / divisor
    return float(xp.sqrt(xp.sum(Z * Z))) * divisor


def dense(operand, ns, wide=False):
    """``Z = diag(√w)(X − 1μᵀ) D⁻¹`` on the device, in X's dtype; D settled here.

    With ``wide``, in the device's widest float instead (the Gram solver's
    dtype: weights whose products leave float32's range stay representable).
    A new array unless Z is X itself (no centring, weights or scaling): the
    namespace's factorisations do not write to their input.
    """
    X = operand.X
    dtype = ns.wide if wide else X.dtype
    Z = ns.xp.astype(X, dtype) if wide else X
    if operand.mean is not None:
        Z = _recentred(Z - ns.asarray(operand.mean, dtype), operand, ns)
    if operand.weights is not None:
        root = np.sqrt(np.asarray(operand.weights, dtype=np.float64))
        Z = ns.xp.astype(ns.float64(Z) * ns.asarray(root, ns.wide)[:, None], dtype)
        if not bool(ns.xp.all(ns.xp.isfinite(Z))):
            raise ValueError(
                "The rows of X times the square roots of sample_weight overflow "
                f"{numpy_dtype(dtype).name}; pass X as float64, or smaller weights."
            )
    if operand.scale is not None:
        if operand.scale_used is None:
            # The norms of the centred, weighted columns, before any scaling.
            operand.resolve_scale(column_norms(Z, ns))
        if np.any(operand.scale_used != 1):
            Z = Z / ns.asarray(operand.scale_used, dtype)
    return Z


def _tall(Z):
    transposed = Z.shape[0] < Z.shape[1]
    return (Z.T if transposed else Z), transposed


def full_svd(Z, n, compute_u, ns):
    """LAPACK-grade thin SVD by the namespace's ``linalg.svd``, truncated to ``n``."""
    if not compute_u and Z.shape[0] > Z.shape[1]:
        return qr_svd(Z, n, compute_u, ns)
    U, s, Vt = ns.xp.linalg.svd(Z, full_matrices=False)
    return SVDResult(U[:, :n] if compute_u else None, s[:n], Vt[:n, :])


def qr_svd(Z, n, compute_u, ns, k=None):
    """SVD of the triangular factor of a QR of the tall orientation.

    ``n`` singular values and short-side vectors, ``k`` (default ``n``)
    long-side vectors.
    """
    xp = ns.xp
    k = n if k is None else k
    A, transposed = _tall(Z)
    Q, R = xp.linalg.qr(A)
    # No entry of R exceeds σ₁: one beyond the dtype (or NaN) means σ₁ is too.
    largest = float(ns.numpy(xp.max(xp.abs(R)))) if R.shape[0] * R.shape[1] else 0.0
    check_singular_values_fit(largest, numpy_dtype(R.dtype))
    U_r, s, Vt_r = xp.linalg.svd(R)
    if transposed:
        # Zᵀ = Q R = (Q U_r) Σ Vt_r, so Z = Vt_rᵀ Σ (Q U_r)ᵀ.
        U = Vt_r.T[:, :n] if compute_u else None
        return SVDResult(U, s[:n], (Q @ U_r[:, :k]).T)
    U = Q @ U_r[:, :k] if compute_u else None
    return SVDResult(U, s[:n], Vt_r[:n, :])


def _long_factor(Y, s, ns):
    """The orthonormal long factor ``Y Σ⁻¹`` from ``Y = A V``, as NumPy's Gram solver.

    Where the columns of ``Y/s`` could lose orthogonality beyond ``√eps``
    (``σₖ < eps^(1/4)·σ₁``, zeros included) they come from a QR decomposition of
    ``Y``, signed by the diagonal of R: the recoverable columns are kept and the
    numerically zero ones completed to an orthonormal set.
    """
    eps = float(np.finfo(numpy_dtype(Y.dtype)).eps)
    if s.size == 0 or (s[-1] > 0 and s[-1] >= eps**0.25 * s[0]):
        return Y / ns.asarray(s, Y.dtype)
    Q, R = ns.xp.linalg.qr(Y)
    signs = np.sign(ns.numpy(ns.xp.linalg.diagonal(R)))
    signs[signs == 0] = 1
    return Q * ns.asarray(signs, Y.dtype)


def _recentred(Z, operand, ns):
    """Centred Z less what the rounded mean left: NumPy's second centring pass.

    See :func:`~sksvd.linalg._gram.residual_mean`; the (weighted) column sums
    of the centred values are formed in the device's widest float.
    """
    from sksvd.linalg._gram import rounding_only

    n = Z.shape[0]
    w = np.ones(n) if operand.weights is None else np.asarray(operand.weights)
    total = ns.numpy(ns.asarray(w, ns.wide) @ ns.xp.astype(Z, ns.wide))
    with np.errstate(over="ignore", invalid="ignore"):
        residual = np.asarray(total, dtype=np.float64) / float(np.sum(w))
    eps = float(np.finfo(numpy_dtype(Z.dtype)).eps)
    delta = rounding_only(residual, operand.mean, eps, n)
    if not np.any(delta):
        return Z
    return Z - ns.asarray(delta, Z.dtype)


def _centred(operand, ns):
    """``diag(√w)(X − 1μᵀ)`` in the widest float (X itself when plain and wide)."""
    X = operand.X
    A = ns.xp.astype(X, ns.wide, copy=False)
    if operand.mean is not None:
        A = _recentred(A - ns.asarray(operand.mean, ns.wide), operand, ns)
    if operand.weights is not None:
        root = ns.asarray(np.sqrt(np.asarray(operand.weights, np.float64)), ns.wide)
        A = A * root[:, None]
    return A


def _gram_matrix(A, ns):
    """``(A/u)ᵀ(A/u)`` and ``u``: 1 unless the squares leave the float's range.

    The product is formed once. Its diagonal bounds what NumPy's Gram solver
    reads from the largest magnitude: the eigenvalues are at most the trace, and
    a largest diagonal entry above ``m·tiny/eps`` means an entry above
    ``√(tiny/eps)``, whose squares stay normal numbers. Otherwise A's largest
    magnitude is read and, where NumPy's rule says so, A is divided by it and
    the product formed again.
    """
    xp = ns.xp
    info = np.finfo(np.float64)
    G = A.T @ A
    diagonal = ns.numpy(xp.linalg.diagonal(G))
    with np.errstate(over="ignore", invalid="ignore"):
        trace = float(np.sum(diagonal))
    largest_square = float(np.max(diagonal, initial=0.0))
    normal = largest_square > A.shape[0] * info.tiny / info.eps
    if np.isfinite(trace) and trace <= info.max / 4 and normal:
        return G, 1.0
    largest = float(xp.max(xp.abs(A))) if A.shape[0] * A.shape[1] else 0.0
    if not np.isfinite(largest):
        raise ValueError(
            "The centred rows of X times the square roots of sample_weight "
            f"overflow {numpy_dtype(A.dtype).name}; divide X by a constant, or pass "
            "smaller weights."
        )
    # NumPy's Gram solver's rule (imported here: that module imports this one
    # through the norms).
    from sksvd.linalg._gram import _unit

    divisor = _unit(largest, A.shape)
    if divisor == 1.0:
        return G, 1.0
    B = A / divisor
    return B.T @ B, divisor


def _zero_columns(G, A, ns):
    """Columns of A that are exactly zero: a zero diagonal, confirmed on A.

    A column whose squares underflowed has a zero diagonal too, but is not
    zero: it stays, and its singular value (rounding only) fails the guard,
    as with NumPy's Gram solver.
    """
    xp = ns.xp
    candidates = np.flatnonzero(ns.numpy(xp.linalg.diagonal(G)) == 0)
    if candidates.size == 0:
        return candidates
    part = xp.take(A, ns.asarray(candidates), axis=1)
    return candidates[ns.numpy(xp.max(xp.abs(part), axis=0)) == 0]


def gram_svd(operand, n, k, compute_u, ns):
    """The Gram solver on the device; returns (result, exact zeros, divisor).

    Tall data: ``AᵀA`` of the centred, weighted columns in the widest float, the
    column scaling settled from its diagonal (the centred column norms, no
    extra pass) and applied to it. Wide data: ``ZZᵀ`` of the scaled rows. Then
    the eigenpairs by the namespace's ``eigh``; columns that are exactly zero are
    deflated (their singular values are exact zeros), and so, for centred wide
    data, is the centring direction. The factors are returned in the operand's
    dtype; the caller's guard decides whether to keep a result.
    """
    xp = ns.xp
    dtype = operand.X.dtype
    m, p = operand.shape
    transposed = m < p
    if transposed:
        A = dense(operand, ns, wide=True).T
        G, divisor = _gram_matrix(A, ns)
        column_scale = None
    else:
        A = _centred(operand, ns)
        G, divisor = _gram_matrix(A, ns)
        norms = np.sqrt(np.maximum(ns.numpy(xp.linalg.diagonal(G)), 0)) * divisor
        column_scale = None
        if operand.scale is None:
            operand.norms = norms
        else:
            column_scale = operand.scale_used
            if column_scale is None:
                column_scale = operand.resolve_scale(norms)
            else:
                operand.norms = norms
            if np.all(column_scale == 1):
                column_scale = None
            else:
                G = G / ns.asarray(np.outer(column_scale, column_scale), ns.wide)
    short = G.shape[0]
    dead = _zero_columns(G, A, ns)
    live = np.setdiff1d(np.arange(short), dead)
    V = np.zeros((short, short))
    s = np.zeros(short)
    if live.size:
        index = ns.asarray(live)
        eigenvalues, vectors = xp.linalg.eigh(
            xp.take(xp.take(G, index, axis=0), index, axis=1)
        )
        eigenvalues = ns.numpy(eigenvalues)[::-1]
        s[: live.size] = np.sqrt(np.maximum(eigenvalues, 0.0)) * divisor
        V[live, : live.size] = ns.numpy(vectors)[:, ::-1]
    V[dead, live.size + np.arange(dead.size)] = 1.0
    exact_zeros = dead.size
    if transposed and operand.mean is not None and exact_zeros == 0:
        # Centred rows are orthogonal to √w: the last value is zero, exactly.
        s[-1] = 0.0
        exact_zeros = 1
    check_singular_values_fit(s[0], numpy_dtype(dtype))
    long = None
    if transposed or compute_u:
        # The long factor (A D⁻¹ V) Σ⁻¹, with A divided as G was.
        W = V[:, :k] if column_scale is None else V[:, :k] / column_scale[:, None]
        product = (A @ ns.asarray(W, A.dtype)) / divisor
        long = xp.astype(_long_factor(product, s[:k] / divisor, ns), dtype)
    if transposed:
        U = ns.asarray(V[:, :n].copy(), dtype) if compute_u else None
        return SVDResult(U, s[:n], long.T), exact_zeros, divisor
    Vt = ns.asarray(V[:, :n].T.copy(), dtype)
    return SVDResult(long, s[:n], Vt), exact_zeros, divisor


def standard_normal(random_state, shape, dtype, ns):
    """A Gaussian matrix drawn on the host from ``random_state``, moved over.

    The same draws as NumPy input, so a seeded randomized fit gives the same
    subspace whatever the array's namespace.
    """
    values = random_state.standard_normal(size=shape).astype(numpy_dtype(dtype))
    return ns.asarray(values)
