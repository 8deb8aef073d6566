"""The judge of vae_torch.quality.judge: trained once, cached by content, deterministic,
and never silently retrained."""

import pytest
import torch

from vae_numpy.run.errors import VaeError
from vae_torch.quality import judge as judge_module


def test_a_judge_is_trained_once_then_read_from_its_cache(judges_in_tmp):
    first = judge_module.get_judge("mnist-5k", judges_in_tmp)
    files = list(judge_module.judge_folder().glob("mnist-5k-*.pt"))
    assert len(files) == 1
    again = judge_module.get_judge("mnist-5k", judges_in_tmp)
    assert again.record == first.record
    x = torch.rand(5, 1, 28, 28)
    for a, b in zip(first.outputs(x), again.outputs(x), strict=True):
        assert torch.equal(a, b)
    assert 0 <= first.record.test_accuracy <= 1 and first.record.test_examples == 1000


def test_training_a_judge_is_deterministic_on_the_cpu(judges_in_tmp):
    from vae_numpy.data import load_dataset

    raw = load_dataset("mnist-5k", judges_in_tmp)
    digest = judge_module.content_sha256(raw)
    a, b = (judge_module.train_judge(raw, digest) for _ in range(2))
    for (name, p), q in zip(a.net.state_dict().items(), b.net.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_a_corrupt_or_foreign_judge_cache_is_an_error_never_retrained(judges_in_tmp):
    judge_module.get_judge("mnist-5k", judges_in_tmp)
    path = next(judge_module.judge_folder().glob("mnist-5k-*.pt"))
    state = torch.load(path, weights_only=True)
    state["record"]["content_sha256"] = "0" * 64
    torch.save(state, path)
    with pytest.raises(VaeError, match=r"trained on other data.*delete"):
        judge_module.get_judge("mnist-5k", judges_in_tmp)
    path.write_bytes(b"not a judge")
    with pytest.raises(VaeError, match=r"corrupt.*delete"):
        judge_module.get_judge("mnist-5k", judges_in_tmp)
    assert path.read_bytes() == b"not a judge"  # left for the user to look at


@pytest.mark.parametrize(("dy", "dx"), [(0, 0), (1, -1), (-1, 1)])  # within MAX_SHIFT = 1
def test_the_augmentation_moves_the_image_and_fills_the_border_black(dy, dx):
    image = torch.zeros(1, 1, 6, 5)
    image[0, 0, 3, 2] = 1.0  # one bright pixel, and a bright edge that must not wrap round
    image[0, 0, :, -1] = 0.5
    moved = judge_module.shifted(image, dy, dx)
    expected = torch.zeros_like(image)
    expected[0, 0, 3 + dy, 2 + dx] = 1.0
    if 0 <= 4 + dx < 5:
        rows = slice(max(dy, 0), 6 + min(dy, 0))
        expected[0, 0, rows, 4 + dx] = 0.5
    assert torch.equal(moved, expected)
