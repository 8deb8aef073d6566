"""The ``vae`` command line.

Every subcommand turns its flags into a call of the package; errors the user can
fix (``VaeError``, and operating-system errors such as a folder that cannot be
written) are printed as one line, with a non-zero exit status and no traceback.
The flags of ``vae train`` are made from ``TrainConfig``'s fields: their defaults
and help come from there, the choices of a registry-backed field from its registry.
"""

import argparse
import dataclasses
import os
import sys
import types
import typing
from pathlib import Path

from vae_numpy.likelihoods import all_parameters
from vae_numpy.run.config import OPTIONS, TrainConfig
from vae_numpy.run.errors import VaeError, one_line
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.options import Options
from vae_torch.quality.estimate import Estimate

# those of vae_torch.distributed, named here so that the command line starts without torch
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
MAPPINGS = ("likelihood_params", "options")  # TrainConfig fields given as flags of their own


def options_of(args: argparse.Namespace) -> Options:
    """The run-level options of any command's flags."""
    return Options(
        data_dir=getattr(args, "data_dir", None),
        allow_download=getattr(args, "download", False) or None,
        device=getattr(args, "device", None),
    )


# -- the commands ------------------------------------------------------------------------


def cmd_data(args: argparse.Namespace) -> int:
    from vae_numpy.data import load_dataset
    from vae_numpy.data.preview import write_preview
    from vae_numpy.data.report import describe

    raw = load_dataset(args.name, options_of(args))
    print(describe(raw))
    preview = args.out / f"{raw.name}-preview.png"
    write_preview(preview, raw.train_images, raw.train_labels, raw.classes, per_class=10)
    shown = "10 training images per class" if raw.labelled else "the first training images"
    print(f"preview grid ({shown}): {preview}")
    return 0


def cmd_data_import(args: argparse.Namespace) -> int:
    from vae_numpy.data.imports import ImportSettings, import_dataset

    settings = ImportSettings(
        size=None if args.size is None else tuple(args.size),
        fit=args.fit,
        channels=args.channels,
        test_fraction=args.test_fraction,
        test_source=args.test,
        labels=args.labels,
        seed=args.seed,
        skip_bad=args.skip_bad,
    )
    report = import_dataset(args.source, args.name, settings=settings, to=args.to, force=args.force)
    print("\n".join(report.lines()))
    return 0


def cmd_data_export(args: argparse.Namespace) -> int:
    from vae_numpy.data import load_dataset
    from vae_numpy.data.folders import write_png_folder

    n = write_png_folder(load_dataset(args.name, options_of(args)), args.out)
    print(f"wrote {n} PNG files to {args.out}")
    return 0


def cmd_data_clean(args: argparse.Namespace) -> int:
    from vae_numpy.data.imports import imports_root
    from vae_numpy.data.imports.write import cleaned_line, remove_leftovers

    root = args.to.expanduser() if args.to is not None else imports_root()
    print(cleaned_line(root, *remove_leftovers(root)))
    return 0


def cmd_data_emoji(args: argparse.Namespace) -> int:
    from vae_numpy.data.folders import write_emoji_folder

    n = write_emoji_folder(args.out)
    print(f"drew {n} emoji as PNG files in {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from vae_torch.export import describe, export_onnx

    results = export_onnx(
        args.run_dir,
        out=args.out,
        which=args.checkpoint,
        options=options_of(args),
        force=args.force,
    )
    print("\n".join(describe(results)))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    names = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in MAPPINGS]
    fields = {name: getattr(args, name) for name in [*names, *all_parameters(), *OPTIONS]}
    fields = {name: value for name, value in fields.items() if value is not None}
    if (args.out is None) == (args.resume is None):
        raise VaeError("give either --out NEW_RUN_FOLDER or --resume RUN_FOLDER")
    options = dataclasses.replace(options_of(args), device=fields.get("device"))
    if args.resume is not None:
        from vae_torch.training import resume_torch

        ignored = sorted(set(fields) - {"epochs", "device"})
        if ignored:
            flags = ", ".join("--" + f.replace("_", "-") for f in ignored)
            raise VaeError(
                f"--resume continues the run with its own config; drop {flags} "
                "(only --epochs and --device may change)"
            )
        out = args.resume
        history = resume_torch(out, epochs=fields.get("epochs"), options=options)
    else:
        from vae_torch.api import train

        out = args.out
        history = train(TrainConfig.from_flags(**fields), out, options).history
    last = history[-1]
    if main_process():
        print(f"done: validation ELBO {last['val_elbo']:.2f} nats/example; run folder {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from vae_torch.evaluation import evaluate

    result = evaluate(
        args.run_dir,
        k=args.k,
        split=args.split,
        checkpoint=args.checkpoint,
        samples=args.samples,
        options=options_of(args),
        limit=args.limit,
        samplers=args.samplers,
    )
    print(result.table())
    print(f"written: {result.path}")
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from vae_torch.figures import make_figures

    only = [name.strip() for name in args.only.split(",")] if args.only else None
    report = make_figures(
        args.run_dir,
        out=args.out,
        only=only,
        seed=args.seed,
        probabilities=args.quantiles,
        options=options_of(args),
        checkpoint=args.checkpoint,
    )
    for name, files in report["figures"].items():
        print(f"{name:16} {', '.join(files)}")
    for name, why in report["skipped"].items():
        print(f"{name:16} skipped: {why}")
    print(
        f"test ELBO {report['test_elbo']:.2f} = E_q[log p(x|z)] {report['test_log_px_given_z']:.2f}"
        f" - KL {report['test_kl']:.2f} nats per image; test reconstruction loss "
        f"{report['test_reconstruction_loss']:.2f}"
    )
    if "recognisable_share" in report:
        share, judge = report["recognisable_share"], report["judge"]
        print(
            f"samples: recognisable share {Estimate.of(share).show()} "
            f"(judge test accuracy {judge['test_accuracy']:.3f}); {report['checkpoint']} checkpoint"
        )
    print(f"written: {report['path']}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from vae_torch.sample import write_samples

    files = write_samples(
        args.run_dir,
        n=args.n,
        rows=args.rows,
        label=args.label,
        seed=args.seed,
        out=args.out,
        checkpoint=args.checkpoint,
        options=options_of(args),
        sampler=args.sampler,
    )
    print("written: " + ", ".join(map(str, files)))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from vae_torch.compare import compare_runs

    record = compare_runs(
        args.runs,
        k=args.k,
        out=args.out,
        seed=args.seed,
        reuse=not args.fresh,
        options=options_of(args),
        samples=args.samples,
        checkpoint=args.checkpoint,
        samplers=args.samplers,
    )
    print(record["table"])
    print("written: " + ", ".join(record["files"]))
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from vae_torch.evaluation import Bounds
    from vae_torch.experiments import run_experiment
    from vae_torch.recipes import RECIPES, describe

    if args.list or args.name is None:
        print("\n\n".join(describe(recipe) for recipe in RECIPES.values()))
        return 0
    record = run_experiment(args.name, out=args.out, epochs=args.epochs, options=options_of(args))
    for name, run in record["runs"].items():
        print(f"{name}: {run['status']}; {Bounds.from_json(run['test']).summary()}")
    if "comparison" in record:
        print(record["comparison"]["table"])
    print(f"written: {record['path']}")
    return 0


# -- argument types ------------------------------------------------------------------------


def comma_list(text: str) -> tuple[str, ...]:
    """'prior,gmm:10' -> ("prior", "gmm:10")."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def int_list(text: str) -> tuple[int, ...]:
    """'400,200' -> (400, 200); '' or 'none' -> () (no layer)."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, like 400,200 (or none); got {text!r}"
        ) from None


def probability_pair(text: str) -> tuple[float, float]:
    """'0.05,0.95' -> (0.05, 0.95); the range itself is checked by the figures."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected two probabilities separated by a comma, like 0.05,0.95; got {text!r}"
        ) from None
    return low, high


def registry_names(registry: str) -> list[str]:
    """The choices of a registry-backed TrainConfig field, from the registry itself."""
    if registry == "models":
        from vae_torch.models import MODELS

        return list(MODELS)
    if registry == "likelihoods":
        from vae_numpy.likelihoods import LIKELIHOODS

        return list(LIKELIHOODS)
    if registry == "datasets":
        from vae_numpy.data import DATASETS

        return list(DATASETS)
    if registry == "pixels":
        from vae_numpy.data import Pixels

        return list(Pixels)
    if registry == "priors":
        from vae_torch.priors import PRIORS

        return list(PRIORS)
    from vae_numpy.architecture import ACTIVATION_NAMES

    return list(ACTIVATION_NAMES)


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, and one per parameter of a registered likelihood
    (``--sigma``); None (not given) leaves the default."""
    hints = typing.get_type_hints(TrainConfig)
    for f in dataclasses.fields(TrainConfig):
        if f.name == "likelihood_params":  # a flag per parameter, after --likelihood
            for p in all_parameters().values():
                parser.add_argument(p.flag, type=float, help=f"{p.help} (default {p.default:g})")
            continue
        if f.name == "options":  # a flag per registered option
            for o in OPTIONS.values():
                parser.add_argument(o.flag, type=float, help=f"{o.help} (default {o.default:g})")
            continue
        flag, kind = "--" + f.name.replace("_", "-"), hints[f.name]
        text = f.metadata["help"]
        if f.metadata["registry"]:
            text += ": " + ", ".join(registry_names(f.metadata["registry"]))
        if kind is bool:
            parser.add_argument(flag, action="store_true", default=None, help=text)
            continue
        if f.default not in ("", None):
            shown = f.default
            if isinstance(shown, tuple):
                shown = ",".join(map(str, shown)) or "none"
            text += f" (default {shown})"
        if typing.get_origin(kind) is tuple:
            convert = int_list
        elif isinstance(kind, types.UnionType):  # int | None
            convert = next(a for a in typing.get_args(kind) if a is not type(None))
        else:
            convert = kind
        parser.add_argument(flag, type=convert, help=text)


# -- the parser ----------------------------------------------------------------------------

SAMPLERS_HELP = (
    "(vae_torch.samplers): prior (z ~ p(z), the model's prior: N(0, I) unless it learned one; "
    "the default), temperature:T (z ~ N(0, T² I)), gmm[:K[:full|tied|diag|spherical]] (a "
    "Gaussian mixture fitted to the run's training codes, default 10 components, full), "
    "two-stage (a second VAE trained on those codes); the fitted ones are not the model's "
    "prior, fitted once and kept in RUN/samplers"
)
RUN_HELP = "a run folder written by vae train"


def add_checkpoint(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--checkpoint",
        choices=("best", "last"),
        default="best",
        help="the parameters of the best validation ELBO (default) or of the last epoch",
    )


def add_options(p: argparse.ArgumentParser, device: bool = True) -> None:
    """The run-level options (``Options``) as flags."""
    if device:
        p.add_argument("--device", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--data-dir", type=Path, help="a folder that holds the dataset's files")
    p.add_argument(
        "--download",
        action="store_true",
        help="allow a download from the standard mirrors (verified by SHA-256)",
    )


DATA_ACTIONS = ("show", "import", "clean", "export", "emoji")


def add_data(sub) -> None:
    data = sub.add_parser(
        "data",
        help="describe a dataset, import your own images, write a dataset as PNG files",
        description="vae data NAME (short for vae data show NAME) finds a dataset, verifies it "
        "and describes it; vae data import makes a dataset of your own images.",
    )
    actions = data.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser(
        "show",
        help="find or fetch a dataset, verify it, describe it, write a preview grid",
        description="Find a dataset (--data-dir, $VAE_DATA_DIR, the Debian package, the user "
        "cache, or a verified download when allowed; or an import), verify its checksums and "
        "print its shapes and counts per class.",
    )
    p.add_argument("name", help="the dataset: " + ", ".join(registry_names("datasets")))
    add_options(p, device=False)
    p.add_argument("--out", type=Path, default=Path("runs/data"), help="folder for the preview PNG")
    p.set_defaults(run=cmd_data)
    add_data_import(actions)
    p = actions.add_parser(
        "clean",
        help="remove what killed imports left (part folders nobody holds), saying the bytes freed",
        description="Remove the leftovers of interrupted imports in the imports folder: part "
        "folders whose lock no running import holds (or, without a lock, older than this "
        "command), and replaced datasets a killed import had moved aside. Imports nothing; the "
        "next vae data import does the same first.",
    )
    p.add_argument(
        "--to",
        type=Path,
        help="the folder given to vae data import --to (default: the user cache's imports)",
    )
    p.set_defaults(run=cmd_data_clean)
    p = actions.add_parser(
        "export",
        help="write a dataset as PNG files, one sub-folder per class, train/ and test/",
        description="Write every image of a dataset as a PNG file: OUT/train/CLASS/INDEX.png "
        "and OUT/test/CLASS/INDEX.png (INDEX: the image's position in its split).",
    )
    p.add_argument("name", help="the dataset")
    p.add_argument("out", type=Path, help="the folder to create")
    add_options(p, device=False)
    p.set_defaults(run=cmd_data_export)
    p = actions.add_parser(
        "emoji",
        help="draw the colour emoji of Debian's Noto font as PNG files: real RGB images offline",
        description="Draw every emoji of the Noto Color Emoji font (Debian package "
        "fonts-noto-color-emoji) as an RGBA PNG on a transparent square, one file each, into OUT.",
    )
    p.add_argument("out", type=Path, help="the folder to create")
    p.set_defaults(run=cmd_data_emoji)


def add_data_import(actions) -> None:
    p = actions.add_parser(
        "import",
        help="make a dataset of your own images (a folder, an .npy/.npz array or IDX files)",
        description="Import images as a dataset that vae train --dataset NAME trains on. SOURCE: "
        "a folder of PNG/JPEG/BMP/WebP/GIF files, flat (no classes) or one sub-folder per class; "
        "an .npy/.npz of uint8 images (N, H, W) or (N, H, W, C); or an IDX images file. Writes "
        "uint8 arrays and a manifest with checksums, atomically.",
    )
    p.add_argument("source", type=Path, help="a folder of images, an .npy/.npz, or an IDX file")
    p.add_argument("--name", required=True, help="the dataset's name (lower case, digits, ._-)")
    p.add_argument("--to", type=Path, help="write into DIR/NAME instead of the user cache")
    p.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), help="one size for every image")
    p.add_argument(
        "--fit",
        choices=("resize", "crop"),
        default="resize",
        help="with --size: stretch to H x W (resize, default), or scale to cover and cut the "
        "centre (crop)",
    )
    p.add_argument(
        "--channels",
        type=int,
        choices=(1, 3),
        help="1 grey, 3 RGB; default 3 if any image has colour",
    )
    split = p.add_mutually_exclusive_group()
    split.add_argument(
        "--test-fraction",
        type=float,
        default=0.1,
        help="seeded share of each class held out as the test split (default 0.1)",
    )
    split.add_argument("--test", type=Path, metavar="SOURCE", help="the test images, given")
    p.add_argument("--labels", type=Path, help="labels of an .npy or IDX source (.npy or IDX)")
    p.add_argument("--seed", type=int, default=0, help="of the test split (default 0)")
    p.add_argument(
        "--skip-bad", action="store_true", help="import around unreadable files, counting them"
    )
    p.add_argument("--force", action="store_true", help="replace an existing import of NAME")
    p.set_defaults(run=cmd_data_import)


