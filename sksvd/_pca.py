"""PCAViaSVD: principal component analysis of the covariance or correlation matrix."""

import weakref
from math import log
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite
from sklearn.utils.extmath import fast_logdet
from sklearn.utils.metaestimators import available_if
from sklearn.utils.sparsefuncs import min_max_axis
from sklearn.utils.validation import check_is_fitted

from sksvd._base import (
    _SVDTransformerMixin,
    host_weights,
    in_dtype,
    row_weights,
    to_device_of,
    validate_data,
    warn_at_caller,
)
from sksvd._compat import (
    Interval,
    RealNotInt,
    StrOptions,
    _fit_context,
    check_same_namespace,
    check_sample_weight,
    infer_pca_dimension,
)
from sksvd._dask_input import is_dask_array, validate_dask
from sksvd._docstrings import fill_shared_docs
from sksvd.exceptions import ConstantFeatureWarning
from sksvd.linalg._checks import check_array
from sksvd.linalg._engine import (
    PARTIAL_SPECTRUM_SOLVERS,
    SOLVERS,
    Operand,
    centred_product,
    check_rank,
    check_solver_input,
    column_mean,
    column_moments,
    column_range,
    complete_low_rank,
    decompose,
    default_rcond,
    explicit_columns,
    float_dtypes,
    frobenius_norm,
    impute_rows,
    input_kind,
    largest_rank,
    namespace_of,
    promoted,
    raise_if_not_finite,
    take_rows,
    to_numpy,
)


def _column_mean(X, weights=None, sums=None, checked=True, name="PCAViaSVD"):
    """float64 (weighted) column means of dense or sparse X, refused on overflow.

    In float64 even for float32 X, as scikit-learn's StandardScaler: float32 sums
    would hide constant features from the test in ``_ScaleRule``. Constant
    columns get their value exactly (see the engine's ``column_mean``).

    ``checked=False``: dense X has not been checked for NaN and infinity yet.
    A sum is finite only if every entry it adds is, so only a non-finite mean
    sends X to scikit-learn's check (which names the problem as validation
    would, for the estimator ``name``); finite entries whose sum overflows are
    refused as an overflow.
    """
    mean = column_mean(X, weights, sums)
    if not np.all(np.isfinite(mean)):
        if not checked:
            assert_all_finite(X, estimator_name=name, input_name="X")
        _variance_of(np.inf, X.shape[0])
    return mean


def _frequency_weights(sample_weight, X):
    """Validated frequency weights as float64, or None for none (or all ones).

    A weight counts its sample that many times: the variance divides by
    ``Σw − 1``, which must be positive.
    """
    weights = row_weights(sample_weight, X)
    if weights is None:
        if sample_weight is None or X.shape[0] > 1:
            return None
        weights = np.ones(1)  # one sample of weight 1: refused below
    with np.errstate(over="ignore"):
        total = float(weights.sum())
    if not np.isfinite(total):
        raise ValueError(
            "sample_weight sums beyond float64's range; frequency weights count "
            "samples, so pass counts that float64 can add up."
        )
    if not total > 1:
        raise ValueError(
            "sample_weight holds frequency weights (a weight of 2 counts a sample "
            "twice), and variances divide by sum(sample_weight) - 1, which must be "
            f"positive; got a sum of {total:.6g}. Scale the weights so that they "
            "sum to the number of samples they stand for."
        )
    return None if np.all(weights == 1.0) else weights


def _has_nan(X):
    """Whether dense or sparse X holds a NaN."""
    values = X.data if sp.issparse(X) else X
    return bool(np.isnan(values).any())


def _as_count(total):
    """A sample count: an int when whole (repeated rows), else the float ``Σw``."""
    total = float(total)
    # Beyond 2⁵³ a float holds no fraction, and a Python int there would not
    # pass through NumPy's float functions.
    return int(total) if total.is_integer() and total <= 2**53 else total


def _positive_rows(X, weights):
    """X and the weights without the rows of zero weight, which count for nothing.

    Left in, such rows (an outlier, a column's only variation) would still set
    scales and ranges that the weighted data do not have.
    """
    if weights is None or np.all(weights > 0):
        return X, weights
    keep = weights > 0
    return take_rows(X, keep), weights[keep]


def _count(operand):
    """The number of samples an operand stands for: ``Σw``, or its rows."""
    if operand.weights is None:
        return operand.shape[0]
    return _as_count(np.sum(operand.weights))


def _spread(X):
    """``columns -> max − min`` of those columns of dense or sparse X."""

    ns = namespace_of(X)

    def spread(columns):
        if ns is not None:
            return column_range(X, columns, ns)
        part = X[:, columns]
        if sp.issparse(part):
            low, high = min_max_axis(part, axis=0)
            return np.asarray(high, dtype=np.float64) - low
        return np.ptp(part, axis=0)

    return spread


class _ScaleRule:
    """The column divisors of PCA, from the centred column norms, with range checks.

    Called by the engine once, with ``‖xⱼ − μⱼ1‖`` for each column (from
    whichever pass its solver makes). Refuses variances that over- or underflow
    float64 (see :func:`_variance_of` and :meth:`_check_underflow`) and returns
    ones under ``"covariance"`` and the standard deviations under
    ``"correlation"`` (1 for constant features, with a warning).
    """

    def __init__(self, estimator, mean, n_samples, spread=None):
        self.estimator, self._mean, self.n_samples = estimator, mean, n_samples
        self.spread = spread

    @property
    def mean(self):
        """The centre; a callable ``mean`` (the operand's, settled by then) is read."""
        return self._mean() if callable(self._mean) else self._mean

    def __call__(self, norms):
        n = self.n_samples
        total = frobenius_norm(norms)
        # Squares beyond float64 were left inf or nan (inf − inf): an overflow.
        _variance_of(total if np.isfinite(total) else np.inf, n)
        with np.errstate(under="ignore"):
            variance = (norms / np.sqrt(n - 1)) ** 2
        if self.spread is not None:
            self._check_underflow(variance)
        return self.estimator._scale_from(variance, self.mean, n)

    def _check_underflow(self, variance):
        """Refuse variances that underflowed to (near) zero while their features vary.

        Squares of deviations below about 1e-162 are zero in float64, which would
        make a varying feature look constant. Under ``"covariance"`` only a total
        below ``tiny/eps`` matters (a tiny feature beside normal ones is lost to
        rounding either way); under ``"correlation"`` each feature is divided by
        its own standard deviation, so each must be representable.
        """
        info = np.finfo(np.float64)
        floor = info.tiny / info.eps
        small = np.flatnonzero(variance < floor)
        covariance = self.estimator.matrix == "covariance"
        if small.size == 0 or (covariance and np.sum(variance) >= floor):
            return
        varying = small[np.asarray(self.spread(small)) > 0]
        if varying.size:
            raise ValueError(
                f"The variances of X underflow float64 (features {varying.tolist()} "
                f"vary, but their variances are below {floor:.3g}); multiply X, or "
                "those features, by a constant first."
            )


