"""Fitted estimators are read-only at predict time: threads get identical results."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

from sksvd import (
    MinNormLeastSquares,
    MinNormLeastSquaresCV,
    PCAViaSVD,
    TruncatedSVDCompressor,
)

RNG = np.random.default_rng(1)
X = RNG.standard_normal((500, 20))
Y = X @ RNG.standard_normal(20)


@pytest.mark.parametrize(
    ("estimator", "method", "data"),
    [
        (TruncatedSVDCompressor(5).fit(X), "transform", X),
        (TruncatedSVDCompressor(5).fit(X), "transform", sp.csr_matrix(X)),
        (TruncatedSVDCompressor(5).fit(X), "score", X),
        (PCAViaSVD(5, whiten=True).fit(X), "transform", X),
        (PCAViaSVD(5, matrix="correlation").fit(X), "score_samples", X),
        (PCAViaSVD(5).fit(X), "inverse_transform", X[:, :5]),
        (MinNormLeastSquares().fit(X, Y), "predict", X),
        (MinNormLeastSquaresCV().fit(X, Y), "predict", X),
    ],
)
def test_eight_threads_agree_with_one(estimator, method, data):
    expected = getattr(estimator, method)(data)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: getattr(estimator, method)(data), range(32)))
    for result in results:
        np.testing.assert_array_equal(result, expected)
