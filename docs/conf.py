"""Sphinx configuration for the sksvd documentation.

Build with warnings as errors from the repository root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os

import sksvd

project = "sksvd"
author = "The sksvd developers"
copyright = "the sksvd developers"  # noqa: A001 - Sphinx's own name
release = sksvd.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# Docstrings cite papers as :doi:`…`.
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
# autosummary lists the members; numpydoc would list them a second time.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py.md5"]
templates_path = ["_templates"]
html_theme = "alabaster"
html_theme_options = {"description": "SVD, PCA and minimum-norm least squares"}

# Examples run headless while the gallery is built.
os.environ.setdefault("MPLBACKEND", "Agg")
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Every example runs, not only the plot_* ones: they are all short.
    "filename_pattern": r"\.py$",
    "doc_module": ("sksvd",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sksvd": None},
    "download_all_examples": False,
    "remove_config_comments": True,
}
