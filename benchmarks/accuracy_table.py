"""Measured accuracy of every solver on hard matrices, as an reStructuredText table.

For each matrix and solver: the largest error of the singular values against a
50-digit reference (mpmath), in units of eps·σ₁; the backward error
‖A − UΣVᵀ‖₂/‖A‖₂ and the loss of orthogonality max|UᵀU − I|, in units of eps.
Truncated solvers are asked for the 3 leading triplets (their backward error is
then that of the truncation, not shown). Run from the repository root::

    python benchmarks/accuracy_table.py
"""

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))
from sksvd.linalg import svd  # noqa: E402
from tests.hard_matrices import (  # noqa: E402
    HARD_MATRICES,
    reference_singular_values,
)

EPS = np.finfo(np.float64).eps
SOLVERS = ("full", "qr", "gram", "auto", "randomized", "arpack", "propack")


def measure(A, s_ref, solver):
    k = None if solver in ("full", "qr", "gram", "auto") else 3
    U, s, Vt = svd(A, k, solver=solver, random_state=0)
    values = np.max(np.abs(s - s_ref[: s.size])) / (EPS * s_ref[0])
    if k is None:
        backward = np.linalg.norm(A - (U * s) @ Vt, 2) / np.linalg.norm(A, 2) / EPS
        cell = f"{values:.3g} / {backward:.3g} / "
    else:
        cell = f"{values:.3g} / – / "
    orthogonality = np.max(np.abs(U.T @ U - np.eye(s.size))) / EPS
    return cell + f"{orthogonality:.3g}"


def main():
    names = list(HARD_MATRICES)
    rows = []
    for name in names:
        A = HARD_MATRICES[name]()
        s_ref = reference_singular_values(A)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows.append([name] + [measure(A, s_ref, solver) for solver in SOLVERS])
    header = ["matrix", *SOLVERS]
    widths = [
        max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))
    ]
    rule = "  ".join("=" * width for width in widths)
    print(rule)
    print(
        "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))
    )
    print(rule)
    for row in rows:
        print(
            "  ".join(
                cell.ljust(width) for cell, width in zip(row, widths, strict=True)
            )
        )
    print(rule)


if __name__ == "__main__":
    main()
