"""The reference stands alone: vae_numpy trains, saves and reads its data with neither
torch nor the torch backend importable (the import contracts of pyproject.toml say the
same statically; this runs it)."""

import subprocess
import sys

CODE = """
import sys
sys.modules["torch"] = None  # any import of torch now fails
sys.modules["vae_torch"] = None
import vae_numpy.model, vae_numpy.train, vae_numpy.checkpoint, vae_numpy.data.load
import vae_numpy.likelihoods as likelihoods
print(sorted(likelihoods.LIKELIHOODS))
"""


def test_vae_numpy_imports_without_torch():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "gaussian" in result.stdout


def test_the_check_would_catch_an_import_of_torch():
    """The same child process fails where code imports torch, so the test above can fail."""
    code = CODE.replace("import vae_numpy.model", "import vae_torch.models, vae_numpy.model")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr
