"""The ``sksvd`` command: compress images, plot their spectra, run the demo."""

import argparse
import sys
from pathlib import Path

import numpy as np

from sksvd import __version__

_DEMO_RANKS = (5, 10, 20, 50)


class CommandError(Exception):
    """A failure to report as one line, with a non-zero exit status."""


def _energy(text):
    try:
        value = float(text)
    except ValueError:
        value = np.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a fraction strictly between 0 and 1, such as 0.99; got {text!r}"
        )
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer, such as 20; got {text!r}"
        )
    return value


def _bits(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 2 <= value <= 16:
        raise argparse.ArgumentTypeError(
            f"must be an integer from 2 to 16, such as 8; got {text!r}"
        )
    return value


def _kilobytes(count):
    return f"{count / 1000:.1f} kB"


def _parser():
    parser = argparse.ArgumentParser(
        prog="sksvd",
        description="Image compression and spectra by truncated SVD.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    compress = commands.add_parser(
        "compress",
        help="compress images to a rank or an energy fraction",
        description="Compress each image by truncating the SVD of every channel "
        "and quantizing the factors, write the reconstruction into the output "
        "folder, and print the rank, the bytes the factors take on disk (as "
        "--save-factors writes them) and the PSNR of each.",
    )
    compress.add_argument(
        "inputs", nargs="+", type=Path, metavar="IN", help="image files to compress"
    )
    target = compress.add_mutually_exclusive_group(required=True)
    target.add_argument("-r", "--rank", type=_positive_int, help="rank per channel")
    target.add_argument(
        "-e", "--energy", type=_energy, help="fraction of energy kept per channel"
    )
    compress.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        required=True,
        help="folder for the reconstructions (created if missing); each is named "
        "after its input: IN's stem with .png (8- and 16-bit images) or .tif (float "
        "images)",
    )
    compress.add_argument(
        "-b",
        "--bits",
        type=_bits,
        default=8,
        help="bits per entry of the quantized factors, 2 to 16 (default 8); the "
        "reported PSNR and bytes are those of the quantized factors",
    )
    compress.add_argument(
        "--save-factors",
        action="store_true",
        help="also write the factors as .npz (reload with CompressedImage.load)",
    )
    compress.add_argument(
        "--force", action="store_true", help="overwrite existing output files"
    )

    spectrum = commands.add_parser(
        "spectrum",
        help="plot the singular values and energy of an image",
        description="Plot four panels for the (grey) image: singular values, on a "
        "log scale, cumulative energy, and the relative error of the best rank-r "
        "approximation.",
    )
    spectrum.add_argument("input", type=Path, metavar="IN", help="an image file")
    spectrum.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="the figure to write (.png, .pdf, .svg: the extension decides)",
    )
    spectrum.add_argument(
        "--mark",
        type=_positive_int,
        action="append",
        default=[],
        help="rank to annotate (repeatable)",
    )
    spectrum.add_argument(
        "--force", action="store_true", help="overwrite an existing output file"
    )

    demo = commands.add_parser(
        "demo",
        help="run offline on scikit-learn's sample photograph",
        description="Compress scikit-learn's sample photograph (china.jpg) at ranks "
        "5, 10, 20 and 50, and write rank_grid.png, spectrum.png, colour_rank50.png "
        "and report.txt into the output folder (its earlier demo files are "
        "replaced).",
    )
    demo.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=Path("sksvd-demo"),
        help="folder for the demo's files (default: sksvd-demo)",
    )
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    arguments = _parser().parse_args(argv)
    handlers = {"compress": _compress, "spectrum": _spectrum, "demo": _demo}
    try:
        handlers[arguments.command](arguments)
    except (CommandError, ValueError, TypeError, ImportError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"sksvd {arguments.command}: error: {message}", file=sys.stderr)
        return 1
    return 0


def _use_agg():
    try:
        import matplotlib
    except ImportError:
        raise CommandError('plots need matplotlib: pip install "sksvd[plot]"') from None
    matplotlib.use("Agg")


def _check_folder(path, flag):
    """The folder, or the nearest of its parents that exists, must be a folder."""
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise CommandError(
                    f"{flag} {path}: {folder} is a file, not a folder; name a folder"
                )
            return


def _check_free(path, force):
    if path.exists() and not force:
        raise CommandError(f"{path} exists; pass --force to overwrite it")


def _progress(items):
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    # disable=None turns the bar off when stderr is not a terminal.
    return tqdm(items, unit="image", disable=None if len(items) > 1 else True)


