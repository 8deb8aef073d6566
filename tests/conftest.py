"""Shared test configuration.

Hypothesis profiles, chosen by the environment variable HYPOTHESIS_PROFILE:

- ``dev`` (default): few examples, for the edit-test loop.
- ``ci``: many examples, derandomized (the same examples every run, so a CI
  failure reproduces on any machine), no deadline (CI machines are noisy).
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=15, deadline=None)
settings.register_profile(
    "ci",
    max_examples=80,
    derandomize=True,
    database=None,  # CI replays nothing saved by earlier runs: the same examples every time
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config):
    """VAE_TEST_DEVICE names a device this machine has, or the run stops at once. Under
    pytest-xdist each worker's torch, and every process it starts (the command line,
    torchrun's ranks, the docs build's notebook kernels), gets its share of the cores: two
    workers of two threads each on two cores spend their time waiting for each other."""
    import torch
    from device_under_test import DEVICE

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)

    if DEVICE not in ("cpu", "cuda"):
        pytest.exit(f"VAE_TEST_DEVICE must be cpu or cuda, got {DEVICE!r}", returncode=4)
    if DEVICE == "cuda" and not torch.cuda.is_available():
        pytest.exit("VAE_TEST_DEVICE=cuda, but torch sees no GPU on this machine", returncode=4)


@pytest.fixture(autouse=True, scope="session")
def quick_judges(tmp_path_factory):
    """Judges (vae_torch.quality.judge) trained in 50 steps, cached in a folder of this test
    session: the tests check what is done with a judge's outputs, and a real judge
    (a minute of training, measured by the experiments) never meets a test's."""
    from vae_torch.quality import judge

    folder = tmp_path_factory.mktemp("judges")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(judge, "STEPS", 50)
        patch.setattr(judge, "judge_folder", lambda: folder)
        yield folder
