"""Shared helpers for benchmarks: machine description, timing summaries, tables."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """CPU model, cores and Python version, for the method line of every table."""
    from fitroom.compress.report import machine_description

    return f"{machine_description()}, Python {platform.python_version()}"


def percentile(values_ms: Sequence[float], q: float) -> float:
    ordered = sorted(values_ms)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "median_ms": statistics.median(values_ms),
        "p90_ms": percentile(values_ms, 90),
        "p99_ms": percentile(values_ms, 99),
        "max_ms": max(values_ms),
    }


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def data_dir() -> Path:
    return Path(os.environ.get("FITROOM_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


def write_result(name: str, text: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(text)
    return path
