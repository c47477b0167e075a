"""INT8 quantization of an ONNX model with ONNX Runtime.

Two kinds, chosen by what the model is mostly made of (overridable):

- **static** (QDQ format, ``quantize_static``): activations get fixed INT8 scales
  measured on a calibration set, weights are quantized per output channel. This is
  what convolutional nets need: dynamic quantization of Conv would recompute
  activation scales on every call and gains little (ONNX Runtime docs,
  "Quantize ONNX models": static for CNNs, dynamic for RNNs and transformers).
- **dynamic** (``quantize_dynamic``): weights INT8 ahead of time, activation scales
  computed per call; no calibration set needed. For models that are mostly
  MatMul/Gemm (Linear) or LSTM/GRU.

The FP32 model is first passed through ``quant_pre_process`` (symbolic shape
inference + graph optimization), as ONNX Runtime recommends before quantizing.

On x86-64 CPUs without VNNI (AVX2 only), ONNX Runtime's UINT8 x INT8 kernels add pairs
of products in 16 bits, which saturate with full-range weights (ONNX Runtime docs,
"When to use reduce_range"): measured here, a tiny conv net's INT8 error went from
under 5% to 10% of its output range, an MLP's to 17%. So on such a CPU the weights
are quantized to 7 bits (``reduce_range``), which cannot saturate; with VNNI (or off
x86) they keep all 8. An INT8 file made on a VNNI machine can lose accuracy on an
older CPU: quantize where you serve, or pass ``reduce_range=True``.
"""

from __future__ import annotations

import collections
import contextlib
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from fitroom.compress.metrics import Feeds
from fitroom.errors import InputError, NotCompressible

#: Op types counted as convolutional (static quantization territory).
CONV_OPS = frozenset({"Conv", "ConvTranspose"})
#: Op types counted as linear or recurrent (dynamic quantization territory).
LINEAR_RECURRENT_OPS = frozenset({"MatMul", "Gemm", "LSTM", "GRU", "RNN", "Attention"})


class QuantizationMode(StrEnum):
    static = "static"
    dynamic = "dynamic"


@dataclass(frozen=True)
class QuantizationResult:
    """Where the INT8 file is, how it was made, and why that mode."""

    path: Path
    mode: QuantizationMode
    reason: str
    size_bytes: int
    calibration_samples: int
    op_counts: dict[str, int]
    #: Weights quantized to 7 bits, not 8 (see the module docstring).
    reduce_range: bool = False


def cpu_has_vnni() -> bool:
    """Whether this CPU has VNNI dot-product instructions (``avx512_vnni`` or
    ``avx_vnni`` in /proc/cpuinfo), True off x86-64 where the issue does not arise,
    and True when it cannot tell (no /proc/cpuinfo: not Linux)."""
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return True
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    return cpuinfo_has_vnni(text)


def cpuinfo_has_vnni(cpuinfo: str) -> bool:
    """Whether the first ``flags`` line of an x86 /proc/cpuinfo text lists a VNNI
    extension (True when there is no flags line: nothing to go on)."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return bool(flags & {"avx512_vnni", "avx_vnni"})
    return True


def count_ops(onnx_path: Path) -> dict[str, int]:
    """How many nodes of each op type the graph has (subgraphs included)."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    counts: collections.Counter[str] = collections.Counter()

    def walk(graph: Any) -> None:
        for node in graph.node:
            counts[node.op_type] += 1
            for attribute in node.attribute:
                if attribute.g is not None and len(attribute.g.node):
                    walk(attribute.g)

    walk(model.graph)
    return dict(counts)


def nodes_reading(onnx_path: Path, initializer_suffix: str) -> list[str]:
    """Nodes that read an initializer whose name ends with ``initializer_suffix``,
    and the nodes that consume their outputs (the branch and where it joins).

    The exporter names initializers after the module path (``model.bicubic.kernels``),
    so this finds a module's nodes without depending on generated node names.
    """
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    initializers = {i.name for i in graph.initializer if i.name.endswith(initializer_suffix)}
    readers = [n for n in graph.node if initializers.intersection(n.input)]
    outputs = {o for n in readers for o in n.output}
    joins = [n for n in graph.node if outputs.intersection(n.input)]
    return [n.name for n in readers + joins]


