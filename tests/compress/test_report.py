"""The report: the fastest variant within the budget wins; slow INT8 is flagged.

Timings are injected (a fake timer returning known latencies), so the choice is
checked without a clock; quality comes from real tiny backends with known outputs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from fitroom.compress.backends import InferenceBackend
from fitroom.compress.metrics import Feeds, Predictor, output_psnr_quality, psnr_db
from fitroom.compress.report import (
    LatencyTimer,
    QualityBudget,
    Variant,
    build_report,
    machine_description,
    measure_latency_ms,
)
from fitroom.errors import InputError


class ScaledIdentity(InferenceBackend):
    """Returns its input times ``gain``: a backend whose quality is known exactly."""

    def __init__(self, gain: float, runtime: str, precision: str, size_bytes: int) -> None:
        self.gain = gain
        self.runtime = runtime
        self.precision = precision
        self.threads = 1
        self._size = size_bytes

    def predict(self, feeds: Feeds) -> npt.NDArray[Any]:
        return np.asarray(feeds["input"], dtype=np.float64) * self.gain

    @property
    def size_bytes(self) -> int:
        return self._size


SIGNAL = {"input": np.linspace(0.0, 1.0, 101)}


def quality_vs_truth(predict: Predictor) -> float:
    """PSNR (dB) of the output against the input itself (the 'ground truth')."""
    return psnr_db(np.asarray(predict(SIGNAL)), SIGNAL["input"])


def fake_timer(latencies_ms: dict[str, float]) -> LatencyTimer:
    def timer(variant: Variant, feeds: Feeds) -> list[float]:
        base = latencies_ms[variant.name]
        return [base * 1.1, base, base * 0.9]  # median = base

    return timer


def variants() -> list[Variant]:
    return [
        Variant("torch fp32", ScaledIdentity(1.0, "torch", "fp32", 4000)),
        Variant("onnx fp32", ScaledIdentity(1.0, "onnxruntime", "fp32", 4000)),
        # 1% gain error: PSNR against the truth = 20 log10(1 / (0.01 * rms(x))) ~ 45.3 dB.
        Variant(
            "onnx int8",
            ScaledIdentity(1.01, "onnxruntime", "int8", 1000),
            fp32_source="onnx fp32",
        ),
        # 10% gain error: ~25.3 dB.
        Variant("pruned onnx fp32", ScaledIdentity(0.9, "onnxruntime", "fp32", 2000)),
    ]


def test_fastest_within_budget_is_chosen_and_the_rest_rejected() -> None:
    report = build_report(
        variants(),
        quality_vs_truth,
        SIGNAL,
        QualityBudget(min_score=40.0),
        model="toy",
        metric="PSNR (dB)",
        timer=fake_timer(
            {"torch fp32": 10.0, "onnx fp32": 5.0, "onnx int8": 3.0, "pruned onnx fp32": 1.0}
        ),
    )
    rms = math.sqrt(float(np.mean(SIGNAL["input"] ** 2)))
    assert report.row("onnx int8").quality == pytest.approx(-20 * math.log10(0.01 * rms))
    assert report.row("torch fp32").quality == math.inf
    # The pruned variant is fastest but 25 dB < 40 dB: rejected. INT8 is next.
    assert not report.row("pruned onnx fp32").within_budget
    assert report.chosen == "onnx int8"
    assert report.row("onnx int8").speedup_vs_baseline == pytest.approx(10.0 / 3.0)
    assert not report.row("onnx int8").int8_slower_than_fp32


def test_drop_budget_is_relative_to_the_baseline() -> None:
    # Baseline quality is finite here: a drop of at most 0.5 dB.
    half = [
        Variant("torch fp32", ScaledIdentity(1.01, "torch", "fp32", 10)),
        Variant("a", ScaledIdentity(1.0102, "onnxruntime", "fp32", 10)),  # ~ -0.09 dB
        Variant("b", ScaledIdentity(1.02, "onnxruntime", "fp32", 10)),  # ~ -6 dB
    ]
    report = build_report(
        half,
        quality_vs_truth,
        SIGNAL,
        QualityBudget(max_drop=0.5),
        model="toy",
        metric="dB",
        timer=fake_timer({"torch fp32": 3.0, "a": 2.0, "b": 1.0}),
    )
    assert -0.5 < report.row("a").quality_delta < 0
    assert report.row("b").quality_delta < -5
    assert report.chosen == "a"


def mae_vs_truth(predict: Predictor) -> float:
    """Mean |output - input|: for a gain g on linspace(0, 1), exactly |g - 1| / 2."""
    return float(np.mean(np.abs(np.asarray(predict(SIGNAL)) - SIGNAL["input"])))


def test_error_metric_budget_counts_increases_as_worse() -> None:
    # MAE 0 (baseline), 0.05 ("a", within 0.1 worse) and 0.2 ("b", 0.2 worse: out).
    errors = [
        Variant("torch fp32", ScaledIdentity(1.0, "torch", "fp32", 10)),
        Variant("a", ScaledIdentity(1.1, "onnxruntime", "fp32", 10)),
        Variant("b", ScaledIdentity(1.4, "onnxruntime", "fp32", 10)),
    ]
    timer = fake_timer({"torch fp32": 3.0, "a": 2.0, "b": 1.0})
    budget = QualityBudget(max_drop=0.1, higher_is_better=False)
    report = build_report(
        errors, mae_vs_truth, SIGNAL, budget, model="toy", metric="MAE", timer=timer
    )
    assert report.row("a").quality == pytest.approx(0.05)
    assert report.row("b").quality_delta == pytest.approx(0.2)
    assert [r.within_budget for r in report.rows] == [True, True, False]
    assert report.chosen == "a"
    assert "at most 0.1 above the baseline (lower is better)" in report.to_markdown()
    # Read as higher-is-better, the larger error would pass and win: direction matters.
    wrong_way = build_report(
        errors,
        mae_vs_truth,
        SIGNAL,
        QualityBudget(max_drop=0.1),
        model="t",
        metric="MAE",
        timer=timer,
    )
    assert wrong_way.chosen == "b"
    with pytest.raises(InputError, match="min_score is a floor"):
        QualityBudget(min_score=1.0, higher_is_better=False)


def test_int8_slower_than_fp32_is_flagged_and_not_chosen() -> None:
    report = build_report(
        variants(),
        quality_vs_truth,
        SIGNAL,
        QualityBudget(min_score=40.0),
        model="toy",
        metric="PSNR (dB)",
        timer=fake_timer(
            {"torch fp32": 10.0, "onnx fp32": 5.0, "onnx int8": 7.0, "pruned onnx fp32": 1.0}
        ),
    )
    assert report.row("onnx int8").int8_slower_than_fp32
    assert report.chosen == "onnx fp32"
    markdown = report.to_markdown()
    assert "(INT8 slower than FP32)" in markdown
    assert "INT8 slower than FP32 on this CPU: onnx int8." in markdown
    assert "| **onnx fp32** (chosen) |" in markdown
    data = json.loads(report.to_json())
    assert data["chosen"] == "onnx fp32"
    assert [r["int8_slower_than_fp32"] for r in data["rows"]] == [False, False, True, False]
    assert data["rows"][0]["quality"] is None  # inf is not JSON


def test_nothing_within_budget_chooses_nothing() -> None:
    report = build_report(
        variants()[1:],  # baseline onnx fp32 is always allowed: use a strict min score
        quality_vs_truth,
        SIGNAL,
        QualityBudget(min_score=1e9),
        model="toy",
        metric="dB",
        timer=fake_timer({"onnx fp32": 5.0, "onnx int8": 3.0, "pruned onnx fp32": 1.0}),
    )
    assert report.chosen == "onnx fp32"
    assert [r.within_budget for r in report.rows] == [True, False, False]


def test_real_timer_counts_runs() -> None:
    calls: list[int] = []

    class Counting(ScaledIdentity):
        def predict(self, feeds: Feeds) -> npt.NDArray[Any]:
            calls.append(1)
            return super().predict(feeds)

    timings = measure_latency_ms(
        Variant("v", Counting(1.0, "torch", "fp32", 1)), SIGNAL, warmup_runs=3, timed_runs=7
    )
    assert len(timings) == 7 and len(calls) == 10
    assert all(t >= 0 for t in timings)


def test_bad_reports_are_refused() -> None:
    with pytest.raises(InputError, match="unique"):
        build_report(
            variants()[:1] * 2, quality_vs_truth, SIGNAL, QualityBudget(), model="m", metric="x"
        )
    with pytest.raises(InputError, match="fp32_source"):
        build_report(
            [Variant("a", ScaledIdentity(1, "t", "int8", 1), fp32_source="nope")],
            quality_vs_truth,
            SIGNAL,
            QualityBudget(),
            model="m",
            metric="x",
        )
    with pytest.raises(InputError, match="budget"):
        QualityBudget(max_drop=-1.0)


def test_output_psnr_quality_known_answer(tmp_path: Path) -> None:
    feeds = [{"input": np.array([0.0, 1.0])}, {"input": np.array([0.5, 0.5])}]
    reference = [np.array([0.0, 1.0]), np.array([0.5, 0.5])]
    quality = output_psnr_quality(feeds, reference)

    def off_by_a_tenth(feed: Feeds) -> npt.NDArray[Any]:
        return np.asarray(feed["input"]) + 0.1

    # MSE = 0.01, peak = range of the reference = 1 -> 20 dB.
    assert quality(off_by_a_tenth) == pytest.approx(20.0)


def test_a_reference_row_is_measured_but_never_chosen() -> None:
    # The pruning control (same model, fine-tuned longer) is a comparison, not a
    # compression: even when it times fastest and is within budget it is not chosen.
    control = Variant(
        "control onnx fp32", ScaledIdentity(1.0, "onnxruntime", "fp32", 4000), candidate=False
    )
    report = build_report(
        [*variants()[:2], control],
        quality_vs_truth,
        SIGNAL,
        QualityBudget(max_drop=0.1),
        model="toy",
        metric="PSNR (dB)",
        timer=fake_timer({"torch fp32": 10.0, "onnx fp32": 5.0, "control onnx fp32": 4.0}),
    )
    assert report.row("control onnx fp32").within_budget
    assert not report.row("control onnx fp32").candidate
    assert report.chosen == "onnx fp32"


def test_the_machine_line_names_the_cpu_and_whether_it_has_vnni() -> None:
    flags = "flags\t\t: fpu sse2 avx avx2 fma\n"
    epyc = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n" + flags
    assert machine_description(epyc).startswith("AMD EPYC 7B13, ")
    assert machine_description(epyc).endswith(" cores, no VNNI")
    xeon = epyc.replace("AMD EPYC 7B13", "Intel Xeon").replace("avx2", "avx2 avx512_vnni")
    assert machine_description(xeon).endswith(" cores, VNNI")
    # No flags line (not x86 Linux): nothing is claimed either way.
    assert machine_description("model name\t: Some CPU\n").endswith(" cores")