def add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a VAE and write a run folder (config, per-epoch history, parameters)",
        description="Train a VAE by maximising the ELBO; prints train and validation ELBO with "
        "its two parts after every epoch, in nats per example.",
    )
    add_config_flags(p)
    p.add_argument("--out", type=Path, help="the run folder to create")
    p.add_argument(
        "--resume",
        type=Path,
        metavar="RUN",
        help="continue a torch run from its last checkpoint (--epochs N extends it)",
    )
    add_options(p, device=False)  # --device is a TrainConfig field
    p.set_defaults(run=cmd_train)


def add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="test ELBO with its parts and the importance-weighted log-likelihood estimate",
        description="Evaluate a run's model on the test set (or the validation set): the ELBO "
        "with log p(x|z) and KL, and IWAE_k, in nats per example and bits per pixel; prints a "
        "table and writes the numbers as JSON into the run folder.",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN", help=RUN_HELP)
    p.add_argument("--k", type=int, default=100, help="importance samples per image (default 100)")
    p.add_argument("--split", choices=("test", "val"), default="test")
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="a seeded random N images of the split instead of all (a quick look; the "
        "numbers are of those N, and the JSON is named apart)",
    )
    p.add_argument(
        "--samples",
        type=int,
        metavar="N",
        help="also judge N samples E[x|z], z ~ N(0, I): recognisable share, class coverage, "
        "Fréchet distance, precision and recall (e.g. 1000)",
    )
    p.add_argument(
        "--samplers",
        type=comma_list,
        default=(),
        metavar="NAME,...",
        help="judge N samples of each of these samplers too, a row each " + SAMPLERS_HELP,
    )
    add_checkpoint(p)
    add_options(p)
    p.set_defaults(run=cmd_evaluate)