def choose_mode(op_counts: dict[str, int]) -> tuple[QuantizationMode, str]:
    """Static for conv-dominated graphs, dynamic for linear/recurrent ones, and why."""
    conv = sum(op_counts.get(op, 0) for op in CONV_OPS)
    linear = sum(op_counts.get(op, 0) for op in LINEAR_RECURRENT_OPS)
    if conv == 0 and linear == 0:
        raise NotCompressible(
            "nothing to quantize: the graph has no Conv, MatMul, Gemm or recurrent node",
            step="quantize",
            op_counts=op_counts,
        )
    if conv >= linear:
        return QuantizationMode.static, f"{conv} conv vs {linear} linear/recurrent nodes"
    return QuantizationMode.dynamic, f"{linear} linear/recurrent vs {conv} conv nodes"


class FeedsCalibrationReader:
    """An ONNX Runtime ``CalibrationDataReader`` over a list of feeds (one pass)."""

    def __init__(self, feeds: Sequence[Feeds]) -> None:
        self._feeds = [{k: np.ascontiguousarray(v) for k, v in f.items()} for f in feeds]
        self._position = 0

    def get_next(self) -> dict[str, Any] | None:
        if self._position >= len(self._feeds):
            return None
        feed = self._feeds[self._position]
        self._position += 1
        return feed

    def rewind(self) -> None:
        self._position = 0


def quantize_onnx(
    fp32_path: Path,
    int8_path: Path,
    *,
    calibration: Iterable[Feeds] | None = None,
    mode: QuantizationMode | None = None,
    per_channel: bool = True,
    keep_float: Sequence[str] = (),
    reduce_range: bool | None = None,
) -> QuantizationResult:
    """Write an INT8 copy of ``fp32_path`` to ``int8_path``; static QDQ or dynamic.

    ``mode=None`` chooses by op counts (:func:`choose_mode`). Static needs
    ``calibration`` (a few representative inputs: 8-100 is typical); MinMax
    calibration, signed INT8 weights per channel, unsigned INT8 activations.
    ``keep_float`` names nodes to leave in FP32 (see :func:`nodes_reading`).
    ``reduce_range``: 7-bit weights; None: when this CPU lacks VNNI (module docstring).
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    op_counts = count_ops(fp32_path)
    if mode is None:
        mode, reason = choose_mode(op_counts)
    else:
        reason = f"chosen by the caller ({mode.value})"
    if reduce_range is None:
        reduce_range = not cpu_has_vnni()
    feeds = list(calibration) if calibration is not None else []
    if mode is QuantizationMode.static and not feeds:
        raise InputError(
            "static INT8 quantization needs calibration inputs (a few representative "
            "samples); pass a calibration set or choose dynamic quantization",
            field="calibration",
        )
    # Absolute paths: the pre-processing below runs with the temporary folder as cwd.
    fp32_path = Path(fp32_path).resolve()
    int8_path = Path(int8_path).resolve()
    int8_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fitroom-quant-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # ORT's symbolic shape inference dumps a debug model into the working directory
        # when it cannot finish; run it inside the temporary folder so nothing leaks.
        with contextlib.chdir(tmp):
            try:
                quant_pre_process(
                    str(fp32_path), str(prepared), skip_symbolic_shape=False, auto_merge=True
                )
            except Exception:
                # Incomplete on some graphs (pads built from shapes); ONNX's own shape
                # inference is enough for conv and linear layers.
                quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        try:
            if mode is QuantizationMode.static:

                class Reader(FeedsCalibrationReader, CalibrationDataReader):  # type: ignore[misc]
                    pass

                quantize_static(
                    str(prepared),
                    str(int8_path),
                    Reader(feeds),
                    quant_format=QuantFormat.QDQ,
                    per_channel=per_channel,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    reduce_range=reduce_range,
                    nodes_to_exclude=list(keep_float),
                )
            else:
                quantize_dynamic(
                    str(prepared),
                    str(int8_path),
                    per_channel=per_channel,
                    weight_type=QuantType.QInt8,
                    reduce_range=reduce_range,
                    nodes_to_exclude=list(keep_float),
                )
        except (InputError, NotCompressible):
            raise
        except Exception as exc:
            raise NotCompressible(
                f"ONNX Runtime could not quantize {fp32_path.name} ({mode.value}): {exc}",
                step="quantize",
            ) from exc
    return QuantizationResult(
        path=int8_path,
        mode=mode,
        reason=reason,
        size_bytes=int8_path.stat().st_size,
        calibration_samples=len(feeds) if mode is QuantizationMode.static else 0,
        op_counts=op_counts,
        reduce_range=reduce_range,
    )
