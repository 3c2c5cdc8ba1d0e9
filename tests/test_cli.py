"""The sksvd command, run as a subprocess in a temporary folder."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("PIL")
pytest.importorskip("matplotlib")

from sksvd.image import read_image, write_image  # noqa: E402


def run(*arguments, cwd):
    return subprocess.run(
        [sys.executable, "-m", "sksvd", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def images(tmp_path, rng):
    grey = np.add.outer(np.arange(60), np.arange(80)).astype(np.uint8)
    colour = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
    write_image(tmp_path / "grey.png", grey)
    write_image(tmp_path / "colour.png", colour)
    return tmp_path


def test_compress_writes_images_of_the_same_shape(images):
    result = run(
        "compress",
        "grey.png",
        "colour.png",
        "-r",
        "3",
        "-o",
        "out",
        "--save-factors",
        cwd=images,
    )
    assert result.returncode == 0, result.stderr
    assert read_image(images / "out" / "grey.png").shape == (60, 80)
    assert read_image(images / "out" / "colour.png").shape == (50, 70, 3)
    assert (images / "out" / "colour.npz").exists()
    assert "grey.png: rank 3, storage" in result.stdout
    assert "PSNR" in result.stdout


def test_compress_by_energy(images):
    result = run("compress", "grey.png", "-e", "0.999", "-o", "out", cwd=images)
    assert result.returncode == 0, result.stderr
    # i + j has rank 2.
    assert "rank 2," in result.stdout


def test_compress_never_overwrites_without_force(images):
    assert (
        run("compress", "grey.png", "-r", "2", "-o", "out", cwd=images).returncode == 0
    )
    again = run("compress", "grey.png", "-r", "2", "-o", "out", cwd=images)
    assert again.returncode == 1
    assert "exists; pass --force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    forced = run("compress", "grey.png", "-r", "2", "-o", "out", "--force", cwd=images)
    assert forced.returncode == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("compress", "missing.png", "-r", "2", "-o", "out"), "no such file"),
        (("compress", "grey.png", "-r", "500", "-o", "out"), "n_components=500"),
        (("spectrum", "missing.png", "-o", "s.png"), "no such file"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(images, arguments, message):
    result = run(*arguments, cwd=images)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("sksvd")]
    assert any(message in line for line in lines), result.stderr


def test_usage_errors_are_reported_by_argparse(images):
    result = run("compress", "grey.png", "-e", "1.5", "-o", "out", cwd=images)
    assert result.returncode == 2
    assert "energy must be in (0, 1)" in result.stderr


def test_spectrum_writes_a_png(images):
    result = run(
        "spectrum",
        "colour.png",
        "-o",
        "spectrum.png",
        "--mark",
        "5",
        "--mark",
        "20",
        cwd=images,
    )
    assert result.returncode == 0, result.stderr
    assert read_image(images / "spectrum.png").ndim == 3
    assert "rank 5:" in result.stdout


def test_demo_runs_offline(tmp_path):
    result = run("demo", "-o", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("rank_grid.png", "spectrum.png", "report.txt"):
        assert (tmp_path / "demo" / name).stat().st_size > 0
    report = (tmp_path / "demo" / "report.txt").read_text()
    assert "427 x 640" in report
    psnr = [float(line.split()[-1]) for line in report.splitlines()[2:6]]
    assert psnr == sorted(psnr)  # sharper at each larger rank


@pytest.mark.parametrize("command", ["compress", "spectrum", "demo"])
def test_every_subcommand_has_help(command, tmp_path):
    result = run(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "usage: sksvd " + command in result.stdout
