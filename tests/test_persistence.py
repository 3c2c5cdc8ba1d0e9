"""Pickle, joblib and skops round trips give bit-identical outputs."""

import pickle

import joblib
import numpy as np
import pytest

from sksvd import (
    MinNormLeastSquares,
    MinNormLeastSquaresCV,
    PCAViaSVD,
    TruncatedSVDCompressor,
)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 6)) @ RNG.standard_normal((6, 6))
Y = X @ RNG.standard_normal(6)

FITTED = {
    "compressor": (TruncatedSVDCompressor(0.9).fit(X), "transform"),
    "pca": (PCAViaSVD(3, matrix="correlation", whiten=True).fit(X), "transform"),
    "incremental pca": (
        PCAViaSVD(3).partial_fit(X[:30]).partial_fit(X[30:]),
        "transform",
    ),
    "least squares": (MinNormLeastSquares(max_rank=4).fit(X, Y), "predict"),
    "least squares cv": (MinNormLeastSquaresCV(cv=3).fit(X, Y), "predict"),
}


def _outputs(estimator, method):
    return getattr(estimator, method)(X)


@pytest.mark.parametrize("name", FITTED)
def test_pickle_round_trip_is_bit_identical(name):
    estimator, method = FITTED[name]
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(
        _outputs(restored, method), _outputs(estimator, method)
    )


@pytest.mark.parametrize("name", FITTED)
def test_joblib_round_trip_is_bit_identical(name, tmp_path):
    estimator, method = FITTED[name]
    joblib.dump(estimator, tmp_path / "model.joblib")
    restored = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        _outputs(restored, method), _outputs(estimator, method)
    )


def test_incremental_state_survives_pickling():
    estimator, _ = FITTED["incremental pca"]
    restored = pickle.loads(pickle.dumps(estimator))
    restored.partial_fit(X[:10])
    estimator_copy = pickle.loads(pickle.dumps(estimator)).partial_fit(X[:10])
    np.testing.assert_array_equal(restored.components_, estimator_copy.components_)


@pytest.mark.parametrize("name", FITTED)
def test_skops_loads_with_trusted_types(name, tmp_path):
    skops_io = pytest.importorskip("skops.io")
    estimator, method = FITTED[name]
    path = tmp_path / "model.skops"
    skops_io.dump(estimator, path)
    untrusted = skops_io.get_untrusted_types(file=path)
    # Only sksvd's own classes need trusting; everything else skops knows.
    assert all(type_name.startswith("sksvd.") for type_name in untrusted), untrusted
    restored = skops_io.load(path, trusted=untrusted)
    np.testing.assert_array_equal(
        _outputs(restored, method), _outputs(estimator, method)
    )
