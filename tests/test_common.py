"""scikit-learn's estimator checks over every estimator, in several settings."""

import pytest
from sklearn.utils.estimator_checks import (
    check_param_validation,
    parametrize_with_checks,
)

from sksvd import (
    MinNormLeastSquares,
    MinNormLeastSquaresCV,
    PCAViaSVD,
    TruncatedSVDCompressor,
)


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
    yield PCAViaSVD()
    yield PCAViaSVD(matrix="correlation")
    yield PCAViaSVD(whiten=True)
    yield PCAViaSVD(0.9, matrix="correlation", whiten=True)
    yield PCAViaSVD("mle")
    for solver in ("full", "qr", "gram"):
        yield PCAViaSVD(solver=solver)
    for solver in ("randomized", "propack"):
        yield PCAViaSVD(2, solver=solver, random_state=0, matrix="correlation")
    yield PCAViaSVD(1, solver="arpack", random_state=0)
    yield MinNormLeastSquares()
    yield MinNormLeastSquares(fit_intercept=False, solver="qr", rcond=1e-8)
    # check_regressors_train needs about five components of its data.
    yield MinNormLeastSquares(max_rank=5, solver="full")
    yield MinNormLeastSquaresCV()
    yield MinNormLeastSquaresCV(cv=3)
    yield MinNormLeastSquaresCV(cv=3, scoring="r2", fit_intercept=False)


ESTIMATORS = list(_instances())


def _expected_failed_checks(estimator):
    if isinstance(estimator, PCAViaSVD) and estimator.solver in (
        "randomized",
        "arpack",
        "propack",
    ):
        return {
            "check_fit_score_takes_y": (
                "calls partial_fit after fit; a truncated fit keeps only part of "
                "the spectrum, so PCAViaSVD refuses to continue it rather than "
                "continue it inexactly"
            )
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [
        TruncatedSVDCompressor(),
        PCAViaSVD(),
        MinNormLeastSquares(),
        MinNormLeastSquaresCV(),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
