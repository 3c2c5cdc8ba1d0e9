"""What the engine decomposes: a matrix, its centring, column scaling and row weights.

An :class:`Operand` describes ``Z = diag(√w) (X − 1μᵀ) D⁻¹`` without forming it.
Each solver applies the description in its own way: the Gram solver centres
blocks of rows as it accumulates, Krylov and randomized solvers see sparse data
through :class:`CenteredOperator`, dask keeps it lazy, and the exact solvers
factor a centred copy.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from sksvd.linalg import _namespace
from sksvd.linalg._gram import (
    SHIFT_RATIO,
    pairwise_sum,
    residual_mean,
    rounding_only,
)
from sksvd.linalg._norms import canonical, column_norms, largest_magnitude
from sksvd.linalg._policy import FLOAT32_SAFE_RANGE, SAFE_RANGE


def _centred_copy(X, mean, weights):
    """``X − 1μᵀ`` in X's dtype, centred twice (see residual_mean), into a copy.

    The second pass costs a product and a subtraction over the copy (16 ms on
    100000 × 200 beside 42 ms for the copy itself).
    """
    centre = mean.astype(X.dtype)
    Z = X - centre
    eps = float(np.finfo(X.dtype).eps)
    delta = rounding_only(residual_mean(Z, weights), centre, eps, X.shape[0])
    if np.any(delta):
        Z -= delta.astype(X.dtype)
    return Z


def _residual_by_blocks(X, mean, weights, rows):
    """:func:`~sksvd.linalg._gram.residual_mean` of ``X − 1μᵀ``, by blocks of rows."""
    w = np.ones(X.shape[0]) if weights is None else np.asarray(weights, np.float64)
    buffer = np.empty((min(rows, X.shape[0]), X.shape[1]))

    def terms():
        for start in range(0, X.shape[0], rows):
            part = X[start : start + rows]
            block = buffer[: part.shape[0]]
            np.subtract(part, mean, out=block)
            yield w[start : start + rows] @ block

    with np.errstate(over="ignore", invalid="ignore"):
        total = pairwise_sum(terms())
        if total is None:
            return np.zeros(X.shape[1])
        return total / w.sum()


def input_kind(X):
    """``"dask"``, ``"sparse"``, ``"array_api"`` or ``"dense"``.

    ``"array_api"`` is an array of a namespace other than NumPy's (PyTorch,
    CuPy, array-api-strict) under scikit-learn's ``array_api_dispatch``.
    """
    if type(X).__module__.startswith("dask.") and hasattr(X, "chunks"):
        return "dask"
    if sp.issparse(X):
        return "sparse"
    return "array_api" if _namespace.namespace_of(X) is not None else "dense"


class Operand:
    """The matrix ``Z = diag(√w) (X − 1μᵀ) D⁻¹``, described rather than formed.

    Parameters
    ----------
    X : ndarray, sparse matrix or dask array of shape (n_samples, n_features)
        Validated data; never modified.
    mean : ndarray of shape (n_features,) or callable, default=None
        The centre ``μ``; None for none. A callable stands for a mean not yet
        computed: it receives X's float64 column sums, or None, and returns
        ``μ`` (raising a ValueError for data it refuses). The Gram solver hands
        it the sums from its own pass over X (:meth:`settle_mean`); any other
        use of :attr:`mean` calls it with None first.
    scale : ndarray of shape (n_features,) or callable, default=None
        The column divisors ``D``; None for none. A callable receives the norms
        of the centred, weighted columns ``‖diag(√w)(xⱼ − μⱼ1)‖`` (float64,
        computed by whichever solver runs, as cheaply as it can: the diagonal of
        a Gram matrix, the columns of a centred copy) and returns the divisors;
        it may raise a ValueError that names a problem of the data.
    weights : ndarray of shape (n_samples,), default=None
        Row weights ``w``; None for ones.
    column_norms : ndarray of shape (n_features,), default=None
        The centred column norms, when the caller already has them (dask).

    Attributes
    ----------
    scale_used : ndarray or None
        The divisors applied, once the engine has resolved them.
    norms : ndarray or None
        The centred column norms, once known.
    """

    def __init__(self, X, *, mean=None, scale=None, weights=None, column_norms=None):
        self.X = X
        self._mean = mean
        self.scale = scale
        self.weights = weights
        self.norms = column_norms
        self.scale_used = None if callable(scale) else scale
        self.kind = input_kind(X)
        self.ns = _namespace.namespace_of(X) if self.kind == "array_api" else None

    @property
    def mean(self):
        """``μ`` (an ndarray) or None; a pending mean is computed here."""
        if callable(self._mean):
            self._mean = self._mean(None)
        return self._mean

    @property
    def mean_pending(self):
        """Whether the mean is still to be computed (see :meth:`settle_mean`)."""
        return callable(self._mean)

    def settle_mean(self, sums):
        """Compute a pending mean from X's float64 column sums."""
        if callable(self._mean):
            self._mean = self._mean(sums)
        return self._mean

    @property
    def shape(self):
        return self.X.shape

    @property
    def dtype(self):
        """X's dtype, as a NumPy dtype for array-API X too."""
        if self.ns is not None:
            return _namespace.numpy_dtype(self.X.dtype)
        return self.X.dtype

    @property
    def plain(self):
        """Whether Z is X itself."""
        return self._mean is None and self.scale is None and self.weights is None

    def resolve_scale(self, norms):
        """Record the centred column norms and settle the divisors from them."""
        self.norms = np.asarray(norms, dtype=np.float64)
        if callable(self.scale):
            self.scale_used = np.asarray(self.scale(self.norms), dtype=np.float64)
        return self.scale_used

    def dense(self):
        """Z as a new dense array in X's dtype (on X's device for array-API X)."""
        if self.ns is not None:
            return _namespace.dense(self, self.ns)
        X = self.X.toarray() if sp.issparse(self.X) else self.X
        if self.plain:
            return X
        if self.mean is not None:
            Z = _centred_copy(X, self.mean, self.weights)
        else:
            Z = np.array(X, dtype=X.dtype)  # a copy: X is never modified
        if self.weights is not None:
            # Multiplied in float64, then stored: a square root of a large
            # weight may not fit float32 where the product does.
            root = np.sqrt(np.asarray(self.weights, dtype=np.float64))
            with np.errstate(over="ignore"):
                np.multiply(Z, root[:, np.newaxis], out=Z, casting="unsafe")
            if not np.all(np.isfinite(Z)):
                raise ValueError(
                    f"The rows of X times the square roots of sample_weight "
                    f"overflow {Z.dtype.name}; pass X as float64, or smaller "
                    "weights."
                )
        if self.scale is not None:
            if self.scale_used is None:
                self.resolve_scale(column_norms(Z))
            if np.any(self.scale_used != 1):
                # Divided in float64: the norm of a float32 column can pass
                # float32's range, where the scaled values fit.
                np.divide(Z, self.scale_used, out=Z, casting="same_kind")
        return Z

    def row_blocks(self, rows):
        """Z's rows ``rows`` at a time, each a new float64 array (dense X).

        The same operations as :meth:`dense`, in float64, on one block at a
        time; the divisors must be settled already.
        """
        if self.kind != "dense":
            raise ValueError("row blocks are formed from dense X")
        if self.scale is not None and self.scale_used is None:
            raise ValueError("the column divisors are settled before row blocks")
        mean = self.mean
        root = (
            None
            if self.weights is None
            else np.sqrt(np.asarray(self.weights, np.float64))
        )
        scale = self.scale_used
        if scale is not None and np.all(scale == 1):
            scale = None
        delta = 0.0
        if mean is not None and (self.norms is None or np.any(self.explicit_columns())):
            # What the rounded mean leaves (see residual_mean), from a pass of
            # its own, where a mean is large beside its column's spread (the
            # term is below the rounding elsewhere): the blocks are centred
            # exactly, as dense() centres Z.
            eps = float(np.finfo(np.float64).eps)
            delta = rounding_only(
                _residual_by_blocks(self.X, mean, self.weights, rows),
                mean,
                eps,
                self.shape[0],
            )
        for start in range(0, self.shape[0], rows):
            block = np.array(self.X[start : start + rows], dtype=np.float64)
            if mean is not None:
                block -= mean
                block -= delta
            if root is not None:
                block *= root[start : start + rows, np.newaxis]
            if scale is not None:
                block /= scale
            yield block

    def implicit(self):
        """Z for Krylov and randomized solvers: sparse data stays sparse."""
        if self.kind != "sparse":
            return self.dense()
        if self.plain:
            return self.X
        mean = np.zeros(self.shape[1]) if self.mean is None else self.mean
        if self.norms is None:
            self.norms = sparse_centred_norms(self.X, mean, self.weights)
        if self.scale is not None and self.scale_used is None:
            self.resolve_scale(self.norms)
        scale = np.ones(self.shape[1]) if self.scale_used is None else self.scale_used
        root = None if self.weights is None else np.sqrt(self.weights)
        return CenteredOperator(
            self.X,
            mean,
            scale,
            row_scale=root,
            explicit=self.explicit_columns(),
            recentre=self._mean is not None,
        )

    def lazy(self):
        """Z as a lazy dask array (dask input)."""
        Z = self.X
        if self.mean is not None:
            Z = Z - self.mean.astype(Z.dtype)
        if self.weights is not None:
            # In X's dtype: float32 data stay float32.
            Z = (Z * (self.weights**0.5)[:, None]).astype(Z.dtype)
        if self.scale is not None:
            if self.scale_used is None:
                self.resolve_scale(self.norms)
            Z = (Z / self.scale_used).astype(Z.dtype)  # divided in float64
        return Z

    def explicit_columns(self):
        """Columns that implicit centring would cancel: see :func:`explicit_columns`."""
        if self.mean is None:
            return np.zeros(self.shape[1], dtype=bool)
        n = self.shape[0] if self.weights is None else float(np.sum(self.weights))
        return explicit_columns(self.mean, self.norms, n)


