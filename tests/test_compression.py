"""TruncatedSVDCompressor against SciPy, scikit-learn and Eckart–Young."""

import numpy as np
import pandas as pd
import pytest
import scipy.linalg as la
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sksvd import TruncatedSVDCompressor
from tests.hard_matrices import with_spectrum

ALL_SOLVERS = ("auto", "full", "qr", "gram", "randomized", "arpack", "propack")


@pytest.fixture
def decaying(rng):
    """80 × 50 with σᵢ = 0.8ⁱ: exact and randomized solvers agree to 1e-8."""
    return with_spectrum(rng, (80, 50), 0.8 ** np.arange(50))


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("k", [1, 4, 10])
def test_eckart_young_identities(decaying, solver, k):
    X = decaying
    s = la.svdvals(X)
    model = TruncatedSVDCompressor(k, solver=solver, random_state=0, n_iter=10)
    X_k = model.inverse_transform(model.fit_transform(X))
    # SciPy stops PROPACK once the singular values converge, before the vectors.
    rtol = 1e-6 if solver == "propack" else 1e-8
    np.testing.assert_allclose(np.linalg.norm(X - X_k, 2), s[k], rtol=rtol)
    tail = np.sqrt(np.sum(s[k:] ** 2))
    np.testing.assert_allclose(np.linalg.norm(X - X_k), tail, rtol=rtol)
    np.testing.assert_allclose(model.reconstruction_error_, tail, rtol=rtol)
    np.testing.assert_allclose(model.singular_values_, s[:k], rtol=1e-8)


@pytest.mark.parametrize("solver", ("full", "qr", "gram", "arpack", "propack"))
def test_components_match_scikit_learn_truncated_svd(rng, solver):
    X = with_spectrum(rng, (60, 25), np.linspace(10, 1, 25))
    ours = TruncatedSVDCompressor(5, solver=solver, random_state=0).fit(X)
    theirs = TruncatedSVD(5, algorithm="arpack", random_state=0).fit(X)
    atol = 1e-6 if solver == "propack" else 1e-8
    np.testing.assert_allclose(ours.components_, theirs.components_, atol=atol)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=atol * 10)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("energy", [0.5, 0.9, 0.99, 0.999999])
def test_energy_fraction_keeps_the_smallest_sufficient_rank(decaying, solver, energy):
    X = decaying
    s = la.svdvals(X)
    cumulative = np.cumsum(s**2) / np.sum(s**2)
    optimal = int(np.searchsorted(cumulative, energy)) + 1  # first with ≥ energy
    model = TruncatedSVDCompressor(energy, solver=solver, random_state=0).fit(X)
    assert model.n_components_ == optimal
    kept = np.linalg.norm(model.transform(X)) ** 2 / np.linalg.norm(X) ** 2
    assert kept >= energy * (1 - 1e-12)
    np.testing.assert_allclose(np.sum(model.explained_energy_ratio_), kept, rtol=1e-8)


def test_energy_fraction_on_a_flat_spectrum_reaches_past_arpack_limit(rng):
    # Gaussian data has a flat spectrum: 0.9999 needs every component, more than
    # ARPACK can give, so the solver finishes with the dense SVD.
    X = rng.standard_normal((40, 20))
    model = TruncatedSVDCompressor(0.9999, solver="arpack", random_state=0).fit(X)
    assert model.n_components_ == 20


def test_randomized_energy_growth_on_a_large_matrix(rng):
    # Past the block size: the basis must grow several times.
    X = with_spectrum(rng, (1200, 1000), 0.97 ** np.arange(1000))
    s = 0.97 ** np.arange(1000)
    cumulative = np.cumsum(s**2) / np.sum(s**2)
    optimal = int(np.searchsorted(cumulative, 0.95)) + 1
    model = TruncatedSVDCompressor(0.95, random_state=0).fit(X)
    assert optimal <= model.n_components_ <= optimal + 1
    kept = np.linalg.norm(model.transform(X)) ** 2 / np.linalg.norm(X) ** 2
    assert kept >= 0.95


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_fit_transform_agrees_with_transform(decaying, solver):
    model = TruncatedSVDCompressor(5, solver=solver, random_state=0)
    Z = model.fit_transform(decaying)
    np.testing.assert_allclose(Z, model.transform(decaying), atol=1e-7)


def test_attributes_against_their_definitions(decaying):
    X = decaying
    m, n = X.shape
    model = TruncatedSVDCompressor(6, solver="full").fit(X)
    s = la.svdvals(X)
    ratio = s[:6] ** 2 / np.sum(X**2)
    np.testing.assert_allclose(model.explained_energy_ratio_, ratio, rtol=1e-10)
    assert np.all(np.diff(model.explained_energy_ratio_) <= 0)
    assert model.compression_ratio_ == pytest.approx(6 * (m + n + 1) / (m * n))
    assert model.n_components_ == 6
    assert model.components_.shape == (6, n)
    np.testing.assert_allclose(
        model.components_ @ model.components_.T, np.eye(6), atol=1e-12
    )


