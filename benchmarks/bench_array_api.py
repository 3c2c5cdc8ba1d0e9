"""The three estimators on PyTorch tensors against the same fits on NumPy arrays.

On the CPU: ``TruncatedSVDCompressor``, ``PCAViaSVD`` and ``MinNormLeastSquares``
fitted on a NumPy array and on a PyTorch tensor of the same data (array-API
dispatch on), as ratios torch / NumPy, with the largest difference of the results.
When a CUDA device is present: the same fits on a CUDA tensor, and scikit-learn's
``PCA`` with array-API dispatch on the same CUDA tensor as the peer.

Run (PyTorch installed, SciPy's array-API mode on)::

    SCIPY_ARRAY_API=1 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_array_api.py [--quick]
"""

import argparse
import os
import sys

import numpy as np

if os.environ.get("SCIPY_ARRAY_API") != "1":
    sys.exit("Set SCIPY_ARRAY_API=1 before running (scikit-learn's dispatch needs it).")

import torch  # noqa: E402
from _timing import describe_blas, median_time  # noqa: E402
from sklearn import config_context  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from sksvd import MinNormLeastSquares, PCAViaSVD, TruncatedSVDCompressor  # noqa: E402


def _workloads(quick):
    scale = 10 if quick else 1
    rng = np.random.default_rng(0)
    tall = rng.standard_normal((200_000 // scale, 50)) @ np.diag(np.linspace(4, 1, 50))
    square = rng.standard_normal((4000 // scale, 2000 // scale))
    design = rng.standard_normal((100_000 // scale, 200))
    y = design @ rng.standard_normal(200) + rng.standard_normal(design.shape[0])
    return [
        ("PCAViaSVD(20), tall", lambda: PCAViaSVD(20), tall, None, PCA(20)),
        (
            "PCAViaSVD(20, correlation), tall",
            lambda: PCAViaSVD(20, matrix="correlation"),
            tall,
            None,
            None,
        ),
        (
            "TruncatedSVDCompressor(50), square",
            lambda: TruncatedSVDCompressor(50, solver="full"),
            square,
            None,
            None,
        ),
        (
            "TruncatedSVDCompressor(20, randomized)",
            lambda: TruncatedSVDCompressor(20, solver="randomized", random_state=0),
            square,
            None,
            None,
        ),
        ("MinNormLeastSquares, tall", lambda: MinNormLeastSquares(), design, y, None),
    ]


def _result(estimator):
    for name in ("components_", "coef_"):
        if hasattr(estimator, name):
            value = getattr(estimator, name)
            return value.cpu().numpy() if hasattr(value, "cpu") else value
    raise AssertionError


def _fit(make, X, y, synchronize=None):
    def run():
        estimator = make().fit(X) if y is None else make().fit(X, y)
        if synchronize is not None:
            synchronize()
        return estimator

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("\n".join(describe_blas()))
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        print(f"\n## {device}")
        print(
            f"{'workload':40s} {'numpy':>9s} {'torch':>9s} {'ratio':>7s} "
            f"{'max diff':>9s} {'peer':>9s}"
        )
        sync = torch.cuda.synchronize if device == "cuda" else None
        for name, make, X, y, peer in _workloads(args.quick):
            numpy_time, reference = median_time(_fit(make, X, y), args.repeats)
            X_t = torch.asarray(X, device=device)
            y_t = None if y is None else torch.asarray(y, device=device)
            with config_context(array_api_dispatch=True):
                torch_time, fitted = median_time(
                    _fit(make, X_t, y_t, sync), args.repeats
                )
                peer_time = float("nan")
                if peer is not None and device == "cuda":
                    peer_time, _ = median_time(
                        _fit(lambda p=peer: p, X_t, None, sync), args.repeats
                    )
            difference = np.max(np.abs(_result(fitted) - _result(reference)))
            print(
                f"{name:40s} {numpy_time * 1e3:8.1f}ms {torch_time * 1e3:8.1f}ms "
                f"{torch_time / numpy_time:6.2f}x {difference:9.1e} "
                f"{peer_time * 1e3:8.1f}ms"
            )


if __name__ == "__main__":
    main()
