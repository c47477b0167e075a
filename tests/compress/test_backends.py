"""One contract for every inference backend, on a model whose answer is known.

The model is a 1x1 convolution with weight 2 and bias 1: y = 2x + 1 exactly, so every
backend (torch, ONNX Runtime FP32) must return that to float precision, report a
positive size, and accept any spatial size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from fitroom.compress.backends import (
    InferenceBackend,
    OnnxRuntimeBackend,
    TorchBackend,
    make_backend,
)
from fitroom.compress.export import InputSpec, export_onnx
from fitroom.errors import InputError

SPEC = InputSpec("input", (1, 1, 4, 4), {0: "batch", 2: "height", 3: "width"})


def affine() -> nn.Module:
    conv = nn.Conv2d(1, 1, 1)
    with torch.no_grad():
        conv.weight.fill_(2.0)
        conv.bias.fill_(1.0)  # type: ignore[union-attr]
    return conv.eval()


@pytest.fixture(scope="module")
def affine_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_onnx(affine(), [SPEC], tmp_path_factory.mktemp("affine") / "affine.onnx")


BACKENDS: dict[str, Callable[[Path], InferenceBackend]] = {
    "torch": lambda _path: TorchBackend(affine(), threads=1),
    "onnxruntime": lambda path: OnnxRuntimeBackend(path, threads=1),
}


@pytest.mark.parametrize("kind", sorted(BACKENDS))
def test_backend_contract(kind: str, affine_onnx: Path) -> None:
    backend = BACKENDS[kind](affine_onnx)
    assert backend.runtime == kind
    assert backend.precision == "fp32"
    assert backend.threads == 1
    assert backend.size_bytes > 0
    for shape in [(1, 1, 4, 4), (2, 1, 7, 3)]:
        x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
        out = backend({"input": x})
        assert out.shape == shape
        np.testing.assert_allclose(out, 2.0 * x + 1.0, atol=1e-6)


def test_torch_backend_restores_the_thread_count() -> None:
    before = torch.get_num_threads()
    TorchBackend(affine(), threads=before + 1).predict(
        {"input": np.zeros((1, 1, 2, 2), np.float32)}
    )
    assert torch.get_num_threads() == before


def test_factory(affine_onnx: Path, tmp_path: Path) -> None:
    assert isinstance(make_backend(affine()), TorchBackend)
    assert isinstance(make_backend(affine_onnx, threads=1), OnnxRuntimeBackend)
    with pytest.raises(InputError, match=r"not an \.onnx file"):
        make_backend(tmp_path / "model.pt")
    with pytest.raises(InputError, match="does not exist"):
        make_backend(tmp_path / "missing.onnx")
