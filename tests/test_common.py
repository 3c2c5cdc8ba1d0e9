"""scikit-learn's estimator checks over every estimator, in several settings."""

import pytest
from sklearn.utils.estimator_checks import (
    check_param_validation,
    parametrize_with_checks,
)

from sksvd import TruncatedSVDCompressor


def _instances():
    yield TruncatedSVDCompressor()
    yield TruncatedSVDCompressor(n_components=0.8)
    yield TruncatedSVDCompressor(n_components=0.9, solver="randomized", random_state=0)
    yield TruncatedSVDCompressor(n_components=0.9, solver="arpack", random_state=0)
    for solver in ("full", "qr", "gram", "randomized", "propack"):
        yield TruncatedSVDCompressor(solver=solver, random_state=0)
    # ARPACK returns at most min(n_samples, n_features) - 1 components, and some
    # checks fit two features.
    yield TruncatedSVDCompressor(n_components=1, solver="arpack", random_state=0)
    yield TruncatedSVDCompressor(solver="randomized", n_iter=0, n_oversamples=0)


ESTIMATORS = list(_instances())


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS[:1], ids=lambda e: type(e).__name__)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
