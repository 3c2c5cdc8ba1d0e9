"""Minimum-norm least squares through the pseudo-inverse, and rank selection by CV."""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv

from sksvd._base import _LinearPredictMixin, host_weights, to_device_of, validate_data
from sksvd._compat import (
    Interval,
    StrOptions,
    _fit_context,
)
from sksvd._dask_input import is_dask_array, validate_dask
from sksvd._docstrings import fill_shared_docs
from sksvd.linalg._engine import (
    LSTSQ_SOLVERS,
    Operand,
    centred_product,
    column_mean,
    cut_off,
    default_rcond,
    explicit_columns,
    float_dtypes,
    least_squares,
    leave_one_out_predictions,
    move_attributes,
    namespace_of,
    numpy_dtype,
    raise_if_not_finite,
    solve_from_factors,
    sparse_centred_norms,
    take_rows,
    to_numpy,
)

_COMMON_CONSTRAINTS = {
    "fit_intercept": ["boolean"],
    "rcond": [Interval(Real, 0, None, closed="left"), None],
    "solver": [StrOptions(set(LSTSQ_SOLVERS))],
}


def _check_weight_sum(weights):
    # The largest rather than the sum: non-negative weights may sum past
    # float64's range.
    if not weights.max(initial=0.0) > 0:
        raise ValueError(
            "sample_weight sums to zero: at least one sample needs a positive weight."
        )


def _centre(X, Y, weights, fit_intercept):
    """Weighted means of X and Y (zeros without an intercept), in float64."""
    if not fit_intercept:
        return np.zeros(X.shape[1]), np.zeros(Y.shape[1])
    return column_mean(X, weights), column_mean(Y, weights)


def _as_targets(y):
    return np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)


def _targets_like(y, X):
    """y as a float64 (n_samples, n_targets) array beside X (on X's device)."""
    ns = namespace_of(X)
    if ns is None:
        return _as_targets(y)
    y = ns.asarray(to_numpy(y)) if namespace_of(y) != ns else y
    return ns.float64(ns.xp.reshape(y, (y.shape[0], -1)))


class _CentredProblem(NamedTuple):
    """The weighted, centred problem ``A β ≈ b``: its means, operand and target."""

    x_mean: np.ndarray
    y_mean: np.ndarray
    operand: Operand
    b: np.ndarray


def _centred_problem(X, Y, weights, fit_intercept):
    """Centre with the weighted means and weight the rows by √w, implicitly."""
    x_mean, y_mean = _centre(X, Y, weights, fit_intercept)
    ns = namespace_of(X)
    if ns is not None:
        # On X's device; the means and weights are NumPy vectors.
        b = (Y - ns.asarray(y_mean, Y.dtype)) * ns.asarray(np.sqrt(weights), Y.dtype)[
            :, None
        ]
        uniform = bool(np.all(weights == 1))
        operand = Operand(
            ns.float64(X), mean=x_mean, weights=None if uniform else weights
        )
        return _CentredProblem(x_mean, y_mean, operand, b)
    b = (Y - y_mean) * np.sqrt(weights)[:, np.newaxis]
    X64 = X.astype(np.float64) if sp.issparse(X) else np.asarray(X, np.float64)
    uniform = bool(np.all(weights == 1))
    operand = Operand(X64, mean=x_mean, weights=None if uniform else weights)
    return _CentredProblem(x_mean, y_mean, operand, b)


def _set_coefficients(estimator, coef, x_mean, y_mean, residues, one_target, dtype):
    """``coef_``, ``intercept_`` and the residual sum of squares, shaped for y."""
    intercept = y_mean - x_mean @ coef
    largest = float(np.finfo(dtype).max)
    # Not finite or beyond the dtype: the solution overflowed on the way.
    if not (np.all(np.abs(coef) <= largest) and np.all(np.abs(intercept) <= largest)):
        raise ValueError(
            f"The coefficients exceed the range of {np.dtype(dtype).name} (X's "
            "dtype, which they are returned in); pass X as float64, or divide y by "
            "a constant first."
        )
    estimator.coef_ = (coef.ravel() if one_target else coef.T).astype(dtype)
    if one_target:
        estimator.intercept_ = float(intercept[0])
        estimator.residual_sum_of_squares_ = float(residues[0])
    else:
        estimator.intercept_ = intercept.astype(dtype)
        estimator.residual_sum_of_squares_ = residues


