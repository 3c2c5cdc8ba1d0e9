"""Sphinx configuration for the sksvd documentation.

Build with warnings as errors from the repository root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
from pathlib import Path

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
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax 3 served from the built site (it copies the files into _static/mathjax
    # and points mathjax_path there), so formulas typeset with no network.
    "sphinx-mathjax-offline",
    "sphinxarg.ext",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# Cross-references to the libraries sksvd builds on. The inventories are vendored
# in docs/_inventories (see its README), so the build never reaches the network;
# the links point to each project's documentation online.
_inventories = Path(__file__).parent / "_inventories"
intersphinx_mapping = {
    name: (url, (str(_inventories / f"{name}.inv"),))
    for name, url in {
        "python": "https://docs.python.org/3/",
        "numpy": "https://numpy.org/doc/stable/",
        "scipy": "https://docs.scipy.org/doc/scipy/",
        "sklearn": "https://scikit-learn.org/stable/",
        "pandas": "https://pandas.pydata.org/docs/",
        "dask": "https://docs.dask.org/en/stable/",
    }.items()
}
intersphinx_disabled_reftypes = ["std:doc"]

# Docstrings cite papers as :doi:`…`.
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
# autosummary lists the members; numpydoc would list them a second time.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

exclude_patterns = [
    "_build",
    "_inventories",
    "auto_examples/*.ipynb",
    "auto_examples/*.py.md5",
]
templates_path = ["_templates"]
# scikit-learn's own theme: a wide content column, so code blocks are not cut.
html_theme = "pydata_sphinx_theme"
html_title = f"sksvd {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
# Pages without sub-pages get the full width.
html_sidebars = {
    page: []
    for page in (
        "index",
        "install",
        "migration",
        "cli",
        "performance",
        "reliability",
        "changelog",
    )
}
# Smart quotes, but no dashes: "--force" stays two hyphens in the command-line
# reference and in prose.
smartquotes_action = "qe"
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["sksvd.css"]

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
    # The computation-times pages load scripts from CDNs and change with every
    # build; they are not written, so a build leaves the checkout untouched.
    "write_computation_times": False,
}
