"""The engine's boundary: the policy table, operands, the Gram accumulation, routes."""

import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

import sksvd.linalg._gram as gram_module
import sksvd.linalg._lstsq as lstsq_module
from sksvd.linalg import lstsq, svd
from sksvd.linalg._decompose import decompose
from sksvd.linalg._gram import gram_matrix
from sksvd.linalg._operand import CenteredOperator, Operand, centred_product
from sksvd.linalg._policy import (
    BACKWARD_STABLE_SOLVERS,
    SOLVERS,
    TRAITS,
    WHOLE_SPECTRUM_SOLVERS,
    check_solver_input,
    choose_least_squares_solver,
    gram_error_estimate,
)


def test_capability_lists_come_from_the_table():
    assert set(SOLVERS) == {"auto", *TRAITS}
    assert set(BACKWARD_STABLE_SOLVERS) == {"full", "qr"}
    assert set(WHOLE_SPECTRUM_SOLVERS) == {"full", "qr", "gram", "dask"}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ["dense", "sparse", "dask"])
def test_every_solver_name_is_accepted_or_refused_clearly(solver, kind):
    if solver == "auto" or kind in TRAITS[solver].inputs:
        check_solver_input(solver, kind)
    else:
        with pytest.raises(ValueError, match=f"solver='{solver}' cannot"):
            check_solver_input(solver, kind)


@pytest.mark.parametrize(
    ("shape", "options", "route"),
    [
        ((100_000, 200), {}, "gram"),
        ((100_000, 200), {"gram": False}, "gelsd"),
        ((100_000, 200), {"need": "u"}, "qr"),
        ((100_000, 200), {"need": "factors", "gram": False}, "qr"),
        ((300, 200), {}, "gelsd"),
        ((300, 200), {"max_rank": 5}, "full"),
        ((300, 100), {"max_rank": 5}, "qr"),
        ((300, 100), {"kind": "sparse"}, "lsmr"),
        ((300, 100), {"kind": "sparse", "max_rank": 5}, "arpack"),
        ((300, 100), {"kind": "sparse", "max_rank": 99}, "arpack"),
        ((300, 100), {"kind": "sparse", "max_rank": 100}, "lsmr"),
        ((300, 200), {"rcond": 1.0}, "full"),
        ((300, 200), {"rcond": 0.0}, "full"),
        ((300, 100), {"kind": "dask"}, "dask"),
    ],
)
def test_least_squares_policy_table(shape, options, route):
    assert choose_least_squares_solver(shape, **options) == route


def test_gram_estimate_grows_with_the_row_blocks():
    s = np.array([10.0, 1.0])
    one_block = gram_error_estimate(s, 1000)
    assert one_block == pytest.approx(np.finfo(np.float64).eps * 100)
    # 2**20 rows are 64 blocks: one rounding per level of the pairwise sum.
    assert gram_error_estimate(s, 2**20) == pytest.approx(7 * one_block)
    assert gram_error_estimate(np.array([1.0, 0.0]), 10) == np.inf


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_gram_equals_the_direct_product(
    rng, monkeypatch, dtype, centred, weighted
):
    # Blocks of 7 rows force many partial sums, an odd last block and the
    # pairwise tree; the reference is one float64 product of the prepared data.
    monkeypatch.setattr(gram_module, "GRAM_BLOCK_ROWS", 7)
    X = (rng.standard_normal((200, 6)) + 3.0).astype(dtype)
    mean = X.mean(axis=0, dtype=np.float64) if centred else None
    weights = rng.uniform(0.5, 2.0, 200) if weighted else None
    G, unit, _ = gram_matrix(X, mean, weights)
    Z = X.astype(np.float64)
    if centred:
        Z = Z - mean
    if weighted:
        Z = Z * np.sqrt(weights)[:, None]
    assert unit == 1.0
    np.testing.assert_allclose(G, Z.T @ Z, rtol=1e-13, atol=1e-13 * np.abs(G).max())