def _store_solution(estimator, solution, x_mean, y_mean, one_target, dtype):
    """The fitted attributes of a least-squares solution from the engine."""
    estimator.rank_, estimator.cutoff_ = solution.rank, solution.cutoff
    estimator.singular_values_ = solution.s
    estimator.solver_ = solution.solver
    _set_coefficients(
        estimator, solution.x, x_mean, y_mean, solution.residues, one_target, dtype
    )


@fill_shared_docs
class MinNormLeastSquares(_LinearPredictMixin, RegressorMixin, BaseEstimator):
    """Linear regression by the minimum-norm least-squares solution ``x⁺ = A⁺b``.

    The coefficients are those of least Euclidean norm among all that minimise the
    (weighted) residual sum of squares, computed from the SVD of the (centred)
    design matrix with singular values below a cut-off treated as zero. On
    rank-deficient or collinear data this gives the stable, unique answer that
    ``LinearRegression`` returns only implicitly; ``max_rank`` truncates further,
    which regularises like principal component regression.

    Parameters
    ----------
    %(fit_intercept)s

    %(rcond)s

    max_rank : int, default=None
        Keep at most this many singular values.

    %(lstsq_solver)s

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the dtype of X.

    intercept_ : float or ndarray of shape (n_targets,)
        Intercept; 0 when ``fit_intercept=False``.

    rank_ : int or None
        Number of singular values kept; None when LSMR solved the problem
        (sparse X without a truncating ``max_rank``).

    singular_values_ : ndarray of shape (min(n_samples, n_features),) or None
        All singular values of the centred, weighted design (only the
        ``max_rank`` computed ones for sparse X by ARPACK); None after LSMR.
        To ``eps·σ₁`` like LAPACK's, except after the refined normal equations
        (``solver_ == "gram"`` at full rank on tall data), where they come from
        the Gram matrix: each within a relative error of about
        ``2·eps·(1 + log₂ B)·c·(σ₁/σ_min)²`` (``B`` blocks of 2¹⁴ rows;
        ``c = 2(1 + maxⱼ n·μⱼ²/Cⱼⱼ) ≤ 202`` when the means ``μ`` were
        subtracted in the Gram matrix rather than from the data, where ``Cⱼⱼ``
        is a feature's centred sum of squares; else 1), at most 1e-2;
        ``solver="qr"`` computes them to ``eps·σ₁``.

    cutoff_ : float or None
        The absolute threshold ``rcond·σ₁`` used; None after LSMR (and for
        ``max_rank=0`` on sparse X, where no singular value is computed).

    residual_sum_of_squares_ : float or ndarray of shape (n_targets,)
        Weighted residual sum of squares on the training data, from the SVD as
        ``‖b‖² − Σᵢ≤ᵣ (uᵢᵀb)²`` (no second pass over X), or directly where that
        difference would cancel or the route gives it (gelsd, LSMR).

    %(solver_)s One of ``"gram"``, ``"gelsd"``, ``"qr"``, ``"full"``,
        ``"lsmr"``, ``"arpack"``, ``"dask"``.

    %(n_features_in_)s

    %(feature_names_in_)s

    See Also
    --------
    MinNormLeastSquaresCV : Chooses ``max_rank`` by cross-validation.
    sklearn.linear_model.LinearRegression : Least squares by LAPACK ``gelsd``.
    sksvd.linalg.lstsq : The same solution as a function.

    Notes
    -----
    With sample weights ``wᵢ``, the weighted means ``x̄``, ``ȳ`` and the centred,
    weighted design ``A = diag(√w)(X − 1x̄ᵀ) = U Σ Vᵀ`` and target
    ``b = diag(√w)(y − 1ȳ)``, the coefficients and intercept are

    .. math::

        \\beta = \\sum_{i \\le r} \\frac{u_i^T b}{\\sigma_i} v_i, \\qquad
        \\beta_0 = \\bar y - \\bar x^T \\beta .

    For sparse X the same minimum-norm solution is reached by LSMR (Fong and
    Saunders) on the implicitly centred, weighted design (scaled to unit size),
    started from zero, with tolerances ``atol = btol = eps·1e2`` and no
    condition-number limit; the SVD attributes are then None (``rcond`` does not
    apply and is refused if given), and a ``ConvergenceWarning`` says when LSMR
    stops without converging. With ``max_rank`` below
    ``min(n_samples, n_features)`` the leading singular triplets of that
    implicit design come from ARPACK instead, and the truncated solution follows
    the dense formula (with ``singular_values_`` holding only those computed).

    References
    ----------
    .. [1] G. H. Golub and C. F. Van Loan, *Matrix Computations*, 4th ed., Johns
       Hopkins, 2013, section 5.5.
    .. [2] D. C.-L. Fong and M. A. Saunders, "LSMR: an iterative algorithm for
       sparse least-squares problems", SIAM J. Sci. Comput. 33(5), 2011.
       :doi:`10.1137/10079687X`

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd import MinNormLeastSquares
    >>> X = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])  # collinear columns
    >>> y = np.array([2.0, 4.0, 6.0])
    >>> model = MinNormLeastSquares().fit(X, y)
    >>> model.coef_, model.rank_  # the weight is shared equally
    (array([1., 1.]), 1)
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "max_rank": [Interval(Integral, 0, None, closed="left"), None],
    }
    _sparse_formats = ["csr", "csc"]

    # The fit runs on an array-API array's own device.
    _array_api = True

    def __init__(self, *, fit_intercept=True, rcond=None, max_rank=None, solver="auto"):
        self.fit_intercept = fit_intercept
        self.rcond = rcond
        self.max_rank = max_rank
        self.solver = solver

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the minimum-norm least-squares coefficients.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the weighted sum of squared residuals is
            minimised.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if is_dask_array(X):
            X, y, problem = self._dask_problem(X, y, sample_weight)
        else:
            X, y = validate_data(
                self,
                X,
                y,
                accept_sparse=self._sparse_formats,
                dtype=float_dtypes(X),
                multi_output=True,
                y_numeric=True,
            )
            weights = host_weights(sample_weight, X)
            _check_weight_sum(weights)
            problem = _centred_problem(
                X, _targets_like(y, X), weights, self.fit_intercept
            )
        dtype = numpy_dtype(X.dtype)
        solution = least_squares(
            problem.operand,
            problem.b,
            rcond=self.rcond,
            dtype=dtype,
            max_rank=self.max_rank,
            solver=self.solver,
        )
        one_target = y.ndim == 1
        _store_solution(
            self, solution, problem.x_mean, problem.y_mean, one_target, dtype
        )
        # Array-API input: the attributes join X on its device.
        to_device_of(self, X)
        return self

    def _dask_problem(self, X, y, sample_weight):
        """Validate dask X (and y, weights) lazily; the centred problem, lazily.

        The means are computed here (one pass): NaN or infinity makes a mean
        non-finite, which is refused before the SVD pass, whose products would
        otherwise warn from the worker threads.
        """
        import dask
        import dask.array as da

        X = validate_dask(self, X, reset=True, y=y)
        if len(X.chunks[1]) > 1:
            raise ValueError(
                f"X has {X.shape[1]} columns in {len(X.chunks[1])} chunks; the "
                "TSQR least-squares solver needs the columns in one chunk: pass "
                "X.rechunk({1: -1})."
            )
        if not is_dask_array(y):
            y = np.asarray(y)
            y = da.from_array(y, chunks=(X.chunks[0],) + tuple(y.shape[1:]))
        if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, n_targets) to "
                f"match X; got {y.shape}."
            )
        Y = y.astype(np.float64).reshape(y.shape[0], -1).rechunk({0: X.chunks[0]})
        X64 = X.astype(np.float64)
        if sample_weight is None:
            weights = da.ones(X.shape[0], chunks=X.chunks[0])
        else:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != (X.shape[0],) or np.any(weights < 0):
                raise ValueError(
                    f"sample_weight must be non-negative with shape ({X.shape[0]},)."
                )
            _check_weight_sum(weights)
            weights = da.from_array(weights, chunks=X.chunks[0])
        total = weights.sum()
        if self.fit_intercept:
            x_mean = (X64 * weights[:, None]).sum(axis=0) / total
            y_mean = (Y * weights[:, None]).sum(axis=0) / total
        else:
            x_mean = da.zeros(X.shape[1])
            y_mean = da.zeros(Y.shape[1])
        x_mean, y_mean = dask.compute(x_mean, y_mean)
        raise_if_not_finite(
            np.isfinite(x_mean).all() and np.isfinite(y_mean).all(), "X or y"
        )
        b = (Y - y_mean) * da.sqrt(weights)[:, None]
        operand = Operand(X64, mean=x_mean, weights=weights)
        return X, y, _CentredProblem(x_mean, y_mean, operand, b)


class _FixedPredictions(RegressorMixin, BaseEstimator):
    """Stands in for a model so a scorer can score given predictions."""

    def predict(self, predictions):
        return predictions


@fill_shared_docs
class MinNormLeastSquaresCV(_LinearPredictMixin, RegressorMixin, BaseEstimator):
    """Minimum-norm least squares with the rank chosen by cross-validation.

    Every candidate rank is scored without refitting once per rank: with
    ``cv=None`` by exact leave-one-out (each sample left out, the centring and
    the singular basis recomputed, see Notes) from one SVD of all the data,
    otherwise by one SVD per fold that predicts the held-out samples at every
    rank at once. The SVD of all the data that gives the candidate ranks also
    gives the final model at the best rank.

    Parameters
    ----------
    max_ranks : array-like of int, default=None
        Candidate ranks (``max_rank`` of :class:`MinNormLeastSquares`). None tries
        ``1 … r``, with ``r`` the numerical rank of the centred training data.

    cv : int, cross-validation generator or iterable, default=None
        None: exact leave-one-out from a single SVD. Otherwise anything
        :func:`sklearn.model_selection.check_cv` accepts; each fold is refitted.

    scoring : str or callable, default=None
        A scikit-learn scorer (greater is better) applied to the held-out
        predictions, with the held-out sample weights; None is the negative
        (weighted) mean squared error, averaged over targets.

    %(fit_intercept)s

    %(rcond)s

    %(lstsq_solver)s

    Attributes
    ----------
    best_rank_ : int
        The candidate rank with the best mean score (the smallest, on ties).

    best_score_ : float
        Its mean score.

    cv_results_ : dict of ndarray
        One entry per candidate: ``rank``, ``params`` (``{"max_rank": k}``, as
        in ``GridSearchCV``), ``mean_test_score`` and ``std_test_score``, with
        ``split{i}_test_score`` for a ``cv``. Under leave-one-out with the
        default scoring, the mean and standard deviation are those of the
        samples' negative squared errors (weighted by ``sample_weight``);
        with another scorer, which scores all the left-out predictions together,
        there is no standard deviation and the key is absent.
        ``pandas.DataFrame`` reads it directly.

    coef_, intercept_, rank_, singular_values_, cutoff_, residual_sum_of_squares_
        Those of the model refitted with ``max_rank=best_rank_``.

    %(solver_)s One of ``"gram"``, ``"qr"``, ``"full"`` (one SVD of all
        the data, for the candidate ranks and the refit, whatever ``cv``), or
        ``"arpack"`` for sparse X with ``cv`` and candidate ranks below
        ``min(n_samples, n_features)``.

    %(n_features_in_)s

    %(feature_names_in_)s

    See Also
    --------
    MinNormLeastSquares : The estimator refitted at the best rank.
    sklearn.linear_model.RidgeCV : The same leave-one-out idea for ridge.

    Notes
    -----
    **Exact leave-one-out.** Leaving sample ``i`` out and re-centring changes the
    weighted scatter matrix of the design by a rank-one downdate,
    ``S₋ᵢ = S − ρᵢ aᵢaᵢᵀ`` with ``aᵢ = xᵢ − x̄`` and ``ρᵢ = wᵢW/(W − wᵢ)``
    (``wᵢ`` without an intercept; ``W = Σ w``). In the basis of the right
    singular vectors ``V`` of the whole design this is the eigenproblem of
    ``diag(σ²) − ρᵢzᵢzᵢᵀ`` with ``zᵢ = Vᵀaᵢ``, whose eigenvalues are the roots
    of the secular equation

    .. math::

        1 - \\rho_i \\sum_k \\frac{z_{ik}^2}{\\sigma_k^2 - \\lambda} = 0 .

    The refit's rank-``k`` prediction at ``xᵢ`` follows from the ``k`` leading
    roots and eigenvectors ``∝ (diag(σ²) − λ)⁻¹zᵢ``, at ``O(k·r)`` cost per sample
    instead of a refit: most roots by power series whose coefficients are
    BLAS-3 matrix products, the others by a safeguarded secular iteration, with
    repeated singular values merged first (deflation). The coordinates ``zᵢ``
    come from the left singular vectors, ``zᵢ = σ ⊙ Uᵢ/√wᵢ``, each to its own
    relative accuracy. The refit's cut-off (``rcond`` for ``n − 1`` samples)
    applies, so a sample whose removal lowers the rank is predicted by the
    lower-rank refit, as a refit would; a sample of leverage within ``1e-4`` of
    1 (but not 1), where the downdate would cancel, is refitted directly, and
    a sample of zero weight is predicted by the whole fit. The scores match
    brute-force refits to rounding (1e-13 relative in the tests, up to the
    refits' own ``eps·κ``); a refit's singular value within rounding of zero
    (``λ`` below its own error bound, ``16·r·eps·Σ|ζ²/(d − λ)|/Σζ²/(d − λ)²``)
    counts as zero. Cost, measured on 20000 × 100 Gaussian data (2 cores):
    0.5 s for ranks 1 … 25 and 1.5 s for 25 ranks up to 100, against 0.2 s for
    ``cv=5`` and about 50 minutes for 20000 refits (0.16 s each, by QR).

    The hat-matrix shortcut ``rᵢ/(1 − hᵢᵢ)`` that ``RidgeCV`` uses holds the
    singular basis fixed: exact for ridge, not for a truncation, whose basis
    moves with the data. On 40 × 60 data it was off by up to 247× at high ranks
    and chose another rank in 3 of 8 trials; it is not used here.

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd import MinNormLeastSquaresCV
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.standard_normal((200, 2))
    >>> noise = 0.01 * rng.standard_normal((200, 10))
    >>> X = latent @ rng.standard_normal((2, 10)) + noise
    >>> y = latent @ [1.0, -1.0] + 0.1 * rng.standard_normal(200)
    >>> MinNormLeastSquaresCV().fit(X, y).best_rank_
    2
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "max_ranks": ["array-like", None],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
    }
    # Array-API input is cross-validated on the host (see fit); the fitted
    # model and its predictions live on X's device.
    _array_api = True
    _sparse_formats = ["csr", "csc"]

    def __init__(
        self,
        max_ranks=None,
        *,
        cv=None,
        scoring=None,
        fit_intercept=True,
        rcond=None,
        solver="auto",
    ):
        self.max_ranks = max_ranks
        self.cv = cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.rcond = rcond
        self.solver = solver

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Score every candidate rank, then refit with the best.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights: each fit minimises the weighted residual sum of
            squares (as :class:`MinNormLeastSquares`), and the held-out scores
            are weighted by them.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if is_dask_array(X):
            raise TypeError(
                "MinNormLeastSquaresCV does not take dask arrays; cross-validate on "
                "a sample that fits in memory, then fit MinNormLeastSquares("
                "max_rank=best_rank_) on the dask array."
            )
        ns = namespace_of(X)
        if ns is not None and self.cv is None:
            # Exact leave-one-out solves secular equations per sample in NumPy
            # code: it runs on a host copy, and the fitted model joins X on its
            # device. k-fold (below) factors each fold on the device.
            X, y, sample_weight = ns.numpy(X), to_numpy(y), to_numpy(sample_weight)
            with config_context(array_api_dispatch=False):
                self.fit(X, y, sample_weight)
            move_attributes(self, ns)
            return self
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=self._sparse_formats,
            dtype=float_dtypes(X),
            multi_output=True,
            y_numeric=True,
        )
        if X.shape[0] < 3:
            raise ValueError(
                "MinNormLeastSquaresCV needs at least 3 samples to cross-validate; "
                f"got n_samples={X.shape[0]}."
            )
        weights = host_weights(sample_weight, X)
        _check_weight_sum(weights)
        Y = _targets_like(y, X)
        dtype = numpy_dtype(X.dtype)
        # Held-out targets are scored on the host (array-API y comes there).
        y_host = to_numpy(y)
        # One SVD of all the data gives the candidate ranks, the leave-one-out
        # scores and the refitted model.
        problem = _centred_problem(X, Y, weights, self.fit_intercept)
        rcond = default_rcond(X.shape, dtype) if self.rcond is None else self.rcond
        truncate = self._truncation(X)
        # Leave-one-out reads the left singular vectors (each sample's
        # coordinates, to their own relative accuracy); k-fold does not.
        need = "u" if self.cv is None else "factors"
        factors = self._factors(problem, rcond, truncate, need)
        numerical_rank, _ = cut_off(factors.s, rcond, None)
        ranks = self._candidate_ranks(X.shape, numerical_rank)
        if self.cv is None:
            scores, spread = self._leave_one_out_scores(
                X, y, Y, weights, problem, factors, ranks, numerical_rank
            )
            self._store_results(ranks, scores[np.newaxis], spread)
        else:
            cv = check_cv(self.cv, y_host, classifier=False)
            # The splitter sees the host targets and the number of rows.
            rows = X if ns is None else np.empty((X.shape[0], 0))
            scores = np.array(
                [
                    self._fold_scores(
                        X, Y, y_host, weights, train, test, ranks, truncate
                    )
                    for train, test in cv.split(rows, y_host)
                ]
            )
            self._store_results(ranks, scores, None)
        rank, cutoff = cut_off(factors.s, rcond, self.best_rank_)
        coef, residues = solve_from_factors(factors, problem.b, rank)
        self.rank_, self.cutoff_, self.singular_values_ = rank, cutoff, factors.s
        _set_coefficients(
            self, coef, problem.x_mean, problem.y_mean, residues, y.ndim == 1, dtype
        )
        # Array-API input: the fitted model joins X on its device.
        to_device_of(self, X)
        return self

    def _truncation(self, X):
        """The largest candidate rank where sparse folds can use ARPACK, or None.

        Sparse X with a ``cv`` and candidate ranks all below ``min(n, p)`` is
        factorised for that many triplets only; otherwise every singular value is
        needed (leave-one-out and the default candidates) and the centred design
        is made dense.
        """
        if not sp.issparse(X) or self.cv is None or self.max_ranks is None:
            return None
        largest = int(np.max(np.asarray(self.max_ranks)))
        return largest if largest < min(X.shape) - 1 else None

    def _store_results(self, ranks, scores, spread):
        """``cv_results_``, ``best_rank_`` and ``best_score_`` from the scores."""
        with np.errstate(over="ignore"):
            mean = scores.mean(axis=0)
        self.cv_results_ = {
            "rank": ranks,
            "params": [{"max_rank": int(rank)} for rank in ranks],
            "mean_test_score": mean,
        }
        if spread is not None:
            self.cv_results_["std_test_score"] = spread
        elif self.cv is not None:
            # Divided by the largest first: the squares of scores near float64's
            # limit would overflow.
            size = np.max(np.abs(scores), axis=0, initial=0.0)
            size = np.where((size > 0) & np.isfinite(size), size, 1.0)
            with np.errstate(over="ignore", invalid="ignore"):
                spread = (scores / size).std(axis=0) * size
            self.cv_results_["std_test_score"] = spread
            for split, split_scores in enumerate(scores):
                self.cv_results_[f"split{split}_test_score"] = split_scores
        best = int(np.argmax(mean))
        self.best_rank_ = int(ranks[best])
        self.best_score_ = float(mean[best])

    def _factors(self, problem, rcond, max_rank, need):
        """One factorisation of the centred problem, by the engine's policy."""
        solution = least_squares(
            problem.operand,
            problem.b,
            rcond=rcond,
            solver=self.solver,
            max_rank=max_rank,
            need=need,
        )
        self.solver_ = solution.solver
        return solution.factors

    def _candidate_ranks(self, shape, numerical_rank):
        largest = min(shape)
        if self.max_ranks is None:
            # Rank 0 (no direction kept) is the only candidate when the cut-off
            # keeps no singular value.
            return (
                np.arange(1, numerical_rank + 1) if numerical_rank else np.zeros(1, int)
            )
        given = np.asarray(self.max_ranks)
        ranks = np.unique(given)
        if (
            ranks.size == 0
            or given.ndim != 1
            or not np.issubdtype(ranks.dtype, np.integer)
        ):
            raise ValueError(
                "max_ranks must be a non-empty list of integers; got "
                f"{self.max_ranks!r}."
            )
        if ranks[0] < 1 or ranks[-1] > largest:
            raise ValueError(
                f"max_ranks must lie between 1 and min(n_samples, n_features)="
                f"{largest}; got {self.max_ranks!r}."
            )
        return ranks

    def _scorer(self):
        if self.scoring is None:
            return None
        return check_scoring(_FixedPredictions(), scoring=self.scoring)

    def _score(self, scorer, y_true, y_pred, weights):
        if scorer is None:
            if not np.sum(weights) > 0:
                raise ValueError(
                    "A test fold has sample weights that sum to zero, so it has "
                    "no score; use folds that each hold a positively weighted "
                    "sample."
                )
            return float(_negative_squared_errors(y_true, y_pred, weights)[0])
        return float(scorer(_FixedPredictions(), y_pred, y_true, sample_weight=weights))

    def _leave_one_out_scores(
        self, X, y, Y, weights, problem, factors, ranks, numerical_rank
    ):
        """Exact leave-one-out scores at every rank, and their spread (or None).

        Each sample's refit is a rank-one downdate of the whole fit (see
        :func:`~sksvd.linalg._loo.leave_one_out_predictions`), except for:

        - samples of zero weight, whose refit is the whole fit;
        - samples of leverage within ``1e-4`` of 1 (but not at 1 to rounding,
          where leaving them out lowers the rank, which the downdate handles):
          the downdate of their direction cancels to about ``eps/(1 − h)``, so
          they are refitted directly.
        """
        # The scores do not depend on the weights' scale: divided by the
        # largest, no sum overflows.
        unit = weights / weights.max()
        total = float(unit.sum())
        left_out = total - unit
        if np.any((unit > 0) & (left_out <= 0)):
            raise ValueError(
                "Leave-one-out needs at least two samples with a positive "
                "sample_weight: leaving out the only one leaves nothing to fit."
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(unit > 0, unit / left_out, 0.0)
        if not self.fit_intercept:
            share = np.zeros_like(share)
        gamma = 1.0 + share  # ρᵢ/wᵢ, and the centred row's growth
        b = Y - problem.y_mean  # the centred, unweighted targets
        n_samples = X.shape[0]
        # The refits' cut-off: that of n − 1 samples.
        shape = (n_samples - 1, X.shape[1])
        rcond = default_rcond(shape, X.dtype) if self.rcond is None else self.rcond
        clipped = np.minimum(ranks, numerical_rank)
        s, U = factors.s, factors.U
        positive = int(np.count_nonzero(s > 0))
        # Leverages of the weighted fit: Σₖ Uᵢₖ² (+ wᵢ/W for the intercept).
        leverage = np.einsum("ij,ij->i", U[:, :positive], U[:, :positive])
        if self.fit_intercept:
            leverage = leverage + unit / total
        lost = 1.0 - leverage <= 64 * max(positive, 1) * _EPS
        refit = (unit > 0) & ~lost & (1.0 - leverage < _LEVERAGE_REFIT)
        downdate = (unit > 0) & ~refit
        centred = np.zeros((n_samples, len(ranks), b.shape[1]))
        kept = clipped > 0
        if np.any(downdate) and np.any(kept):
            rows = np.flatnonzero(downdate)
            # ζᵢ = √(ρᵢ/wᵢ)·σ ⊙ Uᵢ and √ρᵢ, in the weights' own units.
            zeta = np.sqrt(gamma[rows])[:, None] * (s[:positive] * U[rows, :positive])
            # Square roots apart: a subnormal weight times γ loses its bits.
            root_rho = np.sqrt(weights[rows]) * np.sqrt(gamma[rows])
            centred[rows[:, None], np.flatnonzero(kept)] = leave_one_out_predictions(
                s[:positive],
                zeta,
                factors.P[:positive],
                b[rows],
                root_rho,
                clipped[kept],
                rcond,
            )
        predictions = np.empty_like(centred)
        predictions[:] = problem.y_mean
        if self.fit_intercept:
            # The left-out fit's mean of y is ȳ − wᵢbᵢ/(W − wᵢ), and its centred
            # row of the sample (1 + wᵢ/(W − wᵢ))·aᵢ.
            predictions -= (share[:, None] * b)[:, None, :]
        predictions += gamma[:, None, None] * centred
        unweighted = np.flatnonzero(unit == 0)
        if unweighted.size:
            # Their refit is the whole fit, at the refits' cut-off.
            predictions[unweighted] = _predictions_at_ranks(
                X[unweighted], problem, factors, rcond, ranks
            )
        everything = np.arange(n_samples)
        for i in np.flatnonzero(refit):
            predictions[i] = self._held_out_predictions(
                X, Y, weights, everything != i, [i], ranks, None
            )[0]
        return self._scores_of(y, predictions, weights)

    def _scores_of(self, y, predictions, weights):
        """Mean scores of the left-out predictions, and their spread (or None)."""
        scorer = self._scorer()
        n_ranks = predictions.shape[1]
        if scorer is not None:
            scores = np.empty(n_ranks)
            for position in range(n_ranks):
                prediction = predictions[:, position]
                if y.ndim == 1:
                    prediction = prediction.ravel()
                scores[position] = self._score(scorer, y, prediction, weights)
            return scores, None
        scores, spread = np.empty(n_ranks), np.empty(n_ranks)
        for position in range(n_ranks):
            prediction = predictions[:, position]
            if y.ndim == 1:
                prediction = prediction.ravel()
            scores[position], spread[position] = _negative_squared_errors(
                y, prediction, weights
            )
        return scores, spread

    def _held_out_predictions(self, X, Y, weights, train, test, ranks, truncate):
        """Predictions at every rank of the samples ``test``, fitted on ``train``.

        For array-API X the fold is factored on X's device; the predictions
        (n_test × ranks × n_targets) come back to the host for scoring.
        """
        train_weights = weights[train]
        if not train_weights.sum() > 0:
            raise ValueError(
                "A training fold has sample weights that sum to zero; use folds "
                "that each hold some positively weighted samples."
            )
        problem = _centred_problem(
            take_rows(X, train), take_rows(Y, train), train_weights, self.fit_intercept
        )
        shape = (problem.b.shape[0], X.shape[1])
        dtype = numpy_dtype(X.dtype)
        rcond = default_rcond(shape, dtype) if self.rcond is None else self.rcond
        solution = least_squares(
            problem.operand,
            problem.b,
            rcond=rcond,
            solver=self.solver,
            max_rank=truncate,
            need="factors",
        )
        return _predictions_at_ranks(
            take_rows(X, test), problem, solution.factors, rcond, ranks
        )

    def _fold_scores(self, X, Y, y, weights, train, test, ranks, truncate):
        """Scores at every rank of one fold; ``y`` is the host copy of the targets."""
        predictions = self._held_out_predictions(
            X, Y, weights, train, test, ranks, truncate
        )
        scorer = self._scorer()
        scores = np.empty(len(ranks))
        for position in range(len(ranks)):
            prediction = predictions[:, position]
            scores[position] = self._score(
                scorer,
                y[test],
                prediction.ravel() if y.ndim == 1 else prediction,
                weights[test],
            )
        return scores


_EPS = float(np.finfo(np.float64).eps)
# Leverages this close to 1 are refitted rather than downdated (see
# MinNormLeastSquaresCV._leave_one_out_scores).
_LEVERAGE_REFIT = 1e-4


def _predictions_at_ranks(X, problem, factors, rcond, ranks):
    """``ȳ + (x − x̄)ᵀβ(k)`` for each row of X and each rank, from one SVD."""
    s, Vt, P = factors.s, factors.Vt, factors.P
    r, _ = cut_off(s, rcond, None)
    # Coordinates of the coefficients and of the samples on each right
    # singular vector: the prediction at rank k sums the first k terms.
    coefficients = P[:r] / s[:r, np.newaxis]
    explicit = None
    if sp.issparse(X):
        # Columns with a large mean are centred explicitly: X·W − μ·W cancels.
        norms = sparse_centred_norms(X, problem.x_mean)
        explicit = explicit_columns(problem.x_mean, norms, X.shape[0])
    coordinates = to_numpy(centred_product(X, problem.x_mean, Vt[:r].T, explicit))
    cumulative = np.cumsum(coordinates[:, :, np.newaxis] * coefficients, axis=1)
    out = np.empty((X.shape[0], len(ranks), P.shape[1]))
    for position, rank in enumerate(ranks):
        k = min(int(rank), r)
        out[:, position] = problem.y_mean + (cumulative[:, k - 1] if k > 0 else 0.0)
    return out


def _negative_squared_errors(y_true, y_pred, weights):
    """The weighted mean of −(mean squared error over targets), and its spread.

    Errors are divided by the largest before squaring, so neither overflows
    where the result is representable (and is ±inf, without a warning, where
    it is not).
    """
    errors = _as_targets(np.asarray(y_true, dtype=np.float64) - y_pred)
    size = float(np.max(np.abs(errors), initial=0.0))
    if size == 0.0 or not np.isfinite(size):
        size = 1.0
    squares = np.mean((errors / size) ** 2, axis=1)
    unit = weights / weights.max()
    mean = np.average(squares, weights=unit)
    spread = np.sqrt(np.average((squares - mean) ** 2, weights=unit))
    with np.errstate(over="ignore"):
        return -size * (size * mean), size * (size * spread)