class _Model(NamedTuple):
    """The fitted probabilistic PCA model, as NumPy arrays on the host.

    Its size is that of the components; for an array-API fit the attributes are
    copied from the device, the small algebra (a k × k inverse, the covariance)
    runs here, and the callers move what is of the data's size back.
    """

    mean: np.ndarray
    scale: np.ndarray
    V: np.ndarray
    variances: np.ndarray
    noise: float
    dtype: np.dtype

    @classmethod
    def of(cls, estimator):
        V = to_numpy(estimator.components_)
        variances = to_numpy(estimator.explained_variance_)
        return cls(
            np.asarray(to_numpy(estimator.mean_), dtype=np.float64),
            np.asarray(to_numpy(estimator.scale_), dtype=np.float64),
            V.astype(np.float64),
            np.asarray(variances, dtype=np.float64),
            float(estimator.noise_variance_),
            # float64 where the variances did not fit the data's float32
            np.result_type(V.dtype, variances.dtype),
        )

    def covariance(self):
        """``D (V diag(λ − σ²) Vᵀ + σ² I) D``, in the data's dtype."""
        return self._covariance().astype(self.dtype, copy=False)

    def _covariance(self):
        """The covariance in float64."""
        V = self.V
        difference = np.maximum(self.variances - self.noise, 0.0)
        cov = (V.T * difference) @ V
        cov.flat[:: cov.shape[0] + 1] += self.noise
        return cov * np.outer(self.scale, self.scale)

    def precision(self, dtype=None):
        """The inverse covariance (by the matrix inversion lemma when σ² > 0).

        Formed in float64 and returned in ``dtype`` (default: the data's).
        """
        dtype = self.dtype if dtype is None else dtype
        if self.noise == 0.0:
            return la.inv(self._covariance()).astype(dtype, copy=False)
        V = self.V
        noise = self.noise
        difference = np.maximum(self.variances - noise, 0.0)
        # (VᵀΛV + σ²I)⁻¹ = I/σ² − Vᵀ (σ² Λ⁻¹ + I)⁻¹ V / σ², with Λ = diag(λ − σ²)
        # (Woodbury); only a k × k matrix is inverted.
        inner = V @ V.T / noise
        with np.errstate(divide="ignore"):
            inner.flat[:: inner.shape[0] + 1] += 1.0 / difference
        # Divided twice rather than by noise²: the square alone may overflow.
        precision = -(V.T @ la.inv(inner) @ V) / noise / noise
        precision.flat[:: precision.shape[0] + 1] += 1.0 / noise
        precision = precision / np.outer(self.scale, self.scale)
        return precision.astype(dtype, copy=False)


def _like(values, X, ns=None):
    """NumPy ``values`` in the namespace and on the device of X (as they are else)."""
    ns = namespace_of(X) if ns is None else ns
    return values if ns is None else ns.asarray(values)


def _wide(X, ns):
    """X in float64 (the device's widest float for array-API X)."""
    return np.asarray(X, dtype=np.float64) if ns is None else ns.float64(X)


def _row_sums(values):
    return values.sum(axis=1) if isinstance(values, np.ndarray) else _sum_rows(values)


def _sum_rows(values):
    return namespace_of(values).xp.sum(values, axis=1)


def _refuse_array_api(X, what):
    """A TypeError for array-API X where only NumPy arrays are taken."""
    if input_kind(X) == "array_api":
        raise TypeError(
            f"{what} streams batches through an exact QR update on the host, "
            "for NumPy, sparse or dask arrays; fit() takes array-API arrays on "
            "their device in one call."
        )


def _variance_of(norm, n_samples):
    """``norm² / (n − 1)`` from the centred data's Frobenius norm, or an error.

    Variances are squares: data beyond about 1e154 overflows float64 and data
    below about 1e-154 underflows it, which would leave infinite or zero
    variances; either is refused with the fix.
    """
    info = np.finfo(np.float64)
    if norm > np.sqrt(info.max) * np.sqrt(n_samples - 1):
        raise ValueError(
            "The variances of X overflow float64 (the centred data's norm is "
            f"{norm:.3g}); divide X by a constant first."
        )
    if 0 < norm < np.sqrt(info.tiny / info.eps) * np.sqrt(n_samples - 1):
        raise ValueError(
            "The variances of X underflow float64 (the centred data's norm is "
            f"{norm:.3g}); multiply X by a constant first."
        )
    return (norm / np.sqrt(n_samples - 1)) ** 2  # squared last: it may be huge


