"""torch -> ONNX export, with the checks that make the ONNX file trustworthy.

Steps: (1) export with ``torch.onnx.export`` (the torch.export-based exporter; opset 18
by default, which it implements natively; 17 is accepted and down-converted by ONNX),
with the dynamic axes the caller declares (batch, height, width...); (2)
``onnx.checker`` on the file; (3) run torch and ONNX Runtime on the same inputs, random
ones at several sizes (so a dynamic axis that was baked in as a constant shows up) and
real ones from the caller, and compare the largest absolute difference with a
tolerance. A failure raises :class:`~fitroom.errors.NotCompressible` carrying the
measured figure, never a silent wrong file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from fitroom.compress.metrics import Feeds
from fitroom.errors import InputError, NotCompressible

#: Opset written by default: the exporter's native one (>= 17, as the project requires).
DEFAULT_OPSET = 18
#: Lowest opset accepted (LayerNormalization and friends need 17).
MIN_OPSET = 17


@dataclass(frozen=True)
class InputSpec:
    """One model input: its name, an example shape, and which axes may vary.

    ``dynamic_axes`` maps an axis index to a name (``{0: "batch", 2: "height"}``);
    those axes stay symbolic in the ONNX graph. ``value_range`` bounds the random
    inputs made for checks; ``dtype`` is a numpy dtype name (``"float32"``, ``"int64"``).
    """

    name: str
    shape: tuple[int, ...]
    dynamic_axes: Mapping[int, str] = field(default_factory=dict)
    dtype: str = "float32"
    value_range: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        if any(d < 1 for d in self.shape):
            raise InputError(f"input {self.name!r}: every dimension must be >= 1; got {self.shape}")
        bad = [a for a in self.dynamic_axes if not 0 <= a < len(self.shape)]
        if bad:
            raise InputError(
                f"input {self.name!r}: dynamic axes {bad} are outside its {len(self.shape)} dims"
            )

    def random(self, rng: np.random.Generator, grow: int = 0) -> npt.NDArray[Any]:
        """A random array of this input; every dynamic axis grown by ``grow``."""
        shape = tuple(
            d + grow if axis in self.dynamic_axes else d for axis, d in enumerate(self.shape)
        )
        low, high = self.value_range
        if np.issubdtype(np.dtype(self.dtype), np.integer):
            return rng.integers(int(low), int(high), size=shape).astype(self.dtype)
        return rng.uniform(low, high, size=shape).astype(self.dtype)


@dataclass(frozen=True)
class EquivalenceCheck:
    """How closely ONNX Runtime reproduced torch: the largest |difference| seen."""

    max_abs_diff: float
    tolerance: float
    relative_tolerance: float
    inputs_checked: int
    shapes_checked: list[list[int]]


def example_feeds(specs: Sequence[InputSpec], rng: np.random.Generator, grow: int = 0) -> Feeds:
    """One random feed per input spec (dynamic axes grown by ``grow``)."""
    return {spec.name: spec.random(rng, grow) for spec in specs}


def _torch_args(feeds: Feeds, specs: Sequence[InputSpec]) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(np.ascontiguousarray(feeds[s.name])) for s in specs)


def export_onnx(
    model: nn.Module,
    inputs: Sequence[InputSpec],
    path: Path,
    *,
    opset: int = DEFAULT_OPSET,
    output_name: str = "output",
) -> Path:
    """Export ``model`` (in eval mode) to ONNX at ``path`` and run ``onnx.checker``.

    Raises NotCompressible with the exporter's reason when an op or construct has no
    ONNX form (data-dependent control flow, an op without a translation...).
    """
    import onnx

    if opset < MIN_OPSET:
        raise InputError(f"opset must be >= {MIN_OPSET}; got {opset}")
    if not inputs:
        raise InputError("a model needs at least one InputSpec to be exported")
    model.eval()
    rng = np.random.default_rng(0)
    args = _torch_args(example_feeds(inputs, rng), inputs)
    # Positional (a tuple per input), so forward's parameter names do not matter.
    dynamic_shapes = tuple(
        {axis: torch.export.Dim.DYNAMIC for axis in spec.dynamic_axes} for spec in inputs
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    quiet = io.StringIO()
    exporter_log = logging.getLogger("torch.onnx")
    previous_level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(quiet),
            contextlib.redirect_stderr(quiet),
            torch.no_grad(),
        ):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                model,
                args,
                input_names=[s.name for s in inputs],
                output_names=[output_name],
                opset_version=opset,
                dynamic_shapes=dynamic_shapes,
                dynamo=True,
                report=False,
                verbose=False,
            )
            if program is None:  # pragma: no cover - dynamo=True always returns one
                raise NotCompressible("the ONNX exporter returned no program")
            program.save(str(path))
    except NotCompressible:
        raise
    except Exception as exc:
        raise NotCompressible(
            f"{type(model).__name__} cannot be exported to ONNX (opset {opset}): "
            f"{export_failure_summary(exc)}",
            step="export",
            exception=type(exc).__name__,
        ) from exc
    finally:
        exporter_log.setLevel(previous_level)
    _name_dynamic_axes(path, inputs)
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as exc:
        raise NotCompressible(
            f"the exported ONNX file fails onnx.checker: {exc}", step="export"
        ) from exc
    return path


def export_failure_summary(exc: BaseException) -> str:
    """The useful part of an exporter error: its cause and the line of ``forward``.

    The torch exporter wraps the real reason (an op with no ONNX function, a guard on
    data-dependent values...) in several paragraphs of generic advice; keep the
    "Exception summary" line and the user's source line that raised it.
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    summary = ""
    if "## Exception summary" in lines:
        after = lines[lines.index("## Exception summary") + 1 :]
        summary = next((line for line in after if not line.startswith("\u2b06")), "")
        summary = re.sub(r"^<class '(?:[\w.]+\.)?(\w+)'>:", r"\1:", summary)
    if not summary:
        summary = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    if "The following call raised this error:" in lines:
        where = lines[lines.index("The following call raised this error:") + 1 :][:2]
        summary += " (at " + " ".join(where) + ")"
    return summary[:800]


