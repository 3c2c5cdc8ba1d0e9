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
    assert "grey.png: rank 3, factors" in result.stdout
    size = (images / "out" / "colour.npz").stat().st_size
    assert f"colour.png: rank 3, factors {size / 1000:.1f} kB" in result.stdout
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
        (("compress", "grey.png", "-r", "500", "-o", "out"), "--rank 500 exceeds"),
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
    assert "-e/--energy: must be a fraction strictly between 0 and 1" in result.stderr


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
    for name in ("rank_grid.png", "spectrum.png", "colour_rank50.png", "report.txt"):
        assert (tmp_path / "demo" / name).stat().st_size > 0
    # The colour result the report names is written, at the photograph's shape.
    assert read_image(tmp_path / "demo" / "colour_rank50.png").shape == (427, 640, 3)
    report = (tmp_path / "demo" / "report.txt").read_text()
    assert "427 x 640" in report
    assert "colour_rank50.png" in report and "kB" in report
    psnr = [float(line.split()[-1]) for line in report.splitlines()[2:6]]
    assert psnr == sorted(psnr)  # sharper at each larger rank


@pytest.mark.parametrize("command", ["compress", "spectrum", "demo"])
def test_every_subcommand_has_help(command, tmp_path):
    result = run(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "usage: sksvd " + command in result.stdout


# Errors name the flag and the fix; nothing is created when the inputs are bad.


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_image(
        tmp_path / "x.png", np.add.outer(np.arange(40), np.arange(30)).astype(np.uint8)
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_image(tmp_path / "a" / "x.png", np.zeros((10, 10), np.uint8))
    write_image(tmp_path / "b" / "x.jpg", np.full((10, 10), 9, np.uint8))
    write_image(tmp_path / "black.png", np.zeros((10, 10), np.uint8))
    (tmp_path / "afile").write_text("not a folder")
    return tmp_path


def _main(capsys, *arguments):
    from sksvd.cli import main

    try:
        status = main(list(arguments))
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("compress", "x.png", "-r", "abc", "-o", "out"),
            "-r/--rank: must be a positive integer",
        ),
        (
            ("compress", "x.png", "-e", "2", "-o", "out"),
            "-e/--energy: must be a fraction",
        ),
        (
            ("compress", "x.png", "-r", "5000", "-o", "out"),
            "--rank 5000 exceeds min(height, width) = 30",
        ),
        (
            ("compress", "missing.png", "-r", "2", "-o", "out"),
            "missing.png: no such file",
        ),
        (
            ("compress", "x.png", "-r", "2", "-o", "afile"),
            "afile is a file, not a folder",
        ),
        (
            ("compress", "a/x.png", "b/x.jpg", "-r", "2", "-o", "out"),
            "would both write",
        ),
        (
            ("spectrum", "x.png", "-o", "s.png", "--mark", "100000"),
            "--mark 100000 exceeds the 30",
        ),
    ],
)
def test_errors_name_the_flag_and_create_nothing(folder, capsys, arguments, message):
    before = sorted(path.name for path in folder.iterdir())
    status, _, err = _main(capsys, *arguments)
    assert status != 0
    assert message in err
    assert sorted(path.name for path in folder.iterdir()) == before


def test_colliding_outputs_are_refused_even_with_force(folder, capsys):
    status, _, err = _main(
        capsys, "compress", "a/x.png", "b/x.jpg", "-r", "2", "-o", "out", "--force"
    )
    assert status == 1 and "would both write" in err


def test_spectrum_of_an_all_black_image(folder, capsys):
    status, out, err = _main(capsys, "spectrum", "black.png", "-o", "b.png")
    assert status == 0, err
    assert "no energy" in out and "nan" not in out


def test_version(capsys):
    import sksvd

    status, out, _ = _main(capsys, "--version")
    assert status == 0 and out.strip() == f"sksvd {sksvd.__version__}"


def test_help_does_not_import_scikit_learn(tmp_path):
    # The command's start-up cost: argparse and NumPy, not the estimators.
    code = "import sys, sksvd.cli; print('sklearn' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert result.stdout.strip() == "False", result.stderr


def test_sixteen_bit_and_float_images_are_compressed_faithfully(folder, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    levels = (rng.integers(0, 111, (40, 30)) * 500).astype(np.uint16)
    Image.fromarray(levels).save(folder / "g16.png")
    Image.fromarray(np.linspace(0, 0.84, 1200, dtype=np.float32).reshape(40, 30)).save(
        folder / "f.tif"
    )
    status, out, err = _main(
        capsys, "compress", "g16.png", "f.tif", "-r", "5", "-o", "o"
    )
    assert status == 0, err
    assert read_image(folder / "o" / "g16.png").dtype == np.uint16
    assert read_image(folder / "o" / "f.tif").dtype == np.float32
    assert "PSNR inf" not in out


def test_colliding_factor_files_are_refused(folder, capsys):
    from PIL import Image

    Image.fromarray(np.ones((10, 10), np.float32)).save(folder / "a" / "y.tif")
    write_image(folder / "b" / "y.png", np.ones((10, 10), np.uint8))
    arguments = ("compress", "a/y.tif", "b/y.png", "-r", "1", "-o", "out")
    # y.tif and y.png: different images, but one y.npz.
    assert _main(capsys, *arguments)[0] == 0
    status, _, err = _main(capsys, *arguments, "--save-factors", "--force")
    assert status == 1 and "would both write out/y.npz" in err


def test_spectrum_with_an_unknown_format_creates_nothing(folder, capsys):
    status, _, err = _main(capsys, "spectrum", "x.png", "-o", "new/deeper/out.xyz")
    assert status == 1 and "the extension names the format" in err
    assert not (folder / "new").exists()


def test_an_input_is_never_overwritten(folder, capsys):
    status, _, err = _main(capsys, "compress", "x.png", "-r", "2", "-o", ".", "--force")
    assert status == 1 and "would overwrite an input" in err


def test_folders_are_not_images(folder, capsys):
    status, _, err = _main(capsys, "compress", "a", "-r", "2", "-o", "out")
    assert status == 1 and "is a folder" in err


def test_package_attributes_stay_reachable():
    import sksvd

    assert sksvd.linalg.svd is not None and sksvd.image.read_image is not None
