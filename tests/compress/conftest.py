"""Compression tests run single-threaded and deterministic (the CI box has 2 cores)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def conv_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny conv net exported once for every test that only reads the file."""
    from fitroom.compress.export import export_onnx
    from tests.compress.tiny import IMAGE_SPEC, conv_net

    return export_onnx(conv_net(), [IMAGE_SPEC], tmp_path_factory.mktemp("onnx") / "conv.onnx")


@pytest.fixture(scope="session")
def mlp_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fitroom.compress.export import export_onnx
    from tests.compress.tiny import VECTOR_SPEC, mlp

    return export_onnx(mlp(), [VECTOR_SPEC], tmp_path_factory.mktemp("onnx") / "mlp.onnx")