def explicit_columns(mean, norms, n_samples):
    """Columns whose mean is large next to their spread (``nμ² > 100·‖x − μ‖²``).

    ``X w − 1 μᵀw`` then cancels: its rounding error is about
    ``eps·√n·|μ|/σ`` relative to the centred product. Such columns are centred
    explicitly. That costs little memory: a column with a fraction ``f`` of
    zeros has ``μ²/σ² ≤ (1 − f)/f``, so these columns are at least 99 % full
    already.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return n_samples * np.asarray(mean, np.float64) ** 2 > SHIFT_RATIO * (
            np.asarray(norms, np.float64) ** 2
        )


def sparse_centred_norms(X, mean, weights=None):
    """``‖diag(√w)(xⱼ − μⱼ1)‖`` for each column of sparse X, from its stored values.

    The stored values contribute ``Σ w (x − μ)²`` and the implicit zeros
    ``(Σ w over them)·μ²``; data beyond the safe range is divided by its largest
    magnitude first, so nothing over- or underflows.
    """
    X = canonical(sp.csc_matrix(X, dtype=np.float64))
    mean = np.asarray(mean, dtype=np.float64)
    w = np.ones(X.shape[0]) if weights is None else np.asarray(weights, np.float64)
    values = X.data
    largest = max(largest_magnitude(values), largest_magnitude(mean))
    unit = 1.0 if largest == 0 or SAFE_RANGE[0] <= largest <= SAFE_RANGE[1] else largest
    columns = np.repeat(np.arange(X.shape[1]), np.diff(X.indptr))
    rows_w = w[X.indices]
    with np.errstate(over="ignore", invalid="ignore"):
        deviations = (values - mean[columns]) / unit
        stored = np.bincount(
            columns, weights=rows_w * deviations**2, minlength=X.shape[1]
        )
        stored_weight = np.bincount(columns, weights=rows_w, minlength=X.shape[1])
        zeros = (w.sum() - stored_weight) * (mean / unit) ** 2
        return np.sqrt(stored + np.maximum(zeros, 0)) * unit


def into_range(X, largest=None, ns=None):
    """``(Z, unit)``: ``X = unit·Z``, with Z inside its dtype's safe range.

    Krylov and randomized solvers square entries, and multiply them by vector
    entries of about ``1/√n``: outside ``SAFE_RANGE`` (float64) or
    ``FLOAT32_SAFE_RANGE`` (float32) the products over- or underflow, and
    subnormal data loses digits in every product. An array or sparse matrix
    is then divided by its largest magnitude (into a new one); a
    :class:`CenteredOperator` has its data, mean and column divisors brought
    into range (:meth:`CenteredOperator.into_range`). Data already inside,
    all-zero data and other operators come back as they are, with
    ``unit = 1``. ``largest`` is ``max |x|`` where the caller has it. An
    array of another namespace ``ns`` is divided on its device.
    """
    if isinstance(X, CenteredOperator):
        return X.into_range()
    is_sparse = sp.issparse(X)
    if ns is None and not (isinstance(X, np.ndarray) or is_sparse):
        return X, 1.0
    if largest is None and ns is not None:
        empty = X.shape[0] * X.shape[1] == 0
        largest = 0.0 if empty else float(ns.numpy(ns.xp.max(ns.xp.abs(X))))
    elif largest is None:
        largest = largest_magnitude(canonical(X).data if is_sparse else X)
    dtype = X.dtype if ns is None else _namespace.numpy_dtype(X.dtype)
    if largest == 0.0 or _inside(largest, dtype) or not np.isfinite(largest):
        return X, 1.0
    if not is_sparse:
        return X / largest, largest  # a Python float: X's dtype stays
    scaled = X.copy()
    scaled.data = scaled.data / largest
    return scaled, largest


def _inside(magnitude, dtype):
    low, high = SAFE_RANGE if dtype == np.float64 else FLOAT32_SAFE_RANGE
    return low < magnitude < high


def times_unit(s, unit):
    """Singular values ``s`` of ``X / unit`` scaled back, in s's dtype.

    Values beyond the dtype become ``inf`` without a warning: the engine
    refuses them with a message that names the problem
    (:func:`~sksvd.linalg._decompose.decompose`).
    """
    if not isinstance(s, np.ndarray):
        return s * unit  # another namespace's array: no warning there
    with np.errstate(over="ignore"):
        return (s * unit).astype(s.dtype, copy=False)


class CenteredOperator(LinearOperator):
    """``Z = diag(r) (X − 1 μᵀ) diag(1/d)`` applied through products with ``X`` alone.

    ``Z w = r ⊙ (X (w/d) − 1 (μᵀ (w/d)))`` and
    ``Zᵀ u = (Xᵀ (r ⊙ u) − μ (1ᵀ (r ⊙ u))) / d``: each product costs one sparse
    product with ``X`` plus a rank-one correction, so iterative solvers see the
    centred (scaled, row-weighted) matrix without it being formed. Columns
    flagged ``explicit`` (large means, see :func:`explicit_columns`) are kept as
    a dense centred block instead, where the rank-one correction would cancel.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
    mean : ndarray of shape (n_features,)
    scale : ndarray of shape (n_features,)
        The column divisors ``d``.
    row_scale : ndarray of shape (n_samples,), default=None
        The row multipliers ``r`` (square roots of sample weights); None for ones.
    explicit : ndarray of bool of shape (n_features,), default=None
        Columns centred explicitly.
    """

    def __init__(self, X, mean, scale, row_scale=None, explicit=None, recentre=False):
        super().__init__(dtype=X.dtype, shape=X.shape)
        dtype = X.dtype
        # As given (float64 from the Operand), for into_range.
        self._given = (X, mean, scale, row_scale, explicit, recentre)
        # A part beyond the dtype becomes inf here, without a warning;
        # into_range then applies the parts in float64.
        with np.errstate(over="ignore"):
            self.scale = np.asarray(scale).astype(dtype, copy=False)
            self.row_scale = None if row_scale is None else row_scale.astype(dtype)
            mean = np.asarray(mean).astype(dtype, copy=False)
        if explicit is None or not np.any(explicit):
            self.X, self.mean, self.dense_columns, self.dense = X, mean, None, None
            return
        X = sp.csc_matrix(X)
        self.dense_columns = np.flatnonzero(explicit)
        self.dense = X[:, self.dense_columns].toarray() - mean[self.dense_columns]
        if recentre:
            # μ is X's own mean, whose rounding the large means of these
            # columns leave in the centred block: a second pass removes it
            # (see residual_mean). Not for new data centred by a model's mean.
            weights = (
                None if row_scale is None else np.asarray(row_scale, np.float64) ** 2
            )
            eps = float(np.finfo(dtype).eps)
            residual = residual_mean(self.dense, weights)
            delta = rounding_only(residual, mean[self.dense_columns], eps, X.shape[0])
            self.dense -= delta.astype(self.dense.dtype)
        kept = np.ones(X.shape[1], dtype=dtype)
        kept[self.dense_columns] = 0
        self.X = sp.csr_matrix(X @ sp.diags(kept))
        self.X.eliminate_zeros()
        self.mean = mean * kept

    def into_range(self):
        """``(Z', unit)`` with ``Z = unit·Z'`` and every part of Z' inside range.

        Where the column-scaled values ``xᵢⱼ/dⱼ`` and ``μⱼ/dⱼ``, or the row
        multipliers, leave the dtype's safe range (or a divisor does not fit the
        dtype), the divisors are folded into the stored values in float64 and
        both are divided by their largest magnitude ``c``, the row multipliers
        by theirs ``ρ``: ``Z' = Z/(c·ρ)``, with no column divisor left.
        Subnormal float32 data otherwise lost every digit in the products, and
        data near 1e20 overflowed float32 in them. Otherwise the operator
        itself, with unit 1.
        """
        X, mean, scale, root, explicit, recentre = self._given
        scale = np.asarray(scale, dtype=np.float64)
        mean = np.asarray(mean, dtype=np.float64)
        raw = max(largest_magnitude(X.data), largest_magnitude(mean))
        rho = 1.0 if root is None else largest_magnitude(root)
        if raw == 0.0 or rho == 0.0 or not (np.isfinite(raw) and np.isfinite(rho)):
            return self, 1.0
        low, high = float(np.min(scale)), float(np.max(scale))
        fits = all(
            np.all(np.isfinite(part))
            for part in (self.scale, self.mean, self.row_scale)
            if part is not None
        )
        # Bounds on c = max |xᵢⱼ/dⱼ|, |μⱼ/dⱼ| without forming the quotients:
        # the common case is decided without a copy of the data.
        bounds = [raw / high, raw / low] if low > 0 else [np.inf]
        magnitudes = [raw, rho, low, high, *bounds]
        if fits and all(_inside(value, self.dtype) for value in magnitudes if value):
            return self, 1.0
        X = sp.csr_matrix(X, dtype=np.float64, copy=True)  # X is never modified
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            X.data /= scale[X.indices]
            centre = mean / scale
        c = max(largest_magnitude(X.data), largest_magnitude(centre))
        if not np.isfinite(c) or c == 0.0:
            return self, 1.0
        exact = (raw, c, rho, low, high)
        if fits and all(_inside(value, self.dtype) for value in exact):
            return self, 1.0
        X.data /= c
        operator = CenteredOperator(
            X.astype(self.dtype),
            centre / c,
            np.ones(self.shape[1]),
            row_scale=None if root is None else np.asarray(root, np.float64) / rho,
            explicit=explicit,
            recentre=recentre,
        )
        return operator, c * rho

    def astype(self, dtype):
        """The same operator computing in ``dtype``."""
        operator = CenteredOperator.__new__(CenteredOperator)
        LinearOperator.__init__(operator, dtype=np.dtype(dtype), shape=self.shape)
        operator.X = self.X.astype(dtype)
        operator.mean = self.mean.astype(dtype)
        operator.scale = self.scale.astype(dtype)
        operator.row_scale = (
            None if self.row_scale is None else self.row_scale.astype(dtype)
        )
        operator.dense_columns = self.dense_columns
        operator.dense = None if self.dense is None else self.dense.astype(dtype)
        operator._given = self._given
        return operator

    def _matmat(self, W):
        W = W / self.scale[:, np.newaxis]
        product = np.asarray(self.X @ W) - self.mean @ W
        if self.dense is not None:
            product += self.dense @ W[self.dense_columns]
        if self.row_scale is not None:
            product *= self.row_scale[:, np.newaxis]
        return product

    def _rmatmat(self, U):
        if self.row_scale is not None:
            U = U * self.row_scale[:, np.newaxis]
        product = np.asarray(self.X.T @ U) - np.outer(self.mean, U.sum(axis=0))
        if self.dense is not None:
            product[self.dense_columns] += self.dense.T @ U
        return product / self.scale[:, np.newaxis]

    def _matvec(self, w):
        return self._matmat(w.reshape(-1, 1)).ravel()

    def _rmatvec(self, u):
        return self._rmatmat(u.reshape(-1, 1)).ravel()

    def _adjoint(self):
        return _TransposedCentered(self)


class _TransposedCentered(LinearOperator):
    def __init__(self, operator):
        super().__init__(dtype=operator.dtype, shape=operator.shape[::-1])
        self.operator = operator

    def _matmat(self, U):
        return self.operator._rmatmat(U)

    def _rmatmat(self, W):
        return self.operator._matmat(W)

    def _matvec(self, u):
        return self.operator._rmatvec(u)

    def _rmatvec(self, w):
        return self.operator._matvec(w)

    def _adjoint(self):
        return self.operator


def centred_product(X, mean, W, explicit=None):
    """``(X − 1μᵀ) W`` for dense, sparse or array-API X, without cancellation.

    Dense X is centred first (on its device for array-API X, in the promoted
    dtype of X, μ and W, as NumPy would). Sparse X stays sparse:
    ``X W − 1 (μᵀW)``, except for the ``explicit`` columns (large means), which
    are centred as a dense block.
    """
    ns = _namespace.namespace_of(X)
    if ns is not None and isinstance(W, np.ndarray):
        # Host μ and W: NumPy's promotion (a float64 centre makes the product
        # float64), computed on X's device.
        W = ns.asarray(np.asarray(W, dtype=np.result_type(W, mean)))
        return (ns.xp.astype(X, W.dtype) - ns.asarray(mean, W.dtype)) @ W
    if not sp.issparse(X):
        return (X - mean) @ W
    if explicit is None or not np.any(explicit):
        return np.asarray(X @ W) - mean @ W
    operator = CenteredOperator(X, mean, np.ones(X.shape[1]), explicit=explicit)
    return operator.matmat(np.asarray(W, dtype=X.dtype))
