"""The one place where sksvd imports private names from scikit-learn.

scikit-learn moves private helpers between releases; keeping every such import here
means a release that moves one breaks this file and nothing else.
"""

from sklearn.base import _fit_context
from sklearn.decomposition._pca import _infer_dimension as infer_pca_dimension
from sklearn.utils._param_validation import (
    Interval,
    Options,
    RealNotInt,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_sample_weight as check_sample_weight

# Array-API input (PyTorch, CuPy, array-api-strict under array_api_dispatch):
# scikit-learn's helpers and its vendored array-api-compat. None of them imports
# an array library; array-api-compat recognises an array by the modules already
# loaded.
try:
    from sklearn.externals.array_api_compat import is_array_api_obj
    from sklearn.utils._array_api import (
        _is_numpy_namespace as is_numpy_namespace,
    )
    from sklearn.utils._array_api import (
        _max_precision_float_dtype as max_precision_float_dtype,
    )
    from sklearn.utils._array_api import (
        get_namespace_and_device,
        move_to,
    )
except ImportError:  # scikit-learn before 1.8: no array-API input
    is_array_api_obj = is_numpy_namespace = max_precision_float_dtype = None
    get_namespace_and_device = move_to = None
try:
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # scikit-learn before 1.9 does not check this

    def check_same_namespace(X, estimator, *, attribute, method):
        """scikit-learn's check is missing: X's namespace is not compared."""


__all__ = [
    "Interval",
    "Options",
    "RealNotInt",
    "StrOptions",
    "_fit_context",
    "check_same_namespace",
    "check_sample_weight",
    "get_namespace_and_device",
    "infer_pca_dimension",
    "is_array_api_obj",
    "is_numpy_namespace",
    "max_precision_float_dtype",
    "move_to",
    "validate_params",
]
