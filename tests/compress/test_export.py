"""torch -> ONNX export: equality with torch, dynamic axes, and clear failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import Tensor, nn

from fitroom.compress.export import InputSpec, check_equivalence, export_onnx
from fitroom.errors import InputError, NotCompressible
from tests.compress.tiny import IMAGE_SPEC, VECTOR_SPEC, conv_net, image_feeds, mlp


def input_dims(path: Path) -> list[int | str]:
    model = onnx.load(str(path))
    return [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]


def test_conv_net_export_matches_torch_at_new_sizes(tmp_path: Path) -> None:
    model = conv_net()
    path = export_onnx(model, [IMAGE_SPEC], tmp_path / "conv.onnx")
    assert onnx.load(str(path)).opset_import[0].version >= 17
    assert input_dims(path) == ["batch", 3, "height", "width"]
    check = check_equivalence(
        model, path, [IMAGE_SPEC], real_feeds=image_feeds(1, seed=3, size_px=23)
    )
    assert check.max_abs_diff < 1e-5
    # The example size, a grown batch and size the exporter never saw, the real input.
    assert check.shapes_checked == [[1, 3, 16, 16], [4, 3, 19, 19], [1, 3, 23, 23]]


def test_mlp_export_matches_torch(tmp_path: Path) -> None:
    model = mlp()
    path = export_onnx(model, [VECTOR_SPEC], tmp_path / "mlp.onnx", opset=17)
    assert onnx.load(str(path)).opset_import[0].version == 17
    check = check_equivalence(model, path, [VECTOR_SPEC])
    assert check.max_abs_diff < 1e-5
    assert check.inputs_checked == 2


class Singular(nn.Module):
    """Singular values: aten._linalg_svd has no ONNX translation."""

    def forward(self, x: Tensor) -> Tensor:
        singular: Tensor = torch.linalg.svd(x)[1]
        return singular


def test_op_without_onnx_form_raises_with_the_op_name(tmp_path: Path) -> None:
    with pytest.raises(NotCompressible) as info:
        export_onnx(Singular(), [InputSpec("input", (2, 4, 4))], tmp_path / "svd.onnx")
    assert "cannot be exported to ONNX" in info.value.message
    assert "svd" in info.value.message
    assert info.value.details["step"] == "export"


class DataDependent(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        if x.sum() > 0:
            return x * 2
        return x


def test_data_dependent_branch_raises_with_the_source_line(tmp_path: Path) -> None:
    with pytest.raises(NotCompressible) as info:
        export_onnx(DataDependent(), [InputSpec("input", (2, 4))], tmp_path / "dd.onnx")
    assert "if x.sum() > 0" in info.value.message


class CountsCalls(nn.Module):
    """Adds how many times it was called: Python state the exporter bakes in as a constant."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: Tensor) -> Tensor:
        self.calls += 1
        return x + float(self.calls)


def test_equivalence_check_reports_the_difference(tmp_path: Path) -> None:
    spec = InputSpec("input", (2, 4))
    model = CountsCalls()
    path = export_onnx(model, [spec], tmp_path / "baked.onnx")
    with pytest.raises(NotCompressible) as info:
        check_equivalence(model, path, [spec], random_trials=2)
    # Two torch calls add two different counts; the ONNX graph adds one constant, so at
    # least one of them is off by a whole 1.0.
    worst = info.value.details["max_abs_diff"]
    assert worst >= 1.0
    assert f"{worst:.3g}" in info.value.message
    assert info.value.details["tolerance"] == 1e-4


class Scaled(nn.Module):
    """Multiplies by 1e6 after export: torch and ONNX differ by 1e-6 of the value."""

    def __init__(self) -> None:
        super().__init__()
        self.factor = 1e6

    def forward(self, x: Tensor) -> Tensor:
        return x * self.factor


def test_relative_tolerance_allows_large_values_their_rounding(tmp_path: Path) -> None:
    spec = InputSpec("input", (2, 4), value_range=(100.0, 200.0))
    model = Scaled()
    path = export_onnx(model, [spec], tmp_path / "scaled.onnx")
    model.factor = 1e6 * (1 + 1e-6)  # torch now differs by 1e-6 of each value (100-200)
    with pytest.raises(NotCompressible, match=r"tolerance 0\.01 \+ 1e-07 x \|value\|"):
        check_equivalence(model, path, [spec], tolerance=1e-2, relative_tolerance=1e-7)
    check = check_equivalence(model, path, [spec], tolerance=1e-2, relative_tolerance=1e-5)
    assert 100 <= check.max_abs_diff <= 200 and check.relative_tolerance == 1e-5


def test_input_spec_rejects_axes_outside_the_shape() -> None:
    with pytest.raises(InputError, match="outside"):
        InputSpec("input", (1, 3), {2: "height"})


def test_opset_below_17_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="opset"):
        export_onnx(mlp(), [VECTOR_SPEC], tmp_path / "old.onnx", opset=13)


def test_random_inputs_respect_integer_dtype() -> None:
    spec = InputSpec("ids", (2, 5), {1: "length"}, dtype="int64", value_range=(0, 10))
    array = spec.random(np.random.default_rng(0), grow=3)
    assert array.dtype == np.int64
    assert array.shape == (2, 8)
    assert array.min() >= 0 and array.max() < 10