def test_gram_and_sums_come_from_one_pass_and_match_the_references(rng, monkeypatch):
    # Blocks of 7 rows: many partial sums, an odd last block, the pairwise tree.
    monkeypatch.setattr(gram_module, "GRAM_BLOCK_ROWS", 7)
    X = rng.standard_normal((200, 6)) + 1e3 * rng.standard_normal(6)
    G, sums = gram_module.gram_and_sums(X)
    np.testing.assert_allclose(G, X.T @ X, rtol=1e-14, atol=1e-14 * np.abs(G).max())
    exact = np.array([math.fsum(column) for column in X.T])
    np.testing.assert_allclose(sums, exact, rtol=4 * np.finfo(np.float64).eps)
    # Formed as the mean's own pass forms them (one thread count, same bits).
    np.testing.assert_array_equal(sums, gram_module.column_sums(X))
    empty = np.empty((0, 3))
    assert gram_module.column_sums(empty).tolist() == [0.0, 0.0, 0.0]
    G0, sums0 = gram_module.gram_and_sums(empty)
    assert G0.shape == (3, 3) and not G0.any() and not sums0.any()


@pytest.mark.parametrize(("n_features", "rows"), [(1, 1024), (50, 1024), (500, 8000)])
def test_gram_blocks_follow_the_width(n_features, rows):
    # 16 rows per feature, at least 1024, at most GRAM_BLOCK_ROWS and 32 MiB.
    assert gram_module.row_block_size(n_features) == rows
    assert gram_module.row_block_size(4096) == 1024
    assert gram_module.row_block_size(10**6) == 4


def test_gram_rescales_data_whose_squares_overflow(rng):
    X = rng.standard_normal((50, 3)) * 1e200
    G, unit, _ = gram_matrix(X)
    assert np.all(np.isfinite(G))
    reference = (X / unit).T @ (X / unit)
    np.testing.assert_allclose(G, reference, rtol=1e-13)


