"""What every benchmark prints first: the machine it ran on."""

import os
import platform

import torch


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine(device: torch.device | None = None) -> str:
    text = f"{cpu_name()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
    text += f"({torch.get_num_threads()} threads)"
    if device is not None and device.type == "cuda":
        text += f", GPU {torch.cuda.get_device_name(device)}"
    return text
