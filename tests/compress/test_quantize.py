"""INT8 quantization: static QDQ for conv nets, dynamic for Linear models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import Tensor, nn

from fitroom.compress.backends import OnnxRuntimeBackend, TorchBackend
from fitroom.compress.export import InputSpec, check_equivalence, export_onnx
from fitroom.compress.metrics import Feeds
from fitroom.compress.quantize import (
    QuantizationMode,
    choose_mode,
    count_ops,
    cpu_has_vnni,
    cpuinfo_has_vnni,
    quantize_onnx,
)
from fitroom.errors import InputError, NotCompressible
from tests.compress.tiny import conv_net, image_feeds, mlp, vector_feeds


def assert_close_to_fp32(model: nn.Module, int8_path: Path, feeds: list[Feeds]) -> None:
    """INT8 stays within 5% of the FP32 output's range on every feed."""
    torch_fp32 = TorchBackend(model, threads=1)
    int8 = OnnxRuntimeBackend(int8_path, threads=1, precision="int8")
    for feed in feeds:
        expected = torch_fp32.predict(feed)
        error = float(np.max(np.abs(int8.predict(feed) - expected)))
        assert error < 0.05 * float(expected.max() - expected.min())


def test_mode_follows_op_counts() -> None:
    assert choose_mode({"Conv": 3, "Relu": 2})[0] is QuantizationMode.static
    assert choose_mode({"Gemm": 3, "Relu": 2})[0] is QuantizationMode.dynamic
    assert choose_mode({"LSTM": 1, "MatMul": 2, "Conv": 1})[0] is QuantizationMode.dynamic
    assert choose_mode({"Conv": 2, "MatMul": 2})[0] is QuantizationMode.static  # tie: conv
    with pytest.raises(NotCompressible, match="nothing to quantize"):
        choose_mode({"Relu": 1, "Add": 1})


