"""dask arrays in, NumPy attributes out, lazy transforms; threaded and distributed."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import sksvd.linalg._dask as dask_module  # noqa: E402
from sksvd import (  # noqa: E402
    MinNormLeastSquares,
    PCAViaSVD,
    TruncatedSVDCompressor,
)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3000, 12)) @ np.diag(np.linspace(5, 0.5, 12))
X = X @ np.linalg.qr(RNG.standard_normal((12, 12)))[0] + 2.0
Y = X @ RNG.standard_normal(12) + 0.1 * RNG.standard_normal(3000)


def chunked(array, rows=700, columns=5):
    return da.from_array(array, chunks=(rows, columns))


def _refuse_to_compute(*args, **kwargs):
    raise AssertionError("a lazy output was computed")


def _relative(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("n_components", [3, 0.9])
def test_compressor_matches_numpy(n_components):
    ours = TruncatedSVDCompressor(n_components).fit(chunked(X))
    reference = TruncatedSVDCompressor(n_components, solver="full").fit(X)
    assert ours.solver_ == "dask"
    assert ours.n_components_ == reference.n_components_
    assert isinstance(ours.components_, np.ndarray)
    assert _relative(ours.components_, reference.components_) < 1e-10
    assert _relative(ours.singular_values_, reference.singular_values_) < 1e-10
    assert ours.reconstruction_error_ == pytest.approx(
        reference.reconstruction_error_, rel=1e-8
    )
    Z = ours.transform(chunked(X))
    assert isinstance(Z, da.Array)
    assert _relative(Z.compute(), reference.transform(X)) < 1e-10
    assert ours.score(chunked(X)) == pytest.approx(reference.score(X), rel=1e-10)


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("whiten", [False, True])
def test_pca_matches_numpy(matrix, whiten):
    ours = PCAViaSVD(4, matrix=matrix, whiten=whiten).fit(chunked(X))
    reference = PCAViaSVD(4, matrix=matrix, whiten=whiten, solver="full").fit(X)
    for name in ("components_", "explained_variance_", "mean_", "scale_"):
        value = getattr(ours, name)
        assert isinstance(value, np.ndarray), name
        assert _relative(value, getattr(reference, name)) < 1e-10, name
    assert ours.noise_variance_ == pytest.approx(reference.noise_variance_, rel=1e-10)
    scores = ours.transform(chunked(X))
    assert isinstance(scores, da.Array)
    assert _relative(scores.compute(), reference.transform(X)) < 1e-10
    back = ours.inverse_transform(scores)
    assert isinstance(back, da.Array)
    np.testing.assert_allclose(
        back.compute(), reference.inverse_transform(reference.transform(X)), atol=1e-9
    )


@pytest.mark.parametrize("dask_y", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_least_squares_matches_numpy(dask_y, fit_intercept):
    y = da.from_array(Y, chunks=1000) if dask_y else Y
    ours = MinNormLeastSquares(fit_intercept=fit_intercept).fit(chunked(X), y)
    reference = MinNormLeastSquares(fit_intercept=fit_intercept).fit(X, Y)
    assert _relative(ours.coef_, reference.coef_) < 1e-10
    assert ours.intercept_ == pytest.approx(reference.intercept_, rel=1e-10, abs=1e-12)
    assert ours.rank_ == reference.rank_
    assert ours.residual_sum_of_squares_ == pytest.approx(
        reference.residual_sum_of_squares_, rel=1e-8
    )
    prediction = ours.predict(chunked(X))
    assert isinstance(prediction, da.Array)
    assert _relative(prediction.compute(), reference.predict(X)) < 1e-10


def test_least_squares_with_weights_and_max_rank():
    weights = RNG.random(3000)
    ours = MinNormLeastSquares(max_rank=5).fit(chunked(X), Y, sample_weight=weights)
    reference = MinNormLeastSquares(max_rank=5).fit(X, Y, sample_weight=weights)
    assert _relative(ours.coef_, reference.coef_) < 1e-10


def test_compressed_svd_for_many_columns(monkeypatch):
    # Pretend 12 columns are too many for one chunk: svd_compressed runs instead.
    monkeypatch.setattr(dask_module, "TSQR_MAX_COLUMNS", 4)
    decaying = RNG.standard_normal((2000, 12)) @ np.diag(0.3 ** np.arange(12))
    ours = TruncatedSVDCompressor(3, random_state=0, n_iter=6).fit(chunked(decaying))
    reference = TruncatedSVDCompressor(3, solver="full").fit(decaying)
    np.testing.assert_allclose(
        ours.singular_values_, reference.singular_values_, rtol=1e-8
    )


def test_outputs_stay_lazy():
    compressor = TruncatedSVDCompressor(3).fit(chunked(X))
    pca = PCAViaSVD(3).fit(chunked(X))
    model = MinNormLeastSquares().fit(chunked(X), Y)
    with dask.config.set(scheduler=_refuse_to_compute):
        compressor.transform(chunked(X))
        compressor.inverse_transform(compressor.transform(chunked(X)))
        pca.transform(chunked(X))
        pca.inverse_transform(pca.transform(chunked(X)))
        model.predict(chunked(X))


def test_nan_in_a_chunk_is_a_clear_error():
    bad = X.copy()
    bad[2500, 3] = np.nan
    for estimator in (TruncatedSVDCompressor(2), PCAViaSVD(2)):
        with pytest.raises(ValueError, match="NaN or infinity"):
            estimator.fit(chunked(bad))
    with pytest.raises(ValueError, match="NaN or infinity"):
        MinNormLeastSquares().fit(chunked(bad), Y)
    fitted = PCAViaSVD(2).fit(chunked(X))
    lazy = fitted.transform(chunked(bad))  # the check runs when computed
    with pytest.raises(ValueError, match="NaN or infinity"):
        lazy.compute()


def test_unknown_chunk_sizes_are_a_clear_error():
    D = chunked(X)
    unknown = D[D[:, 0] > 2]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        PCAViaSVD(2).fit(unknown)


def test_wrong_feature_count_on_dask():
    fitted = PCAViaSVD(2).fit(chunked(X))
    with pytest.raises(ValueError, match="features"):
        fitted.transform(chunked(X[:, :5]))


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        processes=True,
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.mark.slow
def test_all_three_estimators_on_a_local_cluster(client):
    assert len(client.scheduler_info()["workers"]) == 2
    D = chunked(X)
    compressor = TruncatedSVDCompressor(3).fit(D)
    pca = PCAViaSVD(3, matrix="correlation").fit(D)
    model = MinNormLeastSquares().fit(D, Y)
    assert (
        _relative(
            compressor.components_,
            TruncatedSVDCompressor(3, solver="full").fit(X).components_,
        )
        < 1e-10
    )
    assert (
        _relative(
            pca.transform(D).compute(),
            PCAViaSVD(3, matrix="correlation", solver="full").fit(X).transform(X),
        )
        < 1e-10
    )
    assert _relative(model.coef_, MinNormLeastSquares().fit(X, Y).coef_) < 1e-10


def test_least_squares_with_two_dimensional_numpy_targets():
    targets = np.column_stack([Y, 2 * Y])
    ours = MinNormLeastSquares().fit(chunked(X), targets)
    reference = MinNormLeastSquares().fit(X, targets)
    assert _relative(ours.coef_, reference.coef_) < 1e-10


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
def test_pca_variance_range_check_on_dask(matrix):
    # The squares of 1e200 overflow inside the blocks: a clear error, and no
    # RuntimeWarning from a worker thread (warnings are errors in this suite).
    with pytest.raises(ValueError, match="overflow float64"):
        PCAViaSVD(3, matrix=matrix).fit(chunked(X * 1e200))
    with pytest.raises(ValueError, match="underflow float64"):
        PCAViaSVD(3, matrix=matrix).fit(chunked(X * 1e-160))


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
def test_pca_range_limits_on_dask(matrix):
    # Squares of 1e-170 are exactly zero: still an underflow, not constant data.
    # A total variance of about 1e305 fits, although (n − 1) times it does not.
    with pytest.raises(ValueError, match="underflow float64"):
        PCAViaSVD(3, matrix=matrix).fit(chunked(X * 1e-170))
    ours = PCAViaSVD(3, matrix=matrix).fit(chunked(X * 1e151))
    reference = PCAViaSVD(3, matrix=matrix, solver="full").fit(X)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, reference.explained_variance_ratio_, rtol=1e-10
    )


def test_compressor_refuses_a_norm_beyond_float64_on_dask():
    huge = np.random.default_rng(0).uniform(0.5, 1.0, (40, 3)) * 1e308
    with pytest.raises(ValueError, match="Frobenius norm of X overflows"):
        TruncatedSVDCompressor(2).fit(da.from_array(huge, chunks=(10, 3)))


@pytest.mark.parametrize("rows", [50, 700, 3000])
@pytest.mark.parametrize("offset", [0.0, 1e8])
def test_column_moments_match_numpy(rows, offset):
    from sksvd.linalg._dask_statistics import column_moments

    data = X + offset  # a large mean tests the pairwise merge's cancellation
    mean, squares, finite, low, high = column_moments(chunked(data, rows)).compute()
    assert finite.all()
    np.testing.assert_array_equal(low, data.min(axis=0))
    np.testing.assert_array_equal(high, data.max(axis=0))
    np.testing.assert_allclose(mean, data.mean(axis=0), rtol=1e-14)
    centred = data - data.mean(axis=0)
    # Each merge moves the running mean with a rounding error of about eps·|μ|,
    # which reaches the squared deviations relative to σ: eps·|μ|/σ per merge.
    eps = np.finfo(np.float64).eps
    rtol = max(1e-12, 10 * eps * offset / data.std(axis=0).min())
    np.testing.assert_allclose(squares, np.sum(centred**2, axis=0), rtol=rtol)


def test_column_moments_with_an_empty_block_and_non_finite_values():
    from sksvd.linalg._dask_statistics import column_moments

    data = da.concatenate([chunked(X[:10]), chunked(X[:0]), chunked(X[10:20])])
    mean, squares, finite, low, high = column_moments(data).compute()
    np.testing.assert_array_equal(high - low, np.ptp(X[:20], axis=0))
    assert finite.all()
    np.testing.assert_allclose(mean, X[:20].mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(squares, X[:20].var(axis=0) * 20, rtol=1e-12)
    holed = X[:20].copy()
    holed[3, 4] = np.inf
    finite = column_moments(chunked(holed, 7)).compute()[2]
    np.testing.assert_array_equal(finite, np.arange(12) != 4)


@pytest.mark.parametrize("magnitude", [1e-200, 1.0, 1e200])
def test_compressor_norm_on_dask_for_any_magnitude(magnitude):
    # ‖X‖² of 1e200 data overflows; the blocks' norms are scaled instead.
    ours = TruncatedSVDCompressor(3).fit(chunked(X * magnitude))
    reference = TruncatedSVDCompressor(3, solver="full").fit(X * magnitude)
    np.testing.assert_allclose(
        ours.explained_energy_ratio_, reference.explained_energy_ratio_, rtol=1e-10
    )
    assert ours.score(chunked(X * magnitude)) == pytest.approx(
        reference.score(X * magnitude), rel=1e-10
    )


def test_least_squares_dask_input_errors():
    with pytest.raises(ValueError, match="sums to zero"):
        MinNormLeastSquares().fit(chunked(X), Y, sample_weight=np.zeros(len(Y)))
    wide = da.from_array(RNG.standard_normal((300, 6000)), chunks=(100, 1000))
    with pytest.raises(ValueError, match="rechunk"):
        MinNormLeastSquares().fit(wide, RNG.standard_normal(300))


@pytest.mark.parametrize("weighted", [False, True])
def test_least_squares_residual_of_a_nearly_exact_fit(weighted):
    # ‖b‖² − ‖Uᵀb‖² is all rounding here (a relative residual of 1e-10); the dask
    # path then measures ‖b − Ax‖ directly, as the NumPy path does.
    rng = np.random.default_rng(1)
    targets = X @ rng.standard_normal(12) + 1e-9 * rng.standard_normal(X.shape[0])
    weights = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    ours = MinNormLeastSquares().fit(
        chunked(X), da.from_array(targets, chunks=700), sample_weight=weights
    )
    residual = targets - X @ ours.coef_ - ours.intercept_
    expected = np.sum(residual**2 * (1.0 if weights is None else weights))
    assert ours.residual_sum_of_squares_ == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("magnitude", [1e-100, 1e100, 1e200])
def test_least_squares_residual_for_any_magnitude_of_y(magnitude):
    # (1e200)² overflows: the sum of squares is inf, without a warning; 1e±100
    # squares are representable and must match the NumPy path.
    ours = MinNormLeastSquares().fit(chunked(X), da.from_array(Y * magnitude, 700))
    reference = MinNormLeastSquares().fit(X, Y * magnitude)
    if magnitude > 1e150:
        assert ours.residual_sum_of_squares_ == np.inf
        assert reference.residual_sum_of_squares_ == np.inf
    else:
        assert ours.residual_sum_of_squares_ == pytest.approx(
            reference.residual_sum_of_squares_, rel=1e-10
        )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_least_squares_infinite_target_is_a_clear_error(fit_intercept):
    targets = Y.copy()
    targets[5] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        MinNormLeastSquares(fit_intercept=fit_intercept).fit(
            chunked(X), da.from_array(targets, chunks=700)
        )