@pytest.mark.parametrize("size", [1e200, 1e-200, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_centred_gram_rescales_only_where_squares_leave_the_range(rng, size, weighted):
    # Means far beside the spread: the centred blocks are formed, and divided
    # by their largest magnitude only where their squares would overflow or
    # underflow (checked on the unscaled result first).
    X = rng.standard_normal((3000, 4)) * size + 1e3 * size
    mean = X.mean(axis=0)
    weights = rng.uniform(0.5, 2.0, 3000) if weighted else None
    G, unit, cancellation = gram_matrix(X, mean, weights)
    assert cancellation == 1.0  # centred, not XᵀX − n·μμᵀ
    assert (unit == 1.0) == (size == 1.0)
    Z = (X - mean) / unit
    if weighted:
        Z = Z * np.sqrt(weights)[:, None]
    np.testing.assert_allclose(G, Z.T @ Z, rtol=1e-12, atol=1e-12 * np.abs(G).max())


def test_centred_operator_matches_the_dense_centred_matrix(rng):
    X = sp.random(60, 8, density=0.4, random_state=0, format="csr")
    X = X + sp.csr_matrix(np.outer(np.ones(60), [0, 0, 0, 0, 0, 0, 1e9, 0]))
    mean = np.asarray(X.mean(axis=0)).ravel()
    scale = rng.uniform(0.5, 2.0, 8)
    root = np.sqrt(rng.uniform(0.5, 2.0, 60))
    explicit = np.zeros(8, dtype=bool)
    explicit[6] = True
    operator = CenteredOperator(X, mean, scale, row_scale=root, explicit=explicit)
    dense = root[:, None] * (X.toarray() - mean) / scale
    W = rng.standard_normal((8, 3))
    U = rng.standard_normal((60, 3))
    np.testing.assert_allclose(operator.matmat(W), dense @ W, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(operator.rmatmat(U), dense.T @ U, rtol=1e-9, atol=1e-9)


def test_centred_product_does_not_cancel_on_large_means(rng):
    noise = np.round(rng.standard_normal((500, 4)) * 4) / 4
    dense = 1e12 + noise  # quarters are exact at 1e12 (its ulp is 2⁻¹³)
    X = sp.csr_matrix(dense)
    mean = dense.mean(axis=0)
    W = rng.standard_normal((4, 2))
    # Values and mean lie within a factor 2: the subtraction is exact (Sterbenz).
    exact = (dense - mean) @ W
    explicit = np.ones(4, dtype=bool)
    np.testing.assert_allclose(
        centred_product(X, mean, W, explicit), exact, atol=1e-9 * np.abs(exact).max()
    )


def test_operand_never_modifies_its_data(rng):
    X = rng.standard_normal((100, 5))
    X.setflags(write=False)
    copy = X.copy()
    operand = Operand(X, mean=X.mean(axis=0), scale=lambda norms: norms)
    for solver in ("gram", "full", "qr", "randomized", "arpack"):
        decompose(operand, 2, solver=solver, random_state=0)
    np.testing.assert_array_equal(X, copy)


def test_scale_rule_sees_the_centred_column_norms(rng):
    X = rng.standard_normal((400, 5)) * [1, 2, 3, 4, 5] + 7.0
    expected = np.linalg.norm(X - X.mean(axis=0), axis=0)
    for solver in ("gram", "full", "arpack"):
        seen = []
        operand = Operand(
            X,
            mean=X.mean(axis=0),
            scale=lambda norms, seen=seen: seen.append(norms) or np.ones(5),
        )
        decompose(operand, 2, solver=solver, random_state=0)
        np.testing.assert_allclose(seen[0], expected, rtol=1e-12)


def test_result_names_the_solver_and_pickles(rng):
    X = rng.standard_normal((300, 20))
    result = svd(X, 3)
    assert result.solver == "gram"
    U, s, Vt = result  # still a triple
    restored = pickle.loads(pickle.dumps(result))
    assert restored.solver == "gram"
    np.testing.assert_array_equal(restored.s, s)


def test_least_squares_forms_the_gram_matrix_once(rng, monkeypatch):
    # Ill-conditioned and tall: the Gram attempt is rejected; with max_rank the
    # fallback is QR, which must not form AᵀA again.
    calls = []
    original = lstsq_module.gram_matrix

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(lstsq_module, "gram_matrix", counting)
    A = rng.standard_normal((2000, 20)) * np.logspace(0, -8, 20)
    b = rng.standard_normal(2000)
    x, _, rank, _ = lstsq(A, b, max_rank=10)
    assert len(calls) == 1 and rank == 10
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    reference = Vt[:10].T @ ((U[:, :10].T @ b) / s[:10])
    np.testing.assert_allclose(x, reference, rtol=1e-10)


@pytest.mark.parametrize(
    "magnitude", [1e-300, 1e-170, 1e-150, 1e-120, 1.0, 1e120, 1e150, 1e170, 1e300]
)
def test_norms_are_exact_at_every_magnitude(rng, magnitude):
    """Column and Frobenius norms against mpmath, whatever the magnitude: the
    one-pass sum of squares where it is exact, rescaling where squares would
    underflow (losing digits) or overflow; zero columns stay zero."""
    import mpmath

    from sksvd.linalg._norms import column_norms, frobenius_norm

    X = rng.standard_normal((300, 4)) * magnitude
    X[:, 2] = 0.0
    X[5, 3] *= 1e8  # one entry far above the rest of its column
    mpmath.mp.dps = 40

    def exact(values):
        return float(mpmath.sqrt(mpmath.fsum(mpmath.mpf(v) ** 2 for v in values)))

    expected = np.array([exact(column) for column in X.T])
    np.testing.assert_allclose(column_norms(X), expected, rtol=1e-14)
    assert column_norms(X)[2] == 0.0
    if np.isfinite(expected).all() and exact(X.ravel()) < np.finfo(float).max:
        np.testing.assert_allclose(frobenius_norm(X), exact(X.ravel()), rtol=1e-14)


def test_norms_of_non_finite_columns():
    from sksvd.linalg._norms import column_norms, frobenius_norm

    X = np.array([[1.0, np.inf, np.nan], [2.0, 1.0, 1.0]])
    norms = column_norms(X)
    assert norms[0] == np.sqrt(5.0) and norms[1] == np.inf and np.isnan(norms[2])
    assert not np.isfinite(frobenius_norm(X))
