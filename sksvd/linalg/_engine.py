"""The engine's surface for the estimators: everything they use, and nothing else.

The estimators validate input, compute the statistics that define their operand
(means, the column-scaling rule, row weights), make one call to
:func:`decompose` or :func:`least_squares`, and store what comes back. They
import from this module only, so the solver modules behind it can change freely.
"""

from sksvd.linalg._checks import check_rank
from sksvd.linalg._dask import (
    check_dask_array,
    lazily_checked,
    raise_if_not_finite,
)
from sksvd.linalg._dask_statistics import (
    column_moments,
    lazy_frobenius_norm,
)
from sksvd.linalg._decompose import decompose
from sksvd.linalg._impute import complete_low_rank, impute_rows
from sksvd.linalg._loo import leave_one_out_predictions
from sksvd.linalg._lstsq import (
    cut_off,
    default_rcond,
    least_squares,
    solve_from_factors,
)
from sksvd.linalg._namespace import (
    column_range,
    detached,
    float_dtypes,
    move_attributes,
    namespace_of,
    numpy_dtype,
    promoted,
    refuse,
    take_rows,
    times,
    to_numpy,
)
from sksvd.linalg._norms import canonical, frobenius_norm
from sksvd.linalg._operand import (
    Operand,
    centred_product,
    explicit_columns,
    input_kind,
    sparse_centred_norms,
)
from sksvd.linalg._policy import (
    ARRAY_API_SOLVERS,
    BACKWARD_STABLE_SOLVERS,
    LSTSQ_SOLVERS,
    PARTIAL_SPECTRUM_SOLVERS,
    SOLVERS,
    check_solver_input,
    largest_rank,
)
from sksvd.linalg._statistics import centred_column_norms, column_mean

__all__ = [
    "ARRAY_API_SOLVERS",
    "BACKWARD_STABLE_SOLVERS",
    "LSTSQ_SOLVERS",
    "PARTIAL_SPECTRUM_SOLVERS",
    "SOLVERS",
    "Operand",
    "canonical",
    "centred_product",
    "check_dask_array",
    "check_rank",
    "check_solver_input",
    "column_mean",
    "column_moments",
    "column_range",
    "complete_low_rank",
    "centred_column_norms",
    "cut_off",
    "decompose",
    "detached",
    "default_rcond",
    "explicit_columns",
    "float_dtypes",
    "frobenius_norm",
    "impute_rows",
    "input_kind",
    "largest_rank",
    "lazily_checked",
    "lazy_frobenius_norm",
    "least_squares",
    "leave_one_out_predictions",
    "move_attributes",
    "namespace_of",
    "numpy_dtype",
    "promoted",
    "raise_if_not_finite",
    "refuse",
    "solve_from_factors",
    "sparse_centred_norms",
    "take_rows",
    "times",
    "to_numpy",
]
