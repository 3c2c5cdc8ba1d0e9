"""Row weights in PCAViaSVD and TruncatedSVDCompressor.

Frequency semantics: an integer weight equals the row repeated that many times
(and zero equals its removal), on every solver and input kind; real weights give
the eigendecomposition of the weighted covariance (or correlation) matrix, with
the divisor ``Σw − 1``, computed here by NumPy's ``eigh``.
"""

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp

from sksvd import PCAViaSVD, TruncatedSVDCompressor

PCA_SOLVERS = ["auto", "full", "qr", "gram", "randomized", "arpack", "propack"]
TRUNCATED = {"randomized", "arpack", "propack"}


def _data(rng, n=40, p=6):
    X = rng.standard_normal((n, p)) @ rng.standard_normal((p, p)) + 3.0
    weights = rng.integers(0, 4, n)
    weights[:2] = [0, 3]  # at least one zero and one repetition
    return X, weights


def _as(kind, X):
    if kind == "sparse":
        return sp.csr_matrix(X)
    if kind == "dask":
        return da.from_array(X, chunks=(13, X.shape[1]))
    return X


def _assert_same_fit(a, b, names, rtol=1e-10):
    for name in names:
        expected = np.asarray(getattr(b, name))
        np.testing.assert_allclose(
            getattr(a, name),
            expected,
            rtol=rtol,
            atol=rtol * np.max(np.abs(expected), initial=0.0),
            err_msg=name,
        )


PCA_ATTRIBUTES = [
    "explained_variance_",
    "explained_variance_ratio_",
    "singular_values_",
    "components_",
    "mean_",
    "scale_",
    "var_",
    "noise_variance_",
    "n_samples_",
]


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("solver", PCA_SOLVERS)
@pytest.mark.parametrize("kind", ["dense", "sparse", "dask"])
def test_pca_integer_weights_equal_repeated_rows(rng, matrix, solver, kind):
    if kind == "dask" and solver != "auto":
        solver = "dask"
    X, w = _data(rng)
    k = 3 if solver in TRUNCATED else None
    options = {"matrix": matrix, "solver": solver, "random_state": 0}
    weighted = PCAViaSVD(k, **options).fit(_as(kind, X), sample_weight=w)
    repeated = PCAViaSVD(k, **options).fit(_as(kind, np.repeat(X, w, axis=0)))
    _assert_same_fit(weighted, repeated, PCA_ATTRIBUTES)
    np.testing.assert_allclose(
        weighted.transform(X), repeated.transform(X), rtol=1e-10, atol=1e-10
    )
    assert weighted.n_samples_seen_ == w.sum()


def _weighted_moments(X, w):
    mean = w @ X / w.sum()
    centred = X - mean
    covariance = (centred * w[:, None]).T @ centred / (w.sum() - 1)
    return mean, covariance


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("kind", ["dense", "sparse", "dask"])
def test_pca_real_weights_equal_weighted_covariance(rng, matrix, kind):
    X, _ = _data(rng)
    w = rng.uniform(0.05, 3.0, X.shape[0])
    mean, C = _weighted_moments(X, w)
    sd = np.sqrt(np.diag(C))
    if matrix == "correlation":
        C = C / np.outer(sd, sd)
    values, vectors = np.linalg.eigh(C)
    values, vectors = values[::-1], vectors[:, ::-1]
    pca = PCAViaSVD(matrix=matrix).fit(_as(kind, X), sample_weight=w)
    np.testing.assert_allclose(pca.explained_variance_, values, rtol=1e-10)
    np.testing.assert_allclose(pca.mean_, mean, rtol=1e-12)
    np.testing.assert_allclose(
        np.abs(pca.components_ @ vectors), np.eye(X.shape[1]), atol=1e-9
    )
    if matrix == "correlation":
        np.testing.assert_allclose(pca.scale_, sd, rtol=1e-12)
    np.testing.assert_allclose(
        pca.var_, np.diag(_weighted_moments(X, w)[1]) * (w.sum() - 1) / w.sum()
    )