def test_score_is_the_kept_fraction_of_energy(rng, decaying):
    model = TruncatedSVDCompressor(4).fit(decaying)
    assert model.score(decaying) == pytest.approx(
        np.sum(model.explained_energy_ratio_), rel=1e-10
    )
    new = rng.standard_normal((7, decaying.shape[1]))
    V = model.components_.T
    expected = np.linalg.norm(new @ V) ** 2 / np.linalg.norm(new) ** 2
    assert model.score(new) == pytest.approx(expected, rel=1e-10)
    assert model.score(np.zeros_like(new)) == 1.0


def test_all_zero_matrix():
    model = TruncatedSVDCompressor(0.9).fit(np.zeros((6, 4)))
    assert model.n_components_ == 1
    np.testing.assert_array_equal(model.explained_energy_ratio_, [0.0])
    assert model.reconstruction_error_ == 0.0
    assert model.score(np.zeros((2, 4))) == 1.0


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_sparse_and_dense_give_the_same_fit(rng, solver):
    X = sp.random(60, 30, density=0.3, random_state=rng, format="csr")
    X = X + sp.csr_matrix(np.outer(rng.standard_normal(60), np.ones(30)))
    options = {"solver": solver, "random_state": 0, "n_iter": 10}
    sparse_fit = TruncatedSVDCompressor(3, **options).fit(X)
    dense_fit = TruncatedSVDCompressor(3, **options).fit(X.toarray())
    rtol = 1e-4 if solver == "randomized" else 1e-10
    np.testing.assert_allclose(
        sparse_fit.singular_values_, dense_fit.singular_values_, rtol=rtol
    )
    np.testing.assert_allclose(
        sparse_fit.transform(X), dense_fit.transform(X.toarray()), atol=1e-3
    )


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("n_components", [3, 0.9])
def test_float32_in_float32_out(decaying, solver, n_components):
    X = decaying.astype(np.float32)
    model = TruncatedSVDCompressor(n_components, solver=solver, random_state=0)
    Z = model.fit_transform(X)
    assert Z.dtype == np.float32
    assert model.transform(X).dtype == np.float32
    assert model.inverse_transform(Z).dtype == np.float32
    assert model.components_.dtype == model.singular_values_.dtype == np.float32
    reference = TruncatedSVDCompressor(model.n_components_, solver="full").fit(decaying)
    np.testing.assert_allclose(
        model.singular_values_, reference.singular_values_, rtol=1e-4
    )


def test_pandas_output_and_feature_names(decaying):
    columns = [f"x{i}" for i in range(decaying.shape[1])]
    frame = pd.DataFrame(decaying, columns=columns)
    model = TruncatedSVDCompressor(3).set_output(transform="pandas")
    Z = model.fit_transform(frame)
    assert isinstance(Z, pd.DataFrame)
    expected = [f"truncatedsvdcompressor{i}" for i in range(3)]
    assert list(Z.columns) == expected
    assert list(model.get_feature_names_out()) == expected
    assert list(model.feature_names_in_) == columns
    pd.testing.assert_index_equal(Z.index, frame.index)


def test_grid_search_over_the_rank_in_a_pipeline(rng):
    # y depends on a 3-dimensional latent signal in 40 noisy features: the
    # cross-validated rank should find it.
    latent = rng.standard_normal((300, 3))
    X = latent @ rng.standard_normal((3, 40)) + 0.3 * rng.standard_normal((300, 40))
    y = latent @ np.array([1.0, -2.0, 0.5]) + 0.05 * rng.standard_normal(300)
    pipeline = make_pipeline(TruncatedSVDCompressor(random_state=0), Ridge(1e-3))
    search = GridSearchCV(
        pipeline, {"truncatedsvdcompressor__n_components": [1, 2, 3, 8, 20]}, cv=3
    )
    search.fit(pd.DataFrame(X), y)
    assert search.best_params_["truncatedsvdcompressor__n_components"] >= 3
    assert search.best_score_ > 0.95


def test_unsupervised_grid_search_uses_score(decaying):
    search = GridSearchCV(TruncatedSVDCompressor(), {"n_components": [1, 5]}, cv=3)
    search.fit(decaying)
    assert search.best_params_ == {"n_components": 5}


def test_too_many_components_names_the_limit(rng):
    with pytest.raises(ValueError, match=r"n_components=9 must be between 1 and"):
        TruncatedSVDCompressor(9).fit(rng.standard_normal((8, 5)))


def test_inverse_transform_checks_its_width(decaying):
    model = TruncatedSVDCompressor(3).fit(decaying)
    with pytest.raises(ValueError, match="n_components_=3"):
        model.inverse_transform(np.ones((2, 4)))


def test_transform_checks_the_feature_count(decaying):
    model = TruncatedSVDCompressor(3).fit(decaying)
    with pytest.raises(ValueError, match="features"):
        model.transform(decaying[:, :-1])


@pytest.mark.parametrize("n_components", [0, -1, 1.0, 1.5, 0.0, "2"])
def test_invalid_n_components(decaying, n_components):
    with pytest.raises((ValueError, TypeError), match="n_components"):
        TruncatedSVDCompressor(n_components).fit(decaying)


