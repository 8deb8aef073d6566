"""Fixtures of the vae_torch tests."""

import pytest

from vae_numpy.run.options import Options
from vae_torch.quality import judge as judge_module


@pytest.fixture
def quick_judges(monkeypatch, tmp_path):
    """Judges trained in a few steps (tests/conftest.py), cached under tmp_path."""
    monkeypatch.setattr(judge_module, "judge_folder", lambda: tmp_path / "judges")
    return Options(progress=False)
