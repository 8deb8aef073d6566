"""The ``vae`` command line.

Every subcommand turns its flags into a call of the package; errors the user can
fix (``VaeError``, and operating-system errors such as a folder that cannot be
written) are printed as one line, with a non-zero exit status and no traceback.
"""

import argparse
import os
import sys
from pathlib import Path

from vae_numpy.errors import VaeError


def cmd_data(args: argparse.Namespace) -> int:
    from vae_numpy.data import load_raw
    from vae_numpy.data.preview import write_preview
    from vae_numpy.data.report import describe

    raw = load_raw(args.name, args.data_dir, args.download or None)
    print(describe(raw))
    preview = args.out / f"{raw.name}-preview.png"
    write_preview(preview, raw.train_images, raw.train_labels, raw.classes, per_class=10)
    print(f"preview grid (10 training images per class): {preview}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vae", description="Variational autoencoders from first principles."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = sub.add_parser(
        "data",
        help="find or fetch a dataset, verify it, describe it, write a preview grid",
        description="Find a dataset (--data-dir, $VAE_DATA_DIR, the Debian package, the user "
        "cache, or a verified download when allowed), verify its checksums and print its "
        "shapes and counts per class.",
    )
    data.add_argument("name", help="fashion-mnist, mnist or mnist-5k")
    data.add_argument("--data-dir", type=Path, help="a folder that holds the dataset's files")
    data.add_argument(
        "--download",
        action="store_true",
        help="allow a download from the standard mirrors (verified by SHA-256)",
    )
    data.add_argument(
        "--out", type=Path, default=Path("runs/data"), help="folder for the preview PNG"
    )
    data.set_defaults(run=cmd_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except VaeError as err:
        print(f"vae: error: {err}", file=sys.stderr)
    except OSError as err:
        where = f": {err.filename}" if err.filename else ""
        print(f"vae: error: {err.strerror or err}{where}", file=sys.stderr)
    except KeyboardInterrupt:
        print("vae: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("VAE_DEBUG"):
            raise
        print(
            f"vae: internal error: {type(err).__name__}: {err} "
            "(a bug in the package; set VAE_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return 1
    return 2
