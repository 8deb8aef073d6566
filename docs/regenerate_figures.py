"""Regenerate the figures and numbers of the lecture notes from the package's experiments.

    .venv/bin/python docs/regenerate_figures.py [--runs runs/docs] [--device cpu]

runs every recipe of ``vae experiment`` (see ``vae experiment --list``) into RUNS,
reusing runs that are already trained, then copies each run's PNG figures and the
experiment's metrics.json (configs, test ELBO, IWAE, the numbers behind the figures)
into docs/figures/NAME/, and draws the diagrams of vae_torch.figures.intuition into
docs/figures/intuition/. The explorer's model is the conditional experiment's run,
exported by ``vae export`` into docs/web/models/conditional/ (encoder.onnx, decoder.onnx,
export.json, examples.json; the site serves them from models/). The notes cite those files: every
figure is the package's own output, and every measured number they quote is read from
metrics.json at build time by the ``{metric}`` role. A test holds metrics.json to the
current recipes, so a changed recipe fails until the figures are regenerated.
"""

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from vae_numpy.run.io import write_json
from vae_numpy.run.options import Options
from vae_torch.experiments import run_experiment
from vae_torch.export import export_onnx
from vae_torch.figures.intuition import draw_all
from vae_torch.recipes import RECIPES

DOCS = Path(__file__).resolve().parent
EXPLORER = {"conditional": "conv-cvae"}  # experiment -> the run the explorer page shows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("runs/docs"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--only", nargs="*", default=[*RECIPES, "intuition"], help="experiments, or intuition"
    )
    args = parser.parse_args()
    if "intuition" in args.only:  # the diagrams that need no run; the notes show the PNGs
        target = DOCS / "figures" / "intuition"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        with tempfile.TemporaryDirectory() as tmp:
            for png in draw_all(Path(tmp)).values():
                shutil.copyfile(png, target / png.name)
        print(f"intuition: {target}")
    for name in (n for n in args.only if n != "intuition"):
        record = run_experiment(name, out=args.runs, options=Options(device=args.device))
        target = DOCS / "figures" / name
        shutil.rmtree(target, ignore_errors=True)
        for run, result in record["runs"].items():
            for files in result["figures"].values():
                png = Path(next(f for f in files if f.endswith(".png")))
                (target / run).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(png, target / run / png.name)
        if "latent_curves" in record:
            png = next(f for f in record["latent_curves"] if f.endswith(".png"))
            shutil.copyfile(png, target / "latent-curves.png")
        if "comparison" in record:
            png = next(f for f in record["comparison"]["files"] if f.endswith(".png"))
            shutil.copyfile(png, target / "comparison.png")
        write_json(target / "metrics.json", {k: v for k, v in record.items() if k != "path"})
        print(f"{name}: {target}")
        if name in EXPLORER:
            export_for_explorer(name, Path(record["runs"][EXPLORER[name]]["folder"]))


def export_for_explorer(name: str, run: Path) -> None:
    """The run's encoder, decoder and description, as ``vae export`` writes them, for the
    site."""
    target = DOCS / "web" / "models" / name
    with tempfile.TemporaryDirectory() as tmp:
        export_onnx(run, out=Path(tmp))
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for file in ("encoder.onnx", "decoder.onnx", "examples.json"):
            shutil.copyfile(Path(tmp) / file, target / file)
        record = json.loads((Path(tmp) / "export.json").read_text())
    record["run"] = f"{name}/{run.name}"  # the recipe's run, not this machine's folder
    write_json(target / "export.json", record)
    print(f"explorer: {target}")


if __name__ == "__main__":
    main()
