"""TruncatedSVDCompressor: the best rank-k approximation of a matrix."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.extmath import safe_sparse_dot

from sksvd._base import (
    _SVDTransformerMixin,
    in_dtype,
    row_weights,
    to_device_of,
    validate_data,
)
from sksvd._compat import (
    Interval,
    RealNotInt,
    StrOptions,
    _fit_context,
)
from sksvd._dask_input import is_dask_array, validate_dask
from sksvd._docstrings import fill_shared_docs
from sksvd.linalg._engine import (
    BACKWARD_STABLE_SOLVERS,
    SOLVERS,
    Operand,
    centred_column_norms,
    check_rank,
    check_solver_input,
    column_mean,
    column_moments,
    decompose,
    float_dtypes,
    frobenius_norm,
    input_kind,
    lazy_frobenius_norm,
    promoted,
    raise_if_not_finite,
    take_rows,
    times,
)


@fill_shared_docs
class TruncatedSVDCompressor(
    _SVDTransformerMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Best rank-k approximation of a matrix (Eckart–Young), without centring.

    The data matrix ``X`` is factorised as ``X ≈ U_k Σ_k V_kᵀ`` by its ``k`` leading
    singular triplets. ``transform`` gives the coordinates ``X V_k`` and
    ``inverse_transform`` maps them back, so ``inverse_transform(transform(X))`` is
    the projection of ``X`` onto the leading right singular subspace: for the
    training matrix, the best rank-k approximation. Unlike PCA, nothing is
    centred, so sparse matrices and images are compressed as they are.

    Parameters
    ----------
    n_components : int or float, default=2
        - int: the rank ``k``, between 1 and ``min(n_samples, n_features)``.
        - float in (0, 1): the smallest rank whose components keep at least this
          fraction of ``‖X‖²_F`` (``Σᵢ≤ₖ σᵢ² ≥ n_components·‖X‖²_F``). The
          randomized solver grows its basis until the fraction is reached instead
          of computing the whole spectrum.

    %(svd_solver)s

    %(n_oversamples)s

    %(n_iter)s

    %(random_state)s

    tol : float in [0, 1), default=0.0
        Relative accuracy asked of the singular values, as scikit-learn's
        ``TruncatedSVD(tol=...)`` asks it of ARPACK; 0 asks for full accuracy.
        A positive tol sends a few components of sparse data (with
        ``solver="auto"``) to ``"block_krylov"``, which stops once each
        returned value is within ``tol·σ̂ᵢ`` of a singular value of X and is
        never above ``σᵢ`` (on a flat spectrum the error to ``σᵢ`` itself was
        up to 1.7·tol for tol ≤ 0.1): at ``tol=1e-2`` it reached 1 % on a 100000 × 20000
        sparse matrix faster than scikit-learn's randomized solver reaches
        6 %. ``"arpack"`` and ``"propack"`` take it as SciPy's ``tol``; the
        other solvers do not use it.

    Attributes
    ----------
    components_ : ndarray of shape (`n_components_`, n_features)
        Right singular vectors ``V_kᵀ``, with the sign of scikit-learn's PCA (the
        largest-magnitude entry of each row is positive).

    singular_values_ : ndarray of shape (`n_components_`,)
        The ``k`` largest singular values, descending.

    explained_energy_ratio_ : ndarray of shape (`n_components_`,)
        ``σᵢ² / ‖X‖²_F`` for each component: non-increasing by construction, and
        its cumulative sum is the fraction of ``‖X‖²_F`` kept. Zeros for an
        all-zero ``X``.

    n_components_ : int
        The rank kept.

    explained_variance_ : ndarray of shape (`n_components_`,)
        Variance (``ddof=0``) of the training data's projection on each
        component, as :class:`sklearn.decomposition.TruncatedSVD` reports it.
        Unlike ``explained_energy_ratio_`` it need not decrease: the data are
        not centred. In X's dtype, or in float64 where a variance of float32
        data leaves float32's range; a variance beyond float64's range (data
        near 1e±154 and past) is its IEEE rounding, ``inf`` or 0.

    explained_variance_ratio_ : ndarray of shape (`n_components_`,)
        ``explained_variance_`` over the summed variances of X's columns,
        formed before squaring: exact at any magnitude.

    %(solver_)s

    compression_ratio_ : float
        Numbers stored for the factors, ``k·(m + n + 1)``, over the ``m·n``
        entries of the training matrix. Below 1 means the factors are smaller.

    reconstruction_error_ : float
        ``‖X − U_k Σ_k V_kᵀ‖_F`` for the training matrix, from
        ``‖X‖²_F − Σᵢ≤ₖ σᵢ²`` (no second pass over the data). The subtraction
        leaves an absolute uncertainty of about ``√eps·‖X‖_F``.

    %(n_features_in_)s

    %(feature_names_in_)s

    See Also
    --------
    sklearn.decomposition.TruncatedSVD : scikit-learn's version, with a variance
        ratio that need not be monotone.
    sksvd.linalg.low_rank_approximation : The rank-k matrix in one call.

    Notes
    -----
    By the Eckart–Young–Mirsky theorem the training matrix's truncation is optimal:

    .. math::

        \\|X - U_k \\Sigma_k V_k^T\\|_2 = \\sigma_{k+1}, \\qquad
        \\|X - U_k \\Sigma_k V_k^T\\|_F^2 = \\sum_{i > k} \\sigma_i^2
            = \\|X\\|_F^2 - \\sum_{i \\le k} \\sigma_i^2 .

    ``fit_transform`` returns ``U_k Σ_k``, which equals ``X V_k`` to rounding for
    the backward-stable solvers (``"full"``, ``"qr"``); after the others it
    returns ``X V_k``, so that ``fit_transform`` and ``fit().transform`` agree.

    References
    ----------
    .. [1] C. Eckart and G. Young, "The approximation of one matrix by another of
       lower rank", Psychometrika 1(3), 1936. :doi:`10.1007/BF02288367`
    .. [2] N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with
       randomness", SIAM Review 53(2), 2011. :doi:`10.1137/090771806`

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd import TruncatedSVDCompressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3)) @ rng.standard_normal((3, 40))
    >>> compressor = TruncatedSVDCompressor(n_components=0.99).fit(X)
    >>> compressor.n_components_
    3
    >>> round(compressor.compression_ratio_, 3)
    0.106
    >>> bool(np.allclose(compressor.inverse_transform(compressor.transform(X)), X))
    True
    """

    _parameter_constraints: dict = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
        ],
        "solver": [StrOptions(set(SOLVERS))],
        "n_oversamples": [Interval(Integral, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        solver="auto",
        n_oversamples=10,
        n_iter="auto",
        random_state=None,
        tol=0.0,
    ):
        self.n_components = n_components
        self.solver = solver
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter
        self.random_state = random_state
        self.tol = tol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the leading singular triplets of X.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        %(row_weights)s

        Returns
        -------
        self : object
            The fitted compressor.
        """
        self._fit(X, sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit to X and return its coordinates ``U_k Σ_k``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        %(row_weights)s

        Returns
        -------
        X_new : ndarray of shape (n_samples, `n_components_`)
            Coordinates of X on the components (``X V_k``, unweighted, with
            weights); always dense.
        """
        return self._fit(X, sample_weight)

    def transform(self, X):
        """Project X onto the components: ``X V_k``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to project.

        Returns
        -------
        X_new : ndarray of shape (n_samples, `n_components_`)
            Coordinates of X on the components; always dense.
        """
        return self._project(self._validate_new(X))

    def inverse_transform(self, X):
        """Map coordinates back to the data space: ``Z V_kᵀ``.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_components_`)
            Coordinates, as returned by ``transform``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The rank-k reconstruction; always dense.
        """
        X, components = promoted(self._check_coordinates(X), self.components_)
        return X @ components

    def score(self, X, y=None):
        """Fraction of ``‖X‖²_F`` that the projection onto the components keeps.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            ``‖X V_k‖²_F / ‖X‖²_F``, between 0 and 1 (1 for an all-zero ``X``, of
            which nothing is lost). On the training data it is the sum of
            ``explained_energy_ratio_``.
        """
        X = self._validate_new(X, method="score")
        if is_dask_array(X):
            import dask

            norm, kept = (
                float(value)
                for value in dask.compute(
                    lazy_frobenius_norm(X), lazy_frobenius_norm(self._project(X))
                )
            )
        else:
            norm = frobenius_norm(X)
            kept = frobenius_norm(self._project(X)) if norm else 0.0
        if norm == 0.0:
            return 1.0
        return min(kept / norm, 1.0) ** 2

    def _project(self, X):
        if is_dask_array(X):
            return X @ self.components_.T.astype(X.dtype)
        X, components = promoted(X, self.components_)
        return safe_sparse_dot(X, components.T, dense_output=True)

    def _fit(self, X, sample_weight=None):
        """Validate X, run the engine once, store attributes; return the scores."""
        check_solver_input(self.solver, input_kind(X))
        X = self._validated(X)
        weights = row_weights(sample_weight, X)
        data = X
        if weights is not None and not np.all(weights > 0):
            # Rows of zero weight count for nothing, not even for the scales
            # and ranges the solvers read.
            keep = weights > 0
            data, weights = take_rows(X, keep), weights[keep]
        norm = self._norm(data, weights)
        if isinstance(self.n_components, Integral):
            check_rank(self.n_components, data.shape, self.solver)
            k, energy = self.n_components, None
        else:
            k, energy = None, self.n_components
        lazy_weights = weights
        if weights is not None and is_dask_array(data):
            import dask.array as da

            lazy_weights = da.from_array(weights, chunks=(data.chunks[0],))
        U, s, Vt = result = decompose(
            Operand(data, weights=lazy_weights),
            k,
            energy=energy,
            norm=norm,
            solver=self.solver,
            random_state=self.random_state,
            n_oversamples=self.n_oversamples,
            n_iter=self.n_iter,
            tol=self.tol,
        )
        self._store(result, norm, X.shape)
        # Array-API input: the attributes join X on its device.
        to_device_of(self, X)
        # U Σ equals X V only for backward-stable factors of unweighted data,
        # and for block Lanczos and block Krylov on tall X, whose U is built
        # from the products X v (wide X is factored as Xᵀ, where X v = σ u
        # holds only to the convergence test); otherwise the
        # scores are X V, so that fit_transform agrees with transform (with
        # weights, U Σ holds the rows of diag(√w) X V).
        if sample_weight is None:
            tall = X.shape[0] >= X.shape[1]
            stable = result.solver in BACKWARD_STABLE_SOLVERS or (
                result.solver in ("lanczos", "block_krylov") and tall
            )
            scores = times(U, s) if stable else self._project(X)
            self._store_variances(X, scores, None, s.dtype)
            to_device_of(self, X)
            return scores
        self._store_variances(data, self._project(data), lazy_weights, s.dtype)
        to_device_of(self, X)
        return self._project(X)

    def _store_variances(self, X, scores, weights, dtype):
        """``explained_variance_`` and its ratio with TruncatedSVD's meaning.

        The variance (``ddof=0``, weighted by the sample weights) of each column
        of the scores, and its fraction of the summed variances of X's columns,
        from column norms scaled against over- and underflow.
        """
        if is_dask_array(X):
            import dask

            moments = dask.compute(
                column_moments(scores, weights), column_moments(X, weights)
            )
            with np.errstate(invalid="ignore"):
                score_norms, x_norms = (np.sqrt(m[1]) for m in moments)
        else:
            score_norms = centred_column_norms(
                scores, column_mean(scores, weights), weights
            )
            x_norms = centred_column_norms(X, column_mean(X, weights), weights)
        count = X.shape[0] if weights is None else float(np.sum(weights))
        total = frobenius_norm(x_norms)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            variance = (score_norms / np.sqrt(count)) ** 2
            ratio = (score_norms / total) ** 2 if total > 0 else np.zeros_like(variance)
        self.explained_variance_ = in_dtype(variance, dtype)
        self.explained_variance_ratio_ = in_dtype(ratio, dtype)

    def _validated(self, X):
        """X validated (lazily for dask)."""
        if is_dask_array(X):
            return validate_dask(self, X, reset=True)
        return validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=float_dtypes(X)
        )

    def _norm(self, X, weights):
        """``‖diag(√w) X‖_F``, refused if it overflows."""
        if is_dask_array(X):
            if weights is not None:
                import dask.array as da

                root = da.from_array(np.sqrt(weights), chunks=(X.chunks[0],))
                X = X * root[:, np.newaxis]
            norm = float(lazy_frobenius_norm(X).compute())
            raise_if_not_finite(not np.isnan(norm))  # nan when X is not finite
        elif weights is None:
            norm = frobenius_norm(X)
        else:
            norm = frobenius_norm(
                centred_column_norms(X, np.zeros(X.shape[1]), weights)
            )
        if norm == np.inf:
            # Energy ratios are (σ/‖X‖_F)²: with ‖X‖_F beyond float64 they are lost.
            raise ValueError(
                "The Frobenius norm of X overflows float64 (its entries come within "
                "a factor √(n_samples·n_features) of the largest float64); divide X "
                "by a constant first."
            )
        return norm

    def _store(self, result, norm, shape):
        _, s, Vt = result
        k = s.size
        n_samples, n_features = shape
        self.components_ = Vt
        self.singular_values_ = s
        self.n_components_ = k
        self.solver_ = result.solver
        if norm == 0.0:
            self.explained_energy_ratio_ = np.zeros_like(s)
        else:
            # In float64: σ and ‖X‖_F of heavily weighted float32 data may lie
            # outside float32's range where their ratio does not.
            ratio = (s.astype(np.float64) / norm) ** 2
            self.explained_energy_ratio_ = ratio.astype(s.dtype)
        kept = float(np.sum((s.astype(np.float64) / norm) ** 2)) if norm else 0.0
        self.reconstruction_error_ = norm * float(np.sqrt(max(1.0 - kept, 0.0)))
        self.compression_ratio_ = (
            k * (n_samples + n_features + 1) / (n_samples * n_features)
        )
