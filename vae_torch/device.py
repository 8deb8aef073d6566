"""Choosing the device: ``auto`` takes CUDA when present, else the CPU."""

import torch

from vae_numpy.errors import VaeError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    if name not in DEVICES:
        raise VaeError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise VaeError("--device cuda: no CUDA device is available here; use --device cpu or auto")
    return torch.device(name)
