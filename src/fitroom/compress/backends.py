"""Inference backends behind one small interface: torch eager and ONNX Runtime.

Every variant in a compression report (torch FP32, ONNX FP32, ONNX INT8, pruned...)
is one :class:`InferenceBackend`: named input arrays in, the first output out, plus its
size on disk. The report times and scores them all through this interface, so a new
runtime is one subclass here, checked by the shared contract test
(``tests/compress/test_backends.py``).
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from fitroom.compress.metrics import Feeds
from fitroom.errors import InputError


class InferenceBackend(ABC):
    """One runnable model variant.

    ``runtime`` ("torch", "onnxruntime") and ``precision`` ("fp32", "int8") are what
    the report groups and compares by; ``threads`` is the intra-op thread count used.
    """

    runtime: str
    precision: str
    threads: int

    @abstractmethod
    def predict(self, feeds: Feeds) -> npt.NDArray[Any]:
        """Run one inference; returns the first output as a numpy array."""

    @property
    @abstractmethod
    def size_bytes(self) -> int:
        """Bytes the variant takes when stored (file size, or serialized weights)."""

    def __call__(self, feeds: Feeds) -> npt.NDArray[Any]:
        return self.predict(feeds)


class TorchBackend(InferenceBackend):
    """A torch module in eval mode, no autograd; size = its serialized state_dict."""

    runtime = "torch"

    def __init__(self, module: nn.Module, threads: int = 2, precision: str = "fp32") -> None:
        self.module = module.eval()
        self.threads = threads
        self.precision = precision

    def predict(self, feeds: Feeds) -> npt.NDArray[Any]:
        previous = torch.get_num_threads()
        if previous != self.threads:
            torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                out = self.module(
                    *(torch.from_numpy(np.ascontiguousarray(v)) for v in feeds.values())
                )
        finally:
            if previous != self.threads:
                torch.set_num_threads(previous)
        if isinstance(out, tuple | list):
            out = out[0]
        result: npt.NDArray[Any] = out.numpy()
        return result

    @property
    def size_bytes(self) -> int:
        buffer = io.BytesIO()
        torch.save(self.module.state_dict(), buffer)
        return buffer.getbuffer().nbytes


class OnnxRuntimeBackend(InferenceBackend):
    """An ONNX file run by ONNX Runtime's CPU provider, sequential, fixed threads."""

    runtime = "onnxruntime"

    def __init__(self, path: Path, threads: int = 2, precision: str = "fp32") -> None:
        from fitroom.compress.export import onnx_session

        if not path.is_file():
            raise InputError(f"ONNX file {path} does not exist", path=str(path))
        self.path = path
        self.threads = threads
        self.precision = precision
        self._session: Any = onnx_session(path, intra_op_num_threads=threads)

    def predict(self, feeds: Feeds) -> npt.NDArray[Any]:
        outputs = self._session.run(None, {k: np.ascontiguousarray(v) for k, v in feeds.items()})
        result: npt.NDArray[Any] = outputs[0]
        return result

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size


def make_backend(
    artifact: nn.Module | Path, *, threads: int = 2, precision: str = "fp32"
) -> InferenceBackend:
    """The backend for a torch module or an ``.onnx`` file."""
    if isinstance(artifact, nn.Module):
        return TorchBackend(artifact, threads=threads, precision=precision)
    if artifact.suffix != ".onnx":
        raise InputError(f"{artifact} is not an .onnx file", path=str(artifact))
    return OnnxRuntimeBackend(artifact, threads=threads, precision=precision)
