"""The side-by-side table of compressed variants, and the choice of the fastest one.

For every variant: size in bytes, latency (median and p90 of ``timed_runs`` calls after
``warmup_runs`` untimed ones, same input, same thread count), the quality metric and
its change against the baseline (the first variant, normally torch FP32). The chosen
variant is the fastest whose quality stays within the user's budget.

INT8 is not always faster than FP32 on a CPU (QDQ graphs on a CPU without VNNI, small
layers where quantize/dequantize overhead dominates, unfused ops): every INT8 row slower
than the FP32 row of the same runtime is flagged, in the markdown and the JSON, and
then simply not chosen unless it is the fastest.

Timing goes through a :data:`LatencyTimer`, so tests inject known timings and the
choice logic is checked without a clock.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fitroom.compress.backends import InferenceBackend
from fitroom.compress.metrics import Feeds, QualityFn
from fitroom.compress.quantize import cpuinfo_has_vnni
from fitroom.errors import InputError

#: Times one variant: returns the latency of each timed run, in milliseconds.
LatencyTimer = Callable[["Variant", Feeds], list[float]]


@dataclass(frozen=True)
class Variant:
    """One candidate: a name for the table, the backend that runs it, and a note."""

    name: str
    backend: InferenceBackend
    note: str = ""
    #: For an INT8 variant: the FP32 variant it was quantized from (its speed reference).
    fp32_source: str | None = None
    #: False for a reference row that is measured but never chosen (the pruning
    #: control: the same model, only fine-tuned longer, is not a compression).
    candidate: bool = True


@dataclass(frozen=True)
class QualityBudget:
    """What quality loss is acceptable, in the metric's own unit and direction.

    ``higher_is_better``: True for scores such as PSNR or NDCG, False for errors such
    as a mean absolute error in cm.
    ``max_drop``: at most this much worse than the baseline (0.1 dB below FP32's PSNR;
    0.1 cm above FP32's error).
    ``min_score``: at least this score, for metrics where the baseline is a perfect
    score (PSNR of outputs against FP32's own is infinite); higher-is-better only.
    """

    max_drop: float | None = None
    min_score: float | None = None
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if self.max_drop is not None and not self.max_drop >= 0:
            raise InputError(f"quality budget must be >= 0; got {self.max_drop}")
        if self.min_score is not None and not self.higher_is_better:
            raise InputError(
                "min_score is a floor for higher-is-better metrics; for an error metric "
                "give max_drop (how much worse than the baseline is accepted)"
            )

    def allows(self, score: float, baseline: float) -> bool:
        if math.isnan(score):
            return False
        if self.max_drop is not None:
            # Written as bounds, not differences, so infinite scores compare as such.
            if self.higher_is_better and not score >= baseline - self.max_drop:
                return False
            if not self.higher_is_better and not score <= baseline + self.max_drop:
                return False
        return self.min_score is None or score >= self.min_score

    def describe(self) -> str:
        parts = []
        if self.max_drop is not None:
            if self.higher_is_better:
                parts.append(f"at most {self.max_drop:g} below the baseline")
            else:
                parts.append(f"at most {self.max_drop:g} above the baseline (lower is better)")
        if self.min_score is not None:
            parts.append(f"at least {self.min_score:g}")
        return " and ".join(parts) or "none (any quality)"


@dataclass(frozen=True)
class VariantRow:
    """One measured line of the table."""

    name: str
    runtime: str
    precision: str
    size_bytes: int
    latency_ms_median: float
    latency_ms_p90: float
    quality: float
    quality_delta: float
    within_budget: bool
    speedup_vs_baseline: float
    #: An INT8 variant that is slower than the FP32 variant of the same runtime.
    int8_slower_than_fp32: bool
    note: str = ""
    candidate: bool = True


@dataclass(frozen=True)
class CompressionReport:
    """The table, the choice and how it was measured."""

    model: str
    metric: str
    budget: QualityBudget
    baseline: str
    chosen: str | None
    rows: list[VariantRow]
    threads: int
    warmup_runs: int
    timed_runs: int
    latency_input: dict[str, list[int]]
    machine: str = field(default_factory=lambda: machine_description())
    notes: list[str] = field(default_factory=list)

    def row(self, name: str) -> VariantRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise InputError(f"no variant {name!r} in the report")

    def to_dict(self) -> dict[str, Any]:
        """Plain data; non-finite numbers (an infinite PSNR) become None, as JSON has none."""
        data = asdict(self)
        data["budget"]["description"] = self.budget.describe()
        for row in data["rows"]:
            for key, value in row.items():
                if isinstance(value, float) and not math.isfinite(value):
                    row[key] = None
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def to_markdown(self) -> str:
        """The table for a README: one row per variant, the chosen one in bold."""
        header = [
            "variant",
            "runtime",
            "precision",
            "size (KiB)",
            "size vs baseline",
            "latency median (ms)",
            "latency p90 (ms)",
            "speed-up",
            self.metric,
            "delta",
            "within budget",
        ]
        baseline_size = self.row(self.baseline).size_bytes
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for r in self.rows:
            name = f"**{r.name}** (chosen)" if r.name == self.chosen else r.name
            speed = f"x{r.speedup_vs_baseline:.2f}"
            if r.int8_slower_than_fp32:
                speed += " (INT8 slower than FP32)"
            cells = [
                name,
                r.runtime,
                r.precision,
                f"{r.size_bytes / 1024:.1f}",
                f"{r.size_bytes / baseline_size:.2f}",
                f"{r.latency_ms_median:.2f}",
                f"{r.latency_ms_p90:.2f}",
                speed,
                f"{r.quality:.3f}",
                f"{r.quality_delta:+.3f}" if math.isfinite(r.quality_delta) else "n/a",
                "yes" if r.within_budget else "no",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        shape = ", ".join(f"`{k}` {'x'.join(map(str, v))}" for k, v in self.latency_input.items())
        lines.append("")
        lines.append(
            f"Quality budget: {self.budget.describe()} ({self.metric}). Latency: median of "
            f"{self.timed_runs} runs after {self.warmup_runs} warm-up runs, input {shape}, "
            f"{self.threads} intra-op thread(s), {self.machine}."
        )
        if self.chosen is None:
            lines.append("No variant is within the quality budget.")
        slower = [r.name for r in self.rows if r.int8_slower_than_fp32]
        if slower:
            lines.append(f"INT8 slower than FP32 on this CPU: {', '.join(slower)}.")
        lines.extend(self.notes)
        return "\n".join(lines) + "\n"


def machine_description(cpuinfo: str | None = None) -> str:
    """CPU model, core count and whether it has VNNI, for the report's method line.

    VNNI (INT8 dot products) decides how much INT8 gains over FP32: FitSR x4's INT8
    files ran 2-2.6x faster than ONNX FP32 on 2-core VNNI CPUs and 1.5x on a 2-core
    AVX2-only one (``bench/results/superres.md``, README). ``cpuinfo``: a
    /proc/cpuinfo text (read from this machine when None).
    """
    cpu = platform.processor() or platform.machine()
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    description = f"{cpu}, {os.cpu_count()} cores"
    if any(line.startswith("flags") for line in cpuinfo.splitlines()):
        description += ", VNNI" if cpuinfo_has_vnni(cpuinfo) else ", no VNNI"
    return description


def measure_latency_ms(
    variant: Variant, feeds: Feeds, *, warmup_runs: int, timed_runs: int
) -> list[float]:
    """Wall-clock latency of ``timed_runs`` calls after ``warmup_runs`` untimed ones."""
    for _ in range(warmup_runs):
        variant.backend.predict(feeds)
    timings: list[float] = []
    for _ in range(timed_runs):
        started = time.perf_counter()
        variant.backend.predict(feeds)
        timings.append((time.perf_counter() - started) * 1000.0)
    return timings


def _p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.9 * (len(ordered) - 1))))]


def choose_fastest(rows: Sequence[VariantRow]) -> str | None:
    """The fastest (lowest median latency) candidate row within the budget, or None."""
    allowed = [r for r in rows if r.within_budget and r.candidate]
    if not allowed:
        return None
    return min(allowed, key=lambda r: (r.latency_ms_median, r.size_bytes)).name


def build_report(
    variants: Sequence[Variant],
    quality: QualityFn,
    latency_feeds: Feeds,
    budget: QualityBudget,
    *,
    model: str,
    metric: str,
    warmup_runs: int = 5,
    timed_runs: int = 30,
    timer: LatencyTimer | None = None,
    notes: Sequence[str] = (),
) -> CompressionReport:
    """Score and time every variant, flag slow INT8, and choose the fastest in budget.

    The first variant is the baseline for quality deltas, size ratios and speed-ups.
    ``timer`` defaults to :func:`measure_latency_ms` with the given run counts.
    """
    if not variants:
        raise InputError("a report needs at least one variant")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise InputError(f"variant names must be unique; got {names}")
    unknown = [v.fp32_source for v in variants if v.fp32_source and v.fp32_source not in names]
    if unknown:
        raise InputError(f"fp32_source names no variant: {unknown}")
    if timed_runs < 1 or warmup_runs < 0:
        raise InputError("timed_runs must be >= 1 and warmup_runs >= 0")

    def default_timer(variant: Variant, feeds: Feeds) -> list[float]:
        return measure_latency_ms(variant, feeds, warmup_runs=warmup_runs, timed_runs=timed_runs)

    time_variant = timer or default_timer
    scores = {v.name: float(quality(v.backend.predict)) for v in variants}
    timings = {v.name: time_variant(v, latency_feeds) for v in variants}
    medians = {name: statistics.median(t) for name, t in timings.items()}
    baseline = variants[0]
    fp32_median_by_runtime: dict[str, float] = {}
    for v in variants:
        if v.backend.precision == "fp32":
            current = fp32_median_by_runtime.get(v.backend.runtime, math.inf)
            fp32_median_by_runtime[v.backend.runtime] = min(current, medians[v.name])
    rows: list[VariantRow] = []
    for v in variants:
        if v.fp32_source is not None:
            fp32_reference = medians[v.fp32_source]
        else:
            fp32_reference = fp32_median_by_runtime.get(
                v.backend.runtime, min(fp32_median_by_runtime.values(), default=math.inf)
            )
        delta = scores[v.name] - scores[baseline.name]
        rows.append(
            VariantRow(
                name=v.name,
                runtime=v.backend.runtime,
                precision=v.backend.precision,
                size_bytes=v.backend.size_bytes,
                latency_ms_median=medians[v.name],
                latency_ms_p90=_p90(timings[v.name]),
                quality=scores[v.name],
                quality_delta=0.0 if v is baseline else delta,
                within_budget=v is baseline or budget.allows(scores[v.name], scores[baseline.name]),
                speedup_vs_baseline=(
                    medians[baseline.name] / medians[v.name] if medians[v.name] > 0 else math.inf
                ),
                int8_slower_than_fp32=v.backend.precision == "int8"
                and medians[v.name] > fp32_reference,
                note=v.note,
                candidate=v.candidate,
            )
        )
    threads = max(v.backend.threads for v in variants)
    return CompressionReport(
        model=model,
        metric=metric,
        budget=budget,
        baseline=baseline.name,
        chosen=choose_fastest(rows),
        rows=rows,
        threads=threads,
        warmup_runs=warmup_runs,
        timed_runs=len(next(iter(timings.values()))),
        latency_input={k: list(v.shape) for k, v in latency_feeds.items()},
        notes=list(notes),
    )