def _name_dynamic_axes(path: Path, inputs: Sequence[InputSpec]) -> None:
    """Give the exporter's symbolic dims (``s31``) the caller's names (``height``)."""
    import onnx

    model = onnx.load(str(path))
    renames: dict[str, str] = {}
    specs = {s.name: s for s in inputs}
    for value in model.graph.input:
        spec = specs.get(value.name)
        if spec is None:
            continue
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if axis in spec.dynamic_axes and dim.dim_param:
                renames[dim.dim_param] = spec.dynamic_axes[axis]
    if not renames:
        return
    for value in [*model.graph.input, *model.graph.output, *model.graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param in renames:
                dim.dim_param = renames[dim.dim_param]
    onnx.save(model, str(path))


def onnx_session(path: Path, intra_op_num_threads: int = 1) -> object:
    """An ONNX Runtime CPU session with a fixed thread count (sequential execution)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_num_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check_equivalence(
    model: nn.Module,
    onnx_path: Path,
    inputs: Sequence[InputSpec],
    *,
    real_feeds: Sequence[Feeds] = (),
    random_trials: int = 2,
    tolerance: float = 1e-4,
    relative_tolerance: float = 0.0,
    seed: int = 0,
) -> EquivalenceCheck:
    """Compare torch and ONNX Runtime outputs; raise NotCompressible beyond ``tolerance``.

    Random inputs are drawn at the example shape and, for models with dynamic axes,
    at a grown shape too (a size the exporter never saw). Each output element may
    differ by ``tolerance`` plus ``relative_tolerance`` times its torch value (float32
    rounding grows with the value: random inputs can drive outputs far past real ones).
    """
    rng = np.random.default_rng(seed)
    feeds: list[Feeds] = []
    for trial in range(random_trials):
        feeds.append(example_feeds(inputs, rng, grow=3 * trial))
    feeds.extend(real_feeds)
    session = onnx_session(onnx_path)
    model.eval()
    worst = 0.0
    within = True
    shapes: list[list[int]] = []
    for feed in feeds:
        with torch.no_grad():
            expected = model(*_torch_args(feed, inputs))
        if isinstance(expected, tuple | list):
            expected = expected[0]
        try:
            got = session.run(None, {k: np.ascontiguousarray(v) for k, v in feed.items()})[0]  # type: ignore[attr-defined]
        except Exception as exc:
            shape = {k: list(v.shape) for k, v in feed.items()}
            raise NotCompressible(
                f"ONNX Runtime cannot run the exported model on inputs of shape {shape}: {exc}",
                step="equivalence",
            ) from exc
        expected_np = expected.detach().numpy()
        if got.shape != expected_np.shape:
            raise NotCompressible(
                f"ONNX output shape {list(got.shape)} differs from torch's "
                f"{list(expected_np.shape)} (a dynamic axis baked in as a constant?)",
                step="equivalence",
            )
        expected_64 = expected_np.astype(np.float64)
        diffs = np.abs(got.astype(np.float64) - expected_64)
        within = within and bool(
            np.all(diffs <= tolerance + relative_tolerance * np.abs(expected_64))
        )
        worst = max(worst, float(np.max(diffs)))
        shapes.append(list(next(iter(feed.values())).shape))
    if not within:
        allowed = f"tolerance {tolerance:g}" + (
            f" + {relative_tolerance:g} x |value|" if relative_tolerance else ""
        )
        raise NotCompressible(
            f"ONNX Runtime differs from torch by up to {worst:.3g} ({allowed}) "
            f"over {len(feeds)} inputs",
            step="equivalence",
            max_abs_diff=worst,
            tolerance=tolerance,
        )
    return EquivalenceCheck(
        max_abs_diff=worst,
        tolerance=tolerance,
        relative_tolerance=relative_tolerance,
        inputs_checked=len(feeds),
        shapes_checked=shapes,
    )
