"""The whole chain on a tiny conv net: files, variants, pruning, report, choice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import Tensor

from fitroom.compress.metrics import Feeds, output_psnr_quality
from fitroom.compress.pipeline import CompressOptions, OutputFormat, compress_model
from fitroom.compress.report import QualityBudget, Variant
from fitroom.compress.targets import torch_predictor
from fitroom.errors import InputError
from tests.compress.tiny import IMAGE_SPEC, conv_net, image_feeds

#: Injected latencies (ms): INT8 made deliberately slower than FP32 to see the flag.
LATENCY_MS = {
    "torch fp32": 4.0,
    "onnx fp32": 2.0,
    "onnx int8 (static)": 2.5,
    "control: fine-tuned, unpruned onnx fp32": 2.1,
    "pruned 50% onnx fp32": 1.0,
    "pruned 50% onnx int8 (static)": 1.2,
}


def fake_timer(variant: Variant, feeds: Feeds) -> list[float]:
    return [LATENCY_MS[variant.name]] * 3


def batches_from(model: torch.nn.Module) -> Iterator[tuple[Tensor, Tensor]]:
    generator = torch.Generator().manual_seed(0)
    while True:
        x = torch.rand(4, 3, 12, 12, generator=generator)
        with torch.no_grad():
            y = model(x)
        yield x, y


def test_chain_writes_files_and_chooses_within_budget(tmp_path: Path) -> None:
    model = conv_net(width=16)
    evaluation = image_feeds(3, seed=5)
    reference = [torch_predictor(model)(f) for f in evaluation]
    result = compress_model(
        model,
        [IMAGE_SPEC],
        tmp_path / "out",
        quality=output_psnr_quality(evaluation, reference),
        latency_feeds=evaluation[0],
        model_name="tiny",
        metric="PSNR vs FP32 (dB)",
        calibration=image_feeds(8, seed=6),
        real_feeds=evaluation[:1],
        fine_tune_batches=lambda: batches_from(model),
        options=CompressOptions(
            budget=QualityBudget(min_score=30.0), prune_ratios=(0.5,), fine_tune_steps=20
        ),
        timer=fake_timer,
    )
    report = result.report
    assert [r.name for r in report.rows] == list(LATENCY_MS)
    assert set(result.files) == set(LATENCY_MS) - {"torch fp32"}
    assert all(path.is_file() for path in result.files.values())
    # FP32 ONNX equals torch; INT8 is close (>= 30 dB); pruning a fixed net without
    # enough fine-tuning is far from it (< 30 dB), so the pruned rows are out of budget.
    assert report.row("onnx fp32").quality > 80
    assert report.row("onnx int8 (static)").within_budget
    assert not report.row("pruned 50% onnx fp32").within_budget
    assert report.chosen == "onnx fp32"  # INT8 is in budget but (here) slower
    # The control (same fine-tuning, no pruning) stays close to the original it imitates.
    assert report.row("control: fine-tuned, unpruned onnx fp32").within_budget
    assert report.row("onnx int8 (static)").int8_slower_than_fp32
    assert result.chosen_file == tmp_path / "out" / "model.onnx"
    summary = result.pruning[0]
    assert summary.parameters_after < summary.parameters_before
    assert [layer["channels_after"] for layer in summary.layers] == [8, 8]
    assert summary.fine_tune_steps == 20
    written = json.loads((tmp_path / "out" / "report.json").read_text())
    assert written["chosen"] == "onnx fp32"
    assert "(INT8 slower than FP32)" in (tmp_path / "out" / "report.md").read_text()


def test_fp32_only_and_unprunable_model(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1)).eval()
    evaluation = image_feeds(1, seed=1)
    result = compress_model(
        model,
        [IMAGE_SPEC],
        tmp_path,
        quality=output_psnr_quality(evaluation, [torch_predictor(model)(evaluation[0])]),
        latency_feeds=evaluation[0],
        model_name="one conv",
        metric="dB",
        options=CompressOptions(
            to=OutputFormat.onnx, budget=QualityBudget(min_score=60.0), prune_ratios=(0.5,)
        ),
        timer=lambda v, f: [1.0] if v.name == "torch fp32" else [0.5],
    )
    assert [r.name for r in result.report.rows] == ["torch fp32", "onnx fp32"]
    assert result.report.chosen == "onnx fp32"
    assert any("Pruning 50%: not possible" in note for note in result.report.notes)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (CompressOptions(prune_ratios=(1.5,)), "pruning ratios"),
        (CompressOptions(prune_ratios=(0.5,), fine_tune_steps=10), "training batches"),
        (CompressOptions(threads=0), "threads"),
        (CompressOptions(opset=11), "opset"),
    ],
)
def test_bad_options_fail_before_any_compute(
    tmp_path: Path, options: CompressOptions, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        compress_model(
            conv_net(),
            [IMAGE_SPEC],
            tmp_path,
            quality=lambda predict: 0.0,
            latency_feeds=image_feeds(1, seed=0)[0],
            model_name="m",
            metric="x",
            options=options,
        )
    assert not (tmp_path / "model.onnx").exists()


def test_calibration_must_match_the_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="calibration feeds have inputs"):
        compress_model(
            conv_net(),
            [IMAGE_SPEC],
            tmp_path,
            quality=lambda predict: 0.0,
            latency_feeds=image_feeds(1, seed=0)[0],
            model_name="m",
            metric="x",
            calibration=[{"pixels": image_feeds(1, seed=0)[0]["input"]}],
        )
