"""Choosing the device: ``auto`` takes CUDA when present, else the CPU."""

import torch

from vae_numpy.run.errors import VaeError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    if name not in DEVICES:
        raise VaeError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise VaeError("--device cuda: no CUDA device is available here; use --device cpu or auto")
    return torch.device(name)


def device_name(dev: torch.device) -> str:
    """The device as a run or an evaluation records it: cpu, or cuda and the GPU's name."""
    if dev.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(dev)}"
    return str(dev)
