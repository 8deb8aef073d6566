"""Fixtures of the vae_torch tests."""

import pytest

from vae_numpy.run.options import Options
from vae_torch.quality import judge as judge_module


@pytest.fixture
def judges_in_tmp(monkeypatch, tmp_path):
    """The judges of one test: trained in a few steps (tests/conftest.py), cached under its
    tmp_path, so a test sees a judge trained and then read back."""
    monkeypatch.setattr(judge_module, "judge_folder", lambda: tmp_path / "judges")
    return Options(progress=False)
