"""Warnings sksvd gives, as classes of their own so that they can be filtered."""


class ConstantFeatureWarning(UserWarning):
    """A feature is constant, so ``matrix="correlation"`` cannot scale it.

    The feature keeps scale 1 and contributes nothing to the components.
    Inside a grid search the warning comes once per fit (scikit-learn runs each
    fit under its own warning filters); silence it with::

        import warnings
        from sksvd.exceptions import ConstantFeatureWarning
        warnings.filterwarnings("ignore", category=ConstantFeatureWarning)
    """