def add_figures(sub) -> None:
    from vae_torch.figures import FIGURES

    p = sub.add_parser(
        "figures",
        help="every figure the course asks for, from a trained run (PNG and SVG)",
        description="Draw the figures of a run into RUN/figures: ELBO, reconstruction and KL "
        "curves; test reconstructions; prior samples; interpolations; hist2d of the two latent "
        "dimensions of highest variance; traversals; the class grid of a conditional model. "
        "Writes figures.json with the numbers behind them.",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN", help=RUN_HELP)
    p.add_argument("--out", type=Path, help="folder for the figures (default RUN/figures)")
    p.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated figure names (default: all that apply): " + ", ".join(FIGURES),
    )
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    p.add_argument(
        "--quantiles",
        type=probability_pair,
        default=(0.05, 0.95),
        metavar="LOW,HIGH",
        help="traversals decode norm.ppf at 7 probabilities from LOW to HIGH (default 0.05,0.95)",
    )
    add_checkpoint(p)
    add_options(p)
    p.set_defaults(run=cmd_figures)


def add_sample(sub) -> None:
    p = sub.add_parser(
        "sample",
        help="a grid of images decoded from z ~ p(z), the model's prior",
        description="Decode n draws z ~ p(z) (N(0, I) unless the model learned its prior, "
        "or another --sampler) into a grid of images, the means E[x|z].",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN", help=RUN_HELP)
    p.add_argument("--n", type=int, default=10, help="number of images (default 10)")
    p.add_argument("--rows", type=int, default=2, help="rows of the grid (default 2)")
    p.add_argument(
        "--label", type=int, help="conditional models: the class (default: each in turn)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of z (default 0)")
    p.add_argument(
        "--sampler",
        default="prior",
        metavar="NAME",
        help="where the codes come from " + SAMPLERS_HELP,
    )
    p.add_argument(
        "--out",
        type=Path,
        help="file name without extension (default RUN/figures/samples-nN-seedS); "
        ".png and .svg are written",
    )
    p.add_argument("--device", help="auto (CUDA when present), cpu or cuda")
    add_checkpoint(p)
    add_options(p, device=False)
    p.set_defaults(run=cmd_sample)


def add_compare(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="runs side by side: parameters, test ELBO, IWAE, training time, samples",
        description="Compare runs trained on the same data and likelihood: parameter counts of "
        "encoder and decoder, test ELBO and its parts, the importance-weighted estimate of "
        "log p(x), training time; a Markdown table, JSON and one figure of samples.",
    )
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run folders")
    p.add_argument(
        "--k", type=int, default=1000, help="importance samples per image (default 1000)"
    )
    p.add_argument(
        "--out", type=Path, help="folder for the table and figure (default: beside the first run)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the samples' z")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="evaluate again even where the run folder holds an evaluation with this k",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=1000,
        metavar="N",
        help="samples per run judged by the dataset's classifier (default 1000)",
    )
    p.add_argument(
        "--samplers",
        type=comma_list,
        default=(),
        metavar="NAME,...",
        help="judge --samples samples of each of these samplers too, a row per run and "
        "sampler " + SAMPLERS_HELP,
    )
    add_checkpoint(p)
    add_options(p)
    p.set_defaults(run=cmd_compare)