def test_pca_partial_fit_with_weights_equals_fit(rng):
    X, w = _data(rng, n=60)
    batches = np.array_split(np.arange(60), [7, 25, 26, 44])
    incremental = PCAViaSVD(matrix="correlation")
    for rows in batches:
        incremental.partial_fit(X[rows], sample_weight=w[rows])
    whole = PCAViaSVD(matrix="correlation").fit(X, sample_weight=w)
    repeated = PCAViaSVD(matrix="correlation").fit(np.repeat(X, w, axis=0))
    _assert_same_fit(incremental, whole, PCA_ATTRIBUTES, rtol=1e-9)
    _assert_same_fit(incremental, repeated, PCA_ATTRIBUTES, rtol=1e-9)


def test_pca_partial_fit_skips_a_batch_of_zero_weight(rng):
    X, w = _data(rng)
    model = PCAViaSVD().partial_fit(X[:20], sample_weight=w[:20])
    before = model.components_.copy()
    model.partial_fit(X[20:25], sample_weight=np.zeros(5))
    np.testing.assert_array_equal(model.components_, before)


def test_pca_fit_transform_matches_transform_with_weights(rng):
    X, w = _data(rng)
    pca = PCAViaSVD(3)
    scores = pca.fit_transform(X, sample_weight=w)
    np.testing.assert_allclose(scores, pca.transform(X), atol=1e-12)


def test_pca_weights_of_ones_are_no_weights(rng):
    X, _ = _data(rng)
    a = PCAViaSVD().fit(X, sample_weight=np.ones(X.shape[0]))
    b = PCAViaSVD().fit(X)
    _assert_same_fit(a, b, PCA_ATTRIBUTES, rtol=0)


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.full(40, 1 / 40), "sum to the number of samples"),
        (np.r_[-1.0, np.ones(39)], "(?i)negative"),
        (np.r_[np.nan, np.ones(39)], "NaN"),
        (np.ones(39), "inconsistent numbers of samples|shape"),
    ],
)
def test_pca_bad_weights(rng, weights, match):
    X, _ = _data(rng)
    with pytest.raises(ValueError, match=match):
        PCAViaSVD().fit(X, sample_weight=weights)


def test_pca_one_sample_of_weight_two_is_two_samples(rng):
    # As two copies of one row: zero variance, not an error.
    X = rng.standard_normal((1, 3))
    pca = PCAViaSVD().fit(X, sample_weight=[2.0])
    assert pca.n_samples_ == 2
    np.testing.assert_array_equal(pca.explained_variance_, [0.0])


COMPRESSOR_ATTRIBUTES = [
    "singular_values_",
    "components_",
    "explained_variance_",
    "explained_variance_ratio_",
    "explained_energy_ratio_",
]


@pytest.mark.parametrize("solver", PCA_SOLVERS + ["dask"])
@pytest.mark.parametrize("kind", ["dense", "sparse", "dask"])
@pytest.mark.parametrize("n_components", [3, 0.9])
def test_compressor_integer_weights_equal_repeated_rows(
    rng, solver, kind, n_components
):
    if (kind == "dask") != (solver == "dask") and solver != "auto":
        pytest.skip("solver and input kind do not go together")
    if solver == "gram" and n_components == 0.9:
        pytest.skip("covered by 'auto'")
    X, w = _data(rng)
    options = {"solver": solver, "random_state": 0}
    weighted = TruncatedSVDCompressor(n_components, **options)
    scores = weighted.fit_transform(_as(kind, X), sample_weight=w)
    repeated = TruncatedSVDCompressor(n_components, **options).fit(
        _as(kind, np.repeat(X, w, axis=0))
    )
    assert weighted.n_components_ == repeated.n_components_
    _assert_same_fit(weighted, repeated, COMPRESSOR_ATTRIBUTES)
    assert weighted.reconstruction_error_ == pytest.approx(
        repeated.reconstruction_error_, rel=1e-6
    )
    # The scores are X V, unweighted, as transform gives them.
    np.testing.assert_allclose(
        np.asarray(scores), np.asarray(weighted.transform(_as(kind, X))), atol=1e-10
    )
