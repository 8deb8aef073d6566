"""Parameters on disk: one .npz with every array by layer name and the architecture.

No pickle: the architecture is stored as a JSON string, the arrays as arrays, and
``np.load(..., allow_pickle=False)`` reads them, so a parameter file is data, never
code. Names match vae_torch's state_dict (weights transposed: see vae_torch.convert).
"""

import dataclasses
import json
import zipfile
from pathlib import Path

import numpy as np

from vae_numpy.architecture import MLPConfig
from vae_numpy.model import MLPVAE
from vae_numpy.run.errors import VaeError
from vae_numpy.run.io import atomic_path

ARCHITECTURE_KEY = "__architecture__"


def save_model(path: Path, model: MLPVAE) -> None:
    arrays = dict(model.params)
    arrays[ARCHITECTURE_KEY] = np.array(json.dumps(dataclasses.asdict(model.config)))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise VaeError(f"{path}: no such parameter file") from None
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise VaeError(f"{path}: not a readable .npz parameter file ({err})") from None


def load_model(path: Path, config: MLPConfig | None = None) -> MLPVAE:
    """The model saved at ``path``; with ``config``, it must be that architecture."""
    arrays = load_arrays(path)
    if ARCHITECTURE_KEY not in arrays:
        raise VaeError(f"{path}: no architecture record; it was not written by save_model")
    saved = MLPConfig.from_record(json.loads(str(arrays.pop(ARCHITECTURE_KEY))))
    if config is not None and config != saved:
        raise VaeError(f"{path} holds a model of another architecture: {saved}, not {config}")
    names = {f"{n}.{p}" for n in saved.layer_shapes() for p in ("weight", "bias")}
    return MLPVAE(saved, {k: v for k, v in arrays.items() if k in names})
