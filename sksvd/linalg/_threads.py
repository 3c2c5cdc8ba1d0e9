"""BLAS thread limits for small problems, safe under concurrent callers."""

import contextlib
import threading

# Below these amounts of work (m·n·min(m, n)) a second BLAS thread costs more
# than it brings: NumPy and SciPy each load their own OpenBLAS, whose idle
# threads spin and steal the core the other library is computing on (a 3200 × 100
# SVD ran 1.7× slower by LAPACK and 3.7× by the Gram path with two threads on a
# 2-core machine). Measured crossovers, with a margin.
SINGLE_THREAD_WORK = {"gram": 1e9, "full": 5e7, "qr": 5e7}
_DEFAULT_WORK = 5e7

_CONTROLLER = []
# Held by the one call that has lowered the limit. threadpoolctl's limits are
# process-wide and restore what they found on entry: two overlapping limits
# restore in the wrong order and leave BLAS at one thread for good. So only one
# caller at a time lowers the limit; concurrent callers run as they find BLAS
# (the threads of several Python callers share the cores anyway).
_LIMITER = threading.Lock()
_CONTROLLER_LOCK = threading.Lock()


def _controller():
    with _CONTROLLER_LOCK:
        if not _CONTROLLER:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


@contextlib.contextmanager
def blas_threads_for(shape, solver):
    """Run BLAS on one thread for small problems, and as configured otherwise."""
    limit = SINGLE_THREAD_WORK.get(solver, _DEFAULT_WORK)
    if shape[0] * shape[1] * min(shape) > limit or not _LIMITER.acquire(blocking=False):
        yield
        return
    try:
        with _controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        _LIMITER.release()
