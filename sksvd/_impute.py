"""SVDImputer: missing entries filled from a low-rank model of the observed ones."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from sksvd._compat import Interval, StrOptions, _fit_context
from sksvd._dask_input import is_dask_array
from sksvd.linalg._engine import SOLVERS, complete_low_rank, impute_rows, refuse

_RANKS_BY_DEFAULT = 10
_SHRINKAGES_BY_DEFAULT = 10
_CV_MAX_ITER = 100


def _missing_mask(X, missing_values):
    if _is_nan(missing_values):
        return np.isnan(X)
    return X == missing_values


class SVDImputer(TransformerMixin, BaseEstimator):
    """Impute missing values from a low-rank model of the observed entries.

    The missing entries are filled by the EM iteration of a low-rank model with
    a free mean (and optionally scale) per column, as R's missMDA
    ``imputePCA``: fill, centre, take the leading singular triplets, replace the
    missing entries by the low-rank reconstruction, repeat until the fill stops
    moving. ``method="hard"`` keeps ``rank`` components; ``method="soft"``
    soft-thresholds every singular value by ``shrinkage`` (softImpute). The rank
    or the shrinkage is given, or chosen by cross-validation on held-out
    observed entries.

    Parameters
    ----------
    rank : int or "cv", default="cv"
        Components of the model (``method="hard"``); 0 fills with the column
        means. ``"cv"`` tries ``ranks`` and keeps the smallest within one
        standard error of the best score (the one-standard-error rule). With
        ``method="soft"``, an int caps the rank and ``"cv"`` means no cap.

    method : {"hard", "soft"}, default="hard"

    shrinkage : float or "cv", default="cv"
        The soft threshold ``λ`` on the singular values of the centred (scaled)
        data (``method="soft"`` only; ignored otherwise). ``"cv"`` tries a
        geometric grid from ``σ₁`` down to ``σ₁/1000``, with warm starts along
        the path, where ``σ₁`` is the largest singular value of the centred
        (scaled) data after one rank-one step from the mean fill.

    ranks : array-like of int, default=None
        Candidate ranks for ``rank="cv"``; None tries 0 to
        ``min(10, min(n_samples, n_features) − 1)``, warm-starting each from
        the last.

    cv : int, default=5
        Folds of the observed entries held out for ``"cv"``: each fold is
        hidden, imputed at every candidate and scored by the root mean squared
        error on it.

    scale : bool, default=False
        Model the columns divided by their standard deviation (re-estimated at
        each step), as missMDA's ``scale=TRUE``: for features in different
        units.

    max_iter : int, default=1000
        Steps of the iteration (as missMDA's ``maxiter``): with much missing
        information EM converges slowly (hundreds of steps on narrow data). A
        ``ConvergenceWarning`` says when the final fit stops here; the
        candidates of a cross-validation take at most 100 steps each, enough
        to rank them.

    tol : float, default=1e-5
        Stop when the fill moves by at most ``tol`` times the Frobenius norm of
        the centred data.

    missing_values : float or int, default=np.nan
        The placeholder for a missing value.

    solver : str, default="auto"
        The engine's SVD solver at each step (see
        :func:`sksvd.linalg.choose_solver`).

    random_state : int, RandomState instance or None, default=None
        Seeds the folds of the cross-validation and the randomized and Krylov
        solvers.

    Attributes
    ----------
    rank_ : int
        Components kept (non-zero singular values after thresholding).

    shrinkage_ : float or None
        The threshold used (``method="soft"``).

    components_ : ndarray of shape (`rank_`, n_features)
        Right singular vectors of the completed, centred (scaled) data.

    singular_values_ : ndarray of shape (`rank_`,)
        The matching singular values (after thresholding).

    mean_ : ndarray of shape (n_features,)
        Column means of the completed data.

    scale_ : ndarray of shape (n_features,)
        Column divisors: ones, or the standard deviations with ``scale=True``.

    noise_variance_ : float
        Variance per entry that the kept components leave, in the centred
        (scaled) units: ``(‖Z‖²_F − Σ σᵢ²)/(n·p)`` on the completed data.

    n_iter_ : int
        Steps of the final fit.

    cv_results_ : dict of ndarray
        With ``"cv"``: ``rank`` (or ``shrinkage``), ``params``,
        ``mean_test_score`` (negative RMSE on held-out entries),
        ``std_test_score`` and ``split{i}_test_score``.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.impute.IterativeImputer : One regression per feature, in rounds.
    sklearn.impute.KNNImputer : Means of the nearest complete neighbours.
    sksvd.PCAViaSVD : ``missing="em"`` fits PCA to incomplete data the same way.

    Notes
    -----
    ``transform`` imputes new rows without refitting: each row's coordinates
    on the components are the posterior mean of probabilistic PCA given its
    observed entries, ridge regression with penalty ``σ²/λⱼ``
    (``noise_variance_`` over each component's variance ``sⱼ²/n``), and its
    missing entries are read off the reconstruction. The penalty keeps a
    component that the observed entries barely see (a small one, or a rank
    chosen too high) from amplifying their noise; for a well-determined row it
    is least squares to within ``σ²/λⱼ``.
    ``fit_transform`` returns the iteration's own fill of the training data.

    A column with no observed entry has nothing to model and is refused with a
    ValueError. The input is never modified.

    References
    ----------
    .. [1] J. Josse and F. Husson, "Handling missing values in exploratory
       multivariate data analysis methods", J. SFdS 153(2), 2012.
    .. [2] R. Mazumder, T. Hastie and R. Tibshirani, "Spectral regularization
       algorithms for learning large incomplete matrices", JMLR 11, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd import SVDImputer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3)) @ rng.standard_normal((3, 20))
    >>> X_missing = X.copy()
    >>> X_missing[rng.random(X.shape) < 0.2] = np.nan
    >>> imputer = SVDImputer(random_state=0).fit(X_missing)
    >>> imputer.rank_
    3
    >>> bool(np.abs(imputer.transform(X_missing) - X).max() < 1e-3)
    True
    """

    _parameter_constraints: dict = {
        "rank": [Interval(Integral, 0, None, closed="left"), StrOptions({"cv"})],
        "method": [StrOptions({"hard", "soft"})],
        "shrinkage": [Interval(Real, 0, None, closed="left"), StrOptions({"cv"})],
        "ranks": ["array-like", None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "scale": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "missing_values": [Real],
        "solver": [StrOptions(set(SOLVERS) - {"dask"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        rank="cv",
        *,
        method="hard",
        shrinkage="cv",
        ranks=None,
        cv=5,
        scale=False,
        max_iter=1000,
        tol=1e-5,
        missing_values=np.nan,
        solver="auto",
        random_state=None,
    ):
        self.rank = rank
        self.method = method
        self.shrinkage = shrinkage
        self.ranks = ranks
        self.cv = cv
        self.scale = scale
        self.max_iter = max_iter
        self.tol = tol
        self.missing_values = missing_values
        self.solver = solver
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the low-rank model to the observed entries of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing entries.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit the model and return X with its missing entries filled.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing entries.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
            The iteration's fill, in X's dtype.
        """
        X, completion = self._fit(X)
        return completion.filled.astype(X.dtype, copy=False)

    def transform(self, X):
        """Fill the missing entries of X from the fitted components.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to complete; observed entries are returned as they are.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
            In X's dtype.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        missing = _missing_mask(X, self.missing_values)
        filled, _ = impute_rows(
            X,
            missing,
            self.mean_,
            self.scale_,
            self.components_,
            penalty=self._penalty,
        )
        return filled.astype(X.dtype, copy=False)

    def get_feature_names_out(self, input_features=None):
        """The input feature names: imputation keeps every column.

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        from sklearn.utils.validation import _check_feature_names_in

        check_is_fitted(self)
        return _check_feature_names_in(self, input_features)

    # -- fitting ---------------------------------------------------------------

    def _validate(self, X, reset):
        if is_dask_array(X):
            raise TypeError(
                "SVDImputer does not take dask arrays yet; compute a sample that "
                "fits in memory (X.compute()) or impute block by block with "
                "transform after fitting on a sample."
            )
        if sp.issparse(X):
            raise TypeError(
                "SVDImputer takes dense arrays with missing entries marked by "
                "missing_values; pass X.toarray() (sparse input, whose unstored "
                "entries would be the missing ones, is not supported yet)."
            )
        refuse(X, "SVDImputer")
        allow = "allow-nan" if _is_nan(self.missing_values) else True
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite=allow,
            copy=False,
        )

    def _fit(self, X):
        X = self._validate(X, reset=True)
        missing = _missing_mask(X, self.missing_values)
        empty = np.flatnonzero(missing.all(axis=0))
        if empty.size:
            raise ValueError(
                f"Features {empty.tolist()} have no observed value: a low-rank "
                "model cannot fill a column it never sees. Drop them first (for "
                "example with a ColumnTransformer)."
            )
        if self.method == "hard" and self.rank == "cv":
            return X, self._fit_by_cv(X, missing, "rank")
        if self.method == "soft" and self.shrinkage == "cv":
            return X, self._fit_by_cv(X, missing, "shrinkage")
        completion = self._complete(X, missing, self._rank(X.shape), self._lambda())
        self._store(completion)
        return X, completion

    def _rank(self, shape):
        largest = min(shape)
        if self.method == "hard":
            if self.rank == "cv":
                return None
            if self.rank > largest:
                raise ValueError(
                    f"rank={self.rank} must be at most min(n_samples, n_features)="
                    f"{largest} (n_samples={shape[0]}, n_features={shape[1]})."
                )
            return self.rank
        return largest if self.rank == "cv" else min(self.rank, largest)

    def _lambda(self):
        """The given threshold (soft method), or None."""
        if self.method == "soft" and self.shrinkage != "cv":
            return float(self.shrinkage)
        return None

    def _complete(self, X, missing, rank, shrinkage, start=None, quiet=False):
        """One run of the engine's iteration; warns if it stops unconverged.

        ``quiet`` runs (the candidates of a cross-validation) take at most
        ``_CV_MAX_ITER`` steps and do not warn.
        """
        completion = complete_low_rank(
            X,
            missing,
            rank,
            shrinkage=shrinkage,
            scale=self.scale,
            max_iter=min(self.max_iter, _CV_MAX_ITER) if quiet else self.max_iter,
            tol=self.tol,
            start=start,
            solver=self.solver,
            random_state=self.random_state,
        )
        if not completion.converged and not quiet:
            warnings.warn(
                f"SVDImputer stopped after max_iter={self.max_iter} steps before the "
                f"fill moved by less than tol={self.tol} (relative); raise "
                "max_iter, or lower the rank (a rank beyond the data's converges "
                "slowly).",
                ConvergenceWarning,
                stacklevel=4,
            )
        return completion

    def _store(self, completion):
        # The ridge of transform: the model's noise over each component's
        # variance, σ²/(sⱼ²/n).
        self.noise_variance_ = float(completion.noise)
        self._penalty = completion.penalty
        self.mean_ = completion.mean
        self.scale_ = completion.scale
        self.components_ = completion.Vt
        self.singular_values_ = completion.s
        self.rank_ = int(completion.s.size)
        self.n_iter_ = completion.n_iter
        self.shrinkage_ = self._lambda()

    def _candidates(self, X, missing, kind):
        largest = min(X.shape)
        if kind == "rank":
            if self.ranks is None:
                return np.arange(0, min(_RANKS_BY_DEFAULT, largest - 1) + 1)
            ranks = np.unique(np.asarray(self.ranks))
            if (
                np.asarray(self.ranks).ndim != 1
                or ranks.size == 0
                or not np.issubdtype(ranks.dtype, np.integer)
                or ranks.dtype == bool
                or ranks[0] < 0
                or ranks[-1] > largest
            ):
                raise ValueError(
                    "ranks must be a non-empty list of integers between 0 and "
                    f"min(n_samples, n_features)={largest}; got {self.ranks!r}."
                )
            return ranks
        # A geometric path of thresholds, from the largest singular value after
        # one rank-one step from the mean fill down to a thousandth of it.
        start = complete_low_rank(X, missing, 1, max_iter=1, scale=self.scale)
        top = float(start.s[0]) if start.s.size else 0.0
        if top == 0.0:
            return np.zeros(1)
        return top * np.geomspace(1.0, 1e-3, _SHRINKAGES_BY_DEFAULT)

    def _fit_by_cv(self, X, missing, kind):
        """Score every candidate on held-out observed entries, then refit the best."""
        candidates = self._candidates(X, missing, kind)
        rng = check_random_state(self.random_state)
        observed = np.flatnonzero(~missing.ravel())
        if observed.size < self.cv:
            raise ValueError(
                f"cv={self.cv} folds need at least {self.cv} observed entries; got "
                f"{observed.size} (n_samples={X.shape[0]}, n_features="
                f"{X.shape[1]}). Give the rank (or shrinkage), or lower cv."
            )
        folds = np.array_split(rng.permutation(observed), self.cv)
        rank_cap = self._rank(X.shape)
        hidden_masks, helds, fills = [], [], []
        for held in folds:
            hidden = _hide(missing, held)
            if np.any(hidden.all(axis=0)):
                continue  # a column hidden entirely cannot be scored on this fold
            hidden_masks.append(hidden)
            helds.append(held)
            fills.append(None)
        if not hidden_masks:
            raise ValueError(
                "Cross-validation needs folds that leave every column some "
                "observed entry; lower cv, or give the rank (or shrinkage) "
                f"(n_samples={X.shape[0]}, n_features={X.shape[1]})."
            )
        flat = X.ravel()
        columns = []
        declines = 0
        for value in candidates:
            rank, shrinkage = (
                (int(value), None) if kind == "rank" else (rank_cap, float(value))
            )
            column = np.empty(len(hidden_masks))
            for split, hidden in enumerate(hidden_masks):
                completion = self._complete(
                    X, hidden, rank, shrinkage, start=fills[split], quiet=True
                )
                fills[split] = completion.filled  # warm start for the next one
                held = helds[split]
                error = completion.filled.ravel()[held] - flat[held]
                column[split] = -np.sqrt(np.mean(error**2))
            columns.append(column)
            # Past the best, each further candidate only fits more noise (and
            # converges more slowly): stop after two that score worse in a row.
            means = [c.mean() for c in columns]
            declines = declines + 1 if means[-1] < max(means) else 0
            if declines == 2:
                break
        candidates = candidates[: len(columns)]
        scores = np.array(columns).T  # (folds, candidates)
        mean, std = scores.mean(axis=0), scores.std(axis=0)
        # The one-standard-error rule: the simplest candidate (the smallest
        # rank, the largest threshold) within one standard error of the best.
        # Past the data's rank, scores differ by the iteration's own error,
        # and a rank too high fills the gaps with noise.
        top = int(np.argmax(mean))
        floor = mean[top] - std[top] / np.sqrt(len(scores))
        best = int(np.flatnonzero(mean >= floor)[0])
        self.cv_results_ = {
            kind: candidates,
            "params": [{kind: value.item()} for value in candidates],
            "mean_test_score": mean,
            "std_test_score": std,
        }
        for split, split_scores in enumerate(scores):
            self.cv_results_[f"split{split}_test_score"] = split_scores
        chosen = candidates[best]
        if kind == "rank":
            completion = self._complete(X, missing, int(chosen), None)
            self._store(completion)
        else:
            # Down the path to the chosen threshold, each fit warm-started
            # from the last: at small thresholds a cold start converges slowly.
            fill = None
            for value in candidates[: best + 1]:
                completion = self._complete(
                    X, missing, rank_cap, float(value), start=fill, quiet=True
                )
                fill = completion.filled
            if not completion.converged:
                completion = self._complete(
                    X, missing, rank_cap, float(chosen), start=fill
                )
            self._store(completion)
            self.shrinkage_ = float(chosen)
        return completion


def _hide(missing, held):
    hidden = missing.copy().ravel()
    hidden[held] = True
    return hidden.reshape(missing.shape)


def _is_nan(value):
    return isinstance(value, (float, np.floating)) and bool(np.isnan(value))
