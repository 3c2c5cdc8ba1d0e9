"""Checks of a requested rank against the data, shared by the engine and estimators."""


def check_rank(rank, shape, solver, name="n_components"):
    """Raise a ValueError naming the problem if ``rank`` components can't be had.

    Every solver returns at most ``min(n_samples, n_features)`` components; ARPACK
    returns at most one fewer.
    """
    n_samples, n_features = shape
    largest = min(n_samples, n_features)
    if solver == "arpack":
        largest -= 1
        if rank > largest:
            raise ValueError(
                f"{name}={rank} is too large for solver='arpack', which returns "
                f"at most min(n_samples, n_features) - 1 = {largest} components "
                f"(n_samples={n_samples}, n_features={n_features}). Use a smaller "
                f"{name} or solver='full'."
            )
    if rank > largest:
        raise ValueError(
            f"{name}={rank} must be between 1 and min(n_samples, n_features)="
            f"{largest} (n_samples={n_samples}, n_features={n_features})."
        )