def add_experiment(sub) -> None:
    p = sub.add_parser(
        "experiment",
        help="run one of the course's experiments: train, evaluate, draw (see --list)",
        description="Train the runs of a recipe (or continue them), evaluate them, draw their "
        "figures and write OUT/NAME/metrics.json.",
    )
    p.add_argument("name", nargs="?", help="the experiment; --list shows them")
    p.add_argument("--list", action="store_true", help="list the experiments")
    p.add_argument(
        "--out", type=Path, default=Path("runs/experiments"), help="default runs/experiments"
    )
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    add_options(p)
    p.set_defaults(run=cmd_experiment)


def add_export(sub) -> None:
    p = sub.add_parser(
        "export",
        help="the encoder and decoder as ONNX files, checked by onnxruntime against torch",
        description="Write RUN/onnx/encoder.onnx (images -> mu, log_var) and decoder.onnx "
        "(z -> E[x|z]) with a dynamic batch axis; run both with onnxruntime on the CPU against "
        "torch on the same inputs and print the largest difference (refused above 1e-5).",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN", help=RUN_HELP)
    p.add_argument("--format", choices=("onnx",), default="onnx", help="onnx (the only one)")
    p.add_argument("--out", type=Path, help="the folder for the files (default RUN/onnx)")
    p.add_argument(
        "--force", action="store_true", help="replace that folder if it holds files already"
    )
    add_checkpoint(p)
    add_options(p, device=False)
    p.set_defaults(run=cmd_export)


COMMANDS = (
    add_data,
    add_train,
    add_evaluate,
    add_figures,
    add_sample,
    add_compare,
    add_experiment,
    add_export,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vae", description="Variational autoencoders from first principles."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def with_data_show(argv: list[str]) -> list[str]:
    """``vae data NAME`` is short for ``vae data show NAME``."""
    if len(argv) >= 2 and argv[0] == "data" and argv[1] not in (*DATA_ACTIONS, "-h", "--help"):
        return ["data", "show", *argv[1:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(with_data_show(sys.argv[1:] if argv is None else argv))
    try:
        return args.run(args)
    except VaeError as err:
        # under torchrun every rank meets the same bad input: rank 0 says it, unless the
        # error is this rank's own (a lost peer)
        if main_process() or getattr(err, "every_rank", False):
            print(f"vae: error: {one_line(str(err))}", file=sys.stderr)
    except OSError as err:
        where = f": {err.filename}" if err.filename else ""
        print(f"vae: error: {one_line(f'{err.strerror or err}{where}')}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"vae: interrupted{resume_hint(args)}", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("VAE_DEBUG"):
            raise
        print(
            f"vae: internal error: {type(err).__name__}: {one_line(str(err))} "
            "(a bug in the package; set VAE_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return 1
    return 2


def main_process() -> bool:
    """Whether this process reports to the user: rank 0 under torchrun, or one that
    torchrun did not start, whatever RANK says (a stray RANK=1 must not silence it; the
    training then says which of torchrun's variables are missing)."""
    launched = all(name in os.environ for name in TORCHRUN_VARIABLES)
    return not launched or os.environ["RANK"] == "0"


def resume_hint(args: argparse.Namespace) -> str:
    """How to continue an interrupted ``vae train``, where a finished epoch was kept."""
    run = getattr(args, "resume", None) or getattr(args, "out", None)
    if args.command != "train" or run is None or not RunFolder(run).checkpoint.is_file():
        return ""
    return f"; the last finished epoch is kept: continue with vae train --resume {run}"
