"""Training under ``torchrun``: PyTorch's DistributedDataParallel, nothing home-made.

    torchrun --nproc-per-node N -m vae_torch train ...            one machine, N processes
    torchrun --nnodes M --nproc-per-node N --rdzv-backend c10d \\
             --rdzv-endpoint HOST:PORT -m vae_torch train ...       M machines

``torchrun`` starts the processes and sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR
and MASTER_PORT; ``join`` reads them and joins the process group (NCCL on CUDA, gloo on
the CPU), with a timeout on every collective. What stays the same as in one process:

- the data: every rank draws the epoch's permutation, pixel view and noise from
  (seed, epoch) exactly as one process does, and takes its share of each global batch
  (``--batch-size`` is the global batch; ``shard``);
- the gradient: each rank's loss is its examples' sum divided by the global batch, times
  the world size, so DDP's average of the ranks' gradients is the gradient of the global
  batch's mean, uneven last batch included (``Session.scale``);
- the numbers: the validation ELBO's sums and the epoch's training sums are added
  across ranks (``all_sum``) before they are divided.

Only rank 0 writes the run folder. The checkpoint holds the whole model and optimizer
state, so a run resumes under any world size, or in one process.
"""

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from vae_numpy.run.errors import VaeError

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
COLLECTIVE_TIMEOUT = timedelta(seconds=300)  # a rank waiting longer on the others gives up


@dataclass(frozen=True)
class World:
    rank: int
    size: int

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes and reports."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


SINGLE = World(0, 1)


def launched() -> bool:
    """Whether torchrun (or an equivalent launcher) started this process; a partial set
    of its variables is an error, not a single-process run."""
    present = [name for name in TORCHRUN_VARIABLES if name in os.environ]
    if present and len(present) < len(TORCHRUN_VARIABLES):
        missing = ", ".join(n for n in TORCHRUN_VARIABLES if n not in present)
        raise VaeError(
            f"{', '.join(present)} set without {missing}: launch with torchrun "
            "(torchrun --nproc-per-node N -m vae_torch train ...) or unset them"
        )
    return bool(present)


def join(device: torch.device) -> tuple[World, torch.device]:
    """Join the process group that torchrun set up, or stay alone; the world and this
    rank's device (cuda:LOCAL_RANK on GPUs)."""
    if not launched():
        return SINGLE, device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        kwargs = {"device_id": device} if device.type == "cuda" else {}
        dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT, **kwargs)
    return World(dist.get_rank(), dist.get_world_size()), device


def leave(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def shard(n: int, world: World) -> slice:
    """This rank's share of n consecutive items (a global batch, the validation images):
    contiguous, sizes differing by at most one, as ``torch.tensor_split`` cuts; all n in
    one process. A slice, so that the share is a view, never a copy."""
    size, extra = divmod(n, world.size)
    start = world.rank * size + min(world.rank, extra)
    return slice(start, start + size + (world.rank < extra))


def all_sum(values: torch.Tensor, world: World) -> torch.Tensor:
    """The sum over ranks (in place), for sums of float64 per-example numbers."""
    if world.distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def collective_failed(err: RuntimeError) -> bool:
    """Whether ``err`` is a failed collective: torch's DistError, or the RuntimeError
    gloo raises when a peer's connection closes."""
    text = str(err)
    return isinstance(err, dist.DistError) or any(
        mark in text for mark in ("gloo", "NCCL", "Connection reset", "Connection closed")
    )


class PeerLost(VaeError):
    """A collective failed on this rank; every surviving rank reports it."""

    every_rank = True


def lost_peer(err: Exception, world: World, checkpoint) -> PeerLost:
    """The error of a rank whose collective failed: a peer died or timed out."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    who = f"rank {world.rank} of {world.size}"
    return PeerLost(f"{who} lost the others ({first}); {kept(checkpoint)}")


def kept(checkpoint) -> str:
    """What a stopped distributed run left, and how to continue it."""
    if checkpoint.is_file():
        return (
            f"the last finished epoch is kept in {checkpoint}; resume with torchrun ... -m "
            f"vae_torch train --resume {checkpoint.parent} (any world size, or plain vae train)"
        )
    return "no epoch had finished, so nothing was saved"


@contextmanager
def stopped_by_launcher(world: World, checkpoint) -> Iterator[None]:
    """Under torchrun, SIGTERM raises PeerLost instead of ending the process silently.

    When one rank dies, torchrun's agent sends SIGTERM to the others, and it may arrive
    before a survivor's next collective fails: without this, that rank would vanish
    without saying what happened or how to resume. (The checkpoint is written atomically,
    so the exception cannot leave half of one.)"""
    if not world.distributed or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise PeerLost(
            f"rank {world.rank} of {world.size} received SIGTERM (torchrun sends it to every "
            f"rank when one fails or the run is interrupted); {kept(checkpoint)}"
        )

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except BaseException:
        # stopping already: a second SIGTERM must not cut the message short (the rank
        # exits right after printing it)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise
    signal.signal(signal.SIGTERM, previous)
