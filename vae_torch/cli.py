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


def cmd_train(args: argparse.Namespace) -> int:
    from vae_numpy.config import TrainConfig

    given = {f: getattr(args, f) for f in [*TRAIN_FLAGS, *LIST_FLAGS]}
    fields = {f: v for f, v in given.items() if v is not None}
    fields |= {f: True for f in SWITCHES if getattr(args, f)}
    if (args.out is None) == (args.resume is None):
        raise VaeError("give either --out NEW_RUN_FOLDER or --resume RUN_FOLDER")
    download = args.download or None
    if args.resume is not None:
        from vae_torch.train import resume_torch

        ignored = sorted(set(fields) - {"epochs", "device"})
        if ignored:
            flags = ", ".join("--" + f.replace("_", "-") for f in ignored)
            raise VaeError(
                f"--resume continues the run with its own config; drop {flags} "
                "(only --epochs and --device may change)"
            )
        out = args.resume
        history = resume_torch(
            out, fields.get("epochs"), args.data_dir, download, device=fields.get("device")
        )
    else:
        config = TrainConfig(**fields)
        out = args.out
        if config.backend == "numpy":
            from vae_numpy.train import train_numpy

            history = train_numpy(config, out, args.data_dir, download)
        else:
            from vae_torch.train import train_torch

            history = train_torch(config, out, args.data_dir, download)
    last = history[-1]
    print(f"done: validation ELBO {last['val_elbo']:.2f} nats/example; run folder {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from vae_torch.report import evaluate_run, evaluation_table

    result = evaluate_run(
        args.run_dir, args.k, args.split, args.device, args.data_dir, args.download or None
    )
    print(evaluation_table(result))
    print(f"written: {result['path']}")
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from vae_torch.figures import make_figures

    only = [name.strip() for name in args.only.split(",")] if args.only else None
    report = make_figures(
        args.run_dir,
        args.out,
        only,
        args.device,
        args.seed,
        args.data_dir,
        args.download or None,
        probabilities=args.quantiles,
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
    print(f"written: {report['path']}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from vae_torch.figures import write_samples

    files = write_samples(
        args.run_dir, args.n, args.rows, args.label, args.seed, args.out, args.device
    )
    print("written: " + ", ".join(map(str, files)))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from vae_torch.compare import compare_runs

    record = compare_runs(
        args.runs,
        args.k,
        args.out,
        args.device,
        args.seed,
        not args.fresh,
        args.data_dir,
        args.download or None,
    )
    print(record["table"])
    print("written: " + ", ".join(record["files"]))
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from vae_torch.experiments import RECIPES, describe, run_experiment

    if args.list or args.name is None:
        print("\n\n".join(describe(recipe) for recipe in RECIPES.values()))
        return 0
    record = run_experiment(
        args.name, args.out, args.epochs, args.device, args.data_dir, args.download or None
    )
    for name, run in record["runs"].items():
        test = run["test"]
        print(
            f"{name}: {run['status']}; test ELBO {test['elbo']:.2f} "
            f"(E_q[log p(x|z)] {test['log_px_given_z']:.2f}, KL {test['kl']:.2f}), "
            f"IWAE k={test['iwae_k']} {test['iwae']:.2f} ± {test['iwae_standard_error']:.2f}"
        )
    if "comparison" in record:
        print(record["comparison"]["table"])
    print(f"written: {record['path']}")
    return 0


TRAIN_FLAGS = {
    "backend": (str, "torch (default) or numpy (hand-written backprop, MLP only)"),
    "model": (str, "mlp, conv, cvae (conditional MLP) or conv-cvae (conditional conv)"),
    "dataset": (str, "fashion-mnist, mnist or mnist-5k"),
    "pixels": (str, "grey, static-binary, dynamic-binary or dequantized"),
    "likelihood": (str, "bernoulli (decoder outputs logits) or gaussian (means, fixed sigma)"),
    "sigma": (float, "the Gaussian likelihood's fixed standard deviation (default 0.1)"),
    "latent_dim": (int, "size of z (default 20)"),
    "activation": (str, "relu, tanh or sigmoid"),
    "epochs": (int, "passes over the training set (default 10)"),
    "batch_size": (int, "examples per step (default 128)"),
    "lr": (float, "Adam's step size (default 1e-3)"),
    "kl_weight": (float, "beta in -log p(x|z) + beta KL (default 1: the ELBO)"),
    "n_val": (int, "training examples held out for validation (default a sixth)"),
    "limit": (int, "train on only this many examples"),
    "seed": (int, "seed of initialisation, noise, batch order and split (default 0)"),
    "device": (str, "torch: auto (CUDA when present), cpu or cuda"),
    "dtype": (str, "float32 (default) or float64"),
    "amp": (str, "torch: bf16 runs the forward pass under bfloat16 autocast (for GPUs)"),
}
LIST_FLAGS = {
    "hidden": "fully connected widths, e.g. 400 or 512,256; none for no hidden layer",
    "channels": "conv models: output channels of each convolution (default 32,32,64)",
    "strides": "conv models: 1 (kernel 3) or 2 (kernel 4) per convolution (default 1,2,2)",
}
SWITCHES = {"mc_kl": "torch: a one-sample Monte Carlo KL instead of the closed form"}


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

    train = sub.add_parser(
        "train",
        help="train a VAE and write a run folder (config, per-epoch history, parameters)",
        description="Train a VAE by maximising the ELBO; prints train and validation ELBO with "
        "its two parts after every epoch, in nats per example.",
    )
    for name, (kind, text) in TRAIN_FLAGS.items():
        train.add_argument(f"--{name.replace('_', '-')}", type=kind, help=text)
    for name, text in LIST_FLAGS.items():
        train.add_argument(f"--{name}", type=int_list, help=text)
    for name, text in SWITCHES.items():
        train.add_argument(f"--{name.replace('_', '-')}", action="store_true", help=text)
    train.add_argument("--out", type=Path, help="the run folder to create")
    train.add_argument(
        "--resume",
        type=Path,
        metavar="RUN",
        help="continue a torch run from its last checkpoint (--epochs N extends it)",
    )
    train.add_argument("--data-dir", type=Path, help="a folder that holds the dataset's files")
    train.add_argument("--download", action="store_true", help="allow a verified download")
    train.set_defaults(run=cmd_train)

    evaluate = sub.add_parser(
        "evaluate",
        help="test ELBO with its parts and the importance-weighted log-likelihood estimate",
        description="Evaluate a run's model on the test set (or the validation set): the ELBO "
        "with log p(x|z) and KL, and IWAE_k, in nats per example and bits per pixel; prints a "
        "table and writes the numbers as JSON into the run folder.",
    )
    evaluate.add_argument(
        "run_dir", type=Path, metavar="RUN", help="a run folder written by vae train"
    )
    evaluate.add_argument(
        "--k", type=int, default=100, help="importance samples per image (default 100)"
    )
    evaluate.add_argument("--split", choices=("test", "val"), default="test")
    evaluate.add_argument("--device", default="auto", help="auto, cpu or cuda")
    evaluate.add_argument("--data-dir", type=Path, help="a folder that holds the dataset's files")
    evaluate.add_argument("--download", action="store_true", help="allow a verified download")
    evaluate.set_defaults(run=cmd_evaluate)

    def run_argument(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "run_dir", type=Path, metavar="RUN", help="a run folder written by vae train"
        )

    def data_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("--device", default="auto", help="auto, cpu or cuda")
        p.add_argument("--data-dir", type=Path, help="a folder that holds the dataset's files")
        p.add_argument("--download", action="store_true", help="allow a verified download")

    figures = sub.add_parser(
        "figures",
        help="every figure the course asks for, from a trained run (PNG and SVG)",
        description="Draw the figures of a run into RUN/figures: ELBO, reconstruction and KL "
        "curves; test reconstructions; prior samples; interpolations; hist2d of the two latent "
        "dimensions of highest variance; traversals; the class grid of a conditional model. "
        "Writes figures.json with the numbers behind them.",
    )
    run_argument(figures)
    figures.add_argument("--out", type=Path, help="folder for the figures (default RUN/figures)")
    figures.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated figure names, e.g. samples,latent-hist2d (default: all that "
        "apply); elbo-curves, loss-terms, reconstructions, samples, interpolations, "
        "latent-hist2d, traversals-1d, traversal-2d, class-grid",
    )
    figures.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    figures.add_argument(
        "--quantiles",
        type=probability_pair,
        default=(0.05, 0.95),
        metavar="LOW,HIGH",
        help="traversals decode norm.ppf at 7 probabilities from LOW to HIGH (default 0.05,0.95)",
    )
    data_arguments(figures)
    figures.set_defaults(run=cmd_figures)

    sample = sub.add_parser(
        "sample",
        help="a grid of images decoded from z ~ N(0, I)",
        description="Decode n draws z ~ N(0, I) (the means E[x|z]) into a grid of images.",
    )
    run_argument(sample)
    sample.add_argument("--n", type=int, default=10, help="number of images (default 10)")
    sample.add_argument("--rows", type=int, default=2, help="rows of the grid (default 2)")
    sample.add_argument(
        "--label", type=int, help="conditional models: the class (default: each in turn)"
    )
    sample.add_argument("--seed", type=int, default=0, help="seed of z (default 0)")
    sample.add_argument(
        "--out",
        type=Path,
        help="file name without extension (default RUN/figures/samples-nN-seedS); "
        ".png and .svg are written",
    )
    sample.add_argument("--device", default="auto", help="auto, cpu or cuda")
    sample.set_defaults(run=cmd_sample)

    compare = sub.add_parser(
        "compare",
        help="runs side by side: parameters, test ELBO, IWAE, training time, samples",
        description="Compare runs trained on the same data and likelihood: parameter counts of "
        "encoder and decoder, test ELBO and its parts, the importance-weighted estimate of "
        "log p(x), training time; a Markdown table, JSON and one figure of samples.",
    )
    compare.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run folders")
    compare.add_argument(
        "--k", type=int, default=1000, help="importance samples per image (default 1000)"
    )
    compare.add_argument(
        "--out", type=Path, help="folder for the table and figure (default: beside the first run)"
    )
    compare.add_argument("--seed", type=int, default=0, help="seed of the samples' z")
    compare.add_argument(
        "--fresh",
        action="store_true",
        help="evaluate again even where the run folder holds an evaluation with this k",
    )
    data_arguments(compare)
    compare.set_defaults(run=cmd_compare)

    experiment = sub.add_parser(
        "experiment",
        help="run one of the course's experiments: train, evaluate, draw (see --list)",
        description="Train the runs of a recipe (or continue them), evaluate them, draw their "
        "figures and write OUT/NAME/metrics.json.",
    )
    experiment.add_argument("name", nargs="?", help="the experiment; --list shows them")
    experiment.add_argument("--list", action="store_true", help="list the experiments")
    experiment.add_argument(
        "--out", type=Path, default=Path("runs/experiments"), help="default runs/experiments"
    )
    experiment.add_argument("--epochs", type=int, help="override the recipe's epochs")
    data_arguments(experiment)
    experiment.set_defaults(run=cmd_experiment)
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
        run = getattr(args, "resume", None) or getattr(args, "out", None)
        kept = ""
        if args.command == "train" and run is not None and (Path(run) / "checkpoint.pt").is_file():
            kept = f"; the last finished epoch is kept: continue with vae train --resume {run}"
        print(f"vae: interrupted{kept}", file=sys.stderr)
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