def _compress(arguments):
    from sksvd.image import _output_suffix, compress_image, read_image, write_image

    out = arguments.output_dir
    _check_folder(out, "--output-dir")
    for path in arguments.inputs:
        if path.is_dir():
            raise CommandError(f"{path} is a folder; name image files")
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
    targets = []
    writers = {}
    inputs = {path.resolve() for path in arguments.inputs}
    for path in arguments.inputs:
        image_out = out / f"{path.stem}{_output_suffix(path)}"
        factors_out = out / f"{path.stem}.npz"
        outputs = [image_out] + ([factors_out] if arguments.save_factors else [])
        for output in outputs:
            if output in writers:
                raise CommandError(
                    f"{writers[output]} and {path} would both write {output}; "
                    "compress them into different folders, or rename one"
                )
            writers[output] = path
            if output.exists() and output.resolve() in inputs:
                raise CommandError(
                    f"{output} would overwrite an input; choose another --output-dir"
                )
        _check_free(image_out, arguments.force)
        if arguments.save_factors:
            _check_free(factors_out, arguments.force)
        targets.append((path, image_out, factors_out))
    # Measured before anything is written.
    path_sizes = {path: path.stat().st_size for path, _, _ in targets}
    failures = 0
    for path, image_out, factors_out in _progress(targets):
        try:
            image = read_image(path)
            largest = min(image.shape[:2])
            if arguments.rank is not None and arguments.rank > largest:
                raise ValueError(
                    f"{path}: --rank {arguments.rank} exceeds min(height, width) = "
                    f"{largest}; pass --rank {largest} or less"
                )
            compressed = compress_image(
                image, rank=arguments.rank, energy=arguments.energy, bits=arguments.bits
            )
        except ValueError as error:
            failures += 1
            print(f"sksvd compress: error: {error}", file=sys.stderr)
            continue
        out.mkdir(parents=True, exist_ok=True)  # only once there is a result
        write_image(image_out, compressed.reconstruct())
        if arguments.save_factors:
            compressed.save(factors_out)
        ranks = sorted(set(compressed.ranks))
        rank_text = str(ranks[0]) if len(ranks) == 1 else "/".join(map(str, ranks))
        size = compressed.file_nbytes
        input_size = path_sizes[path]
        print(
            f"{path.name}: rank {rank_text}, factors {_kilobytes(size)} "
            f"({size / compressed.original_nbytes:.1%} of the pixels, "
            f"{size / input_size:.2f}x the input file), "
            f"PSNR {compressed.psnr:.2f} dB -> {image_out}"
        )
    if failures:
        raise CommandError(f"{failures} of {len(targets)} images failed")


def _grey(image):
    """ITU-R BT.601 luma of a colour image; grey images are returned as they are."""
    if image.ndim == 2:
        return image
    return np.rint(image[..., :3] @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)


def _singular_values(image):
    from sksvd.linalg import svd

    return svd(image.astype(np.float64), compute_u=False).s


def _spectrum(arguments):
    from sksvd.image import read_image
    from sksvd.linalg import energy_ratio

    _use_agg()
    from sksvd.plotting import spectrum_panels

    _check_free(arguments.output, arguments.force)
    if arguments.output.is_dir():
        raise CommandError(f"--output {arguments.output} is a folder; name a file")
    _check_folder(arguments.output.parent, "--output")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    formats = FigureCanvasAgg(Figure()).get_supported_filetypes()
    suffix = arguments.output.suffix.lstrip(".").lower()
    if suffix not in formats:
        raise CommandError(
            f"--output {arguments.output}: the extension names the format, one of "
            f"{', '.join(sorted(formats))}"
        )
    s = _singular_values(_grey(read_image(arguments.input)))
    too_large = [rank for rank in arguments.mark if rank > s.size]
    if too_large:
        raise CommandError(
            f"--mark {too_large[0]} exceeds the {s.size} singular values of "
            f"{arguments.input}"
        )
    figure = spectrum_panels(s, marks=arguments.mark)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(arguments.output, dpi=100)
    print(f"{arguments.input.name}: {s.size} singular values -> {arguments.output}")
    if not np.any(s):
        print("  the image is constant zero: it has no energy to keep")
        return
    energy = np.cumsum(energy_ratio(s))
    for rank in arguments.mark:
        print(f"  rank {rank}: {energy[rank - 1]:.2%} of the energy")


def _demo(arguments):
    _use_agg()
    try:
        from sklearn.datasets import load_sample_image

        photo = load_sample_image("china.jpg")
    except ImportError:
        raise CommandError(
            'the demo reads its photograph with Pillow: pip install "sksvd[image]"'
        ) from None
    import matplotlib.pyplot as plt

    from sksvd.image import compress_image, write_image
    from sksvd.plotting import RankGridDisplay, spectrum_panels

    out = arguments.output_dir
    _check_folder(out, "--output-dir")
    out.mkdir(parents=True, exist_ok=True)
    grey = _grey(photo)
    grid = RankGridDisplay.from_image(grey, ranks=_DEMO_RANKS, ncols=3, original=True)
    grid.figure_.suptitle("scikit-learn's china.jpg (grey) at increasing rank")
    grid.figure_.tight_layout()
    grid.figure_.savefig(out / "rank_grid.png", dpi=100)
    s = _singular_values(grey)
    spectrum_panels(s, marks=_DEMO_RANKS).savefig(out / "spectrum.png", dpi=100)
    plt.close("all")

    energy = np.cumsum(s**2) / np.sum(s**2)
    lines = [
        f"china.jpg, grey, {grey.shape[0]} x {grey.shape[1]} pixels",
        f"{'rank':>6}{'storage':>10}{'energy':>10}{'rel. error':>12}{'PSNR dB':>10}",
    ]
    for rank in _DEMO_RANKS:
        compressed = compress_image(grey, rank=rank)
        lines.append(
            f"{rank:>6}{compressed.storage_ratio:>10.1%}{energy[rank - 1]:>10.2%}"
            f"{compressed.relative_error:>12.4f}{compressed.psnr:>10.2f}"
        )
    colour = compress_image(photo, rank=50, bits=8)
    write_image(out / "colour_rank50.png", colour.reconstruct())
    lines.append(
        f"colour at rank 50 per channel (colour_rank50.png): factors "
        f"{_kilobytes(colour.file_nbytes)} with 8-bit entries, PSNR "
        f"{colour.psnr:.2f} dB"
    )
    report = "\n".join(lines) + "\n"
    (out / "report.txt").write_text(report, encoding="utf-8")
    print(report, end="")
    written = ("rank_grid.png", "spectrum.png", "colour_rank50.png", "report.txt")
    print("wrote " + ", ".join(str(out / name) for name in written))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
