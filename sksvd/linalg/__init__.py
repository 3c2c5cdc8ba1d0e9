"""The decomposition engine: SVD solvers, the ``"auto"`` policy and low-rank helpers.

Functions here take and return plain arrays and know nothing about estimators.
"""

from sksvd.linalg._low_rank import (
    eckart_young_error,
    energy_ratio,
    low_rank_approximation,
)
from sksvd.linalg._lstsq import default_rcond
from sksvd.linalg._pinv import (
    lstsq,
    null_space,
    null_vector,
    pinv,
)
from sksvd.linalg._policy import choose_solver
from sksvd.linalg._result import SVDResult
from sksvd.linalg._svd import svd

__all__ = [
    "SVDResult",
    "choose_solver",
    "default_rcond",
    "eckart_young_error",
    "energy_ratio",
    "low_rank_approximation",
    "lstsq",
    "null_space",
    "null_vector",
    "pinv",
    "svd",
]
