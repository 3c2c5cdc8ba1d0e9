"""Validation of dask arrays for the estimators, without computing them."""

from sklearn.utils.validation import validate_data

from sksvd.linalg._dask import check_dask_array, is_dask_array

__all__ = ["is_dask_array", "validate_dask"]


def validate_dask(estimator, X, *, reset, y=None):
    """Check a dask X (and y) as ``validate_data`` would, but lazily.

    ``n_features_in_`` is set or checked from the shape; values are checked by the
    caller in the pass that computes its statistics.
    """
    if y is None:
        validate_data(estimator, X, reset=reset, skip_check_array=True)
    else:
        validate_data(estimator, X, y, reset=reset, skip_check_array=True)
    return check_dask_array(X)
