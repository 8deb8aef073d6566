"""The public Python surface: every name resolves, is documented and fully typed."""

import inspect
import typing

import pytest

import vae_numpy
import vae_torch

PUBLIC = [(m, name) for m in (vae_torch, vae_numpy) for name in m.__all__]


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=lambda v: getattr(v, "__name__", v))
def test_a_public_name_is_documented_and_typed(module, name):
    value = getattr(module, name)
    doc = inspect.getdoc(value) or ""
    assert len(doc) > 40 and not doc.startswith(f"{name}("), f"{name} needs a docstring"
    if inspect.isfunction(value):
        hints = typing.get_type_hints(value)
        parameters = inspect.signature(value).parameters
        assert set(parameters) <= set(hints), f"{name}: untyped {set(parameters) - set(hints)}"
        assert "return" in hints, f"{name} has no return type"
    assert name in dir(module)


def test_the_model_methods_of_the_surface_are_documented():
    for method in ("encode", "decode", "reconstruct", "sample", "iwae"):
        assert len(inspect.getdoc(getattr(vae_torch.VAE, method))) > 30


def test_a_name_outside_the_surface_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'train_torch'"):
        vae_torch.train_torch  # noqa: B018