@fill_shared_docs
class PCAViaSVD(
    _SVDTransformerMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Principal component analysis by the SVD of the centred (and scaled) data.

    The data are centred (``matrix="covariance"``) or centred and divided by each
    feature's sample standard deviation (``matrix="correlation"``), and the right
    singular vectors of the result are the principal axes. With
    ``matrix="covariance"`` every attribute has the meaning and the value it has in
    :class:`sklearn.decomposition.PCA`.

    Parameters
    ----------
    n_components : int, float, "mle" or None, default=None
        - None: ``min(n_samples, n_features)`` components (one fewer with
          ``solver="arpack"``, four fewer with ``solver="lanczos"``).
        - int: that many, between 0 and ``min(n_samples, n_features)``; 0 keeps
          none, and the model is the noise variance alone (``score`` of
          isotropic noise, as scikit-learn's PCA allows it), from a
          whole-spectrum solver.
        - float in (0, 1): the smallest number whose cumulative
          ``explained_variance_ratio_`` exceeds the value (strictly, as in
          scikit-learn).
        - ``"mle"``: Minka's maximum-likelihood estimate of the dimension; needs
          ``n_samples ≥ n_features``. Singular values within the rounding of
          X's dtype (at most :func:`~sksvd.linalg.default_rcond` times ``σ₁``)
          count as zero, so rounding noise is never a direction, and the
          variances are taken relative to the largest (scikit-learn's absolute
          1e-15 cut-off would make the estimate depend on the data's units).

        A float and ``"mle"`` need the whole spectrum, so they take a
        whole-spectrum solver (``"auto"``, ``"full"``, ``"qr"``, ``"gram"`` or
        ``"dask"``).

    matrix : {"covariance", "correlation"}, default="covariance"
        ``"correlation"`` divides each centred feature by its sample standard
        deviation (``ddof=1``, as R's ``prcomp(scale. = TRUE)``). A constant
        feature then gets a scale of 1 and a
        :class:`~sksvd.exceptions.ConstantFeatureWarning` (located at the
        caller's line): its centred values are zero, so it contributes nothing,
        and no NaN appears.

    whiten : bool, default=False
        Divide the projections by ``√explained_variance_`` so each has unit sample
        variance. Components whose standard deviation is below
        ``max(n_samples, n_features)·eps·√explained_variance_[0]`` (numerically
        zero) are divided by that floor instead, so rounding noise is not blown up.

    %(svd_solver)s Sparse data is centred implicitly
        (never densified) by ``"randomized"``, ``"lanczos"``, ``"arpack"`` and
        ``"propack"``, and densified by the others.

    %(n_oversamples)s

    %(n_iter)s

    %(random_state)s

    missing : {"raise", "em"}, default="raise"
        ``"raise"`` refuses missing values (NaN). ``"em"`` fits incomplete data
        as R's missMDA ``imputePCA``: the missing entries are filled by the EM
        iteration of the rank-``n_components`` model (with the
        correlation scaling re-estimated at each step under
        ``"correlation"``), the same engine routine as
        :class:`~sksvd.SVDImputer`, and the PCA is that of the completed data.
        ``transform`` then projects a row with NaN by least squares on its
        observed entries. Needs an integer ``n_components``, dense data and
        no ``sample_weight``.

    max_iter : int, default=1000
        Steps of the EM iteration (``missing="em"``), as missMDA's ``maxiter``;
        a ``ConvergenceWarning`` says when it stops here.

    tol : float, default=1e-5
        The EM iteration stops when the fill moves by at most ``tol`` times the
        centred data's Frobenius norm.

    Attributes
    ----------
    components_ : ndarray of shape (`n_components_`, n_features)
        Principal axes, in the centred (and scaled) space, with scikit-learn's sign
        rule (largest-magnitude entry of each row positive).

    explained_variance_ : ndarray of shape (`n_components_`,)
        Variance along each component, ``σᵢ² / (n_samples − 1)``.

    explained_variance_ratio_ : ndarray of shape (`n_components_`,)
        Fraction of the total variance along each component. Under
        ``"correlation"`` the total is the number of non-constant features.

    singular_values_ : ndarray of shape (`n_components_`,)
        Singular values of the centred (and scaled) data.

    mean_ : ndarray of shape (n_features,)
        Per-feature mean.

    scale_ : ndarray of shape (n_features,)
        Per-feature divisor: ones under ``"covariance"``, the sample standard
        deviations (1 for constant features) under ``"correlation"``. In X's
        dtype, or in float64 where a float32 feature's standard deviation passes
        float32's range (projections are then float64 too).

    loadings_ : ndarray of shape (`n_components_`, n_features)
        ``components_`` scaled by ``√explained_variance_``. Under
        ``"correlation"``, ``loadings_[i, j]`` is the correlation between feature
        ``j`` and the scores of component ``i``.

    n_components_ : int
        Number of components kept.

    %(solver_)s After ``partial_fit``, the backward-stable solver that
        factored the triangular state (``"full"`` or ``"qr"``).

    noise_variance_ : float
        Probabilistic PCA's estimate of the noise variance (Tipping and Bishop):
        the mean of the variances left out, in the centred (and scaled) space.

    n_samples_ : int
        Number of samples seen by ``fit``, or by all ``partial_fit`` calls.

    n_samples_seen_ : int
        The same, under :class:`sklearn.decomposition.IncrementalPCA`'s name.

    n_iter_ : int
        Steps of the EM iteration (``missing="em"`` on data with missing
        values); 1 otherwise (one SVD).

    var_ : ndarray of shape (n_features,)
        Per-feature variance of the data seen (``ddof=0``, as
        :class:`~sklearn.decomposition.IncrementalPCA`'s ``var_``), in the
        data's units.

    %(n_features_in_)s

    %(feature_names_in_)s

    See Also
    --------
    sklearn.decomposition.PCA : scikit-learn's PCA, covariance only.
    sklearn.decomposition.IncrementalPCA : Batches, with truncation at every step.
    sksvd.TruncatedSVDCompressor : The same factorisation without centring.

    Notes
    -----
    With ``Z = (X − 1μᵀ) D⁻¹`` (``D = I`` or the diagonal of standard deviations)
    and ``Z = U Σ Vᵀ``, the sample covariance of ``Z`` is

    .. math::

        \\frac{Z^T Z}{n - 1} = V \\frac{\\Sigma^2}{n - 1} V^T ,

    so the right singular vectors are its eigenvectors and
    ``σᵢ² / (n − 1)`` its eigenvalues. Under ``"correlation"``, ``ZᵀZ/(n−1)`` is
    the correlation matrix, and ``corr(xⱼ, zᵢ) = vⱼᵢ σᵢ / √(n − 1)``, which is
    ``loadings_``.

    ``get_covariance``, ``get_precision``, ``score_samples`` and ``score`` use the
    probabilistic PCA model ``C = V diag(λ − σ²) Vᵀ + σ² I`` in the scaled space,
    mapped back to the data's units as ``D C D``. The model does not depend on
    whitening, which is a choice of output scale; scikit-learn's ``PCA`` does
    change its covariance under ``whiten=True`` (scikit-learn issue #13898).

    ``partial_fit`` keeps the triangular factor ``R`` of the centred data
    (``RᵀR = (X − 1μᵀ)ᵀ(X − 1μᵀ)``, updated by one QR decomposition per batch with
    the mean-shift row of Ross et al.), so after any number of batches the model
    equals ``fit`` on the stacked data to rounding, whatever ``n_components``.
    The correlation scaling is applied to ``R`` afterwards, since the column norms
    of ``R`` are the centred sums of squares.

    References
    ----------
    .. [1] M. E. Tipping and C. M. Bishop, "Probabilistic principal component
       analysis", J. R. Stat. Soc. B 61(3), 1999. :doi:`10.1111/1467-9868.00196`
    .. [2] T. P. Minka, "Automatic choice of dimensionality for PCA", NIPS 2000.
    .. [3] D. A. Ross, J. Lim, R.-S. Lin and M.-H. Yang, "Incremental learning for
       robust visual tracking", IJCV 77, 2008. :doi:`10.1007/s11263-007-0075-7`

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd import PCAViaSVD
    >>> rng = np.random.default_rng(0)
    >>> height = rng.normal(170, 10, size=200)
    >>> weight = 0.9 * height - 85 + rng.normal(0, 5, size=200)
    >>> X = np.column_stack([height, weight])
    >>> pca = PCAViaSVD(matrix="correlation").fit(X)
    >>> pca.explained_variance_ratio_.round(2)
    array([0.93, 0.07])
    >>> np.abs(pca.loadings_[0]).round(2)  # |corr(feature, first component)|
    array([0.96, 0.96])
    """

    _parameter_constraints: dict = {
        "n_components": [
            Interval(Integral, 0, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            StrOptions({"mle"}),
            None,
        ],
        "matrix": [StrOptions({"covariance", "correlation"})],
        "whiten": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "n_oversamples": [Interval(Integral, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "random_state": ["random_state"],
        "missing": [StrOptions({"raise", "em"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=None,
        *,
        matrix="covariance",
        whiten=False,
        solver="auto",
        n_oversamples=10,
        n_iter="auto",
        random_state=None,
        missing="raise",
        max_iter=1000,
        tol=1e-5,
    ):
        self.n_components = n_components
        self.matrix = matrix
        self.whiten = whiten
        self.solver = solver
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter
        self.random_state = random_state
        self.missing = missing
        self.max_iter = max_iter
        self.tol = tol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None, batch_size=None):
        """Fit the principal axes of X.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data, at least two samples.

        y : Ignored
            Not used, present for API consistency by convention.

        %(frequency_weights)s

        batch_size : int, default=None
            Stream X through ``partial_fit`` in batches of this many rows (the
            first holds at least two samples): the same model as one pass, to
            rounding, with working memory for one batch and the
            ``n_features × n_features`` triangular state instead of a copy of
            X, for memory-mapped arrays, sparse matrices (densified one batch at
            a time) and dask arrays (computed one batch at a time). As
            :class:`~sklearn.decomposition.IncrementalPCA`'s ``batch_size``, but
            exact. Takes ``solver="auto"``, ``"full"`` or ``"qr"``; ``solver_``
            is then the solver that factored the triangular state.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if batch_size is None:
            self._fit(X, sample_weight)
        else:
            self._fit_in_batches(X, sample_weight, batch_size)
        return self

    def _fit_in_batches(self, X, sample_weight, batch_size):
        _refuse_array_api(X, "batch_size")
        if isinstance(batch_size, bool) or not isinstance(batch_size, Integral):
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size}.")
        if self.solver not in ("auto", "full", "qr"):
            raise ValueError(
                f"batch_size streams X through partial_fit's exact QR update, "
                f"which solver={self.solver!r} cannot run; use solver='auto'."
            )
        if not hasattr(X, "shape") or len(X.shape) != 2:
            X = check_array(X, accept_sparse=["csr", "csc"], dtype=None)
        n_rows = X.shape[0]
        if sample_weight is None and n_rows < 2:
            raise ValueError(
                "PCAViaSVD needs at least 2 samples to estimate variances; got "
                f"n_samples={n_rows}."
            )
        weights = None
        if sample_weight is not None:
            weights = check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            _frequency_weights(weights, X)  # the sum must exceed 1
        # n_components is checked against the rows of positive weight before
        # the stream is read.
        positive = n_rows if weights is None else int(np.count_nonzero(weights))
        count = None if weights is None else float(weights.sum())
        self._components_for((positive, X.shape[1]), "full", count)
        saved = dict(self.__dict__)
        try:
            self._stream(X, weights, batch_size)
        except BaseException:
            # A stream that cannot be read to the end leaves the model as it was.
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _stream(self, X, weights, batch_size):
        n_rows = X.shape[0]
        # A fresh start: partial_fit continues only what it fitted itself.
        for name in ("_factor", "_n_rows", "_mean", "components_", "n_features_in_"):
            self.__dict__.pop(name, None)
        # The first batch holds at least two samples (a weight sum above 1).
        end = min(max(batch_size, 2), n_rows)
        if weights is not None:
            heavy = np.flatnonzero(np.cumsum(weights) > 1)
            end = max(end, int(heavy[0]) + 1)
        starts = [0, *range(end, n_rows, batch_size)]
        dtype = None
        for start, stop in zip(starts, [*starts[1:], n_rows], strict=True):
            part = None if weights is None else weights[start:stop]
            batch, part = self._batch(X[start:stop], part, start == 0)
            self._absorb(batch, part, start == 0)
            dtype = batch.dtype
        # n_components is checked once, against all the rows.
        self._store_state(dtype)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit the principal axes of X and return its projections on them.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data, at least two samples.

        y : Ignored
            Not used, present for API consistency by convention.

        %(frequency_weights)s

        Returns
        -------
        X_new : ndarray of shape (n_samples, `n_components_`)
            Projections (scores), whitened if ``whiten=True``.
        """
        X = self._fit(X, sample_weight)
        return self._project(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "em"
        tags.array_api_support = tags.array_api_support and self.missing != "em"
        return tags

    def _continuable(self):
        """Whether partial_fit may continue this estimator (else why not)."""
        if hasattr(self, "components_") and not isinstance(
            self.components_, np.ndarray
        ):
            raise AttributeError(
                "This PCAViaSVD was fitted on an array-API array on its device; "
                "partial_fit updates NumPy fits only (its QR update runs on the "
                "host). Call partial_fit on a new (cloned) estimator with NumPy "
                "batches."
            )
        if hasattr(self, "components_") and not hasattr(self, "_factor"):
            raise AttributeError(
                f"This PCAViaSVD was fitted with solver={self.solver_!r}, which kept "
                "only part of the spectrum or of the components, so partial_fit "
                "cannot continue it exactly and is not available. Fit with "
                "solver='full' or 'qr' (or n_components=None) first, or call "
                "partial_fit on a new (cloned) estimator."
            )
        return True

    @available_if(_continuable)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the model with one batch of samples.

        The model after any sequence of batches equals ``fit`` on their stacked
        rows, to rounding (see Notes); ``solver`` is not used. The first batch
        needs at least two samples. After ``fit``, ``partial_fit`` continues from
        the fitted data when ``fit`` computed the whole spectrum (exact solvers).
        After a truncated fit (randomized or Krylov solvers, or wide data with
        fewer components than samples) the discarded part of the spectrum
        cannot be recovered, and continuing in the retained subspace, as
        :class:`~sklearn.decomposition.IncrementalPCA` does, would be
        approximate: ``partial_fit`` is then not available (an
        ``AttributeError`` that says why, and ``hasattr`` is False, which
        scikit-learn's checks respect).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of samples; sparse batches are densified.

        y : Ignored
            Not used, present for API consistency by convention.

        %(frequency_weights)s

        Returns
        -------
        self : object
            The updated estimator.
        """
        first = not hasattr(self, "_factor")
        saved = dict(self.__dict__)
        try:
            X, weights = self._batch(X, sample_weight, first)
            if self._absorb(X, weights, first):
                self._store_state(X.dtype)
        except BaseException:
            # A batch that cannot be taken leaves the model as it was.
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        return self

    def _batch(self, X, sample_weight, first):
        """A batch validated (dense, float) and its weights (or None)."""
        _refuse_array_api(X, "partial_fit")
        if is_dask_array(X):
            X = validate_dask(self, X, reset=first).compute()  # a batch fits memory
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=first,
        )
        X = X.toarray() if sp.issparse(X) else X
        weights = None
        if sample_weight is not None:
            # A later batch may weigh nothing (it then changes nothing).
            weights = check_sample_weight(
                sample_weight,
                X,
                dtype=np.float64,
                ensure_non_negative=True,
                allow_all_zero_weights=not first,
            )
        if first and weights is not None:
            _frequency_weights(weights, X)  # the sum must exceed 1
        if first and weights is None and X.shape[0] < 2:
            raise ValueError(
                "The first batch given to partial_fit needs at least 2 samples "
                f"to estimate variances; got n_samples={X.shape[0]}."
            )
        return X, weights

    def _absorb(self, X, weights, first):
        """Fold a batch into the triangular state; False if it changed nothing.

        The state is ``R`` with ``RᵀR`` the centred (weighted) scatter, the
        float64 mean, the count (``Σw``) and the number of rows.
        """
        count = X.shape[0] if weights is None else float(weights.sum())
        if not first and count == 0:
            return False  # a batch of zero weight changes nothing
        X, weights = _positive_rows(X, weights)
        batch_mean = _column_mean(X, weights)
        centred = np.asarray(X, dtype=np.float64) - batch_mean
        if weights is not None:
            centred *= np.sqrt(weights)[:, np.newaxis]
        if first:
            n_seen, n_rows, mean, rows = 0, 0, batch_mean, centred
        else:
            n_seen, n_rows, mean = self.n_samples_, self._n_rows, self._mean
            # The correction row accounts for the shift between the two means:
            # the centred scatter of the union is the two scatters plus
            # n₁n₂/(n₁+n₂)·(μ₁ − μ₂)(μ₁ − μ₂)ᵀ (n the counts, Σw with weights).
            fraction = count / (n_seen + count)
            shift = np.sqrt(n_seen * fraction) * (mean - batch_mean)
            rows = np.vstack([self._factor, centred, shift[np.newaxis]])
            mean = mean + (batch_mean - mean) * fraction
        _, self._factor = la.qr(rows, mode="raw", check_finite=False)
        self._mean = mean
        self._n_rows = n_rows + X.shape[0]
        self.n_samples_ = _as_count(n_seen + count)
        return True

    def _store_state(self, dtype):
        """The attributes of the model of everything absorbed so far."""
        factor, mean = self._factor, self._mean
        n_samples, n_rows = self.n_samples_, self._n_rows
        n_features = factor.shape[1]
        # R's column norms are the centred column norms of all the batches: the
        # same rule as fit settles the scaling from them.
        operand = Operand(factor, mean=None, scale=_ScaleRule(self, mean, n_samples))
        result = decompose(operand, None, backward_stable=True, compute_u=False)
        size = min(n_rows, n_features)
        # The whole spectrum is at hand, so every n_components rule applies.
        n_components = self._components_for((n_rows, n_features), "full", n_samples)
        total_var = _variance_of(
            frobenius_norm(operand.norms / operand.scale_used), n_samples
        )
        self._store_feature_variances(operand.norms, n_samples, dtype)
        self.solver_ = result.solver
        self.mean_ = mean.astype(dtype)
        self.scale_ = in_dtype(operand.scale_used, dtype)
        self._explicit_columns = explicit_columns(mean, operand.norms, n_samples)
        self._store(
            result.s[:size].astype(dtype),
            result.Vt[:size].astype(dtype),
            total_var,
            (n_samples, n_rows),
            n_components,
            complete=True,
        )

    def transform(self, X):
        """Project X on the principal axes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to project; sparse data is centred implicitly.

        Returns
        -------
        X_new : ndarray of shape (n_samples, `n_components_`)
            Projections (scores), whitened if ``whiten=True``.
        """
        if self.missing != "em" or is_dask_array(X):
            return self._project(self._validate_new(X))
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=False,
            ensure_all_finite="allow-nan",
        )
        if sp.issparse(X) and _has_nan(X):
            raise TypeError(
                "missing='em' projects rows with NaN from dense data only; pass "
                "X.toarray()."
            )
        if sp.issparse(X) or not _has_nan(X):
            return self._project(X)
        # Rows with NaN: their coordinates on the components by least squares
        # on the observed entries.
        missing = np.isnan(X)
        _, scores = impute_rows(
            X,
            missing,
            self.mean_.astype(np.float64),
            self.scale_.astype(np.float64),
            self.components_.astype(np.float64),
        )
        if self.whiten:
            scores = scores / self._whitening
        return scores.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Map projections back to the data space.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_components_`)
            Projections, as returned by ``transform``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            ``(X·√λ if whitened) Vᵀ`` scaled by ``scale_`` and shifted by
            ``mean_``: the projection of the original data onto the affine
            principal subspace.
        """
        X = self._check_coordinates(X)
        if self.whiten:
            X = X * self._whitening
        X, components, scale, mean = promoted(
            X, self.components_, self.scale_, self.mean_
        )
        return (X @ components) * scale + mean

    def score_samples(self, X):
        """Log-likelihood of each sample under the probabilistic PCA model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data, in the original units.

        Returns
        -------
        ll : ndarray of shape (n_samples,)
            Log-density of each sample under ``N(mean_, get_covariance())``;
            ``-inf`` for a sample so far out that its density underflows.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="components_", method="score_samples")
        X = validate_data(self, X, dtype=float_dtypes(X), reset=False)
        ns = namespace_of(X)
        model = _Model.of(self)
        if model.noise == 0.0:
            precision = model.precision(np.float64)
            # In float64 whatever X's dtype: squares of float32 deviations near
            # its smallest magnitudes would underflow.
            residual = _wide(X, ns) - _like(model.mean, X, ns)
            with np.errstate(over="ignore", invalid="ignore"):
                quadratic = _row_sums(residual * (residual @ _like(precision, X, ns)))
            log_det = -fast_logdet(precision)
        else:
            # Closed form in the scaled space Z = (X − μ)D⁻¹, whose model
            # covariance has eigenvalues max(λᵢ, σ²) along the components and σ²
            # elsewhere: no precision matrix (entries up to 1/σ², which cancel)
            # is formed.
            Z = (_wide(X, ns) - _like(model.mean, X, ns)) / _like(model.scale, X, ns)
            components = _like(model.V, X, ns)
            projections = Z @ components.T
            residual = Z - projections @ components
            # In float64 before the floor: a float32 copy of a tiny noise
            # variance would round to zero.
            variances = np.maximum(model.variances, model.noise)
            with np.errstate(over="ignore", invalid="ignore"):
                quadratic = (
                    _row_sums(projections**2 / _like(variances, X, ns))
                    + _row_sums(residual * residual) / model.noise
                )
            log_det = (
                np.sum(np.log(variances))
                + (X.shape[1] - model.V.shape[0]) * log(model.noise)
                + 2 * np.sum(np.log(model.scale))
            )
        # A sample so far out that its quadratic form overflows has density 0
        # in floating point: its log-likelihood is -inf, not an error.
        xp = np if ns is None else ns.xp
        quadratic = xp.where(xp.isnan(quadratic), _like(np.inf, X, ns), quadratic)
        return -0.5 * (quadratic + (X.shape[1] * log(2.0 * np.pi) + float(log_det)))

    def score(self, X, y=None, sample_weight=None):
        """Average log-likelihood of the samples under the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data, in the original units.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: the weighted mean, as for the rows repeated.

        Returns
        -------
        ll : float
            The (weighted) mean of ``score_samples(X)``.
        """
        scores = to_numpy(self.score_samples(X))
        if sample_weight is None:
            return float(np.mean(scores))
        weights = host_weights(sample_weight, scores)
        return float(np.average(scores, weights=weights / weights.max()))

    def get_covariance(self):
        """Covariance of the data under the probabilistic PCA model.

        Returns
        -------
        cov : ndarray of shape (n_features, n_features)
            ``D (V diag(λ − σ²) Vᵀ + σ² I) D`` with ``D = diag(scale_)``; on the
            device of the fitted attributes for array-API fits.
        """
        check_is_fitted(self)
        return _like(_Model.of(self).covariance(), self.components_)

    def get_precision(self):
        """Inverse of ``get_covariance()``, by the matrix inversion lemma.

        Returns
        -------
        precision : ndarray of shape (n_features, n_features)
        """
        check_is_fitted(self)
        return _like(_Model.of(self).precision(), self.components_)

    def _fit(self, X, sample_weight=None):
        """Validate X, run the engine once, store attributes; return validated X."""
        self.__dict__.pop("_factor", None)
        kind = input_kind(X)
        check_solver_input(self.solver, kind)
        if kind == "array_api" and self.missing == "em":
            raise TypeError(
                "missing='em' fills gaps with NumPy arrays only; pass a NumPy "
                "array, or fill the gaps first (SVDImputer) and fit on the device."
            )
        # Dense NumPy X without weights is checked for NaN and infinity by its
        # column sums, which the mean needs anyway (see _column_mean).
        deferred = kind == "dense" and sample_weight is None and self.missing != "em"
        if not deferred:
            return self._fit_validated(X, sample_weight, deferred)
        # A fit refused for NaN or infinity leaves the estimator as it was, as
        # when validation refuses X (the attributes it set are taken back).
        state = dict(self.__dict__)
        try:
            return self._fit_validated(X, sample_weight, deferred)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    def _fit_validated(self, X, sample_weight, deferred):
        X = self._validate_fit_input(
            X, weighted=sample_weight is not None, check_finite=not deferred
        )
        if deferred and input_kind(X) != "dense":
            # Validation made sparse data of it (a sparse DataFrame): its sums
            # skip what is not stored, so the check runs here.
            assert_all_finite(X, estimator_name=type(self).__name__, input_name="X")
            deferred = False
        self.n_iter_ = 1  # one SVD, unless the EM iteration runs
        if self.missing == "em" and not is_dask_array(X) and _has_nan(X):
            X = self._complete(X, sample_weight)
        weights = _frequency_weights(sample_weight, X)
        data, weights = _positive_rows(X, weights)
        count = None if weights is None else float(np.sum(weights))
        n_components = self._components_for(data.shape, self.solver, count)
        operand = self._operand(data, weights, checked=not deferred)
        # 0 components, a fraction or "mle" need the whole spectrum.
        asked = n_components if isinstance(n_components, Integral) else 0
        result = decompose(
            operand,
            asked or None,
            solver=self.solver,
            whole_spectrum=True,
            compute_u=False,
            random_state=self.random_state,
            n_oversamples=self.n_oversamples,
            n_iter=self.n_iter,
        )
        self._store_fit(result, operand, n_components)
        # Array-API input: the attributes join X on its device.
        to_device_of(self, X)
        return X

    def _validate_fit_input(self, X, weighted=False, check_finite=True):
        if is_dask_array(X):
            if self.missing == "em":
                raise TypeError(
                    "missing='em' does not take dask arrays yet; fit on a sample "
                    "that fits in memory, or fill the gaps first."
                )
            X = validate_dask(self, X, reset=True)
        else:
            X = validate_data(
                self,
                X,
                accept_sparse=["csr", "csc"],
                dtype=float_dtypes(X),
                ensure_all_finite=(
                    "allow-nan" if self.missing == "em" else check_finite
                ),
            )
        # With weights, one sample of weight 2 is two samples: their sum is
        # checked instead.
        if X.shape[0] < 2 and not weighted:
            raise ValueError(
                "PCAViaSVD needs at least 2 samples to estimate variances; got "
                f"n_samples={X.shape[0]}."
            )
        return X

    def _complete(self, X, sample_weight):
        """X with its missing entries filled by the rank-``n_components`` EM."""
        if sp.issparse(X):
            raise TypeError(
                "missing='em' takes dense data with NaN for the missing entries; "
                "pass X.toarray()."
            )
        if sample_weight is not None:
            raise ValueError(
                "missing='em' does not take sample_weight yet; fill the gaps with "
                "SVDImputer first, then fit with the weights."
            )
        if isinstance(self.n_components, bool) or not isinstance(
            self.n_components, Integral
        ):
            raise ValueError(
                "missing='em' needs an integer n_components: the rank of the model "
                f"that fills the gaps; got n_components={self.n_components!r}."
            )
        check_rank(self.n_components, X.shape, "full", smallest=0)
        missing = np.isnan(X)
        empty = np.flatnonzero(missing.all(axis=0))
        if empty.size:
            raise ValueError(
                f"Features {empty.tolist()} have no observed value; drop them first."
            )
        completion = complete_low_rank(
            X,
            missing,
            self.n_components,
            scale=self.matrix == "correlation",
            max_iter=self.max_iter,
            tol=self.tol,
            solver="auto" if self.solver == "dask" else self.solver,
            random_state=self.random_state,
        )
        self.n_iter_ = completion.n_iter
        if not completion.converged:
            warn_at_caller(
                f"The EM iteration of missing='em' stopped after max_iter="
                f"{self.max_iter} steps before the fill moved by less than "
                f"tol={self.tol} (relative); raise max_iter.",
                ConvergenceWarning,
            )
        return completion.filled.astype(X.dtype, copy=False)

    def _operand(self, X, weights=None, checked=True):
        """The statistics step: ``diag(√w)(X − 1μᵀ) D⁻¹``, D settled by the engine.

        For dask input the means and centred column norms come from one pass
        over the data. Otherwise the mean is left to the engine, which takes
        it from the column sums of its Gram pass where it runs one, and the
        norms from the pass its solver makes anyway. ``checked=False``: X is
        checked for NaN and infinity with its mean (see :func:`_column_mean`).
        """
        n_samples = X.shape[0] if weights is None else float(weights.sum())
        if not is_dask_array(X):

            def mean(sums):
                name = type(self).__name__
                return _column_mean(X, weights, sums, checked=checked, name=name)

            # The rule reads the operand's mean once it is settled; by a weak
            # reference, so that no reference cycle keeps X alive after the fit.
            rule = _ScaleRule(self, lambda: owner().mean, n_samples, _spread(X))
            operand = Operand(X, mean=mean, scale=rule, weights=weights)
            owner = weakref.ref(operand)
            return operand
        if weights is not None:
            import dask.array as da

            weights = da.from_array(weights, chunks=(X.chunks[0],))
        moments = column_moments(X, weights).compute()
        mean, squared_deviations, finite, low, high = moments
        raise_if_not_finite(finite.all())
        # A constant column's merged mean can miss its value by rounding.
        constant = low == high
        mean = np.where(constant, low, mean)
        squared_deviations = np.where(constant, 0.0, squared_deviations)
        if not np.all(np.isfinite(mean)):
            _variance_of(np.inf, n_samples)
        with np.errstate(invalid="ignore"):
            norms = np.sqrt(squared_deviations)
        rule = _ScaleRule(self, mean, n_samples, lambda columns: (high - low)[columns])
        return Operand(X, mean=mean, scale=rule, weights=weights, column_norms=norms)

    def _store_fit(self, result, operand, n_components):
        """Attributes of a fit from the engine's result and the resolved operand."""
        _, s, Vt = result
        n_rows, n_features = operand.shape
        n_samples = _count(operand)
        dtype = operand.dtype
        scale = operand.scale_used
        self.solver_ = result.solver
        self.mean_ = operand.mean.astype(dtype)
        self.scale_ = in_dtype(scale, dtype)
        # Columns whose mean is large next to their spread: sparse data is
        # centred explicitly there when projected (see centred_product).
        self._explicit_columns = explicit_columns(
            operand.mean, operand.norms, n_samples
        )
        self._n_rows, self._mean = n_rows, operand.mean
        total_var = _variance_of(frobenius_norm(operand.norms / scale), n_samples)
        self._store_feature_variances(operand.norms, n_samples, dtype)
        complete = s.size == min(n_rows, n_features)
        if complete and Vt.shape[0] == s.size:
            # Z = U Σ Vᵀ with Z = (X − 1μᵀ)D⁻¹, so R = Σ Vᵀ D has RᵀR equal to the
            # centred scatter of X: the state partial_fit continues from.
            self._factor = (s[:, np.newaxis] * Vt) * self.scale_
        self._store(
            s, Vt, total_var, (n_samples, n_rows), n_components, complete=complete
        )

    def _components_for(self, shape, solver, count=None):
        """Check ``n_components`` against the data; None becomes a number.

        The number of components follows the rows (of positive weight): a
        repeated row would add only components of zero variance, in an
        arbitrary direction. Minka's rule reads the number of samples, ``Σw``.
        """
        n_samples, n_features = shape
        count = n_samples if count is None else count
        if self.n_components is None:
            largest = largest_rank(solver, shape)
            if largest < 1:
                raise ValueError(
                    f"solver={solver!r} returns at most min(n_samples, n_features) "
                    f"- {min(shape) - largest} components, none for "
                    f"n_samples={n_samples}, n_features={n_features}; use "
                    "solver='full'."
                )
            return largest
        if self.n_components == 0 and solver in PARTIAL_SPECTRUM_SOLVERS:
            raise ValueError(
                f"n_components=0 keeps no component, which leaves solver={solver!r} "
                "nothing to compute: the model is then the noise variance alone, "
                "from the whole spectrum. Use solver='auto', 'full', 'qr' or 'gram' "
                "(as scikit-learn's PCA allows 0 with 'full' and 'covariance_eigh')."
            )
        if isinstance(self.n_components, Integral):
            check_rank(self.n_components, shape, solver, smallest=0)
            return self.n_components
        if solver in PARTIAL_SPECTRUM_SOLVERS:
            raise ValueError(
                f"n_components={self.n_components!r} needs the whole spectrum, "
                f"which solver={solver!r} does not compute; use solver='auto', "
                "'full', 'qr' or 'gram' (or 'dask' for dask arrays), or an integer "
                "n_components."
            )
        if self.n_components == "mle" and count < n_features:
            raise ValueError(
                "n_components='mle' needs n_samples >= n_features; got "
                f"n_samples={count:g}, n_features={n_features}."
            )
        return self.n_components

    def _scale_from(self, variance, mean, n_samples):
        """Standard deviations, with 1 for constant features (and a warning)."""
        if self.matrix == "covariance":
            return np.ones_like(variance)
        # A feature is constant when its variance is within the rounding error
        # of the two-pass algorithm (Chan, Golub and LeVeque), the bound
        # scikit-learn's StandardScaler uses.
        eps = np.finfo(np.float64).eps
        with np.errstate(over="ignore"):
            # An infinite bound means a mean so large that its rounding alone
            # exceeds any representable spread: the feature is constant.
            bound = n_samples * eps * variance + (n_samples * mean * eps) ** 2
        constant = variance <= bound
        if np.any(constant):
            names = getattr(self, "feature_names_in_", None)
            which = np.flatnonzero(constant)
            labels = names[which] if names is not None else which
            warn_at_caller(
                f"Features {labels.tolist()} are constant: under matrix='correlation' "
                "they have no standard deviation to divide by, so they keep scale 1 "
                "and contribute nothing to the components.",
                ConstantFeatureWarning,
            )
        return np.where(constant, 1.0, np.sqrt(variance))

    def _store(self, s, Vt, total_var, counts, n_components, complete):
        """Attributes from the spectrum; ``complete`` says it is the whole one.

        ``counts`` is the number of samples the data stand for (``Σw`` with
        weights) and the number of rows.
        """
        n_samples, n_rows = counts
        # Divided before squaring: σ² may overflow where σ²/(n − 1) does not.
        explained_variance = (s / np.sqrt(n_samples - 1)) ** 2
        if total_var > 0:
            ratio = explained_variance / total_var
        else:
            ratio = np.zeros_like(explained_variance)
        if n_components == "mle":
            # Values within the rounding of the data's dtype (the default
            # rcond, eps₃₂·10 for float32) are zero: scikit-learn's test, an
            # absolute 1e-15, would otherwise read rounding noise as a direction,
            # and count it or not by the solver that ran.
            floor = default_rcond((n_rows, Vt.shape[1]), self.mean_.dtype) * s[0]
            spectrum = np.where(s > floor, explained_variance, 0.0)
            # Relative to the largest: Minka's likelihood moves by a constant
            # under scaling, so only scikit-learn's absolute 1e-15 cut-off
            # would make the estimate depend on the data's units.
            if spectrum.size and spectrum[0] > 0:
                spectrum = spectrum / spectrum[0]
            k = int(infer_pca_dimension(spectrum, n_samples))
        elif isinstance(n_components, Integral):
            k = min(int(n_components), s.size)
        else:
            # Strictly greater, as scikit-learn (its issue #15669).
            k = int(np.searchsorted(np.cumsum(ratio), n_components, side="right")) + 1
            k = min(k, s.size)
        size = min(n_rows, Vt.shape[1])
        if k < size:
            if complete:
                noise = float(np.mean(explained_variance[k:]))
            else:
                kept = float(np.sum(explained_variance[:k], dtype=np.float64))
                noise = max(total_var - kept, 0.0) / (size - k)
        else:
            noise = 0.0
        self.n_samples_ = n_samples
        self.n_components_ = k
        self.components_ = np.ascontiguousarray(Vt[:k])
        self.singular_values_ = s[:k].copy()
        # In the data's dtype, as scikit-learn keeps float32 (computed in
        # float64; a float32 variance beyond float32's range stays float64).
        self.explained_variance_ = in_dtype(explained_variance[:k], s.dtype)
        self.explained_variance_ratio_ = in_dtype(ratio[:k], s.dtype)
        self.noise_variance_ = float(noise)
        self.loadings_ = self.components_ * np.sqrt(self.explained_variance_)[:, None]
        self._whitening = in_dtype(self._whitening_scale(), s.dtype)

    def _store_feature_variances(self, norms, n_samples, dtype):
        """``var_`` (``ddof=0``, as IncrementalPCA) and ``n_samples_seen_``."""
        with np.errstate(over="ignore", under="ignore"):
            self.var_ = in_dtype((norms / np.sqrt(n_samples)) ** 2, dtype)
        self.n_samples_seen_ = n_samples

    def _whitening_scale(self):
        """The divisors of whitened scores (``√λ``, floored against zero)."""
        sd = np.sqrt(self.explained_variance_)
        floor = (
            max(self.n_samples_, self.components_.shape[1])
            * np.finfo(sd.dtype).eps
            * (sd[0] if sd.size else 0.0)
        )
        return np.maximum(sd, floor) if floor > 0 else np.where(sd > 0, sd, 1.0)

    def _project(self, X):
        whitening = self._whitening if self.whiten else None
        X, components, scale, mean, whitening = promoted(
            X, self.components_, self.scale_, self.mean_, whitening
        )
        W = (components / scale).T
        # Dense X is centred first; sparse X stays sparse, except for columns
        # whose mean is large next to their spread, where X·W − μ·W cancels.
        explicit = getattr(self, "_explicit_columns", None)
        scores = centred_product(X, mean, W, explicit)
        if self.whiten:
            scores /= whitening
        return scores
