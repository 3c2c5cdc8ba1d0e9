"""What a user switching from scikit-learn expects: PCA(0), batched fits, warnings.

References are scikit-learn's own PCA and IncrementalPCA, and sksvd's one-pass
fit (itself checked against LAPACK elsewhere).
"""

import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sksvd import PCAViaSVD
from sksvd.exceptions import ConstantFeatureWarning


@pytest.fixture
def data(rng):
    return rng.standard_normal((103, 7)) @ rng.standard_normal((7, 7)) + 5.0


def test_no_component_is_the_noise_model(data):
    # scikit-learn's test_pca_score3 loops over n_components from 0.
    ours, theirs = PCAViaSVD(0).fit(data), PCA(0).fit(data)
    assert ours.components_.shape == theirs.components_.shape == (0, 7)
    assert ours.noise_variance_ == pytest.approx(theirs.noise_variance_, rel=1e-12)
    assert ours.score(data) == pytest.approx(theirs.score(data), rel=1e-12)
    assert ours.transform(data).shape == (103, 0)
    np.testing.assert_allclose(ours.get_precision(), theirs.get_precision(), rtol=1e-10)
    np.testing.assert_allclose(
        ours.inverse_transform(ours.transform(data)),
        np.broadcast_to(data.mean(0), data.shape),
    )


@pytest.mark.parametrize("solver", ["randomized", "arpack", "propack"])
def test_no_component_needs_the_whole_spectrum(data, solver):
    with pytest.raises(ValueError, match="n_components=0"):
        PCAViaSVD(0, solver=solver).fit(data)


def _kinds(X, tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, X)
    return {
        "dense": X,
        "sparse": sp.csr_matrix(X),
        "dask": da.from_array(X, chunks=(20, X.shape[1])),
        "memmap": np.load(path, mmap_mode="r"),
    }


@pytest.mark.parametrize("batch_size", [1, 10, 50, 1000])
@pytest.mark.parametrize("kind", ["dense", "sparse", "dask", "memmap"])
@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
def test_batched_fit_equals_one_pass(data, tmp_path, batch_size, kind, matrix):
    one_pass = PCAViaSVD(3, matrix=matrix).fit(data)
    X = _kinds(data, tmp_path)[kind]
    batched = PCAViaSVD(3, matrix=matrix).fit(X, batch_size=batch_size)
    for name in ("components_", "explained_variance_", "mean_", "scale_", "var_"):
        np.testing.assert_allclose(
            getattr(batched, name), getattr(one_pass, name), rtol=1e-9, atol=1e-12
        )
    assert batched.noise_variance_ == pytest.approx(one_pass.noise_variance_)
    assert batched.n_samples_seen_ == 103
    assert batched.solver_ in ("full", "qr")
    # A batched fit may be continued, as a fit of the whole spectrum may.
    batched.partial_fit(data[:5])
    assert batched.n_samples_seen_ == 108


def test_batched_fit_with_weights_and_float32(data):
    w = np.arange(103) % 3.0
    w[:4] = 0.0  # the first batch must grow until its weights exceed 1
    expected = PCAViaSVD(3).fit(data, sample_weight=w)
    got = PCAViaSVD(3).fit(data, sample_weight=w, batch_size=2)
    np.testing.assert_allclose(got.components_, expected.components_, atol=1e-12)
    single = PCAViaSVD(3).fit(data.astype(np.float32), batch_size=10)
    assert single.components_.dtype == np.float32
    reference = PCAViaSVD(3).fit(data.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(single.components_, reference.components_, atol=1e-5)


def test_batched_fit_equals_incremental_pca_where_that_is_exact(data):
    # IncrementalPCA keeps every component when n_components is None: then it
    # is exact too, and the two agree.
    from sklearn.decomposition import IncrementalPCA

    ours = PCAViaSVD().fit(data, batch_size=20)
    theirs = IncrementalPCA(batch_size=20).fit(data)
    np.testing.assert_allclose(
        ours.explained_variance_, theirs.explained_variance_, rtol=1e-10
    )
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-10)
    np.testing.assert_allclose(
        np.abs(ours.components_), np.abs(theirs.components_), atol=1e-9
    )


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_bad_batch_size(data, batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        PCAViaSVD().fit(data, batch_size=batch_size)


def test_batch_size_takes_an_exact_solver(data):
    with pytest.raises(ValueError, match="solver='arpack'"):
        PCAViaSVD(2, solver="arpack").fit(data, batch_size=10)


def test_constant_feature_warning_points_at_the_caller(data):
    data = data.copy()
    data[:, 2] = 1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        PCAViaSVD(matrix="correlation").fit(data)
        make_pipeline(
            FunctionTransformer(), PCAViaSVD(matrix="correlation")
        ).fit_transform(data)
    assert [w.category for w in caught] == [ConstantFeatureWarning] * 2
    assert caught[0].filename == __file__
    # In a pipeline, the line of scikit-learn that called fit.
    assert caught[1].filename.endswith("pipeline.py")
    assert issubclass(ConstantFeatureWarning, UserWarning)


def test_constant_feature_warning_can_be_silenced_in_a_search(data):
    data = data.copy()
    data[:, 2] = 1.0
    y = data[:, 0] > 5
    from sklearn.linear_model import LogisticRegression

    search = GridSearchCV(
        make_pipeline(PCAViaSVD(matrix="correlation"), LogisticRegression()),
        {"pcaviasvd__n_components": [2, 3]},
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=ConstantFeatureWarning)
        search.fit(data, y)
