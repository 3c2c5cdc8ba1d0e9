"""Behaviour shared by the estimators: projections checks, tags, linear prediction."""

import os
import sys
import warnings

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted
from sklearn.utils.validation import validate_data as _validate_data

from sksvd._compat import check_same_namespace, check_sample_weight
from sksvd._dask_input import is_dask_array, validate_dask
from sksvd.linalg._checks import check_array
from sksvd.linalg._engine import (
    ARRAY_API_SOLVERS,
    canonical,
    check_dask_array,
    detached,
    float_dtypes,
    lazily_checked,
    move_attributes,
    namespace_of,
    promoted,
    to_numpy,
)

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
# scikit-learn's wrappers around fit and transform (parameter validation,
# set_output): a warning belongs to whoever called them.
_WRAPPERS = (
    os.path.join("sklearn", "base.py"),
    os.path.join("sklearn", "utils", "_set_output.py"),
)


def warn_at_caller(message, category=UserWarning):
    """Warn with the location of the code that called into sksvd.

    The first frame outside this package (and outside scikit-learn's wrappers
    of ``fit`` and ``transform``) is the one shown: the user's line, or the
    meta-estimator's (``GridSearchCV``, ``Pipeline``) that fitted this one.
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE)
        or frame.f_code.co_filename.endswith(_WRAPPERS)
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def in_dtype(values, dtype):
    """``values`` cast to ``dtype`` when they fit its range, else unchanged.

    Out of range means beyond its largest value, or a non-zero value that it
    would round to zero: variances of float32 data are then kept in float64.
    """
    info = np.finfo(dtype)
    magnitude = np.abs(values)
    if np.all((magnitude <= info.max) & ((magnitude == 0) | (magnitude >= info.tiny))):
        return values.astype(dtype)
    return values.copy()


def validate_data(estimator, /, X="no_validation", y="no_validation", **kwargs):
    """scikit-learn's ``validate_data``, with tensors that record gradients detached.

    Fits and predictions are not differentiated: a PyTorch tensor with
    ``requires_grad=True`` is read as its data, as NumPy would read it.

    scikit-learn's NaN/inf check sums X first and, where the sum of finite
    float32 data overflows, checks entry by entry: its overflow warning there
    is about its own shortcut, not the data, and is not passed on.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        validated = _validate_data(estimator, detached(X), detached(y), **kwargs)
    # Sparse entries stored more than once are summed (in a copy): variances
    # and norms read the stored values as the entries.
    if isinstance(validated, tuple):
        return (canonical(validated[0]), *validated[1:])
    return canonical(validated)


def row_weights(sample_weight, X):
    """Validated non-negative row weights as float64, or None for none (or ones).

    Dask weights are computed first: n numbers, small next to X.
    """
    if sample_weight is None:
        return None
    if is_dask_array(sample_weight):
        sample_weight = sample_weight.compute()
    weights = host_weights(sample_weight, X)
    return None if np.all(weights == 1.0) else weights


def host_weights(sample_weight, X):
    """Validated non-negative sample weights as a NumPy float64 array (ones for None).

    Weights of an array-API namespace (on any device) come to the host: they
    are one number per sample, checked and used there as NumPy weights are.
    """
    sample_weight = to_numpy(sample_weight)
    if namespace_of(X) is not None:
        X = np.empty((X.shape[0], 0))  # stands in for X's length only
    return check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )


def to_device_of(estimator, X):
    """Move the estimator's NumPy array attributes to the namespace and device of X.

    Nothing happens for NumPy, sparse or dask X, or without array-API dispatch.
    """
    ns = namespace_of(X)
    if ns is not None:
        move_attributes(estimator, ns)


class _SVDTransformerMixin:
    """What the two SVD transformers share, as scikit-learn's ``_BasePCA`` does.

    Sparse input is accepted, float32 stays float32, ``get_feature_names_out``
    counts the components, and ``inverse_transform`` checks the coordinates
    it is given with :meth:`_check_coordinates`.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.array_api_support = self.solver in ARRAY_API_SOLVERS
        return tags

    @property
    def _n_features_out(self):
        """Number of transformed output features, for ``get_feature_names_out``."""
        return self.components_.shape[0]

    def _check_coordinates(self, X):
        """Fitted, and X holds coordinates on the ``n_components_`` components."""
        check_is_fitted(self)
        check_same_namespace(
            X, self, attribute="components_", method="inverse_transform"
        )
        if is_dask_array(X):
            X = lazily_checked(check_dask_array(X, name="Z"))
        else:
            # No column is right for a model of no component (PCA(0)).
            X = check_array(X, dtype=float_dtypes(X), ensure_min_features=0)
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} columns, but this {type(self).__name__} has "
                f"n_components_={self.n_components_}: inverse_transform takes the "
                "output of transform."
            )
        return X

    def _validate_new(self, X, method="transform"):
        """New data for transform: validated as at fit, lazily for dask arrays."""
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="components_", method=method)
        if is_dask_array(X):
            return lazily_checked(validate_dask(self, X, reset=False))
        return validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=float_dtypes(X),
            reset=False,
        )


class _LinearPredictMixin:
    """``predict`` for estimators with ``coef_`` and ``intercept_``."""

    def predict(self, X):
        """Predict with the fitted linear model: ``X coef_ᵀ + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, in the dtype of the coefficients.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict")
        if is_dask_array(X):
            X = lazily_checked(validate_dask(self, X, reset=False))
            return X @ self.coef_.T + self.intercept_
        X = validate_data(
            self,
            X,
            accept_sparse=self._sparse_formats,
            dtype=float_dtypes(X),
            reset=False,
        )
        X, coef, intercept = promoted(X, self.coef_, self.intercept_)
        coef = coef if coef.ndim == 1 else coef.T
        return safe_sparse_dot(X, coef, dense_output=True) + intercept

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = bool(self._sparse_formats)
        tags.target_tags.multi_output = True
        tags.array_api_support = self._array_api
        return tags