def test_input_is_not_modified(decaying):
    X = np.asfortranarray(decaying.copy())
    before = X.copy()
    for solver in ALL_SOLVERS:
        TruncatedSVDCompressor(3, solver=solver, random_state=0).fit_transform(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("magnitude", [1e-170, 1e170])
def test_energy_rank_does_not_depend_on_magnitude(rng, magnitude):
    # The randomized path (min side ≥ 1000) measures energy relative to ‖X‖_F.
    # Rank 5: the first block of the sketch reaches the energy, so "auto" keeps
    # the randomized solver (a larger rank would hand over to LAPACK).
    X = rng.standard_normal((1200, 5)) @ rng.standard_normal((5, 1000))
    X += 0.1 * rng.standard_normal(X.shape)
    plain = TruncatedSVDCompressor(0.9, random_state=0).fit(X)
    scaled = TruncatedSVDCompressor(0.9, random_state=0).fit(X * magnitude)
    assert scaled.solver_ == plain.solver_ == "randomized"
    assert scaled.n_components_ == plain.n_components_
    np.testing.assert_allclose(
        scaled.explained_energy_ratio_, plain.explained_energy_ratio_, rtol=1e-10
    )


def test_solver_attribute_reports_the_guard(rng):
    # Läuchli-type tall matrix: "auto" tries Gram and falls back to QR.
    n, mu = 6, 1e-6
    X = np.vstack([np.ones((1, n)), mu * np.eye(n), np.zeros((5 * n, n))])
    assert TruncatedSVDCompressor(n).fit(X).solver_ == "qr"
    assert TruncatedSVDCompressor(2).fit(rng.standard_normal((300, 10))).solver_ == (
        "gram"
    )


def test_arpack_energy_on_a_single_column():
    model = TruncatedSVDCompressor(0.9, solver="arpack", random_state=0)
    model.fit(np.arange(1.0, 11.0).reshape(-1, 1))
    assert model.n_components_ == 1


def test_a_frobenius_norm_beyond_float64_is_a_clear_error(rng):
    X = rng.uniform(0.5, 1.0, (40, 3)) * 1e308  # finite, but ‖X‖_F is not
    with pytest.raises(ValueError, match="Frobenius norm of X overflows"):
        TruncatedSVDCompressor(2).fit(X)


def test_energy_sketch_gives_way_to_lapack_on_a_flat_spectrum(rng):
    # Growing a sketch to half the energy of a flat spectrum would take some
    # 180 columns, each costing 2·n_iter + 2 products with X: "auto" runs LAPACK
    # once the sketch would pass 3 % of the short side, with the exact rank.
    X = rng.standard_normal((1000, 1000))
    compressor = TruncatedSVDCompressor(0.5, random_state=0).fit(X)
    assert compressor.solver_ == "full"
    s = np.linalg.svd(X, compute_uv=False)
    exact_rank = int(np.searchsorted(np.cumsum(s**2) / np.sum(s**2), 0.5)) + 1
    assert compressor.n_components_ == exact_rank
    np.testing.assert_allclose(compressor.singular_values_, s[:exact_rank], rtol=1e-12)


def test_energy_sketch_limit_only_applies_to_auto_on_dense_data(rng, monkeypatch):
    import sksvd.linalg._decompose as decompose_module

    widths = []
    grow = decompose_module.randomized_svd_by_energy

    def spy(*args, max_width=None, **kwargs):
        widths.append(max_width)
        return grow(*args, max_width=max_width, **kwargs)

    monkeypatch.setattr(decompose_module, "randomized_svd_by_energy", spy)
    X = rng.standard_normal((1100, 3)) @ rng.standard_normal((3, 1000))
    auto = TruncatedSVDCompressor(0.9, random_state=0).fit(X)
    named = TruncatedSVDCompressor(0.9, solver="randomized", random_state=0).fit(X)
    sparse = TruncatedSVDCompressor(0.9, random_state=0).fit(sp.csr_matrix(X))
    assert auto.solver_ == named.solver_ == sparse.solver_ == "randomized"
    # 3 % of the short side for "auto" on dense data; no limit when the solver is
    # named, nor for sparse data (which LAPACK would have to densify).
    assert widths == [0.03 * 1000, None, None]
    assert auto.n_components_ == named.n_components_ == sparse.n_components_ == 3


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("shape", [(400, 300), (300, 1500)])
def test_lanczos_fit_transform_is_transform(rng, sparse, shape):
    """fit_transform returns U Σ from block Lanczos on tall X (X v = σ u to
    rounding), X V on wide X (factored as Xᵀ, where the identity holds only
    to the convergence test, 123·eps·σ₁ seen): the same scores as transform
    to a few eps·σ₁ either way."""
    import scipy.sparse as sp_

    X = rng.standard_normal(shape) @ np.diag(np.logspace(0, -3, shape[1]))
    X = sp_.csr_matrix(X) if sparse else X
    model = TruncatedSVDCompressor(7, solver="lanczos")
    scores = model.fit_transform(X)
    assert model.solver_ == "lanczos"
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(
        scores, model.transform(X), rtol=0, atol=40 * eps * model.singular_values_[0]
    )
