"""``--device``: auto picks CUDA when present; a missing or unknown device is a clear error."""

import pytest
import torch

from vae_numpy.run.errors import VaeError
from vae_torch.device import resolve_device


def test_cpu_and_auto_resolve_to_real_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(VaeError, match="no CUDA device is available here"):
        resolve_device("cuda")


def test_unknown_device_lists_the_choices():
    with pytest.raises(VaeError, match="choose one of auto, cpu, cuda"):
        resolve_device("tpu")