def test_static_int8_conv_net_close_to_fp32_and_smaller(conv_onnx: Path, tmp_path: Path) -> None:
    calibration = image_feeds(16, seed=1)
    result = quantize_onnx(conv_onnx, tmp_path / "conv.int8.onnx", calibration=calibration)
    assert result.mode is QuantizationMode.static
    assert result.calibration_samples == 16
    assert result.op_counts == {"Conv": 3, "Relu": 2}
    assert result.size_bytes < conv_onnx.stat().st_size
    ops = {node.op_type for node in onnx.load(str(result.path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # QDQ format
    # Calibration-like inputs (same distribution, other samples).
    assert_close_to_fp32(conv_net(), result.path, image_feeds(4, seed=2))


def test_relative_paths_work(
    conv_onnx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI passes paths relative to the working directory (var/compress/...)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "conv.onnx").write_bytes(conv_onnx.read_bytes())
    monkeypatch.chdir(work)
    result = quantize_onnx(
        Path("conv.onnx"), Path("out/conv.int8.onnx"), calibration=image_feeds(4, seed=1)
    )
    assert (work / "out" / "conv.int8.onnx").is_file()
    assert result.size_bytes < conv_onnx.stat().st_size
    assert sorted(p.name for p in work.iterdir()) == ["conv.onnx", "out"], "no stray files"


def test_static_without_calibration_is_refused(conv_onnx: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="calibration"):
        quantize_onnx(conv_onnx, tmp_path / "x.onnx", calibration=None)


def test_dynamic_int8_mlp(mlp_onnx: Path, tmp_path: Path) -> None:
    result = quantize_onnx(mlp_onnx, tmp_path / "mlp.int8.onnx")
    assert result.mode is QuantizationMode.dynamic
    assert result.calibration_samples == 0
    assert result.size_bytes < 0.5 * mlp_onnx.stat().st_size  # weights are most of it
    assert count_ops(result.path).get("DynamicQuantizeLinear", 0) >= 1
    assert_close_to_fp32(mlp(), result.path, vector_feeds(3, seed=4))


def test_mode_can_be_forced(conv_onnx: Path, tmp_path: Path) -> None:
    result = quantize_onnx(conv_onnx, tmp_path / "d.onnx", mode=QuantizationMode.dynamic)
    assert result.mode is QuantizationMode.dynamic
    assert result.reason == "chosen by the caller (dynamic)"


class Recurrent(nn.Module):
    """GRU over a sequence, then a Linear head on the last step."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(8, 16, batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.gru(x)
        result: Tensor = self.head(out[:, -1])
        return result


@pytest.mark.slow
def test_recurrent_model_gets_dynamic_int8(tmp_path: Path) -> None:
    # ~10 s on 2 cores: the GRU export is the slow part.
    torch.manual_seed(0)
    model = Recurrent().eval()
    spec = InputSpec("input", (2, 5, 8), {0: "batch", 1: "length"})
    fp32 = export_onnx(model, [spec], tmp_path / "gru.onnx")
    assert check_equivalence(model, fp32, [spec]).max_abs_diff < 1e-5
    result = quantize_onnx(fp32, tmp_path / "gru.int8.onnx")
    assert result.mode is QuantizationMode.dynamic
    assert result.op_counts["GRU"] == 1
    assert result.size_bytes < fp32.stat().st_size


def test_keep_float_leaves_a_branch_in_fp32(tmp_path: Path) -> None:
    from fitroom.compress.quantize import nodes_reading
    from fitroom.superres.models import FitSR, serving_form

    torch.manual_seed(0)
    model = serving_form(FitSR(scale=2, blocks=1, features=4))
    spec = InputSpec("input", (1, 3, 16, 16), dynamic_axes={2: "h", 3: "w"})
    fp32 = export_onnx(model, [spec], tmp_path / "sr.onnx")
    branch = nodes_reading(fp32, "bicubic.kernels")
    graph = onnx.load(str(fp32)).graph
    by_name = {n.name: n for n in graph.node}
    # The skip's conv and the add that joins it to the learned detail (the output).
    assert [by_name[n].op_type for n in branch] == ["Conv", "Add"]
    assert by_name[branch[1]].output[0] == graph.output[0].name
    feeds = [
        {"input": np.random.default_rng(i).random((1, 3, 16, 16), np.float32)} for i in range(4)
    ]
    int8 = quantize_onnx(fp32, tmp_path / "sr.int8.onnx", calibration=feeds, keep_float=branch)
    quantized = {n.name: n for n in onnx.load(str(int8.path)).graph.node}
    # Still a float Conv reading the float kernels, and a float Add; the rest is QDQ.
    assert quantized[branch[0]].op_type == "Conv"
    assert any(i.endswith("bicubic.kernels") for i in quantized[branch[0]].input)
    assert quantized[branch[1]].op_type == "Add"
    assert sum(n.op_type == "DequantizeLinear" for n in quantized.values()) > 4
    unkept = quantize_onnx(fp32, tmp_path / "all.int8.onnx", calibration=feeds)
    kernels_read = [
        n.op_type
        for n in onnx.load(str(unkept.path)).graph.node
        if any("bicubic.kernels" in i for i in n.input)
    ]
    assert "DequantizeLinear" in kernels_read  # without keep_float: INT8 weights


def test_vnni_is_read_from_the_cpu_flags() -> None:
    avx2_only = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
    assert not cpuinfo_has_vnni(avx2_only)
    assert cpuinfo_has_vnni(avx2_only.replace("avx2", "avx2 avx512f avx512_vnni"))
    assert cpuinfo_has_vnni(avx2_only.replace("avx2", "avx2 avx_vnni"))  # Alder Lake on
    assert cpuinfo_has_vnni("processor\t: 0\n")  # no flags: nothing to go on


def test_weights_take_7_bits_without_vnni_and_stay_accurate(
    conv_onnx: Path, tmp_path: Path
) -> None:
    calibration = image_feeds(16, seed=1)
    chosen = quantize_onnx(conv_onnx, tmp_path / "auto.onnx", calibration=calibration)
    assert chosen.reduce_range is (not cpu_has_vnni())
    forced = quantize_onnx(
        conv_onnx, tmp_path / "7bit.onnx", calibration=calibration, reduce_range=True
    )
    assert forced.reduce_range
    assert_close_to_fp32(conv_net(), forced.path, image_feeds(4, seed=2))
