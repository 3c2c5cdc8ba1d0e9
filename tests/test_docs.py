"""The documentation's code: every block of the user guide runs.

The ``>>>`` blocks of every page run as doctests (``--doctest-glob=*.rst``, see
``docs/conftest.py``). This module makes sure nothing on a user-guide page escapes
that: every code block there is a doctest or a console block of ``sksvd``
commands, and those commands are run here.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
GUIDE = sorted((DOCS / "user_guide").glob("*.rst"))
# Any explicit-markup directive: docutils accepts any case, extra blanks after
# "..", and one blank before "::".
DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)\.\.[ \t]+(?P<name>[A-Za-z0-9][\w.:+-]*?)[ ]?::"
    r"(?:[ \t]+(?P<argument>\S*))?"
)
CODE = {"code-block", "code", "sourcecode"}
# Directives that show code or text the doctests never run.
NOT_RUN = {
    "parsed-literal",
    "literalinclude",
    "raw",
    "include",
    "doctest",
    "testcode",
    "testsetup",
    "ipython",
    "jupyter-execute",
}


def _blocks(path):
    """(language, first line number, body lines) of each code block of a page.

    Literal blocks introduced by ``::`` come out with the language "literal";
    directives that show unrun code come out under their own name.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    for number, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if match:
            name = match["name"].lower()
            if name in CODE:
                language = match["argument"] or "default"
            elif name in NOT_RUN:
                language = name
            else:
                continue
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            language = "literal"
        else:
            continue
        indent = len(line) - len(line.lstrip())
        body = []
        for following in lines[number + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        # Directive options (":caption: ...") come before the first blank line.
        while body and body[0].strip().startswith(":"):
            body.pop(0)
        text = [b.strip() for b in body]
        while text and not text[-1]:
            text.pop()
        while text and not text[0]:
            text.pop(0)
        blocks.append((language, number + 1, text))
    return blocks


def _unrun_pycon(body):
    """Lines of a pycon block that doctest reads as prose: after a blank line,
    anything but a new ``>>>`` example; and skipped examples."""
    bad = [b for b in body if "doctest:" in b and "SKIP" in b.upper()]
    for before, line in zip(body, body[1:], strict=False):
        if not before and line and not line.startswith(">>>"):
            bad.append(line)
    return bad


def test_the_user_guide_has_its_pages():
    names = {path.stem for path in GUIDE}
    assert {"index", "svd", "images", "pca", "least_squares", "solvers"} <= names


@pytest.mark.parametrize("page", GUIDE, ids=lambda path: path.stem)
def test_every_block_of_the_user_guide_runs(page):
    """Code on a user-guide page is a doctest or a console block of commands."""
    for language, line, body in _blocks(page):
        where = f"{page.name}:{line}"
        if language == "pycon":
            assert body and body[0].startswith(">>>"), f"{where}: not a doctest"
            assert not _unrun_pycon(body), f"{where}: not run: {_unrun_pycon(body)}"
        elif language == "console":
            assert all(b.startswith("$ ") for b in body if b), f"{where}: not commands"
        else:
            pytest.fail(
                f"{where}: a {language!r} block would not run; write it as a "
                "'.. code-block:: pycon' doctest or a console block of '$ sksvd' lines"
            )


@pytest.mark.parametrize(
    "page", [p for p in GUIDE if p.stem != "index"], ids=lambda path: path.stem
)
def test_each_user_guide_page_has_code(page):
    text = page.read_text(encoding="utf-8")
    assert text.count(">>> ") >= 3, f"{page.name} has almost no code that runs"


def _console_pages():
    return [
        path
        for path in GUIDE
        if any(language == "console" for language, _, _ in _blocks(path))
    ]


@pytest.mark.parametrize("page", _console_pages(), ids=lambda path: path.stem)
def test_console_blocks_of_the_user_guide_run(page, tmp_path):
    """Each ``$`` line runs, in a folder that holds ``photo.jpg``.

    ``photo.jpg`` is scikit-learn's sample photograph (shipped with it, no
    download); ``export NAME=VALUE`` sets a variable for the lines that follow.
    """
    pytest.importorskip("PIL")
    pytest.importorskip("matplotlib")
    from sklearn.datasets import load_sample_image

    from sksvd.image import write_image

    write_image(tmp_path / "photo.jpg", load_sample_image("china.jpg"))
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    for language, line, body in _blocks(page):
        if language != "console":
            continue
        for command in body:
            words = shlex.split(command[2:])
            where = f"{page.name}:{line}: {command}"
            if words[0] == "export" and len(words) == 2 and "=" in words[1]:
                name, value = words[1].split("=", 1)
                environment[name] = value
                continue
            assert words[0] == "sksvd", f"{where}: only sksvd commands run here"
            result = subprocess.run(
                [sys.executable, "-m", "sksvd", *words[1:]],
                cwd=tmp_path,
                env=environment,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert result.returncode == 0, f"{where}\n{result.stderr}"
